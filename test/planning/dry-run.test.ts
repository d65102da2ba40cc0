import { describe, expect, it } from "vitest";
import { planToJson, renderPlanTable } from "../../lib/planning/dry-run.ts";
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

describe("renderPlanTable", () => {
  const table = renderPlanTable(result);

  it("shows every server with its verdict, reason codes and remedies", () => {
    for (const name of ["srv-a", "srv-b", "srv-c", "srv-d", "srv-e"]) expect(table).toContain(name);
    expect(table).toContain("INELIGIBLE_VPC_MISMATCH (SDRS.1304)");
    expect(table).toContain("server vpc vpc-other ≠ protection group vpc vpc-prod");
    expect(table).toContain("Tag the server for a target whose protection");
    expect(table).toContain("DEFERRED_SERVER_BUSY");
    expect(table).toContain("retry in 60 s");
    expect(table).toContain("WARN_AUTO_SCALING_MEMBER");
  });

  it("states the not-synced notice once instead of on every row", () => {
    expect(table).not.toContain("WARN_CHANGES_NOT_SYNCED");
    expect(table.match(/are not synced to its DR server/g)).toHaveLength(1);
  });

  it("lists the planned calls with their servers, names and options, then a summary", () => {
    expect(table).toContain("batch (3)");
    expect(table).toContain("srv-a a → flavor c7.large.2");
    expect(table).toContain("web-0001 … (name_prefix web)");
    expect(table).toContain("description=web tier");
    expect(table).toContain("tags=env=prod");
    expect(table).toContain("5 servers: 3 eligible in 1 call (1 batch, 0 single), 1 deferred, 1 ineligible");
  });

  it("has no colour codes unless asked, and has them when asked", () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
    const ansi = /\u001b\[/;
    expect(table).not.toMatch(ansi);
    expect(renderPlanTable(result, { color: true })).toMatch(ansi);
  });

  it("says so when no calls are planned", () => {
    const none = planProtection(planInputFor([facts("a")], { protectionGroup: undefined }));
    expect(renderPlanTable(none)).toContain("No create calls planned.");
  });
});

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
