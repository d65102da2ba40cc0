/**
 * The final report of `sdrs-autoprotect start`: what became of every server (protected, failed with its
 * SDRS code, ineligible with reason codes and remedies, unknown), the create calls, the notifications the
 * local receiver verified, the API calls the simulator counted, and the time taken. `buildStartReport` is
 * pure (facts in, report out); `startReportDocument` lays it out for the terminal, Markdown and HTML.
 * The zod schema is the shape `start --json` prints.
 */

import { METRICS, type MetricName, type MetricTotal } from "../../metrics.ts";
import { OPERATIONS, type OperationName } from "../../sdrs/operations.ts";
import { isFinal, jobKind } from "../../state/statuses.ts";
import * as z from "../../zod.ts";
import type { Block, CellInput, ReportDocument } from "./document.ts";
import {
  countServers,
  countsSentence,
  plural,
  type ServerResult,
  serverCounts,
  serverResult,
  serverSections,
} from "./servers.ts";

const notificationTypeFor = {
  protected: "server.protected",
  failed: "server.protection_failed",
  ineligible: "server.ineligible",
  unknown: "server.protection_unknown",
} as const;

export const REQUEST_COMPLETED_EVENT = "onboarding_request.completed";

export const startServerResult = z.extend(serverResult, {
  /** How the server came in: its protect tag (an inventory event), the bulk request, or both. */
  via: z.array(z.enum(["tag", "request"])),
});
export type StartServerResult = z.infer<typeof startServerResult>;

/** An SDRS job the pipeline followed (from the state store's job records). */
export const followedJob = z.object({
  jobId: z.string(),
  kind: jobKind,
  target: z.string(),
  serverIds: z.array(z.string()),
  status: z.string(),
  submittedAt: z.string(),
  finishedAt: z.optional(z.string()),
  /** finishedAt − submittedAt on the run's clock (simulated time when accelerated). */
  tookMs: z.optional(z.number()),
  errorCode: z.optional(z.string()),
});
export type FollowedJob = z.infer<typeof followedJob>;

export const apiCallCount = z.object({ operation: z.string(), method: z.string(), path: z.string(), calls: z.int() });
export type ApiCallCount = z.infer<typeof apiCallCount>;

export const startReportSchema = z.object({
  command: z.literal("start"),
  /** Every server reached a final state and every notification was delivered (exit 0). */
  ok: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  time: z.object({ accelerated: z.boolean(), wallMs: z.number(), simulatedMs: z.number() }),
  simulator: z.object({ url: z.string(), seed: z.int(), servers: z.int(), taggedServers: z.int() }),
  state: z.object({ file: z.nullable(z.string()), kept: z.boolean() }),
  tagging: z.object({
    events: z.int(),
    taggedInSimulator: z.array(
      z.object({ serverId: z.string(), serverName: z.string(), tags: z.record(z.string(), z.string()) }),
    ),
  }),
  request: z.object({
    requestId: z.string(),
    target: z.string(),
    idempotencyKey: z.string(),
    serverIds: z.array(z.string()),
    completedAt: z.optional(z.string()),
    counts: z.record(z.string(), z.number()),
  }),
  summary: serverCounts,
  servers: z.array(startServerResult),
  /** Create calls the simulator received (a refused one, e.g. SDRS.1358, has no job). */
  createCalls: z.object({ total: z.int(), batch: z.int(), single: z.int() }),
  jobs: z.array(followedJob),
  notifications: z.object({
    /** One per server outcome, plus the bulk request's completion. */
    expected: z.int(),
    delivered: z.int(),
    byType: z.record(z.string(), z.int()),
    /** Expected events that never arrived, e.g. "server.protected for web-01 (403b603d-…)". */
    missing: z.array(z.string()),
    rejected: z.array(z.object({ httpStatus: z.int(), reason: z.string(), webhookId: z.optional(z.string()) })),
    /** Deliveries that used every attempt (the runtime's dead notifications). */
    dead: z.array(z.object({ type: z.string(), reason: z.string() })),
  }),
  apiCalls: z.object({ total: z.int(), byOperation: z.array(apiCallCount) }),
  pipelineLog: z.object({ warnings: z.int(), errors: z.int() }),
  /** What the pipeline counted: the figures the Lambdas publish as CloudWatch metrics (namespace SdrsAutoprotect). */
  metrics: z.array(
    z.object({
      name: z.string(),
      unit: z.string(),
      /** Counters: the sum; observations: how many values. */
      count: z.number(),
      sum: z.number(),
      min: z.optional(z.number()),
      max: z.optional(z.number()),
      /** Sums by dimension value ("reason:INELIGIBLE_…", "kind:batch", "target:web"). */
      by: z.record(z.string(), z.number()),
    }),
  ),
  reportFile: z.optional(z.string()),
});
export type StartReport = z.infer<typeof startReportSchema>;

