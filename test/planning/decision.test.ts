/**
 * decideServer: one server, one requested target, what was read of the cloud and of our records → where
 * it stands before the eligibility rules. Table-driven: each row is one input and its exact decision.
 */
import { describe, expect, it } from "vitest";
import { type Decision, type DecisionInput, decideServer, targetUnknownReason } from "../../lib/planning/decision.ts";
import { ruleFor } from "../../lib/planning/rules.ts";
import type { ProtectedInstance } from "../../lib/sdrs/schemas.ts";

const PG_WEB = "523ab8ad-3759-4933-9436-4cf4ebb20867";
const PG_DB = "eeb857c3-2690-4d3f-a338-4b8f346e1bb9";
const SERVER = "403b603d-1d91-42cc-a357-81f3c2daf43f";
const groupTargets = new Map([
  [PG_WEB, "web"],
  [PG_DB, "db"],
]);

function instance(groupId: string, status = "available"): ProtectedInstance {
  return {
    id: `pi-${groupId.slice(0, 4)}`,
    name: "web-01",
    status,
    source_server: SERVER,
    server_group_id: groupId,
  } as ProtectedInstance;
}

const base: DecisionInput = { serverId: SERVER, serverName: "web-01", target: "db", groupTargets };
const ready = { status: "ready", groupId: PG_DB } as const;
const kind = (decision: Decision) =>
  decision.kind === "ineligible" || decision.kind === "deferred"
    ? `${decision.kind} ${decision.reason.code}`
    : decision.kind;

describe("decideServer", () => {
  it.each<[string, Partial<DecisionInput>, string]>([
    [
      "in flight for the requested target: the request joins it",
      { record: { status: "in_progress", target: "db" } },
      "join",
    ],
    [
      "protected for the requested target by our record: joins, no cloud read",
      { record: { status: "protected", target: "db" } },
      "join",
    ],
    [
      "in flight for another target: deferred until that ends",
      { record: { status: "creating", target: "web" }, resolution: ready },
      "deferred DEFERRED_IN_FLIGHT_ELSEWHERE",
    ],
    [
      "a stale claim for another target is not in flight: decided on the cloud's facts",
      { record: { status: "claimed", target: "web", stale: true }, resolution: ready, protectedInstances: [] },
      "evaluate",
    ],
    ["nothing resolved yet: needs the target", {}, "needs"],
    [
      "an unknown target",
      { resolution: { status: "unknown", reason: { code: "INELIGIBLE_TARGET_UNKNOWN", message: "m", remedy: "r" } } },
      "ineligible INELIGIBLE_TARGET_UNKNOWN",
    ],
    [
      "the target's group still being created",
      {
        resolution: {
          status: "pending",
          reason: { code: "DEFERRED_GROUP_BEING_CREATED", message: "m", remedy: "r" },
          retryAfterSeconds: 60,
        },
      },
      "deferred DEFERRED_GROUP_BEING_CREATED",
    ],
    ["inventory not read yet: needs it", { resolution: ready }, "needs"],
    [
      "a protected instance in the target's group: adopt",
      { resolution: ready, protectedInstances: [instance(PG_DB)] },
      "adopt",
    ],
    [
      "that instance still creating: deferred",
      { resolution: ready, protectedInstances: [instance(PG_DB, "creating")] },
      "deferred DEFERRED_INSTANCE_CREATING",
    ],
    [
      "a protected instance in another group: ineligible",
      { resolution: ready, protectedInstances: [instance(PG_WEB)] },
      "ineligible INELIGIBLE_PROTECTED_ELSEWHERE",
    ],
    [
      "protected for another target by our record, the cloud agrees: ineligible",
      {
        record: { status: "protected", target: "web", groupId: PG_WEB },
        resolution: ready,
        protectedInstances: [instance(PG_WEB)],
      },
      "ineligible INELIGIBLE_PROTECTED_ELSEWHERE",
    ],
    [
      "protected for another target by our record, but gone from the cloud: evaluated afresh",
      { record: { status: "protected", target: "web", groupId: PG_WEB }, resolution: ready, protectedInstances: [] },
      "evaluate",
    ],
    ["no instance anywhere: evaluate", { resolution: ready, protectedInstances: [] }, "evaluate"],
  ])("%s", (_, input, expected) => {
    expect(kind(decideServer({ ...base, ...input }))).toBe(expected);
  });

  it("names the group, its target and the instance, with the remedy, for INELIGIBLE_PROTECTED_ELSEWHERE", () => {
    const decision = decideServer({ ...base, resolution: ready, protectedInstances: [instance(PG_WEB)] });
    expect(decision).toEqual({
      kind: "ineligible",
      reason: {
        code: "INELIGIBLE_PROTECTED_ELSEWHERE",
        message: `server web-01 (${SERVER}) is already protected in protection group ${PG_WEB} (target "web") by protected instance web-01 (pi-523a), not in the group of target "db"`,
        remedy:
          "Remove the server's protected instance there first, or set the protect tag back to the target of that group.",
        sdrsCode: "SDRS.1305",
        details: { protectedInstanceId: "pi-523a", protectionGroupId: PG_WEB, target: "web", status: "available" },
      },
      protectedElsewhere: { groupId: PG_WEB, protectedInstanceId: "pi-523a" },
    });
  });

  it("defers an in-flight server for another target by the rule's retry-after, naming that target", () => {
    const decision = decideServer({ ...base, record: { status: "in_progress", target: "web" } });
    expect(decision).toMatchObject({
      kind: "deferred",
      retryAfterSeconds: 300,
      reason: { details: { target: "web", status: "in_progress" } },
    });
  });
});

describe("targetUnknownReason", () => {
  it("gives INELIGIBLE_TARGET_UNKNOWN with a message and a remedy naming the tag value", () => {
    expect(targetUnknownReason("analytics")).toEqual({
      code: "INELIGIBLE_TARGET_UNKNOWN",
      message: 'protect tag value "analytics" is neither a configured target nor a protection group id',
      remedy:
        'add a target named "analytics" to the targets configuration, or set the tag to an existing protection group id',
    });
  });

  it("is a rule of the table that is ineligible and has no SDRS code (built without the table, so it must stay in step)", () => {
    expect(ruleFor(targetUnknownReason("x").code)).toMatchObject({ outcome: "ineligible" });
    expect(ruleFor(targetUnknownReason("x").code)?.sdrsCode).toBeUndefined();
  });
});
