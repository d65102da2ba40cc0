import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../lib/clock.ts";
import { job } from "../../lib/sdrs/schemas.ts";
import { parseEstate } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import {
  batchCreate,
  call,
  errorCodeOf,
  groupId,
  jobIdOf,
  path,
  sampleEstate,
  serverId,
  singleCreate,
  startTestSimulator,
} from "./sim-client.ts";

const PG_WEB = groupId("pg-web");
const PG_DB = groupId("pg-db");

/** The group a tagged server is meant for: sdrs_protect=web|db|<group id>; anything else → pg-web. */
function targetGroup(tags: Record<string, string>): string {
  const target = tags.sdrs_protect;
  if (target === "db") return PG_DB;
  if (target !== undefined && sampleEstate.protectionGroups.some((group) => group.id === target)) return target;
  return PG_WEB;
}

function noteField(note: string | undefined, field: string): string | undefined {
  return note
    ?.split(" ")
    .find((part) => part.startsWith(`${field}=`))
    ?.slice(field.length + 1);
}

const cases = sampleEstate.servers.map((server) => ({
  name: server.name,
  id: server.id,
  caseName: noteField(server._note, "case") ?? "(none)",
  expected: noteField(server._note, "expect") ?? "(none)",
  group: targetGroup(server.tags),
}));

describe("the sample estate's single-create outcomes (table from each server's _note)", () => {
  let sim: Simulator;
  let clock: ManualClock;
  beforeAll(async () => {
    ({ sim, clock } = await startTestSimulator());
  });
  afterAll(() => sim.close());

  it("notes every server with a case and an expectation", () => {
    expect(cases.filter((entry) => entry.caseName === "(none)" || entry.expected === "(none)")).toEqual([]);
  });

  const rejected = cases.filter((entry) => entry.expected.startsWith("SDRS."));
  it.each(rejected)("rejects $name ($caseName) with 400 $expected", async (entry) => {
    const result = await call(sim, "POST", path.protectedInstances, { body: singleCreate(entry.id, entry.group) });
    expect(result.status).toBe(400);
    expect(errorCodeOf(result)).toBe(entry.expected);
  });

  const accepted = cases.filter((entry) => entry.expected === "ok");
  it.each(accepted)("accepts $name ($caseName) with 200 and a 32-hex job id", async (entry) => {
    const result = await call(sim, "POST", path.protectedInstances, { body: singleCreate(entry.id, entry.group) });
    expect(result.status).toBe(200);
    expect(jobIdOf(result)).toMatch(/^[0-9a-f]{32}$/);
  });

  const failingLater = cases.filter((entry) => entry.expected.startsWith("job:"));
  it.each(failingLater)("accepts $name ($caseName) but its job ends FAIL with $expected", async (entry) => {
    const created = await call(sim, "POST", path.protectedInstances, { body: singleCreate(entry.id, entry.group) });
    expect(created.status).toBe(200);
    clock.advance(10 * 60_000);
    const status = job.parse((await call(sim, "GET", path.job(jobIdOf(created)))).json);
    expect(status).toMatchObject({ status: "FAIL", error_code: entry.expected.slice("job:".length) });
    expect(status.fail_reason).toContain(entry.id);
  });

  it("covers every documented synchronous code and both job failures", () => {
    const codes = new Set(cases.map((entry) => entry.expected));
    for (const code of [
      "SDRS.1303",
      "SDRS.1304",
      "SDRS.1305",
      "SDRS.1333",
      "SDRS.1339",
      "SDRS.1356",
      "SDRS.1357",
      "SDRS.1358",
      "SDRS.1359",
      "SDRS.1366",
      "SDRS.1408",
      "SDRS.0225",
      "job:SDRS.1802",
      "job:SDRS.1306",
    ]) {
      expect(codes).toContain(code);
    }
  });
});

