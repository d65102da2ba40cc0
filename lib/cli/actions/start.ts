/**
 * `start` (what `npm start` runs): the whole job on this machine, with no cloud account.
 *
 * In one process: the SDRS simulator with the sample estate, a webhook receiver that verifies every
 * signature (a fresh whsec_ secret), and the local runtime (the Lambdas' code on one sqlite file) with the
 * targets of events/targets.sample.json notifying that receiver. Then:
 *   1. tags: one "ECS Server Tags Changed" event per tagged sample server, after tagging two more in the
 *      simulator (the missing shared-disk peer nfs-e-2, and intranet-03);
 *   2. one bulk onboarding request through the local HTTP API (bearer token, Idempotency-Key);
 *   3. every job followed to its end with a live progress view (stderr);
 *   4. the final report on stdout (or JSON with --json) and in a Markdown or HTML file.
 * Time is accelerated by default: a ManualClock shared by the simulator and the runtime jumps to the next
 * due message, so an hour of SDRS jobs takes seconds. --realtime runs the simulated durations on the real clock.
 *
 * Exit 0 when every server reached a final state and every notification was delivered (ineligible servers
 * are an expected result of the sample estate), 1 otherwise.
 */

import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import * as z from "zod";
import { type Clock, ManualClock, systemClock } from "../../clock.ts";
import { loadTargetsConfig } from "../../config/targets.ts";
import { readCoverage } from "../../coverage/estate.ts";
import { OWN_DETAIL_TYPES, OWN_EVENT_SOURCE } from "../../events/inventory.ts";
import type { NotificationEvent } from "../../notify/events.ts";
import { generateWebhookSecret, type RejectedWebhook, startWebhookReceiver, type WebhookReceiver } from "../../notify/receiver.ts";
import { getOnboardingRequest } from "../../pipeline/intake.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE } from "../../queue/queue.ts";
import { type LocalRuntime, startLocalRuntime } from "../../runtime/local.ts";
import type { RequestLogEntry } from "../../sdrs/client.ts";
import { simulatorCloudConfig } from "../../sdrs/config.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../sim/estate.ts";
import { type Simulator, startSimulator } from "../../sim/server.ts";
import type { ServerRecord } from "../../state/records.ts";
import type { ServerState } from "../../state/statuses.ts";
import { requestLogLine } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { wrapText } from "../layout.ts";
import { OutageWatch, outageLimitMs } from "../outage.ts";
import { checkReportFile, checkStateFile } from "../path-checks.ts";
import { displayPath, SAMPLE_TARGETS_PATH } from "../paths.ts";
import {
  createProgressDisplay,
  followRun,
  type ProgressDisplay,
  type ProgressSnapshot,
  runLogger,
  stderrIsTerminal,
} from "../progress.ts";
import { coverageBlocks, coverageToJson } from "../report/coverage.ts";
import { type ReportDocument, renderHtml, renderMarkdown, renderTerminal } from "../report/document.ts";
import { serverResultOf } from "../report/servers.ts";
import { buildStartReport, type FollowedJob, type ReceivedEvent, type StartReport, type StartServerResult, startReportDocument } from "../report/start-report.ts";

const startOptions = z.object({
  state: z.string().optional(),
  realtime: z.boolean().default(false),
  report: z.string().optional(),
  reportFormat: z.enum(["md", "html"]).optional(),
  json: z.boolean().default(false),
  details: z.boolean().default(false),
  seed: z.number().int(),
  outageLimit: z.string().optional(),
});
type StartOptions = z.infer<typeof startOptions>;

/** Untagged sample servers that `start` tags in the simulator before sending their events. */
const TAGGED_BY_START: readonly { serverId: string }[] = [
  // nfs-e-2: the untagged peer sharing a disk with nfs-e-1 (INELIGIBLE_SHARED_DISK_PEER_MISSING until it is tagged too).
  { serverId: "39b72b26-0f25-4a13-b8b1-7faaec3231fb" },
  // intranet-03: a plain untagged server.
  { serverId: "a9032369-ade2-4033-b08b-c8e2e143caec" },
];
const TAG_TARGET = "web";

