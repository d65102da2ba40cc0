/**
 * Where a server stands for one requested target, before eligibility: the one decision `plan`, the onboard
 * step, event intake and reconcile all make, so the dry run predicts the run.
 *
 * From what is known (our record of the server, the requested target's resolution, the protected
 * instances whose production server it is), in this order:
 *   - in flight for this target, or protected for it by our record → join (the request rides on it);
 *   - in flight for another target → deferred until that ends (DEFERRED_IN_FLIGHT_ELSEWHERE);
 *   - the target names nothing → ineligible (INELIGIBLE_TARGET_UNKNOWN, or INELIGIBLE_GROUP_NOT_FOUND);
 *   - the target's group is still being created → deferred (DEFERRED_GROUP_BEING_CREATED);
 *   - a protected instance of it in the target's group → adopt (protected, no create call), or deferred
 *     while that instance is still being created (DEFERRED_INSTANCE_CREATING);
 *   - a protected instance of it in another group → ineligible (INELIGIBLE_PROTECTED_ELSEWHERE, naming that
 *     group and its target);
 *   - otherwise → evaluate (the eligibility rules and the planner decide).
 * When a fact the next rule needs is not known yet, the answer says which (`needs`). Pure.
 */
import type { ProtectedInstance } from "../sdrs/schemas.ts";
import { isInFlight } from "../state/statuses.ts";
import { type RuleCode, reasonFor, retryAfterOf } from "./rules.ts";
import type { Reason } from "./types.ts";

/** Our record's statuses that mean a create (or its job) is under way. */

export interface RecordFacts {
  status: string;
  target: string;
  groupId?: string | undefined;
  /** A claim whose worker died (older than the stale-claim limit): not in flight any more. */
  stale?: boolean;
}

export type TargetResolution =
  | { status: "ready"; groupId: string }
  | { status: "pending"; reason: Reason; retryAfterSeconds: number }
  | { status: "unknown"; reason: Reason };

export interface DecisionInput {
  serverId: string;
  serverName?: string | undefined;
  /** The requested target: a configured target name or a protection group id. */
  target: string;
  /** Our record of the server, if any. */
  record?: RecordFacts | undefined;
  /** undefined: not resolved yet. */
  resolution?: TargetResolution | undefined;
  /** The protected instances of the project (only those whose production server is this one matter); undefined: not read yet. */
  protectedInstances?: readonly ProtectedInstance[] | undefined;
  /** Protection group id → the configured target it belongs to, to name it. */
  groupTargets?: ReadonlyMap<string, string> | undefined;
}

export type Decision =
  | { kind: "join" }
  | { kind: "needs"; facts: "target" | "inventory" }
  | { kind: "adopt"; groupId: string; instance: ProtectedInstance }
  | { kind: "ineligible"; reason: Reason; protectedElsewhere?: { groupId: string; protectedInstanceId: string } }
  | { kind: "deferred"; reason: Reason; retryAfterSeconds: number }
  | { kind: "evaluate" };

/** Protected-instance statuses that end by themselves: the instance is decided again when they have. */
const INSTANCE_BUSY_STATUSES = new Set(["creating"]);

function label(input: DecisionInput): string {
  return input.serverName === undefined ? input.serverId : `${input.serverName} (${input.serverId})`;
}

/**
 * The requested target names nothing: the reason `plan` and the pipeline both give. Built without the rule
 * table (its remedy names the target, and the rule has no SDRS code), so the job-status function, which
 * gives it when a target's group is gone, bundles no rules.
 */
export function targetUnknownReason(target: string): Reason {
  return {
    code: "INELIGIBLE_TARGET_UNKNOWN" satisfies RuleCode,
    message: `protect tag value "${target}" is neither a configured target nor a protection group id`,
    remedy: `add a target named "${target}" to the targets configuration, or set the tag to an existing protection group id`,
  };
}

export function decideServer(input: DecisionInput): Decision {
  const { record } = input;
  const inFlight = record !== undefined && isInFlight(record.status) && record.stale !== true;
  if (record !== undefined && inFlight) {
    if (record.target === input.target) return { kind: "join" };
    return {
      kind: "deferred",
      reason: reasonFor(
        "DEFERRED_IN_FLIGHT_ELSEWHERE",
        `server ${label(input)} is being protected for target "${record.target}" (${record.status}); it is decided for "${input.target}" when that ends`,
        { target: record.target, status: record.status },
      ),
      retryAfterSeconds: retryAfterOf("DEFERRED_IN_FLIGHT_ELSEWHERE"),
    };
  }
  if (record?.status === "protected" && record.target === input.target) return { kind: "join" };

  const { resolution } = input;
  if (resolution === undefined) return { kind: "needs", facts: "target" };
  if (resolution.status === "unknown") return { kind: "ineligible", reason: resolution.reason };
  if (resolution.status === "pending")
    return { kind: "deferred", reason: resolution.reason, retryAfterSeconds: resolution.retryAfterSeconds };

  if (input.protectedInstances === undefined) return { kind: "needs", facts: "inventory" };
  const own = input.protectedInstances.filter((instance) => instance.source_server === input.serverId);
  const here = own.find((instance) => instance.server_group_id === resolution.groupId);
  if (here !== undefined) {
    if (!INSTANCE_BUSY_STATUSES.has(here.status)) return { kind: "adopt", groupId: resolution.groupId, instance: here };
    return {
      kind: "deferred",
      reason: reasonFor(
        "DEFERRED_INSTANCE_CREATING",
        `protected instance ${here.name} (${here.id}) of server ${label(input)} in the target's protection group is still ${here.status}; it is adopted once created`,
        { protectedInstanceId: here.id, protectionGroupId: here.server_group_id, status: here.status },
      ),
      retryAfterSeconds: retryAfterOf("DEFERRED_INSTANCE_CREATING"),
    };
  }
  const elsewhere = own[0];
  if (elsewhere !== undefined) {
    const owner = input.groupTargets?.get(elsewhere.server_group_id);
    return {
      kind: "ineligible",
      reason: reasonFor(
        "INELIGIBLE_PROTECTED_ELSEWHERE",
        `server ${label(input)} is already protected in protection group ${elsewhere.server_group_id}${owner === undefined ? "" : ` (target "${owner}")`} by protected instance ${elsewhere.name} (${elsewhere.id}), not in the group of target "${input.target}"`,
        {
          protectedInstanceId: elsewhere.id,
          protectionGroupId: elsewhere.server_group_id,
          ...(owner === undefined ? {} : { target: owner }),
          status: elsewhere.status,
        },
      ),
      protectedElsewhere: { groupId: elsewhere.server_group_id, protectedInstanceId: elsewhere.id },
    };
  }
  return { kind: "evaluate" };
}