export interface ReceivedEvent {
  type: string;
  /** The server id of a server.* event, the request id of onboarding_request.completed. */
  subjectId: string | undefined;
}

export interface StartRunFacts {
  startedAt: number;
  finishedAt: number;
  accelerated: boolean;
  simulatedMs: number;
  simulator: StartReport["simulator"];
  state: StartReport["state"];
  tagging: StartReport["tagging"];
  request: StartReport["request"];
  servers: StartServerResult[];
  jobs: FollowedJob[];
  received: readonly ReceivedEvent[];
  rejected: StartReport["notifications"]["rejected"];
  dead: StartReport["notifications"]["dead"];
  /** Requests per operation name, as the simulator counted them. */
  simulatorCounts: Record<string, number>;
  pipelineLog: StartReport["pipelineLog"];
  /** What the pipeline counted (LocalRuntime.metrics); none when absent. */
  metrics?: Partial<Record<MetricName, MetricTotal>>;
}

/** The simulator's counts by operation, with each operation's method and path template, most called first. */
export function apiCallCounts(counts: Record<string, number>): ApiCallCount[] {
  const known = (name: string): name is OperationName => Object.hasOwn(OPERATIONS, name);
  return Object.entries(counts)
    .map(([operation, calls]) =>
      known(operation)
        ? { operation, method: OPERATIONS[operation].method, path: OPERATIONS[operation].path, calls }
        : { operation, method: "", path: "(no such API)", calls },
    )
    .sort((a, b) => b.calls - a.calls || a.operation.localeCompare(b.operation));
}

function label(server: Pick<ServerResult, "serverId" | "serverName">): string {
  return server.serverName === undefined ? server.serverId : `${server.serverName} (${server.serverId})`;
}

export function buildStartReport(facts: StartRunFacts): StartReport {
  const summary = countServers(facts.servers);
  const receivedKeys = new Set(facts.received.map((event) => `${event.type} ${event.subjectId ?? ""}`));
  const expected: { key: string; description: string }[] = [];
  for (const server of facts.servers) {
    if (!isFinal(server.state)) continue;
    const type = notificationTypeFor[server.state];
    expected.push({ key: `${type} ${server.serverId}`, description: `${type} for ${label(server)}` });
  }
  expected.push({
    key: `${REQUEST_COMPLETED_EVENT} ${facts.request.requestId}`,
    description: `${REQUEST_COMPLETED_EVENT} for request ${facts.request.requestId}`,
  });
  const missing = expected.filter((event) => !receivedKeys.has(event.key)).map((event) => event.description);
  const byType: Record<string, number> = {};
  for (const event of facts.received) byType[event.type] = (byType[event.type] ?? 0) + 1;
  const byOperation = apiCallCounts(facts.simulatorCounts);
  return {
    command: "start",
    ok: summary.notFinished === 0 && missing.length === 0 && facts.dead.length === 0,
    startedAt: new Date(facts.startedAt).toISOString(),
    finishedAt: new Date(facts.finishedAt).toISOString(),
    time: {
      accelerated: facts.accelerated,
      wallMs: facts.finishedAt - facts.startedAt,
      simulatedMs: facts.simulatedMs,
    },
    simulator: facts.simulator,
    state: facts.state,
    tagging: facts.tagging,
    request: facts.request,
    summary,
    servers: facts.servers,
    createCalls: {
      total:
        (facts.simulatorCounts.batchCreateProtectedInstances ?? 0) +
        (facts.simulatorCounts.createProtectedInstance ?? 0),
      batch: facts.simulatorCounts.batchCreateProtectedInstances ?? 0,
      single: facts.simulatorCounts.createProtectedInstance ?? 0,
    },
    jobs: facts.jobs,
    notifications: {
      expected: expected.length,
      delivered: facts.received.length,
      byType,
      missing,
      rejected: facts.rejected,
      dead: facts.dead,
    },
    apiCalls: { total: byOperation.reduce((sum, entry) => sum + entry.calls, 0), byOperation },
    pipelineLog: facts.pipelineLog,
    metrics: (Object.keys(METRICS) as MetricName[]).flatMap((name) => {
      const total = facts.metrics?.[name];
      return total === undefined ? [] : [{ name, ...total }];
    }),
  };
}