/** The bulk onboarding request: untagged servers, plus one tagged server to show nothing is created twice. */
const BULK_REQUEST = {
  target: "web",
  serverIds: [
    "d9c285fe-7051-4497-bea4-ee39b5ece090", // intranet-01: untagged, eligible
    "25226835-85b1-47f6-90e5-604e3a88c116", // intranet-02: untagged, eligible
    "e3c8cfcf-964d-42dc-98ae-dc0863d2ae22", // billing-db-01's DR-site server (SDRS created it): INELIGIBLE_DR_SITE_SERVER
    "403b603d-1d91-42cc-a357-81f3c2daf43f", // web-01: tagged as well; the request joins its protection, one create only
  ],
} as const;

/** The local runtime's webhook retry waits: a local receiver answers at once or not at all. */
const LOCAL_NOTIFY_SCHEDULE = [1, 5, 30];
/**
 * --realtime: crm-db-01's protected instance never leaves `creating` in the sample estate, so it ends
 * `unknown` at the job timeout; 10 min (twice the longest simulated job) instead of the hour real SDRS gets.
 */
const REALTIME_JOB_TIMEOUT_SECONDS = 600;

const acceptedResponse = z.object({ requestId: z.string(), target: z.string(), replayed: z.boolean() });

/** Our own EventBridge event "ECS Server Tags Changed" (lib/events/inventory.ts, docs "Inventory events"). */
export function tagsChangedEvent(serverId: string, tags: Record<string, string>, at: number, region: string): unknown {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": OWN_DETAIL_TYPES[0],
    source: OWN_EVENT_SOURCE,
    account: "000000000000",
    time: new Date(at).toISOString(),
    region,
    resources: [],
    detail: { serverId, tags },
  };
}

/** `reports/sdrs-autoprotect-2026-01-01T12-00-00Z.md`: sortable, and valid on every file system. */
export function defaultReportPath(startedAt: number, format: "md" | "html"): string {
  const stamp = new Date(startedAt).toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  return join("reports", `sdrs-autoprotect-${stamp}.${format}`);
}

/** --report-format, or the --report file's extension, or Markdown. */
export function reportFormatOf(options: Pick<StartOptions, "report" | "reportFormat">): "md" | "html" {
  if (options.reportFormat !== undefined) return options.reportFormat;
  const extension = options.report === undefined ? "" : extname(options.report).toLowerCase();
  return extension === ".html" || extension === ".htm" ? "html" : "md";
}

function receivedEventOf(event: NotificationEvent): ReceivedEvent {
  switch (event.type) {
    case "server.protected":
    case "server.protection_failed":
    case "server.ineligible":
    case "server.protection_unknown":
    case "server.coverage_degraded":
    case "server.coverage_restored":
    case "server.outcome_corrected":
      return { type: event.type, subjectId: event.data.serverId };
    case "onboarding_request.completed":
      return { type: event.type, subjectId: event.data.requestId };
    case "protection_group.protection_enabled":
      return { type: event.type, subjectId: event.data.protectionGroupId };
  }
}


function writeReport(path: string, document: ReportDocument, format: "md" | "html"): void {
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileSync(path, format === "html" ? renderHtml(document) : renderMarkdown(document));
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "error";
    throw usageError(`--report: cannot write ${path} (${code})`);
  }
}

