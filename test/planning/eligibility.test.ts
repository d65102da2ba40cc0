import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { evaluateEligibility } from "../../lib/planning/eligibility.ts";
import { parsePlanInput } from "../../lib/planning/plan.ts";
import { RULE_TABLE } from "../../lib/planning/rules.ts";
import type { PlanInputArg, ServerFactsInput, Verdict } from "../../lib/planning/types.ts";
import {
  facts,
  GROUP_ID,
  notFound,
  PROD_VPC,
  planInputFor,
  protectedInstance,
  protectionGroup,
  SOURCE_AZ,
  sharedVolume,
  TARGET_AZ,
  volume,
} from "./fixtures.ts";

function verdicts(servers: ServerFactsInput[], overrides: Partial<PlanInputArg> = {}): Verdict[] {
  return evaluateEligibility(parsePlanInput(planInputFor(servers, overrides)));
}

function verdictOf(server: ServerFactsInput, overrides: Partial<PlanInputArg> = {}): Verdict {
  const [verdict] = verdicts([server], overrides);
  if (verdict === undefined) throw new Error("no verdict");
  return verdict;
}

const codes = (reasons: readonly { code: string }[]) => reasons.map((reason) => reason.code);

interface RuleCase {
  name: string;
  server: ServerFactsInput;
  overrides?: Partial<PlanInputArg>;
  verdict: Verdict["verdict"];
  reasons: string[];
  sdrsCode?: string;
  retryAfterSeconds?: number;
}