/** "0.4 s", "12.3 s", "4 min 05 s", "1 h 02 min". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600)
    return `${Math.floor(totalSeconds / 60)} min ${String(totalSeconds % 60).padStart(2, "0")} s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, "0")} min`;
}

/** A counter's sum; an observation's count, average and range ("3 values, avg 2.3, 1–5"). */
function metricValueText(metric: StartReport["metrics"][number]): string {
  if (METRICS[metric.name as MetricName]?.kind === "counter") return String(metric.sum);
  const round = (value: number) => String(Math.round(value * 100) / 100);
  const range =
    metric.min === undefined || metric.max === undefined ? "" : `, ${round(metric.min)}–${round(metric.max)}`;
  return `${plural(metric.count, "value")}, avg ${round(metric.sum / Math.max(1, metric.count))}${range}${metric.unit === "Milliseconds" ? " ms" : ""}`;
}

/** A counter's sums by dimension value; none for observations (their sums by dimension mean little). */
function metricBreakdownText(metric: StartReport["metrics"][number]): string {
  if (METRICS[metric.name as MetricName]?.kind !== "counter") return "";
  return Object.entries(metric.by)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
}

function timeSentence(report: StartReport): string {
  const wall = formatDuration(report.time.wallMs);
  return report.time.accelerated
    ? `${wall} of wall time for ${formatDuration(report.time.simulatedMs)} of simulated time (accelerated: the clock jumps to the next due message)`
    : `${wall} of wall time (real time: the simulated job durations on the real clock)`;
}

/** Complete or not, and why; then the counts. */
function resultBlocks(report: StartReport): Block[] {
  const { notifications } = report;
  const verdict: Block = report.ok
    ? {
        kind: "paragraph",
        tone: "good",
        text: "Result: every server reached a final state and every notification was delivered and verified.",
      }
    : {
        kind: "paragraph",
        tone: "bad",
        text: `Result: not complete: ${[
          report.summary.notFinished > 0
            ? `${plural(report.summary.notFinished, "server")} did not reach a final state`
            : "",
          notifications.missing.length > 0
            ? `${plural(notifications.missing.length, "notification")} not delivered`
            : "",
          notifications.dead.length > 0 ? `${plural(notifications.dead.length, "delivery", "deliveries")} gave up` : "",
        ]
          .filter((part) => part !== "")
          .join("; ")}.`,
      };
  return [verdict, { kind: "paragraph", tone: "strong", text: countsSentence(report.summary) }];
}

/** The run in one list: simulator, tags, the request, calls and jobs, notifications, time, state. */
function whatHappenedBlocks(report: StartReport): Block[] {
  const { notifications } = report;
  const serverEvents = Object.entries(notifications.byType)
    .filter(([type]) => type.startsWith("server."))
    .reduce((sum, [, count]) => sum + count, 0);
  const tagged = report.tagging.taggedInSimulator.map(
    (server) =>
      `${server.serverName} (${Object.entries(server.tags)
        .map(([key, value]) => `${key}=${value}`)
        .join(", ")})`,
  );
  return [
    { kind: "heading", text: "What happened" },
    {
      kind: "list",
      items: [
        `Simulator with the sample estate at ${report.simulator.url}: ${report.simulator.servers} servers, ${report.simulator.taggedServers} tagged (seed ${report.simulator.seed})`,
        ...(tagged.length > 0 ? [`Tagged in the simulator: ${tagged.join("; ")}`] : []),
        `Tags: ${plural(report.tagging.events, '"ECS Server Tags Changed" event')}, one per tagged server`,
        `Bulk onboarding request ${report.request.requestId} through the local API: target ${report.request.target}, ${plural(report.request.serverIds.length, "server")}, Idempotency-Key ${report.request.idempotencyKey}`,
        `${plural(report.createCalls.total, "create call")} (${report.createCalls.batch} batch, ${report.createCalls.single} single) → ${plural(report.jobs.length, "SDRS job")}, each followed to its end`,
        `${notifications.delivered} notifications delivered and verified (${serverEvents} server outcomes), ${notifications.rejected.length} rejected`,
        `${report.apiCalls.total} API calls`,
        `Time: ${timeSentence(report)}`,
        `State: ${report.state.file === null ? "a temporary sqlite file (deleted; keep it with --state FILE)" : report.state.file}`,
      ],
    },
  ];
}

function jobBlocks(report: StartReport): Block[] {
  if (report.jobs.length === 0) return [];
  const names = new Map(report.servers.map((server) => [server.serverId, server.serverName]));
  return [
    { kind: "heading", text: `SDRS jobs (${report.jobs.length})` },
    {
      kind: "table",
      head: ["#", "Call", "Target", "Servers", "Job", "Status", "Took"],
      rows: report.jobs.map((call, index): CellInput[] => [
        String(index + 1),
        call.kind,
        call.target,
        call.serverIds.map((serverId) => names.get(serverId) ?? serverId).join("\n"),
        { text: call.jobId, code: true },
        {
          text: `${call.status}${call.errorCode ? ` ${call.errorCode}` : ""}`,
          tone: call.status === "SUCCESS" ? "good" : call.status === "FAIL" ? "bad" : "warn",
        },
        call.tookMs === undefined ? "" : formatDuration(call.tookMs),
      ]),
      maxWidths: [undefined, undefined, 40],
    },
  ];
}