describe("create request rules (synchronous 400s)", () => {
  let sim: Simulator;
  beforeAll(async () => {
    ({ sim } = await startTestSimulator());
  });
  afterAll(() => sim.close());

  const web01 = serverId("web-01");
  const web02 = serverId("web-02");
  const single = (extra: Record<string, unknown>) => singleCreate(web01, PG_WEB, extra);

  it.each([
    ["a body that is not JSON", path.protectedInstances, "{not json", "SDRS.0201"],
    ["a JSON body that is not an object", path.protectedInstances, "[1,2]", "SDRS.0201"],
    ["a body without protected_instance", path.protectedInstances, { server_id: web01 }, "SDRS.0201"],
    ["an unknown field", path.protectedInstances, single({ colour: "red" }), "SDRS.0201"],
    ["a name with a space", path.protectedInstances, single({ name: "my instance" }), "SDRS.0202"],
    ["a name over 64 bytes", path.protectedInstances, single({ name: "n".repeat(65) }), "SDRS.0202"],
    ["a description with <", path.protectedInstances, single({ description: "<b>" }), "SDRS.0212"],
    ["tenancy other than shared|dedicated", path.protectedInstances, single({ tenancy: "exclusive" }), "SDRS.0228"],
    [
      "dedicated_host_id without tenancy dedicated",
      path.protectedInstances,
      single({ dedicated_host_id: "deh-1" }),
      "SDRS.1371",
    ],
    [
      "primary_ip_address without primary_subnet_id",
      path.protectedInstances,
      single({ primary_ip_address: "192.168.0.5" }),
      "SDRS.1380",
    ],
    ["a tag key with =", path.protectedInstances, single({ tags: [{ key: "a=b", value: "x" }] }), "SDRS.2204"],
    [
      "11 tags",
      path.protectedInstances,
      single({ tags: Array.from({ length: 11 }, (_, index) => ({ key: `k${index}`, value: "v" })) }),
      "SDRS.2203",
    ],
    ["a blank tag key", path.protectedInstances, single({ tags: [{ key: "  ", value: "x" }] }), "SDRS.2205"],
    ["an empty tag key", path.batch, batchCreate([web01], PG_WEB, { tags: [{ key: "", value: "x" }] }), "SDRS.2205"],
    ["a tag value with |", path.protectedInstances, single({ tags: [{ key: "k", value: "a|b" }] }), "SDRS.2207"],
    ["a null tag value", path.protectedInstances, single({ tags: [{ key: "k", value: null }] }), "SDRS.2208"],
    ["a tag without value", path.protectedInstances, single({ tags: [{ key: "k" }] }), "SDRS.2208"],
    [
      "duplicate tag keys",
      path.batch,
      batchCreate([web01], PG_WEB, {
        tags: [
          { key: "k", value: "1" },
          { key: "k", value: "2" },
        ],
      }),
      "SDRS.2209",
    ],
    [
      "a description of 65 characters",
      path.batch,
      batchCreate([web01], PG_WEB, { description: "d".repeat(65) }),
      "SDRS.0212",
    ],
    [
      "a primary_ip_address that is not an IPv4 address",
      path.protectedInstances,
      single({ primary_subnet_id: "subnet-x", primary_ip_address: "192.168.0.300" }),
      "SDRS.0219",
    ],
    [
      "dedicated_host_id with tenancy shared",
      path.batch,
      batchCreate([web01], PG_WEB, { tenancy: "shared", dedicated_host_id: "deh-1" }),
      "SDRS.1371",
    ],
    ["an empty server_id", path.protectedInstances, single({ server_id: "" }), "SDRS.0210"],
    [
      "a batch name_prefix of 60 characters",
      path.batch,
      batchCreate([web01], PG_WEB, { name_prefix: "p".repeat(60) }),
      "SDRS.0202",
    ],
    ["a batch listing a server twice", path.batch, batchCreate([web01, web01], PG_WEB), "SDRS.1361"],
    [
      "a batch of 6 servers (limit 5)",
      path.batch,
      batchCreate(
        sampleEstate.servers.slice(0, 6).map((server) => server.id),
        PG_WEB,
      ),
      "SDRS.1362",
    ],
    ["a batch without servers", path.batch, batchCreate([], PG_WEB), "SDRS.0201"],
  ])("rejects %s with 400 %s", async (_label, target, body, code) => {
    const result = await call(sim, "POST", target, { body });
    expect(result.status).toBe(400);
    expect(errorCodeOf(result)).toBe(code);
    expect(result.json).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it("names the field and the rule in the message", async () => {
    const result = await call(sim, "POST", path.protectedInstances, { body: single({ name: "my instance" }) });
    expect(result.json).toEqual({
      error: {
        code: "SDRS.0202",
        message:
          "protected_instance.name: may contain only letters, digits, decimal points (.), underscores (_) and hyphens (-)",
      },
    });
  });

  it.each([
    [
      "a protection group that does not exist",
      singleCreate(web01, "00000000-0000-4000-8000-000000000000"),
      "SDRS.0207",
    ],
    ["a group that is creating", singleCreate(web01, groupId("pg-reporting")), "SDRS.1323"],
    ["a group in error", singleCreate(web01, groupId("pg-broken")), "SDRS.1323"],
    ["a group that is failed-over", singleCreate(web01, groupId("pg-erp")), "SDRS.1323"],
    ["a server that does not exist", singleCreate("11111111-1111-4111-8111-111111111111", PG_WEB), "SDRS.1326"],
    ["a DR-site flavorRef of an unsupported family", single({ flavorRef: "g6.xlarge.4" }), "SDRS.1353"],
    [
      "tenancy dedicated for a server in an ECS group",
      singleCreate(serverId("ha-node-01"), PG_WEB, { tenancy: "dedicated" }),
      "SDRS.1375",
    ],
  ])("single create: rejects %s with 400 %s", async (_label, body, code) => {
    const result = await call(sim, "POST", path.protectedInstances, { body });
    expect(result.status).toBe(400);
    expect(errorCodeOf(result)).toBe(code);
  });

  it.each([
    ["an unknown server id", () => [web01, "11111111-1111-4111-8111-111111111111"], PG_WEB, "SDRS.1360"],
    ["one server of a 2-server shared-disk cluster", () => [serverId("file-a-1")], PG_WEB, "SDRS.1408"],
    ["a shared disk whose untagged peer is left out", () => [serverId("nfs-e-1"), web02], PG_WEB, "SDRS.1408"],
    [
      "5 servers of the 6-server shared-disk cluster",
      () => [1, 2, 3, 4, 5].map((i) => serverId(`hpc-d-${i}`)),
      PG_WEB,
      "SDRS.1408",
    ],
    [
      "all 6 servers of the 6-server shared-disk cluster",
      () => [1, 2, 3, 4, 5, 6].map((i) => serverId(`hpc-d-${i}`)),
      PG_WEB,
      "SDRS.1362",
    ],
    ["an eligible server next to one in another VPC", () => [web02, serverId("dev-web-01")], PG_WEB, "SDRS.1304"],
    ["a server of a full group", () => [serverId("legacy-02")], groupId("pg-small"), "SDRS.1358"],
  ])("batch create: rejects %s with 400 %s", async (_label, servers, group, code) => {
    const result = await call(sim, "POST", path.batch, { body: batchCreate(servers(), group) });
    expect(result.status).toBe(400);
    expect(errorCodeOf(result)).toBe(code);
  });

  it("batch create: accepts a whole shared-disk cluster with 202", async () => {
    const result = await call(sim, "POST", path.batch, {
      body: batchCreate(
        [1, 2, 3].map((i) => serverId(`ora-c-${i}`)),
        PG_DB,
      ),
    });
    expect(result.status).toBe(202);
    expect(jobIdOf(result)).toMatch(/^[0-9a-f]{32}$/);
  });

  it("honours a raised batchLimit", async () => {
    const raised = await startSimulator({ estate: sampleEstate, batchLimit: 6 });
    try {
      const servers = [1, 2, 3, 4, 5, 6].map((i) => serverId(`hpc-d-${i}`));
      const result = await call(raised, "POST", path.batch, { body: batchCreate(servers, PG_WEB) });
      expect(result.status).toBe(202);
    } finally {
      await raised.close();
    }
  });

  it("rejects a second create for a server whose instance is still creating with SDRS.1305", async () => {
    const first = await call(sim, "POST", path.protectedInstances, { body: singleCreate(web02, PG_WEB) });
    expect(first.status).toBe(200);
    const second = await call(sim, "POST", path.batch, { body: batchCreate([web02], PG_WEB) });
    expect(second.status).toBe(400);
    expect(errorCodeOf(second)).toBe("SDRS.1305");
  });
});

describe("create protection group and enable protection rules", () => {
  let sim: Simulator;
  beforeAll(async () => {
    ({ sim } = await startTestSimulator());
  });
  afterAll(() => sim.close());

  const vpc = sampleEstate.protectionGroups[0]?.vpcId ?? "";
  const group = (extra: Record<string, unknown>) => ({
    server_group: {
      name: "pg-new",
      source_availability_zone: "eu-de-01",
      target_availability_zone: "eu-de-02",
      domain_id: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
      source_vpc_id: vpc,
      ...extra,
    },
  });

  it.each([
    ["an unknown active-active domain", group({ domain_id: "00000000-0000-4000-8000-000000000000" }), "SDRS.0205"],
    ["an AZ outside the domain", group({ target_availability_zone: "eu-de-03" }), "SDRS.0203"],
    ["the same AZ twice", group({ target_availability_zone: "eu-de-01" }), "SDRS.0203"],
    ["an unknown VPC", group({ source_vpc_id: "vpc-unknown" }), "SDRS.0204"],
    ["a bad name", group({ name: "pg new" }), "SDRS.0202"],
    ["dr_type other than migration", group({ dr_type: "replication" }), "SDRS.0201"],
  ])("rejects %s with 400 %s", async (_label, body, code) => {
    const result = await call(sim, "POST", path.protectionGroups, { body });
    expect(result.status).toBe(400);
    expect(errorCodeOf(result)).toBe(code);
  });

  it.each([
    ["a group without protected instances", PG_WEB, { "start-server-group": {} }, "SDRS.1002"],
    ["a group that is already protected", PG_DB, { "start-server-group": {} }, "SDRS.1017"],
    ["an action other than start-server-group", PG_WEB, { "stop-server-group": {} }, "SDRS.0201"],
    ["a group that does not exist", "00000000-0000-4000-8000-000000000000", { "start-server-group": {} }, "SDRS.1013"],
  ])("enable protection: rejects %s with 400 %s", async (_label, id, body, code) => {
    const result = await call(sim, "POST", path.action(id), { body });
    expect(result.status).toBe(400);
    expect(errorCodeOf(result)).toBe(code);
  });
});

describe("the seed pages' example requests (trailing commas removed) are accepted", () => {
  // The seeds' ids: the sample estate uses them for pg-web, web-01 and web-02. The group example's AZs
  // (AZ01/AZ02) and VPC are not in the sample estate, so that example runs against an estate that adds them.
  const SEED_SINGLE = {
    protected_instance: {
      server_group_id: "523ab8ad-3759-4933-9436-4cf4ebb20867",
      server_id: "403b603d-1d91-42cc-a357-81f3c2daf43f",
      name: "test_protected_instance_name",
      description: "my description",
      primary_subnet_id: "a32217fh-3413-c313-6342-3124d3491502",
      primary_ip_address: "192.168.0.5",
      flavorRef: "s3.large.2",
      tenancy: "dedicated",
      dedicated_host_id: "0bc41598-1b5a-4bd2-872a-82e6abb82e68",
    },
  };
  const SEED_SINGLE_WITH_TAGS = {
    protected_instance: {
      server_group_id: "523ab8ad-3759-4933-9436-4cf4ebb20867",
      server_id: "403b603d-1d91-42cc-a357-81f3c2daf43f",
      name: "test_protected_instance_name",
      description: "my description",
      primary_subnet_id: "a32217fh-3413-c313-6342-3124d3491502",
      primary_ip_address: "192.168.0.5",
      flavorRef: "s3.large.2",
      tags: [
        { key: "key1", value: "value1" },
        { key: "key", value: "value3" },
      ],
    },
  };
  const SEED_BATCH = {
    protected_instances: {
      name_prefix: "test_protected_instance_name",
      description: "my description",
      server_group_id: "523ab8ad-3759-4933-9436-4cf4ebb20867",
      primary_subnet_id: "a32217fh-3413-c313-6342-3124d3491502",
      servers: [
        { server_id: "403b603d-1d91-42cc-a357-81f3c2daf43f", flavorRef: "c3.medium.2" },
        { server_id: "8f5dd226-6cc0-4fe8-9786-b8b3359b234b" },
      ],
      tenancy: "dedicated",
      dedicated_host_id: "0bc41598-1b5a-4bd2-872a-82e6abb82e68",
      tags: [{ key: "test", value: "aaaaa" }],
    },
  };
  const SEED_GROUP = {
    server_group: {
      name: "testname",
      description: "description",
      source_availability_zone: "AZ01",
      target_availability_zone: "AZ02",
      domain_id: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
      source_vpc_id: "046852ef-c49d-409b-8389-546aaaa5701f",
      dr_type: "migration",
      server_type: "ECS",
    },
  };

  it.each([
    ["create protected instance (001, 004 without tags)", path.protectedInstances, SEED_SINGLE, 200],
    ["create protected instance with tags (004)", path.protectedInstances, SEED_SINGLE_WITH_TAGS, 200],
    ["batch create (000, 002)", path.batch, SEED_BATCH, 202],
  ])("%s → %i", async (_label, target, body, status) => {
    const { sim } = await startTestSimulator();
    try {
      const result = await call(sim, "POST", target, { body });
      expect(result.status).toBe(status);
      expect(jobIdOf(result)).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await sim.close();
    }
  });

  it("create protection group (003) → 200", async () => {
    const estate = parseEstate({
      ...sampleEstate,
      vpcs: [...sampleEstate.vpcs, { id: "046852ef-c49d-409b-8389-546aaaa5701f" }],
      activeDomains: [
        { id: "fb4bb8e3-a574-4437-a156-78c916aeea4d", name: "seed-domain", localAz: "AZ01", remoteAz: "AZ02" },
      ],
      protectionGroups: [],
      protectedInstances: [],
    });
    const sim = await startSimulator({ estate });
    try {
      const result = await call(sim, "POST", path.protectionGroups, { body: SEED_GROUP });
      expect(result.status).toBe(200);
      expect(jobIdOf(result)).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await sim.close();
    }
  });
});
