/**
 * Each field rule of each seed page, exactly as written: bytes where the page says bytes (single-create and
 * group-create name and description), characters where it says characters (batch name_prefix and
 * description, tag keys and values). One row per rule and case (at the limit, one over, multibyte),
 * checked where the rule is enforced: the client's request schemas, the simulator over HTTP, and (for the
 * fields a target configures) the targets configuration and the planner.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseTargetsConfig } from "../../lib/config/targets.ts";
import { planProtection } from "../../lib/planning/plan.ts";
import { FIELD_RULES, type FieldRuleName, lengthIn } from "../../lib/sdrs/field-rules.ts";
import {
  batchCreateRequest,
  createProtectedInstanceRequest,
  createProtectionGroupRequest,
} from "../../lib/sdrs/schemas.ts";
import type { Simulator } from "../../lib/sim/server.ts";
import {
  batchCreate,
  call,
  groupId,
  path,
  sampleEstate,
  serverId,
  singleCreate,
  startTestSimulator,
} from "../sim/sim-client.ts";

const PG_WEB = groupId("pg-web");
const web01 = serverId("web-01");
const pgWeb = sampleEstate.protectionGroups.find((group) => group.id === PG_WEB);

/** The request carrying `value` in the rule's field, and where the call goes. */
function requestFor(
  rule: FieldRuleName,
  value: string,
): {
  target: string;
  body: Record<string, unknown>;
  schema: { safeParse(body: unknown): { success: boolean; error?: unknown } };
} {
  const single = (extra: Record<string, unknown>) => ({
    target: path.protectedInstances,
    body: singleCreate(web01, PG_WEB, extra),
    schema: createProtectedInstanceRequest,
  });
  switch (rule) {
    case "protectedInstanceName":
      return single({ name: value });
    case "protectedInstanceDescription":
      return single({ description: value });
    case "tagKey":
      return single({ tags: [{ key: value, value: "v" }] });
    case "tagValue":
      return single({ tags: [{ key: "k", value }] });
    case "batchNamePrefix":
      return {
        target: path.batch,
        body: batchCreate([web01], PG_WEB, { name_prefix: value }),
        schema: batchCreateRequest(),
      };
    case "batchDescription":
      return {
        target: path.batch,
        body: batchCreate([web01], PG_WEB, { description: value }),
        schema: batchCreateRequest(),
      };
    case "protectionGroupName":
    case "protectionGroupDescription":
      return {
        target: path.protectionGroups,
        body: {
          server_group: {
            name: rule === "protectionGroupName" ? value : "pg-new",
            ...(rule === "protectionGroupDescription" ? { description: value } : {}),
            source_availability_zone: pgWeb?.sourceAz,
            target_availability_zone: pgWeb?.targetAz,
            domain_id: pgWeb?.domainId,
            source_vpc_id: pgWeb?.vpcId,
          },
        },
        schema: createProtectionGroupRequest,
      };
  }
}

/** The page each rule is written on (seed file numbers). */
const SEEDS: Record<FieldRuleName, string> = {
  protectedInstanceName: "001, 004",
  protectedInstanceDescription: "001, 004",
  tagKey: "001, 002",
  tagValue: "001, 002",
  batchNamePrefix: "000, 002",
  batchDescription: "000, 002",
  protectionGroupName: "003",
  protectionGroupDescription: "003",
};

/** Names allow only letters, digits, `.`, `_` and `-`: a multibyte name breaks the character rule, not the length. */
const ASCII_ONLY: ReadonlySet<FieldRuleName> = new Set([
  "protectedInstanceName",
  "batchNamePrefix",
  "protectionGroupName",
]);

interface Row {
  rule: FieldRuleName;
  label: string;
  value: string;
  accepted: boolean;
}

const rows: Row[] = (Object.keys(FIELD_RULES) as FieldRuleName[]).flatMap((rule): Row[] => {
  const { max, unit } = FIELD_RULES[rule];
  const multibyte = ASCII_ONLY.has(rule)
    ? [{ label: "a multibyte name", value: "ä", accepted: false }]
    : unit === "bytes"
      ? [
          { label: `${max / 2} × "ä" (${max} bytes)`, value: "ä".repeat(max / 2), accepted: true },
          {
            label: `${max / 2 + 1} × "ä" (${max + 2} bytes, ${max / 2 + 1} characters)`,
            value: "ä".repeat(max / 2 + 1),
            accepted: false,
          },
        ]
      : [
          { label: `${max} × "ä" (${max} characters, ${2 * max} bytes)`, value: "ä".repeat(max), accepted: true },
          { label: `${max + 1} × "ä"`, value: "ä".repeat(max + 1), accepted: false },
        ];
  return [
    { rule, label: `${max} ${unit} (at the limit)`, value: "a".repeat(max), accepted: true },
    { rule, label: `${max + 1} ${unit} (one over)`, value: "a".repeat(max + 1), accepted: false },
    ...multibyte.map((entry) => ({ rule, ...entry })),
  ];
});