function requestBlocks(report: StartReport): Block[] {
  const requestCounts = Object.entries(report.request.counts)
    .map(([state, count]) => `${count} ${state}`)
    .join(", ");
  return [
    { kind: "heading", text: "Onboarding request" },
    {
      kind: "paragraph",
      text: `${report.request.requestId} (target ${report.request.target}): ${requestCounts || "no servers"}; ${
        report.request.completedAt === undefined ? "not completed" : `completed ${report.request.completedAt}`
      }`,
    },
  ];
}

/** Delivered by type, then what was missing, rejected or gave up. */
function notificationBlocks(report: StartReport): Block[] {
  const { notifications } = report;
  const blocks: Block[] = [
    { kind: "heading", text: "Notifications" },
    {
      kind: "table",
      head: ["Event type", "Delivered and verified"],
      rows: Object.entries(notifications.byType)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([type, count]) => [{ text: type, code: true }, String(count)]),
    },
    {
      kind: "paragraph",
      text: `${notifications.delivered} delivered of ${notifications.expected} expected (one per server outcome, one for the request); ${notifications.rejected.length} rejected by the receiver; ${notifications.dead.length} gave up.`,
    },
  ];
  if (notifications.missing.length > 0) {
    blocks.push(
      { kind: "paragraph", tone: "bad", text: "Not delivered:" },
      { kind: "list", items: notifications.missing },
    );
  }
  if (notifications.rejected.length > 0) {
    blocks.push(
      { kind: "paragraph", tone: "bad", text: "Rejected by the receiver:" },
      {
        kind: "list",
        items: notifications.rejected.map(
          (rejection) =>
            `HTTP ${rejection.httpStatus} ${rejection.reason}${rejection.webhookId ? ` (${rejection.webhookId})` : ""}`,
        ),
      },
    );
  }
  if (notifications.dead.length > 0) {
    blocks.push(
      { kind: "paragraph", tone: "bad", text: "Gave up after every attempt:" },
      { kind: "list", items: notifications.dead.map((dead) => `${dead.type}: ${dead.reason}`) },
    );
  }
  return blocks;
}

function apiCallBlocks(report: StartReport): Block[] {
  return [
    { kind: "heading", text: `API calls by endpoint (${report.apiCalls.total})` },
    {
      kind: "table",
      head: ["Operation", "Endpoint", "Calls"],
      rows: report.apiCalls.byOperation.map((entry) => [
        entry.operation,
        { text: `${entry.method} ${entry.path}`.trim(), code: true },
        String(entry.calls),
      ]),
      maxWidths: [undefined, 80],
    },
  ];
}

function metricBlocks(report: StartReport): Block[] {
  if (report.metrics.length === 0) return [];
  return [
    { kind: "heading", text: "Metrics (what the Lambdas publish to CloudWatch, namespace SdrsAutoprotect)" },
    {
      kind: "table",
      head: ["Metric", "Value", "By dimension"],
      rows: report.metrics.map((metric) => [metric.name, metricValueText(metric), metricBreakdownText(metric)]),
      maxWidths: [undefined, undefined, 80],
    },
  ];
}

function timeBlocks(report: StartReport): Block[] {
  const blocks: Block[] = [
    { kind: "heading", text: "Time" },
    { kind: "paragraph", text: `Started ${report.startedAt}, finished ${report.finishedAt}: ${timeSentence(report)}.` },
  ];
  if (report.pipelineLog.warnings + report.pipelineLog.errors > 0) {
    blocks.push({
      kind: "paragraph",
      tone: "muted",
      text: `The pipeline logged ${plural(report.pipelineLog.warnings, "warning")} and ${plural(report.pipelineLog.errors, "error")} (run with --verbose to see them).`,
    });
  }
  return blocks;
}

/** `ineligible: "summary"` counts the ineligible servers by reason code (the printed report without --details). */
export function startReportDocument(
  report: StartReport,
  options: { ineligible: "details" | "summary" } = { ineligible: "details" },
): ReportDocument {
  return {
    title: "sdrs-autoprotect start: the whole job on one machine",
    blocks: [
      ...resultBlocks(report),
      ...whatHappenedBlocks(report),
      ...serverSections(report.servers, { showTarget: true, ineligible: options.ineligible }),
      ...jobBlocks(report),
      ...requestBlocks(report),
      ...notificationBlocks(report),
      ...apiCallBlocks(report),
      ...metricBlocks(report),
      ...timeBlocks(report),
    ],
  };
}
