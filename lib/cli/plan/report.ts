/**
 * A dry run as people read it (a heading and a table of servers per target, ineligible ones summarised by
 * reason code, then the calls and the totals) and as programs read it (one JSON document). Pure: returns
 * strings and values.
 */
import { type PlanSummary, planToJson, summarizePlan } from "../../planning/dry-run.ts";
import type { PlannedCall, Verdict } from "../../planning/types.ts";
import { type Block, type CellInput, type ReportDocument, renderTerminal } from "../report/document.ts";
import { messageOnce, plural, reasonCode, reasonSummaryTable } from "../report/servers.ts";
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
  const totals: DryRunTotals = {
    targets: dryRun.targets.length,
    servers: 0,
    eligible: 0,
    adopt: 0,
    deferred: 0,
    ineligible: 0,
    calls: 0,
    batchCalls: 0,
    singleCalls: 0,
  };
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

export function targetHeading(target: TargetPlan): string {
  const servers = plural(target.result.verdicts.length, "server");
  if (target.target === null) return `Servers without a target: ${servers}`;
  const group = target.protectionGroup;
  const describedGroup =
    group === undefined ? "" : `protection group ${group.name} (${group.id}), status ${group.status}`;
  if (!target.configured && group !== undefined)
    return `${describedGroup.replace(/^p/, "P")}, tagged by its id: ${servers}`;
  if (group !== undefined) return `Target ${target.target} → ${describedGroup}: ${servers}`;
  const notFound = target.result.verdicts.some((verdict) =>
    verdict.reasons.some((reason) => reason.code === "INELIGIBLE_GROUP_NOT_FOUND"),
  );
  return `${target.configured ? "Target" : "Tag value"} ${target.target} → ${notFound ? "protection group not found" : "no protection group"}: ${servers}`;
}

/** Said once under a target's table instead of on every row: it holds for every protected server. */
const NOTICE_CODE = "WARN_CHANGES_NOT_SYNCED";

/** Servers (name, id, DR flavor), the name the protected instances get, and the other request fields. */
function describeCall(call: PlannedCall, names: Map<string, string | undefined>): [string, string, string] {
  const server = (serverId: string, flavorRef: string | undefined) =>
    `${names.get(serverId) ?? ""} ${serverId}${flavorRef ? ` → flavor ${flavorRef}` : ""}`.trim();
  if (call.kind === "single") {
    const { server_group_id: _group, server_id: serverId, name, flavorRef, ...rest } = call.request.protected_instance;
    return [server(serverId, flavorRef), name, describeFields(rest)];
  }
  const { server_group_id: _group, servers, name_prefix: prefix, ...rest } = call.request.protected_instances;
  return [
    servers.map(({ server_id: serverId, flavorRef }) => server(serverId, flavorRef)).join("\n"),
    `${prefix}-0001 … (name_prefix ${prefix})`,
    describeFields(rest),
  ];
}

function describeFields(fields: Record<string, unknown>): string {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return "—";
  return entries
    .map(([field, value]) =>
      field === "tags" && Array.isArray(value)
        ? `tags=${value.map((tag: { key: string; value: string }) => `${tag.key}=${tag.value}`).join(",")}`
        : `${field}=${String(value)}`,
    )
    .join("\n");
}

const VERDICT_TONE = { eligible: "good", adopt: "good", deferred: "warn", ineligible: "bad" } as const;

/**
 * One target's plan: its servers with verdicts, reasons and remedies (ineligible ones summarised by reason
 * code unless `details`), then the create calls and the counts.
 */
