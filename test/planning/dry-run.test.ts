import { describe, expect, it } from "vitest";
import { planToJson } from "../../lib/planning/dry-run.ts";
import { planProtection } from "../../lib/planning/plan.ts";
import { mixedPlanInput } from "./fixtures.ts";

const result = planProtection(mixedPlanInput());

describe("planToJson", () => {
  it("gives a summary, the verdicts and the exact request bodies, as plain JSON", () => {
    const json = planToJson(result);
    expect(json.summary).toEqual({
      servers: 5,
      eligible: 3,
      adopt: 0,
      deferred: 1,
      ineligible: 1,
      calls: 1,
      batchCalls: 1,
      singleCalls: 0,
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.calls).toEqual(result.calls);
    expect(json.verdicts.map((verdict) => [verdict.serverId, verdict.verdict])).toEqual([
      ["a", "eligible"],
      ["b", "eligible"],
      ["c", "ineligible"],
      ["d", "deferred"],
      ["e", "eligible"],
    ]);
  });
});