export async function start(context: CliContext, raw: unknown): Promise<void> {
  const options = startOptions.parse(raw);
  const { stderr } = context;
  const { colors } = stderr;
  const startedAt = Date.now();
  const format = reportFormatOf(options);
  const reportPath = options.report ?? defaultReportPath(startedAt, format);
  // Before the run: a report that cannot be written would otherwise be lost at the end.
  checkReportFile("--report", reportPath);

  // The state: a file the user keeps (--state, new), or a temporary one removed at the end.
  let stateFile: string;
  let temporaryDirectory: string | undefined;
  if (options.state !== undefined) {
    checkStateFile("--state", options.state, "forbidden");
    stateFile = options.state;
  } else {
    temporaryDirectory = mkdtempSync(join(tmpdir(), "sdrs-autoprotect-start-"));
    stateFile = join(temporaryDirectory, "state.sqlite");
  }
  const removeTemporary = () => {
    if (temporaryDirectory !== undefined) rmSync(temporaryDirectory, { recursive: true, force: true });
  };

  let display: ProgressDisplay | undefined;
  // Ctrl+C stops at once (the shell exits 130): leave the terminal and the temp dir clean.
  const onInterrupt = () => {
    display?.stop();
    removeTemporary();
  };
  context.shutdown.addEventListener("abort", onInterrupt, { once: true });

  const estate = loadEstate(SAMPLE_ESTATE_PATH);
  const byId = new Map(estate.servers.map((server) => [server.id, server]));
  for (const serverId of [...TAGGED_BY_START.map((entry) => entry.serverId), ...BULK_REQUEST.serverIds]) {
    if (!byId.has(serverId)) throw new CliError("INTERNAL", `the sample estate has no server ${serverId} (start's scenario and lib/sim/sample-estate.json disagree)`, EXIT.internal);
  }

  const clock: Clock = options.realtime ? systemClock : new ManualClock(startedAt);
  const clockStart = clock.now();
  const print = (line: string) => (display === undefined ? stderr.line(line) : display.log(line));
  const { logger, counts: logCounts } = runLogger({ verbose: context.verbose, colors, print });
  const outageLimit = outageLimitMs(options.outageLimit);
  const outage = new OutageWatch();
  const cloudLogger = outage.clientOptions(context.verbose ? (entry: RequestLogEntry) => print(colors.dim(requestLogLine(entry))) : undefined);

  const secret = generateWebhookSecret();
  context.addSecret(secret);
  const rejected: RejectedWebhook[] = [];
  let simulator: Simulator | undefined;
  let receiver: WebhookReceiver | undefined;
  let runtime: LocalRuntime | undefined;
  try {
    simulator = await startSimulator({ estate, clock, seed: options.seed });
    receiver = await startWebhookReceiver({ secret, onRejected: (rejection) => rejected.push(rejection) });
    const sample = loadTargetsConfig({ SDRS_TARGETS_FILE: SAMPLE_TARGETS_PATH });
    // The sample's endpoint URL is a placeholder; this run's receiver takes its place.
    const targets = { ...sample, webhooks: [{ id: "local", url: receiver.url, secret }] };
    runtime = await startLocalRuntime({
      database: stateFile,
      cloudConfig: simulatorCloudConfig(simulator.url),
      targets,
      clock,
      env: {},
      notifySchedule: LOCAL_NOTIFY_SCHEDULE,
      apiPort: 0,
      logger,
      cloudClient: cloudLogger,
      ...(options.realtime ? { settings: { schedule: { jobTimeoutSeconds: REALTIME_JOB_TIMEOUT_SECONDS } } } : {}),
    });
    const tagKey = sample.protectTagKey;
    const taggedCount = estate.servers.filter((server) => server.tags[tagKey] !== undefined).length;

    // What start does, wrapped to the terminal: a fact under its label, a step under its number.
    const say = (text: string, indent: string) => stderr.line(wrapText(text, context.columns, indent));
    const fact = (text: string) => say(text, " ".repeat(19));
    stderr.line(colors.bold("sdrs-autoprotect start: the whole job on this machine, against the SDRS simulator"));
    fact(`  simulator        ${simulator.url} (sample estate: ${estate.servers.length} servers, ${taggedCount} tagged ${tagKey}; seed ${options.seed})`);
    fact(`  webhook receiver ${receiver.url} (verifies every signature; fresh secret)`);
    fact(`  local runtime    state ${temporaryDirectory === undefined ? displayPath(stateFile) : "in a temporary file"}; onboarding API ${runtime.api?.url ?? "(none)"}`);
    fact(
      `  time             ${options.realtime ? "real: simulated job durations on the real clock (about 10 minutes)" : "accelerated: the clock jumps to the next due message"}`,
    );

    // 1. Tags.
    for (const { serverId } of TAGGED_BY_START) {
      const server = byId.get(serverId);
      simulator.setServerTags(serverId, { ...server?.tags, [tagKey]: TAG_TARGET });
    }
    const taggedInSimulator = TAGGED_BY_START.map(({ serverId }) => ({
      serverId,
      serverName: byId.get(serverId)?.name ?? serverId,
      tags: { [tagKey]: TAG_TARGET },
    }));
    const tagOf = new Map<string, string>();
    for (const server of estate.servers) {
      const value = server.tags[tagKey];
      if (value !== undefined) tagOf.set(server.id, value);
    }
    for (const { serverId } of TAGGED_BY_START) tagOf.set(serverId, TAG_TARGET);
    let events = 0;
    for (const [serverId, value] of tagOf) {
      const tags = { ...byId.get(serverId)?.tags, [tagKey]: value };
      const result = await runtime.inventoryEvent(tagsChangedEvent(serverId, tags, clock.now(), estate.region));
      if (result.status === "enqueued") events += 1;
    }
    say(
      `1. tags: ${taggedInSimulator.map((server) => server.serverName).join(" and ")} tagged ${tagKey}=${TAG_TARGET} in the simulator; ${events} "ECS Server Tags Changed" events sent`,
      "   ",
    );

    // 2. One bulk onboarding request through the local HTTP API.
    const idempotencyKey = `start-${randomUUID()}`;
    const accepted = await submitBulkRequest(runtime, idempotencyKey);
    say(
      `2. bulk onboarding request ${accepted.requestId}: POST /onboarding-requests (target ${BULK_REQUEST.target}, ${BULK_REQUEST.serverIds.length} servers, Idempotency-Key ${idempotencyKey}) → 202`,
      "   ",
    );

    // 3. Follow every job to its end.
    stderr.line("3. following every job to its end…");
    const via = new Map<string, StartServerResult["via"]>();
    for (const serverId of tagOf.keys()) via.set(serverId, ["tag"]);
    for (const serverId of BULK_REQUEST.serverIds) via.set(serverId, [...(via.get(serverId) ?? []), "request"]);
    const serverIds = [...via.keys()];
    display = createProgressDisplay({
      output: stderr,
      interactive: stderrIsTerminal(),
      columns: context.columns,
      intervalMs: options.realtime ? 5_000 : 1_000,
    });
    const [activeRuntime, activeReceiver] = [runtime, receiver];
    await followRun(activeRuntime, {
      display,
      outage: {
        watch: outage,
        limitMs: outageLimit,
        afterwards: temporaryDirectory === undefined ? `state kept in ${displayPath(stateFile)}` : "the state was temporary",
      },
      snapshot: async () => ({
        ...(await serverSnapshot(activeRuntime, serverIds)),
        webhooks: { received: activeReceiver.events().length, rejected: rejected.length },
        // On the real clock the elapsed time is plain to see; accelerated, the simulated time is the news.
        ...(options.realtime ? {} : { simulatedMs: clock.now() - clockStart }),
      }),
    });
    display = undefined;

    // 4. The report.
    const records = await runtime.repos.servers.getMany(serverIds);
    const servers: StartServerResult[] = serverIds.map((serverId) => {
      const record = records.get(serverId)?.record;
      const target = record?.target ?? tagOf.get(serverId) ?? BULK_REQUEST.target;
      return {
        ...serverResultOf(
          { serverId, state: record?.status ?? "queued", target, protectedInstanceId: record?.protectedInstanceId, jobId: record?.jobId, reasons: record?.reasons ?? [] },
          byId.get(serverId)?.name,
        ),
        via: via.get(serverId) ?? [],
      };
    });
    const requestStatus = await getOnboardingRequest(accepted.requestId, runtime.deps);
    const jobs: FollowedJob[] = [];
    for await (const { record } of runtime.repos.jobs.all()) {
      const finished = record.finishedAt === undefined ? undefined : Date.parse(record.finishedAt) - Date.parse(record.submittedAt);
      jobs.push({
        jobId: record.jobId,
        kind: record.kind,
        target: record.target,
        serverIds: record.serverIds,
        status: record.status,
        submittedAt: record.submittedAt,
        ...(record.finishedAt === undefined ? {} : { finishedAt: record.finishedAt }),
        ...(finished === undefined ? {} : { tookMs: finished }),
        ...(record.errorCode === undefined ? {} : { errorCode: record.errorCode }),
      });
    }
    jobs.sort((a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.jobId.localeCompare(b.jobId));
    const dead = runtime.queue.deadLetters("notify").map((letter) => ({
      type: deadNotificationType(letter.body),
      reason: letter.messageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE] ?? `received ${letter.receiveCount} times without success`,
    }));

    const finishedAt = Date.now();
    const report: StartReport = {
      ...buildStartReport({
        startedAt,
        finishedAt,
        accelerated: !options.realtime,
        simulatedMs: clock.now() - clockStart,
        simulator: { url: simulator.url, seed: options.seed, servers: estate.servers.length, taggedServers: taggedCount },
        state: { file: temporaryDirectory === undefined ? stateFile : null, kept: temporaryDirectory === undefined },
        tagging: { events, taggedInSimulator },
        request: {
          requestId: accepted.requestId,
          target: accepted.target,
          idempotencyKey,
          serverIds: [...BULK_REQUEST.serverIds],
          ...(requestStatus?.completedAt === undefined ? {} : { completedAt: requestStatus.completedAt }),
          counts: requestStatus?.counts ?? {},
        },
        servers,
        jobs,
        received: receiver.events().map((received) => receivedEventOf(received.event)),
        rejected: rejected.map((rejection) => ({
          httpStatus: rejection.httpStatus,
          reason: rejection.reason,
          ...(rejection.webhookId === undefined ? {} : { webhookId: rejection.webhookId }),
        })),
        dead,
        simulatorCounts: simulator.counts(),
        pipelineLog: { ...logCounts },
        metrics: runtime.metrics.totals(),
      }),
      reportFile: reportPath,
    };
    // The coverage section ends the report: is every disk of the protected servers replicated (docs/coverage.md)?
    const coverage = await readCoverage(runtime.deps.cloud, { config: runtime.deps.config });
    const withCoverage = (base: ReportDocument): ReportDocument => ({ ...base, blocks: [...base.blocks, ...coverageBlocks(coverage)] });
    writeReport(reportPath, withCoverage(startReportDocument(report, { ineligible: "details" })), format);
    if (options.json) context.stdout.line(JSON.stringify({ ...report, coverage: coverageToJson(coverage) }, null, 2));
    else {
      const printed = withCoverage(startReportDocument(report, { ineligible: options.details ? "details" : "summary" }));
      context.stdout.line(renderTerminal(printed, { color: context.stdout.colorEnabled, columns: context.columns }));
    }
    stderr.line(`Report written to ${displayPath(resolve(reportPath))}`);
    context.exitCode = report.ok ? EXIT.ok : EXIT.someServersNotProtected;
  } finally {
    context.shutdown.removeEventListener("abort", onInterrupt);
    await runtime?.close();
    await receiver?.close();
    await simulator?.close();
    removeTemporary();
  }
}