function targetBlocks(target: TargetPlan, details: boolean): Block[] {
  const { result } = target;
  const blocks: Block[] = [{ kind: "heading", text: targetHeading(target) }];
  if (result.verdicts.length === 0) return [...blocks, { kind: "paragraph", text: "No servers." }];
  const ineligible = result.verdicts.filter((verdict) => verdict.verdict === "ineligible");
  const listed = details ? result.verdicts : result.verdicts.filter((verdict) => verdict.verdict !== "ineligible");
  const once = messageOnce();
  const serverRow = (verdict: Verdict): CellInput[] => {
    const label = verdict.serverName ?? verdict.serverId;
    const shown = [...verdict.reasons, ...verdict.warnings.filter((warning) => warning.code !== NOTICE_CODE)];
    const state =
      verdict.verdict === "deferred" && verdict.retryAfterSeconds !== undefined
        ? `deferred\nretry in ${verdict.retryAfterSeconds} s`
        : verdict.verdict;
    const reasons =
      verdict.verdict === "adopt" && shown.length === 0
        ? `already a protected instance (${verdict.protectedInstanceId ?? "?"}) of the target's group: recorded protected, no create call`
        : shown.length === 0
          ? "—"
          : shown.map((reason) => `${reasonCode(reason)}\n${once(reason, label)}\n→ ${reason.remedy}`).join("\n");
    return [
      { text: verdict.serverName === undefined ? verdict.serverId : `${verdict.serverName}\n${verdict.serverId}` },
      { text: state, tone: VERDICT_TONE[verdict.verdict] },
      reasons,
    ];
  };
  if (listed.length > 0) {
    // Reasons and remedies share one column, so a 100-column terminal keeps the server ids whole.
    blocks.push({
      kind: "table",
      head: ["Server", "Verdict", "Reasons and warnings → remedy"],
      rows: listed.map(serverRow),
      maxWidths: [36, 16, 90],
    });
  }
  if (!details && ineligible.length > 0) {
    blocks.push(
      { kind: "paragraph", tone: "bad", text: `Ineligible: ${ineligible.length}, by reason code` },
      reasonSummaryTable(ineligible),
      {
        kind: "paragraph",
        tone: "muted",
        text: "Per server: run again with --details (or --json).",
      },
    );
  }
  if (result.verdicts.some((verdict) => verdict.warnings.some((warning) => warning.code === NOTICE_CODE))) {
    blocks.push({
      kind: "paragraph",
      tone: "muted",
      text: "Note: after protection, changes to a production server's hostname, name, security groups, agency, ECS group, tags and auto recovery are not synced to its DR server.",
    });
  }
  if (result.calls.length === 0) blocks.push({ kind: "paragraph", text: "No create calls planned." });
  else {
    const names = new Map(result.verdicts.map((verdict) => [verdict.serverId, verdict.serverName]));
    blocks.push({
      kind: "table",
      head: ["#", "Call", "Servers", "Protected instance name", "Options"],
      rows: result.calls.map((call, index) => [
        String(index + 1),
        call.kind === "batch" ? `batch (${call.serverIds.length})` : "single",
        ...describeCall(call, names),
      ]),
    });
  }
  const summary = summarizePlan(result);
  blocks.push({
    kind: "paragraph",
    text: `${plural(summary.servers, "server")}: ${summary.adopt > 0 ? `${summary.adopt} adopted (already protected), ` : ""}${summary.eligible} eligible in ${plural(summary.calls, "call")} (${summary.batchCalls} batch, ${summary.singleCalls} single), ${summary.deferred} deferred, ${summary.ineligible} ineligible`,
  });
  return blocks;
}

/** The dry run for people, laid out for a terminal `columns` wide. */
export function dryRunDocument(dryRun: DryRun, source: DryRunSource, options: { details: boolean }): ReportDocument {
  const cloud = source.simulator ? `in-process simulator with the sample estate (${source.endpoint})` : source.endpoint;
  const blocks: Block[] = [
    { kind: "paragraph", text: `Cloud: ${cloud}` },
    {
      kind: "paragraph",
      text: `Targets: ${source.targets}; protect tag ${dryRun.protectTagKey}; batch limit ${dryRun.batchLimit}; shared disks ${dryRun.sharedDiskPolicy}`,
    },
  ];
  if (dryRun.targets.length === 0)
    blocks.push({ kind: "paragraph", text: `No server carries the ${dryRun.protectTagKey} tag: nothing to plan.` });
  for (const target of dryRun.targets) blocks.push(...targetBlocks(target, options.details));
  for (const failure of dryRun.advisoryFailures) {
    blocks.push({
      kind: "paragraph",
      tone: "warn",
      text: `Note: ${failure.operation} failed with ${failure.code}; the facts it gives (key pairs, Auto Scaling membership) are unknown.`,
    });
  }
  const totals = dryRunTotals(dryRun);
  blocks.push({
    kind: "paragraph",
    tone: "strong",
    text: `Total: ${plural(totals.servers, "server")} in ${plural(totals.targets, "target")}: ${totals.adopt > 0 ? `${totals.adopt} adopted (already protected), ` : ""}${totals.eligible} eligible in ${plural(totals.calls, "call")} (${totals.batchCalls} batch, ${totals.singleCalls} single), ${totals.deferred} deferred, ${totals.ineligible} ineligible`,
  });
  return { title: "Dry run: nothing is created or changed.", blocks };
}

export function renderDryRun(
  dryRun: DryRun,
  source: DryRunSource,
  options: { color: boolean; columns?: number | undefined; details?: boolean },
): string {
  return renderTerminal(dryRunDocument(dryRun, source, { details: options.details ?? false }), options);
}
