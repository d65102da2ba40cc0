/**
 * What became of each server, as `start`, `onboard` and `status` report it: the server's state with the
 * pipeline's reasons (code, message, remedy), its protected instance, or the SDRS code it failed with.
 * Pure: built from the state store's records, rendered as report blocks.
 */

import { isFinal, type ServerState, serverState } from "../../state/statuses.ts";
import * as z from "../../zod.ts";
import type { Block, CellInput } from "./document.ts";

export const resultReason = z.object({
  code: z.string(),
  message: z.string(),
  remedy: z.optional(z.string()),
  sdrsCode: z.optional(z.string()),
});
export type ResultReason = z.infer<typeof resultReason>;

export const serverResult = z.object({
  serverId: z.string(),
  serverName: z.optional(z.string()),
  target: z.optional(z.string()),
  state: serverState,
  protectedInstanceId: z.optional(z.string()),
  /** The SDRS job that created the protected instance; "adopted" or "ambiguous-create" when none of ours did. */
  jobId: z.optional(z.string()),
  /** failed: the SDRS error code (e.g. SDRS.1358), or the pipeline's code when SDRS gave none. */
  errorCode: z.optional(z.string()),
  reasons: z.array(resultReason),
});
export type ServerResult = z.infer<typeof serverResult>;

export const serverCounts = z.object({
  servers: z.int(),
  protected: z.int(),
  failed: z.int(),
  ineligible: z.int(),
  unknown: z.int(),
  /** Not in a final state: still queued or in flight when the run ended. */
  notFinished: z.int(),
});
export type ServerCounts = z.infer<typeof serverCounts>;

/** A server as the store knows it (a server record, or a server of getOnboardingRequest). */
export interface StoredServerState {
  serverId: string;
  state: ServerState;
  target?: string | undefined;
  protectedInstanceId?: string | undefined;
  jobId?: string | undefined;
  reasons: readonly ResultReason[];
}

export function serverResultOf(stored: StoredServerState, serverName?: string): ServerResult {
  const firstReason = stored.reasons[0];
  return {
    serverId: stored.serverId,
    ...(serverName === undefined ? {} : { serverName }),
    ...(stored.target === undefined ? {} : { target: stored.target }),
    state: stored.state,
    ...(stored.state === "protected" && stored.protectedInstanceId !== undefined
      ? { protectedInstanceId: stored.protectedInstanceId }
      : {}),
    ...(stored.jobId === undefined ? {} : { jobId: stored.jobId }),
    ...(stored.state === "failed" && firstReason !== undefined
      ? { errorCode: firstReason.sdrsCode ?? firstReason.code }
      : {}),
    reasons: stored.reasons.map((reason) => ({
      code: reason.code,
      message: reason.message,
      ...(reason.remedy === undefined || reason.remedy === "" ? {} : { remedy: reason.remedy }),
      ...(reason.sdrsCode === undefined ? {} : { sdrsCode: reason.sdrsCode }),
    })),
  };
}

export function countServers(results: readonly Pick<ServerResult, "state">[]): ServerCounts {
  const counts: ServerCounts = {
    servers: results.length,
    protected: 0,
    failed: 0,
    ineligible: 0,
    unknown: 0,
    notFinished: 0,
  };
  for (const { state } of results) {
    if (isFinal(state)) counts[state] += 1;
    else counts.notFinished += 1;
  }
  return counts;
}

/** "1 server", "3 servers"; `many` for irregular plurals ("deliveries"). */
export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

/** "58 servers: 26 protected, 1 failed, 29 ineligible, 1 unknown" (+ ", 1 not finished" when any). */
export function countsSentence(counts: ServerCounts): string {
  const finished = `${counts.protected} protected, ${counts.failed} failed, ${counts.ineligible} ineligible, ${counts.unknown} unknown`;
  return `${plural(counts.servers, "server")}: ${finished}${counts.notFinished > 0 ? `, ${counts.notFinished} not finished` : ""}`;
}

function serverCell(result: ServerResult): CellInput {
  return {
    text: result.serverName === undefined ? result.serverId : `${result.serverName}\n${result.serverId}`,
    code: result.serverName === undefined,
  };
}

/** How the protected instance came about, in words: our job, or one that existed already. */
export function protectedHow(jobId: string | undefined): string {
  if (jobId === "adopted") return "adopted: was a protected instance already";
  if (jobId === "ambiguous-create") return "found after an unanswered create call";
  return jobId === undefined ? "" : `job ${jobId}`;
}

type ReasonLike = Pick<ResultReason, "code" | "message"> & {
  remedy?: string | undefined;
  sdrsCode?: string | undefined;
};

/** "INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE (SDRS.1362)" */
export const reasonCode = (reason: ReasonLike) => `${reason.code}${reason.sdrsCode ? ` (${reason.sdrsCode})` : ""}`;

/**
 * A reason's message said once per table: a later server with the same code and message (the members of a
 * shared-disk cluster, which all list the whole cluster) refers to the first server instead of repeating it.
 */
export function messageOnce(): (reason: ReasonLike, server: string) => string {
  const first = new Map<string, string>();
  return (reason, server) => {
    const key = `${reason.code}\n${reason.message}`;
    const earlier = first.get(key);
    if (earlier !== undefined) return `as for ${earlier} above`;
    first.set(key, server);
    return reason.message;
  };
}

export interface ReasonSummary {
  reason: ReasonLike;
  servers: number;
}

/** Ineligible servers counted by reason code (a server with two reasons counts under both), most servers first. */
export function summarizeReasons(servers: readonly { reasons: readonly ReasonLike[] }[]): ReasonSummary[] {
  const byCode = new Map<string, ReasonSummary>();
  for (const server of servers) {
    for (const reason of server.reasons) {
      const summary = byCode.get(reasonCode(reason));
      if (summary === undefined) byCode.set(reasonCode(reason), { reason, servers: 1 });
      else summary.servers += 1;
    }
  }
  return [...byCode.values()].sort((a, b) => b.servers - a.servers || a.reason.code.localeCompare(b.reason.code));
}