/** Servers by state and the jobs they wait on, from the state store. */
async function serverSnapshot(runtime: LocalRuntime, serverIds: readonly string[]): Promise<ProgressSnapshot> {
  const records = await runtime.repos.servers.getMany([...serverIds]);
  const states: Partial<Record<ServerState, number>> = {};
  const jobs = new Set<string>();
  for (const serverId of serverIds) {
    const record: ServerRecord | undefined = records.get(serverId)?.record;
    const state: ServerState = record?.status ?? "queued";
    states[state] = (states[state] ?? 0) + 1;
    if (record?.status === "in_progress" && record.jobId !== undefined) jobs.add(record.jobId);
  }
  return { servers: serverIds.length, states, jobsInFlight: jobs.size };
}

/** The event type inside a dead notification's queue body (it never holds the endpoint's secret). */
function deadNotificationType(body: string): string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return "(unreadable notification)";
  }
  const parsed = z.object({ event: z.object({ type: z.string() }) }).safeParse(value);
  return parsed.success ? parsed.data.event.type : "(unreadable notification)";
}

async function submitBulkRequest(runtime: LocalRuntime, idempotencyKey: string): Promise<z.infer<typeof acceptedResponse>> {
  const api = runtime.api;
  if (api === undefined) throw new CliError("INTERNAL", "the local runtime serves no onboarding API", EXIT.internal);
  const response = await fetch(`${api.url}/onboarding-requests`, {
    method: "POST",
    headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json", "idempotency-key": idempotencyKey },
    body: JSON.stringify({ target: BULK_REQUEST.target, servers: BULK_REQUEST.serverIds }),
  });
  const text = await response.text();
  if (response.status !== 202) {
    throw new CliError("INTERNAL", `the local onboarding API answered HTTP ${response.status}: ${text.slice(0, 300)}`, EXIT.internal);
  }
  return acceptedResponse.parse(JSON.parse(text));
}
