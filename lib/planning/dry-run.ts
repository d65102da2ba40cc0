/**
 * Dry-run output of a plan: a table for people (every server with its verdict, reasons and remedies,
 * then the planned calls) and JSON for programs. Pure: returns strings and values, prints nothing.
 */
import Table from "cli-table3";
import picocolors from "picocolors";
import type { PlannedCall, PlanResult, Reason, Verdict } from "./types.ts";

/** Said once under the table instead of on every row: it holds for every protected server. */
export const NOTICE_CODE = "WARN_CHANGES_NOT_SYNCED";

export interface RenderOptions {
  /** ANSI colours; off by default so output is the same in files, CI logs and tests. */
  color?: boolean;
}

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

export function renderPlanTable(result: PlanResult, options: RenderOptions = {}): string {
  const colors = picocolors.createColors(options.color ?? false);
  const summary = summarizePlan(result);
  const verdictColor = { eligible: colors.green, adopt: colors.green, deferred: colors.yellow, ineligible: colors.red } as const;

  const servers = new Table({
    head: ["Server", "Verdict", "Reasons and warnings", "Remedy"].map((title) => colors.bold(title)),
    colWidths: [40, 16, 64, 48],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const verdict of result.verdicts) {
    const shown: { reason: Reason; warning: boolean }[] = [
      ...verdict.reasons.map((reason) => ({ reason, warning: false })),
      ...verdict.warnings.filter((warning) => warning.code !== NOTICE_CODE).map((reason) => ({ reason, warning: true })),
    ];
    const label = verdict.serverName === undefined ? verdict.serverId : `${verdict.serverName}\n${colors.dim(verdict.serverId)}`;
    const state =
      verdict.verdict === "deferred" && verdict.retryAfterSeconds !== undefined
        ? `deferred\nretry in ${verdict.retryAfterSeconds} s`
        : verdict.verdict === "adopt"
          ? "adopt"
          : verdict.verdict;
    servers.push([
      label,
      verdictColor[verdict.verdict](state),
      verdict.verdict === "adopt" && shown.length === 0
        ? `already a protected instance (${verdict.protectedInstanceId ?? "?"}) of the target's group: recorded protected, no create call`
        : shown.length === 0
          ? colors.dim("—")
          : shown.map(({ reason, warning }) => `${warning ? colors.yellow(reason.code) : colors.bold(reason.code)}${reason.sdrsCode ? colors.dim(` (${reason.sdrsCode})`) : ""}\n${reason.message}`).join("\n"),
      shown.length === 0 ? "" : shown.map(({ reason }) => reason.remedy).join("\n"),
    ]);
  }

  const lines = [servers.toString()];
  if (result.verdicts.some((verdict) => verdict.warnings.some((warning) => warning.code === NOTICE_CODE))) {
    lines.push(
      colors.dim(
        "Note: after protection, changes to a production server's hostname, name, security groups, agency, ECS group, tags and auto recovery are not synced to its DR server.",
      ),
    );
  }
  lines.push("");
  if (result.calls.length === 0) {
    lines.push("No create calls planned.");
  } else {
    const calls = new Table({
      head: ["#", "Call", "Servers", "Protected instance name", "Options"].map((title) => colors.bold(title)),
      style: { head: [], border: [] },
    });
    const names = new Map(result.verdicts.map((verdict) => [verdict.serverId, verdict.serverName]));
    result.calls.forEach((call, index) => {
      calls.push([String(index + 1), call.kind === "batch" ? `batch (${call.serverIds.length})` : "single", ...describeCall(call, names)]);
    });
    lines.push(calls.toString());
  }
  lines.push(
    `${summary.servers} servers: ${summary.adopt > 0 ? `${colors.green(`${summary.adopt} adopted`)} (already protected), ` : ""}${colors.green(`${summary.eligible} eligible`)} in ${summary.calls} ${summary.calls === 1 ? "call" : "calls"} (${summary.batchCalls} batch, ${summary.singleCalls} single), ${colors.yellow(`${summary.deferred} deferred`)}, ${colors.red(`${summary.ineligible} ineligible`)}`,
  );
  return lines.join("\n");
}

/** Servers (name, id, DR flavor), the name the protected instances get, and the other request fields. */
export function describeCall(call: PlannedCall, names: Map<string, string | undefined>): [string, string, string] {
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
      field === "tags" && Array.isArray(value) ? `tags=${value.map((tag: { key: string; value: string }) => `${tag.key}=${tag.value}`).join(",")}` : `${field}=${String(value)}`,
    )
    .join("\n");
}