/** The summary as a table: reason code, how many servers, the remedy. */
export function reasonSummaryTable(servers: readonly { reasons: readonly ReasonLike[] }[]): Block {
  return {
    kind: "table",
    head: ["Reason", "Servers", "Remedy"],
    rows: summarizeReasons(servers).map(({ reason, servers: count }) => [
      { text: reasonCode(reason), tone: "warn" },
      String(count),
      reason.remedy ?? "",
    ]),
    maxWidths: [50, undefined, 60],
  };
}

/** Under a summary: where the per-server detail is. */
export const DETAILS_HINT = "Per server: run again with --details (the report file always has them).";
const reasonsText = (reasons: readonly ResultReason[]) =>
  reasons.map((reason) => `${reasonCode(reason)}: ${reason.message}`).join("\n");
const remediesText = (reasons: readonly ResultReason[]) =>
  reasons
    .map((reason) => reason.remedy ?? "")
    .filter((remedy) => remedy !== "")
    .join("\n");

interface SectionLayout {
  /** A Target column after the server. */
  showTarget: boolean;
}

/** One outcome's heading and table (nothing when no server has it); `cells` are the columns after the server (and target). */
function outcomeSection(
  layout: SectionLayout,
  title: string,
  members: readonly ServerResult[],
  head: string[],
  cells: (result: ServerResult) => CellInput[],
  maxWidths?: (number | undefined)[],
): Block[] {
  if (members.length === 0) return [];
  const { showTarget } = layout;
  return [
    { kind: "heading", text: `${title} (${members.length})` },
    {
      kind: "table",
      head: showTarget ? [head[0] ?? "Server", "Target", ...head.slice(1)] : head,
      rows: members.map((result) =>
        showTarget
          ? [serverCell(result), result.target ?? "", ...cells(result)]
          : [serverCell(result), ...cells(result)],
      ),
      ...(maxWidths === undefined
        ? {}
        : { maxWidths: showTarget ? [maxWidths[0], undefined, ...maxWidths.slice(1)] : maxWidths }),
    },
  ];
}

/** Ineligible servers: each with its reason codes and remedies, or (`summary`) counted by reason code. */
function ineligibleSection(
  layout: SectionLayout,
  ineligible: readonly ServerResult[],
  shown: "details" | "summary",
): Block[] {
  if (shown === "summary" && ineligible.length > 0) {
    return [
      { kind: "heading", text: `Ineligible (${ineligible.length})` },
      reasonSummaryTable(ineligible),
      { kind: "paragraph", tone: "muted", text: DETAILS_HINT },
    ];
  }
  const once = messageOnce();
  return outcomeSection(
    layout,
    "Ineligible",
    ineligible,
    ["Server", "Reasons", "Remedy"],
    (result) => [
      {
        text: result.reasons
          .map((reason) => `${reasonCode(reason)}: ${once(reason, result.serverName ?? result.serverId)}`)
          .join("\n"),
        tone: "warn",
      },
      remediesText(result.reasons),
    ],
    [undefined, 60, 40],
  );
}

/**
 * One section per outcome, each a table with what a person needs: the protected instance, the SDRS code
 * and reason of a failure, the reason codes and remedies of an ineligible server. Empty sections are left out.
 */
export function serverSections(
  results: readonly ServerResult[],
  options: { showTarget: boolean; ineligible?: "details" | "summary" },
): Block[] {
  const of = (state: ServerState) => results.filter((result) => result.state === state);
  const layout = { showTarget: options.showTarget };
  return [
    ...outcomeSection(
      layout,
      "Protected",
      of("protected"),
      ["Server", "Protected instance", "How"],
      (result) => [{ text: result.protectedInstanceId ?? "", code: true, tone: "good" }, protectedHow(result.jobId)],
      [undefined, undefined, 44],
    ),
    ...outcomeSection(
      layout,
      "Failed",
      of("failed"),
      ["Server", "Code", "Reason"],
      (result) => [
        { text: result.errorCode ?? "", tone: "bad", code: true },
        result.reasons.map((reason) => reason.message).join("\n"),
      ],
      [undefined, undefined, 60],
    ),
    ...ineligibleSection(layout, of("ineligible"), options.ineligible ?? "details"),
    ...outcomeSection(
      layout,
      "Unknown",
      of("unknown"),
      ["Server", "Job", "Reason"],
      (result) => [
        result.jobId === "ambiguous-create"
          ? "none of ours: waited for the group's protected instance"
          : { text: result.jobId ?? "", code: true },
        reasonsText(result.reasons),
      ],
      [undefined, undefined, 70],
    ),
    ...outcomeSection(
      layout,
      "Not finished",
      results.filter((result) => !isFinal(result.state)),
      ["Server", "State", "Reasons"],
      (result) => [{ text: result.state, tone: "muted" }, reasonsText(result.reasons)],
      [undefined, undefined, 70],
    ),
  ];
}

/** One compact line per server, for the end of `onboard`: "web-01  protected  <instance id>". */
export function serverDetail(result: ServerResult): string {
  switch (result.state) {
    case "protected":
      return result.protectedInstanceId ?? "";
    case "failed":
      return `${result.errorCode ?? ""} ${result.reasons.map((reason) => reason.message).join("; ")}`.trim();
    case "ineligible":
    case "unknown":
      return result.reasons.map((reason) => reason.code).join(", ");
    default:
      return result.reasons.map((reason) => reason.code).join(", ");
  }
}
