/**
 * A dry run as people read it (a heading and the planner's table per target, then the totals) and as
 * programs read it (one JSON document). Pure: returns strings and values.
 */
import picocolors from "picocolors";
import { type PlanSummary, planToJson, renderPlanTable, summarizePlan } from "../../planning/dry-run.ts";
import type { DryRun, TargetPlan } from "./plan-targets.ts";

export interface DryRunSource {
  /** The SDRS endpoint planned against. */
  endpoint: string;
  /** Planned against the in-process simulator with the sample estate. */
  simulator: boolean;
  /** Where the targets configuration came from: a file path, or SDRS_TARGETS_JSON. */
  targets: string;
}

export interface DryRunTotals extends PlanSummary {
  targets: number;
}

export function dryRunTotals(dryRun: DryRun): DryRunTotals {
  const totals: DryRunTotals = { targets: dryRun.targets.length, servers: 0, eligible: 0, adopt: 0, deferred: 0, ineligible: 0, calls: 0, batchCalls: 0, singleCalls: 0 };
  for (const target of dryRun.targets) {
    const summary = summarizePlan(target.result);
    totals.servers += summary.servers;
    totals.eligible += summary.eligible;
    totals.adopt += summary.adopt;
    totals.deferred += summary.deferred;
    totals.ineligible += summary.ineligible;
    totals.calls += summary.calls;
    totals.batchCalls += summary.batchCalls;
    totals.singleCalls += summary.singleCalls;
  }
  return totals;
}

export function dryRunToJson(dryRun: DryRun, source: DryRunSource) {
  return {
    dryRun: true,
    cloud: { endpoint: source.endpoint, simulator: source.simulator },
    targetsConfiguration: source.targets,
    protectTagKey: dryRun.protectTagKey,
    batchLimit: dryRun.batchLimit,
    sharedDiskPolicy: dryRun.sharedDiskPolicy,
    summary: dryRunTotals(dryRun),
    targets: dryRun.targets.map((target) => ({
      target: target.target,
      configured: target.configured,
      protectionGroup: target.protectionGroup ?? null,
      ...planToJson(target.result),
    })),
    advisoryFailures: dryRun.advisoryFailures,
  };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

export function targetHeading(target: TargetPlan): string {
  const servers = plural(target.result.verdicts.length, "server");
  if (target.target === null) return `Servers without a target: ${servers}`;
  const group = target.protectionGroup;
  const describedGroup = group === undefined ? "" : `protection group ${group.name} (${group.id}), status ${group.status}`;
  if (!target.configured && group !== undefined) return `${describedGroup.replace(/^p/, "P")}, tagged by its id: ${servers}`;
  if (group !== undefined) return `Target ${target.target} → ${describedGroup}: ${servers}`;
  const notFound = target.result.verdicts.some((verdict) => verdict.reasons.some((reason) => reason.code === "INELIGIBLE_GROUP_NOT_FOUND"));
  return `${target.configured ? "Target" : "Tag value"} ${target.target} → ${notFound ? "protection group not found" : "no protection group"}: ${servers}`;
}

export function renderDryRun(dryRun: DryRun, source: DryRunSource, options: { color: boolean }): string {
  const colors = picocolors.createColors(options.color);
  const cloud = source.simulator ? `in-process simulator with the sample estate (${source.endpoint})` : source.endpoint;
  const lines = [
    colors.bold("Dry run: nothing is created or changed."),
    `Cloud: ${cloud}`,
    `Targets: ${source.targets}; protect tag ${dryRun.protectTagKey}; batch limit ${dryRun.batchLimit}; shared disks ${dryRun.sharedDiskPolicy}`,
  ];
  if (dryRun.targets.length === 0) lines.push("", `No server carries the ${dryRun.protectTagKey} tag: nothing to plan.`);
  for (const target of dryRun.targets) {
    lines.push("", colors.bold(colors.cyan(targetHeading(target))));
    if (target.result.verdicts.length === 0) lines.push("No servers.");
    else lines.push(renderPlanTable(target.result, { color: options.color }));
  }
  for (const failure of dryRun.advisoryFailures) {
    lines.push("", colors.yellow(`Note: ${failure.operation} failed with ${failure.code}; the facts it gives (key pairs, Auto Scaling membership) are unknown.`));
  }
  const totals = dryRunTotals(dryRun);
  lines.push(
    "",
    colors.bold(
      `Total: ${plural(totals.servers, "server")} in ${plural(totals.targets, "target")}: ${totals.adopt > 0 ? `${totals.adopt} adopted (already protected), ` : ""}${totals.eligible} eligible in ${plural(totals.calls, "call")} (${totals.batchCalls} batch, ${totals.singleCalls} single), ${totals.deferred} deferred, ${totals.ineligible} ineligible`,
    ),
  );
  return lines.join("\n");
}