const ruleCases: RuleCase[] = [
  {
    name: "accepts a healthy server in the group's VPC and production AZ",
    server: facts("a"),
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "accepts a SHUTOFF server",
    server: facts("a", { server: { status: "SHUTOFF" } }),
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "accepts a group with protection enabled",
    server: facts("a"),
    overrides: { protectionGroup: protectionGroup({ status: "protected" }) },
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects every server when the target group is not found with INELIGIBLE_GROUP_NOT_FOUND",
    server: facts("a"),
    overrides: { protectionGroup: undefined },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_GROUP_NOT_FOUND"],
    sdrsCode: "SDRS.1013",
  },
  ...["creating", "starting", "stopping", "reprotecting", "reversing", "failing-over", "deleting"].map(
    (status): RuleCase => ({
      name: `defers while the group is ${status} with DEFERRED_GROUP_BUSY`,
      server: facts("a"),
      overrides: { protectionGroup: protectionGroup({ status }) },
      verdict: "deferred",
      reasons: ["DEFERRED_GROUP_BUSY"],
      retryAfterSeconds: 300,
    }),
  ),
  ...["error", "error-starting", "error-failing-over", "failed-over", "failed-over-back", "some-future-status"].map(
    (status): RuleCase => ({
      name: `rejects a group in status ${status} with INELIGIBLE_GROUP_STATUS`,
      server: facts("a"),
      overrides: { protectionGroup: protectionGroup({ status }) },
      verdict: "ineligible",
      reasons: ["INELIGIBLE_GROUP_STATUS"],
      sdrsCode: "SDRS.1323",
    }),
  ),
  {
    name: "rejects a server that does not exist with INELIGIBLE_SERVER_NOT_FOUND",
    server: notFound("gone"),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_SERVER_NOT_FOUND"],
    sdrsCode: "SDRS.1326",
  },
  ...["BUILD", "REBOOT", "HARD_REBOOT", "RESIZE", "VERIFY_RESIZE", "MIGRATING", "REBUILD"].map(
    (status): RuleCase => ({
      name: `defers a server in transitional status ${status} with DEFERRED_SERVER_BUSY`,
      server: facts("a", { server: { status } }),
      verdict: "deferred",
      reasons: ["DEFERRED_SERVER_BUSY"],
      retryAfterSeconds: 60,
    }),
  ),
  ...["ERROR", "SUSPENDED", "PAUSED", "SHELVED", "SHELVED_OFFLOADED", "DELETED", "SOFT_DELETED"].map(
    (status): RuleCase => ({
      name: `rejects a server in status ${status} with INELIGIBLE_SERVER_STATUS`,
      server: facts("a", { server: { status } }),
      verdict: "ineligible",
      reasons: ["INELIGIBLE_SERVER_STATUS"],
      sdrsCode: "SDRS.1333",
    }),
  ),
  {
    name: "rejects a locked server with INELIGIBLE_SERVER_LOCKED (SDRS.1357)",
    server: facts("a", { server: { locked: true } }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_SERVER_LOCKED"],
    sdrsCode: "SDRS.1357",
  },
  {
    name: "rejects a server locked by an order with INELIGIBLE_SERVER_LOCKED (SDRS.1359)",
    server: facts("a", { server: { metadata: { lockSource: "ORDER" } } }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_SERVER_LOCKED"],
    sdrsCode: "SDRS.1359",
  },
  {
    name: "rejects a locked server whose lockSource names the locking service with INELIGIBLE_SERVER_LOCKED (SDRS.1359)",
    server: facts("a", { server: { locked: true, metadata: { lockSource: "ORDER" } } }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_SERVER_LOCKED"],
    sdrsCode: "SDRS.1359",
  },
  {
    name: "rejects a frozen server with INELIGIBLE_SERVER_FROZEN",
    server: facts("a", { server: { metadata: { EcmResStatus: "freeze" } } }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_SERVER_FROZEN"],
  },
  {
    name: "accepts a server whose freeze was lifted (EcmResStatus normal)",
    server: facts("a", { server: { metadata: { EcmResStatus: "normal" } } }),
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects the production server of a protected instance in another group with INELIGIBLE_ALREADY_PROTECTED",
    server: facts("a"),
    overrides: { protectedInstances: [protectedInstance({ source_server: "a", target_server: "a-dr" })] },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_ALREADY_PROTECTED"],
    sdrsCode: "SDRS.1305",
  },
  {
    name: "rejects the DR-site server of a protected instance with INELIGIBLE_DR_SITE_SERVER",
    server: facts("a-dr"),
    overrides: { protectedInstances: [protectedInstance({ source_server: "a", target_server: "a-dr" })] },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_DR_SITE_SERVER"],
    sdrsCode: "SDRS.1305",
  },
  {
    name: "rejects a server in another VPC with INELIGIBLE_VPC_MISMATCH",
    server: facts("a", { server: { metadata: { vpc_id: "vpc-other" } } }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_VPC_MISMATCH"],
    sdrsCode: "SDRS.1304",
  },
  {
    name: "rejects a server in the group's DR AZ with INELIGIBLE_AZ_MISMATCH",
    server: facts("a", { server: { "OS-EXT-AZ:availability_zone": TARGET_AZ } }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_AZ_MISMATCH"],
    sdrsCode: "SDRS.1303",
  },
  {
    name: "accepts a server in the target AZ after a failover (priority_station target)",
    server: facts("a", { server: { "OS-EXT-AZ:availability_zone": TARGET_AZ } }),
    overrides: { protectionGroup: protectionGroup({ priority_station: "target" }) },
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects a server in the source AZ after a failover with INELIGIBLE_AZ_MISMATCH",
    server: facts("a", { server: { "OS-EXT-AZ:availability_zone": SOURCE_AZ } }),
    overrides: { protectionGroup: protectionGroup({ priority_station: "target" }) },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_AZ_MISMATCH"],
  },
  ...[{ tenancy: ["dedicated"] }, { tenancy: ["dedicate"] }, { dedicated_host_id: ["deh-1"] }].map(
    (hints): RuleCase => ({
      name: `rejects a server on a dedicated host (${JSON.stringify(hints)}) with INELIGIBLE_DEDICATED_HOST`,
      server: facts("a", { server: { "os:scheduler_hints": hints } }),
      verdict: "ineligible",
      reasons: ["INELIGIBLE_DEDICATED_HOST"],
      sdrsCode: "SDRS.1366",
    }),
  ),
  {
    name: "accepts a server with shared tenancy hints",
    server: facts("a", {
      server: { "os:scheduler_hints": { tenancy: ["shared"], group: [], dedicated_host_id: [""] } },
    }),
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects an ECS-group member when the options ask for tenancy dedicated with INELIGIBLE_ECS_GROUP_DEDICATED_TENANCY",
    server: facts("a", { server: { "os:scheduler_hints": { group: ["ecs-group-1"] } } }),
    overrides: { creationOptions: { tenancy: "dedicated" } },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_ECS_GROUP_DEDICATED_TENANCY"],
    sdrsCode: "SDRS.1375",
  },
  {
    name: "accepts an ECS-group member with shared tenancy",
    server: facts("a", { server: { "os:scheduler_hints": { group: ["ecs-group-1"] } } }),
    overrides: { creationOptions: { tenancy: "shared" } },
    verdict: "eligible",
    reasons: [],
  },
  ...[
    "g6.xlarge.4",
    "p2s.2xlarge.8",
    "pi2.2xlarge.4",
    "fp1.2xlarge.11",
    "c6.large.2",
    "c9.large.2",
    "s9.medium.2",
    "i9.large.4",
    "m9.large.8",
    "kc1.large.2",
    "km1.large.8",
    "k1.large.2",
    "e3.7xlarge.12",
    "d6.xlarge.4",
    "i3.2xlarge.8",
    "physical.s4.large",
  ].map(
    (flavorId): RuleCase => ({
      name: `rejects flavor ${flavorId} with INELIGIBLE_FLAVOR_UNSUPPORTED`,
      server: facts("a", { server: { flavor: { id: flavorId, name: flavorId } } }),
      verdict: "ineligible",
      reasons: ["INELIGIBLE_FLAVOR_UNSUPPORTED"],
      sdrsCode: "SDRS.1356",
    }),
  ),
  ...["s6.large.2", "s3.medium.1", "c6s.large.2", "c7.xlarge.2", "m6.large.8", "t6.small.1", "h3.large.2"].map(
    (flavorId): RuleCase => ({
      name: `accepts flavor ${flavorId}`,
      server: facts("a", { server: { flavor: { id: flavorId, name: flavorId } } }),
      verdict: "eligible",
      reasons: [],
    }),
  ),
  {
    name: "rejects a flavor recognised by its name when its id is opaque with INELIGIBLE_FLAVOR_UNSUPPORTED",
    server: facts("a", { server: { flavor: { id: "8f1d7a2c", name: "g6.xlarge.4" } } }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_FLAVOR_UNSUPPORTED"],
  },
  {
    name: "rejects a DR flavor from flavorMap in an unsupported family with INELIGIBLE_DR_FLAVOR_UNSUPPORTED",
    server: facts("a"),
    overrides: { creationOptions: { flavorMap: { "s6.large.2": "g6.large.2" } } },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_DR_FLAVOR_UNSUPPORTED"],
    sdrsCode: "SDRS.1353",
  },
  {
    name: "rejects a flavorMap target the DR-site AZ does not offer with INELIGIBLE_DR_FLAVOR_NOT_OFFERED",
    server: facts("a"),
    overrides: {
      creationOptions: { flavorMap: { "s6.large.2": "s6.xlarge.2" } },
      drSite: { flavorIds: ["s6.large.2", "c7.large.2"] },
    },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_DR_FLAVOR_NOT_OFFERED"],
    sdrsCode: "SDRS.1353",
  },
  {
    name: "accepts a flavorMap target the DR-site AZ offers",
    server: facts("a"),
    overrides: {
      creationOptions: { flavorMap: { "s6.large.2": "c7.large.2" } },
      drSite: { flavorIds: ["s6.large.2", "c7.large.2"] },
    },
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects a primary IP outside its subnet with INELIGIBLE_PRIMARY_IP_OUTSIDE_SUBNET",
    server: facts("a"),
    overrides: {
      creationOptions: { primarySubnetId: "subnet-1", primaryIpAddresses: { a: "10.0.1.5" } },
      drSite: { subnetCidrs: { "subnet-1": "10.0.0.0/24" } },
    },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_PRIMARY_IP_OUTSIDE_SUBNET"],
    sdrsCode: "SDRS.0219",
  },
  {
    name: "accepts a primary IP inside its subnet, and one whose subnet's CIDR is not known",
    server: facts("a"),
    overrides: {
      creationOptions: { primarySubnetId: "subnet-1", primaryIpAddresses: { a: "10.0.0.5" } },
      drSite: { subnetCidrs: { "subnet-1": "10.0.0.0/24" } },
    },
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects a server without a system disk with INELIGIBLE_NO_SYSTEM_DISK",
    server: facts("a", {
      server: { "os-extended-volumes:volumes_attached": [{ id: "data", bootIndex: "1", device: "/dev/vdb" }] },
    }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_NO_SYSTEM_DISK"],
    sdrsCode: "SDRS.1339",
  },
  {
    name: "rejects a server whose only disk is a data disk on the root device with INELIGIBLE_NO_SYSTEM_DISK",
    server: {
      ...facts("a", {
        server: {
          "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
          "os-extended-volumes:volumes_attached": [{ id: "data", bootIndex: "-1", device: "/dev/vda" }],
        },
      }),
      volumes: [volume("data", ["a"], { attachments: [{ server_id: "a", device: "/dev/vda" }] })],
    },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_NO_SYSTEM_DISK"],
  },
  {
    name: "finds the system disk by the root device when bootIndex is not reported",
    server: facts("a", {
      server: {
        "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
        "os-extended-volumes:volumes_attached": [{ id: "a-sys", device: "/dev/vda" }],
      },
    }),
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects an encrypted disk with INELIGIBLE_DISK_ENCRYPTED",
    server: facts("a", { volumes: [volume("data-1", ["a"], { metadata: { __system__encrypted: "1" } })] }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_DISK_ENCRYPTED"],
    sdrsCode: "SDRS.1802",
  },
  {
    name: "rejects a disk frozen by metadata with INELIGIBLE_DISK_FROZEN",
    server: facts("a", { volumes: [volume("data-1", ["a"], { metadata: { __system__frozen: "true" } })] }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_DISK_FROZEN"],
    sdrsCode: "SDRS.0225",
  },
  {
    name: "rejects a disk in status frozen with INELIGIBLE_DISK_FROZEN",
    server: facts("a", { volumes: [volume("data-1", ["a"], { status: "frozen" })] }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_DISK_FROZEN"],
  },
  {
    name: "rejects a Windows key-pair server whose key pair is gone with INELIGIBLE_KEYPAIR_MISSING",
    server: facts("a", { server: { key_name: "kp-win", metadata: { os_type: "Windows" } }, keypairExists: false }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_KEYPAIR_MISSING"],
  },
  {
    name: "accepts a Linux server whose key pair is gone (only Windows needs it)",
    server: facts("a", { server: { key_name: "kp-linux" }, keypairExists: false }),
    verdict: "eligible",
    reasons: [],
  },
  {
    name: "rejects a server with a shared disk under the block policy with INELIGIBLE_SHARED_DISK_BLOCKED",
    server: facts("a", { volumes: [sharedVolume("shared-1", ["a"])] }),
    overrides: { sharedDiskPolicy: "block" },
    verdict: "ineligible",
    reasons: ["INELIGIBLE_SHARED_DISK_BLOCKED"],
  },
  {
    name: "rejects a server whose shared disk is attached to a server outside the request with INELIGIBLE_SHARED_DISK_PEER_MISSING",
    server: facts("a", { volumes: [sharedVolume("shared-1", ["a", "b"])] }),
    verdict: "ineligible",
    reasons: ["INELIGIBLE_SHARED_DISK_PEER_MISSING"],
    sdrsCode: "SDRS.1408",
  },
  {
    name: "accepts a server with a legacy shareable disk attached only to itself",
    server: facts("a", { volumes: [volume("shared-1", ["a"], { shareable: "true" })] }),
    verdict: "eligible",
    reasons: [],
  },
];

describe("eligibility rules", () => {
  it.each(ruleCases)("$name", ({ server, overrides, verdict, reasons, sdrsCode, retryAfterSeconds }) => {
    const result = verdictOf(server, overrides);
    expect(result.verdict).toBe(verdict);
    expect(codes(result.reasons)).toEqual(reasons);
    if (sdrsCode !== undefined) expect(result.reasons[0]?.sdrsCode).toBe(sdrsCode);
    expect(result.retryAfterSeconds).toBe(retryAfterSeconds);
    for (const reason of result.reasons) expect(reason.remedy.length).toBeGreaterThan(0);
  });

  it("names the failing values in the message", () => {
    const [vpc, az] = verdictOf(
      facts("a", { server: { metadata: { vpc_id: "vpc-other" }, "OS-EXT-AZ:availability_zone": TARGET_AZ } }),
    ).reasons;
    expect(vpc?.message).toBe(`server vpc vpc-other ≠ protection group vpc ${PROD_VPC}`);
    expect(az?.message).toBe(
      `server AZ ${TARGET_AZ} ≠ protection group production AZ ${SOURCE_AZ} (priority_station source)`,
    );
  });

  it("names the protected instance and its group for an already protected server", () => {
    const [reason] = verdictOf(facts("a"), {
      protectedInstances: [
        protectedInstance({ id: "pi-7", name: "pi-a", source_server: "a", server_group_id: GROUP_ID }),
      ],
    }).reasons;
    expect(reason?.message).toBe(
      `server srv-a (a) is already the production server of protected instance pi-a (pi-7) in protection group ${GROUP_ID} (the target group), status protected`,
    );
    expect(reason?.details).toEqual({ protectedInstanceId: "pi-7", protectionGroupId: GROUP_ID, status: "protected" });
  });

  it("reports every reason of a server, in rule-table order", () => {
    const result = verdictOf(
      facts("a", {
        server: { status: "ERROR", locked: true, metadata: { vpc_id: "vpc-other" }, flavor: { id: "g6.xlarge.4" } },
        volumes: [volume("data-1", ["a"], { metadata: { __system__encrypted: "1" } })],
      }),
      { protectionGroup: protectionGroup({ status: "error" }) },
    );
    expect(codes(result.reasons)).toEqual([
      "INELIGIBLE_GROUP_STATUS",
      "INELIGIBLE_SERVER_STATUS",
      "INELIGIBLE_SERVER_LOCKED",
      "INELIGIBLE_VPC_MISMATCH",
      "INELIGIBLE_FLAVOR_UNSUPPORTED",
      "INELIGIBLE_DISK_ENCRYPTED",
    ]);
  });

  it("is ineligible, not deferred, when a server is both busy and blocked", () => {
    const result = verdictOf(facts("a", { server: { status: "REBOOT", metadata: { vpc_id: "vpc-other" } } }));
    expect(result.verdict).toBe("ineligible");
    expect(codes(result.reasons)).toEqual(["DEFERRED_SERVER_BUSY", "INELIGIBLE_VPC_MISMATCH"]);
    expect(result.retryAfterSeconds).toBeUndefined();
  });

  it("defers with the longest retry-after when the group and the server are both busy", () => {
    const result = verdictOf(facts("a", { server: { status: "BUILD" } }), {
      protectionGroup: protectionGroup({ status: "starting" }),
    });
    expect(result).toMatchObject({ verdict: "deferred", retryAfterSeconds: 300 });
  });

  it("uses per-server creation options for the ECS-group rule", () => {
    const [a, b] = verdicts(
      [
        facts("a", { server: { "os:scheduler_hints": { group: ["g1"] } } }),
        facts("b", { server: { "os:scheduler_hints": { group: ["g1"] } } }),
      ],
      { serverCreationOptions: { b: { tenancy: "dedicated" } } },
    );
    expect(a?.verdict).toBe("eligible");
    expect(codes(b?.reasons ?? [])).toEqual(["INELIGIBLE_ECS_GROUP_DEDICATED_TENANCY"]);
  });

  it("rejects a per-server DR flavor override in an unsupported family", () => {
    expect(codes(verdictOf(facts("a"), { flavorOverrides: { a: "kc1.large.2" } }).reasons)).toEqual([
      "INELIGIBLE_DR_FLAVOR_UNSUPPORTED",
    ]);
  });
});

describe("warnings", () => {
  it("always notes that later changes are not synced to the DR server", () => {
    expect(codes(verdictOf(facts("a")).warnings)).toEqual(["WARN_CHANGES_NOT_SYNCED"]);
  });

  it("warns about a Windows key pair that was not checked, and keeps the server eligible", () => {
    const result = verdictOf(facts("a", { server: { key_name: "kp-win", metadata: { os_type: "Windows" } } }));
    expect(result.verdict).toBe("eligible");
    expect(codes(result.warnings)).toEqual(["WARN_KEYPAIR_UNVERIFIED", "WARN_CHANGES_NOT_SYNCED"]);
  });

  it("does not warn when the Windows key pair exists", () => {
    const result = verdictOf(
      facts("a", { server: { key_name: "kp-win", metadata: { os_type: "Windows" } }, keypairExists: true }),
    );
    expect(codes(result.warnings)).toEqual(["WARN_CHANGES_NOT_SYNCED"]);
  });

  it("warns about Auto Scaling membership with WARN_AUTO_SCALING_MEMBER", () => {
    const result = verdictOf(facts("a", { autoScalingGroupId: "as-1" }));
    expect(result.verdict).toBe("eligible");
    expect(codes(result.warnings)).toEqual(["WARN_AUTO_SCALING_MEMBER", "WARN_CHANGES_NOT_SYNCED"]);
    expect(result.warnings[0]?.message).toContain("as-1");
  });

  it("warns that the enterprise project is not carried over, except for the default project 0", () => {
    expect(codes(verdictOf(facts("a", { server: { enterprise_project_id: "ep-1" } })).warnings)).toEqual([
      "WARN_ENTERPRISE_PROJECT_NOT_CARRIED",
      "WARN_CHANGES_NOT_SYNCED",
    ]);
    expect(codes(verdictOf(facts("a", { server: { enterprise_project_id: "0" } })).warnings)).toEqual([
      "WARN_CHANGES_NOT_SYNCED",
    ]);
    expect(
      codes(
        verdictOf(facts("a", { server: { sys_tags: [{ key: "_sys_enterprise_project_id", value: "ep-2" }] } }))
          .warnings,
      ),
    ).toEqual(["WARN_ENTERPRISE_PROJECT_NOT_CARRIED", "WARN_CHANGES_NOT_SYNCED"]);
  });

  it("warns that a primary IP cannot be applied to a server that needs a batch create", () => {
    const result = verdictOf(facts("a", { volumes: [sharedVolume("shared-1", ["a"])] }), {
      creationOptions: { primarySubnetId: "subnet-1", primaryIpAddresses: { a: "192.168.0.10" } },
    });
    expect(result.verdict).toBe("eligible");
    expect(codes(result.warnings)).toEqual(["WARN_PRIMARY_IP_NOT_APPLIED", "WARN_CHANGES_NOT_SYNCED"]);
  });
});

describe("shared-disk clusters", () => {
  it("accepts servers sharing a disk when all of them are in the request", () => {
    const result = verdicts([
      facts("a", { volumes: [sharedVolume("shared-1", ["a", "b"])] }),
      facts("b", { volumes: [sharedVolume("shared-1", ["a", "b"])] }),
    ]);
    expect(result.map((verdict) => [verdict.verdict, verdict.sharedDiskCluster])).toEqual([
      ["eligible", ["a", "b"]],
      ["eligible", ["a", "b"]],
    ]);
  });

  it("links servers transitively: a–b share one disk, b–c another", () => {
    const ab = sharedVolume("shared-ab", ["a", "b"]);
    const bc = sharedVolume("shared-bc", ["b", "c"]);
    const result = verdicts([
      facts("c", { volumes: [bc] }),
      facts("a", { volumes: [ab] }),
      facts("b", { volumes: [ab, bc] }),
    ]);
    expect(result.map((verdict) => verdict.sharedDiskCluster)).toEqual([
      ["a", "b", "c"],
      ["a", "b", "c"],
      ["a", "b", "c"],
    ]);
  });

  it("names the servers missing from the request", () => {
    const [a] = verdicts([facts("a", { volumes: [sharedVolume("shared-1", ["a", "b", "c"])] })]);
    expect(a?.reasons[0]?.message).toBe(
      "shared disk shared-1 of server srv-a (a) is also attached to b, c, not in this request",
    );
    expect(a?.reasons[0]?.details).toEqual({ missingServerIds: ["b", "c"], volumeIds: ["shared-1"] });
  });

  it("rejects every member when one peer is ineligible, naming the peer and its reason", () => {
    const shared = sharedVolume("shared-1", ["a", "b"]);
    const [a, b] = verdicts([
      facts("a", { volumes: [shared] }),
      facts("b", { volumes: [shared], server: { metadata: { vpc_id: "vpc-other" } } }),
    ]);
    expect(a?.verdict).toBe("ineligible");
    expect(codes(a?.reasons ?? [])).toEqual(["INELIGIBLE_SHARED_DISK_PEER_INELIGIBLE"]);
    expect(a?.reasons[0]?.message).toBe(
      "shared-disk peer b (INELIGIBLE_VPC_MISMATCH) is ineligible, so the cluster cannot be created in one batch",
    );
    expect(codes(b?.reasons ?? [])).toEqual(["INELIGIBLE_VPC_MISMATCH"]);
  });

  it("defers every member while one peer is deferred, with the peer's retry-after", () => {
    const shared = sharedVolume("shared-1", ["a", "b"]);
    const [a, b] = verdicts([
      facts("a", { volumes: [shared] }),
      facts("b", { volumes: [shared], server: { status: "REBOOT" } }),
    ]);
    expect(a).toMatchObject({ verdict: "deferred", retryAfterSeconds: 60 });
    expect(codes(a?.reasons ?? [])).toEqual(["DEFERRED_SHARED_DISK_PEER_DEFERRED"]);
    expect(b).toMatchObject({ verdict: "deferred", retryAfterSeconds: 60 });
  });

  it("rejects every member of a cluster larger than the batch limit with INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE", () => {
    const shared = sharedVolume("shared-1", ["a", "b", "c"]);
    const result = verdicts(
      ["a", "b", "c"].map((serverId) => facts(serverId, { volumes: [shared] })),
      { batchLimit: 2 },
    );
    expect(result.map((verdict) => codes(verdict.reasons))).toEqual([
      ["INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE"],
      ["INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE"],
      ["INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE"],
    ]);
  });

  it("rejects a cluster whose members have different batch options with INELIGIBLE_SHARED_DISK_OPTIONS_CONFLICT", () => {
    const shared = sharedVolume("shared-1", ["a", "b"]);
    const [a, b] = verdicts([facts("a", { volumes: [shared] }), facts("b", { volumes: [shared] })], {
      serverCreationOptions: { b: { tenancy: "dedicated", dedicatedHostId: "deh-1" } },
    });
    expect(codes(a?.reasons ?? [])).toEqual(["INELIGIBLE_SHARED_DISK_OPTIONS_CONFLICT"]);
    expect(a?.reasons[0]?.message).toContain("b (tenancy, dedicatedHostId)");
    expect(codes(b?.reasons ?? [])).toEqual(["INELIGIBLE_SHARED_DISK_OPTIONS_CONFLICT"]);
  });

  it("keeps a cluster together when members differ only in DR flavor", () => {
    const shared = sharedVolume("shared-1", ["a", "b"]);
    const result = verdicts([facts("a", { volumes: [shared] }), facts("b", { volumes: [shared] })], {
      flavorOverrides: { b: "s6.xlarge.2" },
    });
    expect(result.map((verdict) => verdict.verdict)).toEqual(["eligible", "eligible"]);
  });
});

describe("rule table", () => {
  it("has unique codes, each with a meaning and a remedy, prefixed by its outcome", () => {
    const all = RULE_TABLE.map((rule) => rule.code);
    expect(new Set(all).size).toBe(all.length);
    for (const rule of RULE_TABLE) {
      expect(
        rule.code.startsWith({ ineligible: "INELIGIBLE_", deferred: "DEFERRED_", warning: "WARN_" }[rule.outcome]),
      ).toBe(true);
      expect(rule.meaning.length).toBeGreaterThan(0);
      expect(rule.remedy.length).toBeGreaterThan(0);
    }
  });

  it("is documented row by row in docs/planning-rules.md", () => {
    const doc = readFileSync(new URL("../../docs/planning-rules.md", import.meta.url), "utf8");
    for (const rule of RULE_TABLE) expect(doc).toContain(`| \`${rule.code}\` | ${rule.outcome}`);
  });
});
