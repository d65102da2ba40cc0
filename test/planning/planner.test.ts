import { describe, expect, it } from "vitest";
import { PlanningError } from "../../lib/planning/errors.ts";
import { planProtection } from "../../lib/planning/plan.ts";
import { planCalls } from "../../lib/planning/planner.ts";
import type { PlanInputArg, PlannedCall, ServerFactsInput } from "../../lib/planning/types.ts";
import { batchCreateRequest, createProtectedInstanceRequest } from "../../lib/sdrs/schemas.ts";
import { facts, GROUP_ID, planInputFor, sharedVolume } from "./fixtures.ts";

function plan(servers: ServerFactsInput[], overrides: Partial<PlanInputArg> = {}) {
  const result = planProtection(planInputFor(servers, overrides));
  for (const call of result.calls) expectValidRequest(call, overrides.batchLimit ?? 5);
  return result;
}

function expectValidRequest(call: PlannedCall, limit: number) {
  if (call.kind === "single") expect(createProtectedInstanceRequest.parse(call.request)).toEqual(call.request);
  else expect(batchCreateRequest(limit).parse(call.request)).toEqual(call.request);
}

const shape = (calls: readonly PlannedCall[]) => calls.map((call) => [call.kind, call.serverIds]);

describe("single create", () => {
  it("plans one single create named after the server for a lone eligible server", () => {
    const { calls } = plan([facts("a")]);
    expect(calls).toEqual([
      {
        kind: "single",
        serverIds: ["a"],
        request: { protected_instance: { server_group_id: GROUP_ID, server_id: "a", name: "srv-a" } },
      },
    ]);
  });

  it("sanitises a server name the protected-instance name rule refuses", () => {
    const { calls } = plan([facts("a", { server: { name: "web 01 (prod)/eu" } })]);
    expect(calls[0]?.kind === "single" && calls[0].request.protected_instance.name).toBe("web-01-prod-eu");
  });

  it("falls back to the server id when nothing of the name survives", () => {
    const { calls } = plan([facts("0d9c", { server: { name: "数据库" } })]);
    expect(calls[0]?.kind === "single" && calls[0].request.protected_instance.name).toBe("pi-0d9c");
  });

  it("cuts a long name to 64 bytes", () => {
    const { calls } = plan([facts("a", { server: { name: `${"x".repeat(70)} y` } })]);
    expect(calls[0]?.kind === "single" && calls[0].request.protected_instance.name).toBe("x".repeat(64));
  });

  it("carries the primary IP and subnet of a server that has one, in its own single create", () => {
    const { calls } = plan([facts("a"), facts("b"), facts("c")], {
      creationOptions: {
        primarySubnetId: "subnet-1",
        primaryIpAddresses: { b: "192.168.0.20" },
        description: "web tier",
      },
    });
    expect(shape(calls)).toEqual([
      ["batch", ["a", "c"]],
      ["single", ["b"]],
    ]);
    expect(calls[1]?.request).toEqual({
      protected_instance: {
        server_group_id: GROUP_ID,
        server_id: "b",
        name: "srv-b",
        description: "web tier",
        primary_subnet_id: "subnet-1",
        primary_ip_address: "192.168.0.20",
      },
    });
  });
});

