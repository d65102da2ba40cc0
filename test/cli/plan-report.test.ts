/**
 * The dry run as people read it (lib/cli/plan/report.ts), in process from a plan of the planning fixtures:
 * verdicts with their reason codes and remedies, the notice said once, the planned calls with their
 * servers, names and options, and the totals.
 */
import { describe, expect, it } from "vitest";
import type { DryRun } from "../../lib/cli/plan/plan-targets.ts";
import { type DryRunSource, renderDryRun } from "../../lib/cli/plan/report.ts";
import { planProtection } from "../../lib/planning/plan.ts";
import type { PlanResult } from "../../lib/planning/types.ts";
import { facts, mixedPlanInput, planInputFor, protectionGroup } from "../planning/fixtures.ts";

const source: DryRunSource = { endpoint: "https://sdrs.example", simulator: false, targets: "targets.json" };

function dryRunOf(result: PlanResult): DryRun {
  return {
    protectTagKey: "sdrs_protect",
    batchLimit: 5,
    sharedDiskPolicy: "batch-together",
    targets: [{ target: "web", configured: true, protectionGroup: protectionGroup(), result }],
    advisoryFailures: [],
  };
}

const result = planProtection(mixedPlanInput());

describe("the dry run for people", () => {
  const text = renderDryRun(dryRunOf(result), source, { color: false, columns: 200, details: true });

  it("shows every server with its verdict, reason codes and remedies", () => {
    for (const name of ["srv-a", "srv-b", "srv-c", "srv-d", "srv-e"]) expect(text).toContain(name);
    expect(text).toContain("INELIGIBLE_VPC_MISMATCH (SDRS.1304)");
    expect(text).toContain("server vpc vpc-other ≠ protection group vpc vpc-prod");
    expect(text).toContain("DEFERRED_SERVER_BUSY");
    expect(text).toContain("retry in 60 s");
    expect(text).toContain("WARN_AUTO_SCALING_MEMBER");
  });

  it("states the not-synced notice once instead of on every row", () => {
    expect(text).not.toContain("WARN_CHANGES_NOT_SYNCED");
    expect(text.match(/are not synced to its DR server/g)).toHaveLength(1);
  });

  it("lists the planned calls with their servers, DR flavors, names and options, then the totals", () => {
    expect(text).toContain("batch (3)");
    expect(text).toContain("srv-a a → flavor c7.large.2");
    expect(text).toContain("web-0001 … (name_prefix web)");
    expect(text).toContain("description=web tier");
    expect(text).toContain("tags=env=prod");
    expect(text).toContain("5 servers: 3 eligible in 1 call (1 batch, 0 single), 1 deferred, 1 ineligible");
  });

  it("says so when no calls are planned", () => {
    const none = planProtection(planInputFor([facts("a")], { protectionGroup: undefined }));
    expect(renderDryRun(dryRunOf(none), source, { color: false, columns: 200 })).toContain("No create calls planned.");
  });
});
