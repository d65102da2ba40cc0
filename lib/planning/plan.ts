/**
 * planProtection: eligibility and batch planning in one pure step. Every server of the request comes
 * out exactly once: in one planned call (eligible), or as ineligible or deferred with its reasons.
 */
import { describeIssue } from "../sdrs/schemas.ts";
import { creationOptionsFor, drFlavorFor } from "./creation-options.ts";
import { evaluateEligibility } from "./eligibility.ts";
import { PlanningError } from "./errors.ts";
import { type PlannableServer, planCalls } from "./planner.ts";
import { type PlanInput, type PlanInputArg, type PlanResult, planInput } from "./types.ts";

/** Parses the input (defaults: batch limit 5, shared-disk policy batch-together), or throws PLAN_INPUT_INVALID. */
export function parsePlanInput(arg: PlanInputArg): PlanInput {
  const parsed = planInput.safeParse(arg);
  if (!parsed.success) {
    throw new PlanningError(
      "PLAN_INPUT_INVALID",
      `plan input is invalid: ${parsed.error.issues.map((issue) => describeIssue(issue)).join("; ")}`,
    );
  }
  return parsed.data;
}

export function planProtection(arg: PlanInputArg): PlanResult {
  const input = parsePlanInput(arg);
  const verdicts = evaluateEligibility(input);
  const factsById = new Map(input.servers.map((facts) => [facts.serverId, facts]));
  const eligible = verdicts.flatMap((verdict): PlannableServer[] => {
    const server = factsById.get(verdict.serverId)?.server;
    if (verdict.verdict !== "eligible" || server === undefined) return [];
    const drFlavorId = drFlavorFor(input, verdict.serverId, server.flavor.id);
    return [
      {
        serverId: verdict.serverId,
        serverName: server.name,
        options: creationOptionsFor(input, verdict.serverId),
        ...(drFlavorId === undefined ? {} : { drFlavorId }),
        ...(verdict.sharedDiskCluster === undefined ? {} : { sharedDiskCluster: verdict.sharedDiskCluster }),
      },
    ];
  });
  const namePrefixSource = input.targetName ?? input.protectionGroup?.name;
  const calls = planCalls({
    protectionGroupId: input.protectionGroupId,
    ...(namePrefixSource === undefined ? {} : { namePrefixSource }),
    servers: eligible,
    batchLimit: input.batchLimit,
  });
  return { verdicts, calls };
}
