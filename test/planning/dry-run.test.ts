import { describe, expect, it } from "vitest";
import { planToJson } from "../../lib/planning/dry-run.ts";
import { planProtection } from "../../lib/planning/plan.ts";
import { facts, planInputFor, sharedVolume } from "./fixtures.ts";

const result = planProtection(
  planInputFor(
    [
      facts("a"),
      facts("b", { autoScalingGroupId: "as-1" }),
      facts("c", { server: { metadata: { vpc_id: "vpc-other" } } }),
      facts("d", { server: { status: "REBOOT" } }),
      facts("e", { volumes: [sharedVolume("shared-1", ["e"])] }),
    ],
    { flavorOverrides: { a: "c7.large.2" }, creationOptions: { description: "web tier", tags: [{ key: "env", value: "prod" }] } },
  ),
);

describe("planToJson", () => {
  it("gives a summary, the verdicts and the exact request bodies, as plain JSON", () => {
    const json = planToJson(result);
    expect(json.summary).toEqual({ servers: 5, eligible: 3, adopt: 0, deferred: 1, ineligible: 1, calls: 1, batchCalls: 1, singleCalls: 0 });
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