describe("field rules, one row per rule of each seed", () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it.each(
    rows.map(
      (row) =>
        [
          `${FIELD_RULES[row.rule].call} ${FIELD_RULES[row.rule].field} (seed ${SEEDS[row.rule]}): ${row.label}`,
          row,
        ] as const,
    ),
  )("%s", async (_, row) => {
    const { target, body, schema } = requestFor(row.rule, row.value);
    expect(schema.safeParse(body).success).toBe(row.accepted);
    ({ sim } = await startTestSimulator());
    const answer = await call(sim, "POST", target, { body });
    // Accepted: 200 (single create, group create) or 202 (batch create), as the pages say.
    expect(row.accepted ? [200, 202] : [400]).toContain(answer.status);
  });

  it("states each rule in its own unit", () => {
    expect(
      Object.fromEntries(Object.entries(FIELD_RULES).map(([name, rule]) => [name, `${rule.max} ${rule.unit}`])),
    ).toEqual({
      protectedInstanceName: "64 bytes",
      protectedInstanceDescription: "64 bytes",
      batchNamePrefix: "59 characters",
      batchDescription: "64 characters",
      protectionGroupName: "64 bytes",
      protectionGroupDescription: "64 bytes",
      tagKey: "36 characters",
      tagValue: "43 characters",
    });
    expect(lengthIn("ä".repeat(64), "bytes")).toBe(128);
    expect(lengthIn("ä".repeat(64), "characters")).toBe(64);
  });
});

describe("the targets configuration and the planner hold the same rules", () => {
  const target = (creation: Record<string, unknown>, protectionGroup: Record<string, unknown> = { id: PG_WEB }) =>
    parseTargetsConfig({ targets: { web: { protectionGroup, creation } } });
  const groupCreate = {
    sourceAvailabilityZone: "eu-de-01",
    targetAvailabilityZone: "eu-de-02",
    domainId: "d",
    sourceVpcId: "v",
  };

  it("refuses a creation description of 33 × ä (66 bytes): it goes into single creates, whose limit is 64 bytes", () => {
    expect(() => target({ description: "ä".repeat(33) })).toThrow(
      "targets.web.creation.description: must be at most 64 bytes",
    );
    expect(target({ description: "ä".repeat(32) }).targets.web?.creation.description).toBe("ä".repeat(32));
  });

  it("refuses a group name over 64 bytes and a group description of 33 × ä", () => {
    expect(() => target({}, { name: "g".repeat(65) })).toThrow("must be at most 64 bytes");
    expect(() => target({}, { name: "pg-new", create: { ...groupCreate, description: "ä".repeat(33) } })).toThrow(
      "must be at most 64 bytes",
    );
    expect(() => target({}, { name: "pg-new", create: { ...groupCreate, description: "ä".repeat(32) } })).not.toThrow();
  });

  it("refuses a name prefix of 60 characters and a tag value of 44 × ä; accepts 43 × ä", () => {
    expect(() => target({ namePrefix: "p".repeat(60) })).toThrow(
      "targets.web.creation.namePrefix: must be 1 to 59 characters",
    );
    expect(() => target({ tags: [{ key: "k", value: "ä".repeat(44) }] })).toThrow("must be at most 43 characters");
    expect(() => target({ tags: [{ key: "k", value: "ä".repeat(43) }] })).not.toThrow();
  });

  it("the planner refuses creation options a single create would refuse (PLAN_INPUT_INVALID)", () => {
    const input = { protectionGroupId: PG_WEB, servers: [{ serverId: web01 }] };
    expect(() => planProtection({ ...input, creationOptions: { description: "ä".repeat(64) } })).toThrow(
      /PLAN_INPUT_INVALID|must be at most 64 bytes/,
    );
    expect(() => planProtection({ ...input, creationOptions: { description: "ä".repeat(32) } })).not.toThrow();
  });

  it("refuses a flavor that is no ECS flavor name and a server id of another shape, in the targets file and the client", () => {
    expect(() => target({ flavorMap: { "s6.large.2": "<script>alert(1)</script>" } })).toThrow("is not a flavor name");
    expect(() => target({ primarySubnetId: "subnet-1", primaryIpAddresses: { "../../etc": "192.168.0.5" } })).toThrow(
      "targets.web.creation.primaryIpAddresses.../../etc: Invalid key in record",
    );
    expect(
      createProtectedInstanceRequest.safeParse(singleCreate(web01, PG_WEB, { flavorRef: "<script>alert(1)</script>" }))
        .success,
    ).toBe(false);
    expect(
      createProtectedInstanceRequest.safeParse(singleCreate(web01, PG_WEB, { flavorRef: "s6.large.2" })).success,
    ).toBe(true);
  });
});