describe("batch create", () => {
  it("batches 2..limit servers with a name prefix derived from the target name", () => {
    const { calls } = plan([facts("a"), facts("b")]);
    expect(calls).toEqual([
      {
        kind: "batch",
        serverIds: ["a", "b"],
        request: {
          protected_instances: {
            name_prefix: "web",
            server_group_id: GROUP_ID,
            servers: [{ server_id: "a" }, { server_id: "b" }],
          },
        },
      },
    ]);
  });

  it("uses options.namePrefix and the batch-level options", () => {
    const { calls } = plan([facts("a"), facts("b")], {
      creationOptions: {
        namePrefix: "dr.web",
        description: "auto",
        primarySubnetId: "subnet-1",
        clusterId: "dss-1",
        tenancy: "dedicated",
        dedicatedHostId: "deh-1",
        tags: [{ key: "env", value: "prod" }],
      },
    });
    expect(calls[0]?.request).toEqual({
      protected_instances: {
        name_prefix: "dr.web",
        description: "auto",
        server_group_id: GROUP_ID,
        cluster_id: "dss-1",
        primary_subnet_id: "subnet-1",
        servers: [{ server_id: "a" }, { server_id: "b" }],
        tenancy: "dedicated",
        dedicated_host_id: "deh-1",
        tags: [{ key: "env", value: "prod" }],
      },
    });
  });

  it("derives the prefix from the protection group name without a target name, within 59 characters", () => {
    const { calls } = plan([facts("a"), facts("b")], { targetName: undefined });
    expect(calls[0]?.kind === "batch" && calls[0].request.protected_instances.name_prefix).toBe("web");
    const long = plan([facts("a"), facts("b")], { targetName: `tier ${"z".repeat(80)}` });
    expect(long.calls[0]?.kind === "batch" && long.calls[0].request.protected_instances.name_prefix).toBe(
      `tier-${"z".repeat(54)}`,
    );
  });

  it("splits 7 servers into a batch of 5 and a batch of 2 (the fewest calls)", () => {
    const { calls } = plan(["a", "b", "c", "d", "e", "f", "g"].map((serverId) => facts(serverId)));
    expect(shape(calls)).toEqual([
      ["batch", ["a", "b", "c", "d", "e"]],
      ["batch", ["f", "g"]],
    ]);
  });

  it("plans a batch of 5 and a single for 6 servers", () => {
    expect(shape(plan(["a", "b", "c", "d", "e", "f"].map((serverId) => facts(serverId))).calls)).toEqual([
      ["batch", ["a", "b", "c", "d", "e"]],
      ["single", ["f"]],
    ]);
  });

  it("honours a configured batch limit", () => {
    expect(
      shape(
        plan(
          ["a", "b", "c"].map((serverId) => facts(serverId)),
          { batchLimit: 2 },
        ).calls,
      ),
    ).toEqual([
      ["batch", ["a", "b"]],
      ["single", ["c"]],
    ]);
  });

  it("puts a lone server with a disk shared with no one else in a batch of one (single create refuses shared disks)", () => {
    const { calls } = plan([facts("a", { volumes: [sharedVolume("shared-1", ["a"])] })]);
    expect(shape(calls)).toEqual([["batch", ["a"]]]);
  });

  it("keeps shared-disk clusters whole and packs them into the fewest batches", () => {
    const cluster = (id: string, members: string[]) => {
      const shared = sharedVolume(id, members);
      return members.map((serverId) => facts(serverId, { volumes: [shared] }));
    };
    // Sizes 3, 3, 2, 2 with limit 5: two batches of 3 + 2, never a split cluster.
    const { calls } = plan([
      ...cluster("v1", ["a1", "a2", "a3"]),
      ...cluster("v2", ["b1", "b2", "b3"]),
      ...cluster("v3", ["c1", "c2"]),
      ...cluster("v4", ["d1", "d2"]),
    ]);
    expect(shape(calls)).toEqual([
      ["batch", ["a1", "a2", "a3", "c1", "c2"]],
      ["batch", ["b1", "b2", "b3", "d1", "d2"]],
    ]);
  });

  it("never puts servers with different batch options in one call", () => {
    const { calls } = plan([facts("a"), facts("b"), facts("c"), facts("d")], {
      serverCreationOptions: { c: { tenancy: "dedicated" }, d: { tenancy: "dedicated" } },
    });
    expect(shape(calls)).toEqual([
      ["batch", ["a", "b"]],
      ["batch", ["c", "d"]],
    ]);
    expect(calls[1]?.kind === "batch" && calls[1].request.protected_instances.tenancy).toBe("dedicated");
  });

  it("treats the same tags in another order as the same options", () => {
    const { calls } = plan([facts("a"), facts("b")], {
      serverCreationOptions: {
        a: {
          tags: [
            { key: "x", value: "1" },
            { key: "y", value: "2" },
          ],
        },
        b: {
          tags: [
            { key: "y", value: "2" },
            { key: "x", value: "1" },
          ],
        },
      },
    });
    expect(shape(calls)).toEqual([["batch", ["a", "b"]]]);
  });
});

