/**
 * A plan as data for a dry run: its counts and one JSON-ready value (summary, verdicts, the exact request
 * bodies). Pure. How a dry run is shown to people is the CLI's (lib/cli/plan/report.ts).
 */
import type { PlannedCall, PlanResult, Verdict } from "./types.ts";

export interface PlanSummary {
  servers: number;
  eligible: number;
  /** Already protected in the target's group: recorded protected without a create call. */
  adopt: number;
  deferred: number;
  ineligible: number;
  calls: number;
  batchCalls: number;
  singleCalls: number;
}

export function summarizePlan(result: PlanResult): PlanSummary {
  const count = (kind: Verdict["verdict"]) => result.verdicts.filter((verdict) => verdict.verdict === kind).length;
  return {
    servers: result.verdicts.length,
    eligible: count("eligible"),
    adopt: count("adopt"),
    deferred: count("deferred"),
    ineligible: count("ineligible"),
    calls: result.calls.length,
    batchCalls: result.calls.filter((call) => call.kind === "batch").length,
    singleCalls: result.calls.filter((call) => call.kind === "single").length,
  };
}

/** The plan as one JSON-ready value: summary, verdicts (with reasons and warnings) and the exact request bodies. */
export function planToJson(result: PlanResult): { summary: PlanSummary; verdicts: Verdict[]; calls: PlannedCall[] } {
  return structuredClone({ summary: summarizePlan(result), verdicts: result.verdicts, calls: result.calls });
}