describe("DR flavors", () => {
  it("takes the per-server override, else the flavorMap entry, else keeps the production flavor", () => {
    const { calls } = plan([facts("a"), facts("b"), facts("c", { server: { flavor: { id: "s6.xlarge.2" } } })], {
      creationOptions: { flavorMap: { "s6.large.2": "s6.large.4" } },
      flavorOverrides: { a: "c7.large.2" },
    });
    expect(calls[0]?.kind === "batch" && calls[0].request.protected_instances.servers).toEqual([
      { server_id: "a", flavorRef: "c7.large.2" },
      { server_id: "b", flavorRef: "s6.large.4" },
      { server_id: "c" },
    ]);
  });

  it("sets flavorRef on a single create", () => {
    const { calls } = plan([facts("a")], { flavorOverrides: { a: "c7.large.2" } });
    expect(calls[0]?.kind === "single" && calls[0].request.protected_instance.flavorRef).toBe("c7.large.2");
  });
});

describe("planProtection", () => {
  it("accounts for every server exactly once: planned, ineligible or deferred", () => {
    const { verdicts, calls } = plan([
      facts("a"),
      facts("b", { server: { status: "REBOOT" } }),
      facts("c", { server: { status: "ERROR" } }),
      facts("d"),
    ]);
    expect(verdicts.map((verdict) => [verdict.serverId, verdict.verdict])).toEqual([
      ["a", "eligible"],
      ["b", "deferred"],
      ["c", "ineligible"],
      ["d", "eligible"],
    ]);
    expect(shape(calls)).toEqual([["batch", ["a", "d"]]]);
  });

  it("plans no calls when the group is missing", () => {
    expect(plan([facts("a")], { protectionGroup: undefined }).calls).toEqual([]);
  });

  it("refuses duplicate server ids with PLAN_INPUT_INVALID", () => {
    expect(() => planProtection(planInputFor([facts("a"), facts("a")]))).toThrowError(
      expect.objectContaining({ code: "PLAN_INPUT_INVALID", message: expect.stringContaining("duplicate server a") }),
    );
  });

  it("refuses creation options breaking an SDRS field rule, naming the field", () => {
    expect(() =>
      planProtection(planInputFor([facts("a")], { creationOptions: { namePrefix: "bad prefix!" } })),
    ).toThrowError(
      expect.objectContaining({
        code: "PLAN_INPUT_INVALID",
        message: expect.stringContaining("creationOptions.namePrefix"),
      }),
    );
    expect(() =>
      planProtection(planInputFor([facts("a")], { creationOptions: { primaryIpAddresses: { a: "10.0.0.1" } } })),
    ).toThrowError(
      expect.objectContaining({
        code: "PLAN_INPUT_INVALID",
        message: expect.stringContaining("requires primarySubnetId"),
      }),
    );
  });
});

describe("planCalls guards", () => {
  it("refuses a shared-disk cluster above the limit with PLAN_CLUSTER_EXCEEDS_LIMIT", () => {
    const servers = ["a", "b", "c"].map((serverId) => ({
      serverId,
      serverName: serverId,
      options: {},
      sharedDiskCluster: ["a", "b", "c"],
    }));
    expect(() => planCalls({ protectionGroupId: GROUP_ID, servers, batchLimit: 2 })).toThrowError(PlanningError);
    expect(() => planCalls({ protectionGroupId: GROUP_ID, servers, batchLimit: 2 })).toThrowError(
      expect.objectContaining({ code: "PLAN_CLUSTER_EXCEEDS_LIMIT" }),
    );
  });

  it("refuses a shared-disk cluster with differing options with PLAN_CLUSTER_OPTIONS_DIFFER", () => {
    const servers = [
      { serverId: "a", serverName: "a", options: {}, sharedDiskCluster: ["a", "b"] },
      { serverId: "b", serverName: "b", options: { clusterId: "dss-1" }, sharedDiskCluster: ["a", "b"] },
    ];
    expect(() => planCalls({ protectionGroupId: GROUP_ID, servers })).toThrowError(
      expect.objectContaining({ code: "PLAN_CLUSTER_OPTIONS_DIFFER" }),
    );
  });
});
