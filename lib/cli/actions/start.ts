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
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { type Clock, ManualClock, systemClock } from "../../clock.ts";
import { loadTargetsConfig } from "../../config/targets.ts";
import { readCoverage } from "../../coverage/estate.ts";
import { tagsChangedEvent } from "../../events/inventory.ts";
import { eventSubject, type NotificationEvent } from "../../notify/events.ts";
import {
  generateWebhookSecret,
  type RejectedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../notify/receiver.ts";
import type { PipelineLogger } from "../../pipeline/deps.ts";
import { getOnboardingRequest } from "../../pipeline/intake.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE } from "../../queue/queue.ts";
import { type LocalRuntime, startLocalRuntime } from "../../runtime/local.ts";
import type { CloudClientOptions, RequestLogEntry } from "../../sdrs/client.ts";
import { simulatorCloudConfig } from "../../sim/cloud-config.ts";
import { type Estate, type EstateServer, loadEstate, SAMPLE_ESTATE_PATH } from "../../sim/estate.ts";
import { type Simulator, startSimulator } from "../../sim/server.ts";
import type { ServerRecord } from "../../state/records.ts";
import type { ServerState } from "../../state/statuses.ts";
import * as z from "../../zod.ts";
import { requestLogLine } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { wrapText } from "../layout.ts";
import { OutageWatch, outageLimitMs } from "../outage.ts";
import { checkReportFile, checkStateFile } from "../path-checks.ts";
import { displayPath, SAMPLE_TARGETS_PATH, type TemporaryStateFile, temporaryStateFile } from "../paths.ts";
import { type LogCounts, type ProgressSnapshot, RunConsole, runLogger } from "../progress.ts";
import { coverageBlocks, coverageToJson } from "../report/coverage.ts";
import { type ReportDocument, renderHtml, renderMarkdown, renderTerminal } from "../report/document.ts";
import { serverResultOf } from "../report/servers.ts";
import {
  buildStartReport,
  type FollowedJob,
  type ReceivedEvent,
  type StartReport,
  type StartServerResult,
  startReportDocument,
} from "../report/start-report.ts";

const startOptions = z.object({
  state: z.optional(z.string()),
  realtime: z._default(z.boolean(), false),
  report: z.optional(z.string()),
  reportFormat: z.optional(z.enum(["md", "html"])),
  json: z._default(z.boolean(), false),
  details: z._default(z.boolean(), false),
  seed: z.int(),
  outageLimit: z.optional(z.string()),
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

/** `reports/sdrs-autoprotect-2026-01-01T12-00-00Z.md`: sortable, and valid on every file system. */
export function defaultReportPath(startedAt: number, format: "md" | "html"): string {
  const stamp = new Date(startedAt)
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
  return join("reports", `sdrs-autoprotect-${stamp}.${format}`);
}

/** --report-format, or the --report file's extension, or Markdown. */
export function reportFormatOf(options: Pick<StartOptions, "report" | "reportFormat">): "md" | "html" {
  if (options.reportFormat !== undefined) return options.reportFormat;
  const extension = options.report === undefined ? "" : extname(options.report).toLowerCase();
  return extension === ".html" || extension === ".htm" ? "html" : "md";
}

/** A verified delivery as the report counts it: its type and the id of what it is about. */
function receivedEventOf(event: NotificationEvent): ReceivedEvent {
  // The subject is "server/<id>", "request/<id>" or "protection-group/<id>".
  const subject = eventSubject(event);
  return { type: event.type, subjectId: subject.slice(subject.indexOf("/") + 1) };
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

/** What every step of a run reads: the options, the scenario, the clock, the run's output and logs. */
interface StartRun {
  context: CliContext;
  options: StartOptions;
  startedAt: number;
  format: "md" | "html";
  reportPath: string;
  state: { file: string; temporary: TemporaryStateFile | undefined };
  estate: Estate;
  byId: Map<string, EstateServer>;
  clock: Clock;
  clockStart: number;
  console: RunConsole;
  logger: PipelineLogger;
  logCounts: LogCounts;
  outage: OutageWatch;
  outageLimitMs: number;
  /** The SDRS client options of the runtime: every call feeds the outage watch; with --verbose it is printed too. */
  cloudLogger: CloudClientOptions;
  /** The webhook receiver's fresh secret. */
  secret: string;
  rejected: RejectedWebhook[];
}

/** The peers of a run, each set once it started: what is set is closed at the end. */
interface StartPeers {
  simulator?: Simulator;
  receiver?: WebhookReceiver;
  runtime?: LocalRuntime;
}

type StartedPeers = Required<StartPeers> & { tagKey: string; taggedCount: number };

interface Tagging {
  /** Every server with the protect tag (sample tags and those tagged by start), and its value. */
  tagOf: Map<string, string>;
  events: number;
  taggedInSimulator: StartReport["tagging"]["taggedInSimulator"];
}

interface SubmittedRequest {
  requestId: string;
  target: string;
  idempotencyKey: string;
}

/** The state: a file the user keeps (--state, new), or a temporary one removed at the end. */
function chooseState(file: string | undefined): StartRun["state"] {
  if (file === undefined) {
    const temporary = temporaryStateFile("start");
    return { file: temporary.file, temporary };
  }
  checkStateFile("--state", file, "forbidden");
  return { file, temporary: undefined };
}

/** The options checked (the report file can be written, the state file is new) and the run's parts set up. */
function prepareRun(context: CliContext, raw: unknown): StartRun {
  const options = startOptions.parse(raw);
  const startedAt = Date.now();
  const format = reportFormatOf(options);
  const reportPath = options.report ?? defaultReportPath(startedAt, format);
  // Before the run: a report that cannot be written would otherwise be lost at the end.
  checkReportFile("--report", reportPath);
  const state = chooseState(options.state);

  const estate = loadEstate(SAMPLE_ESTATE_PATH);
  const byId = new Map(estate.servers.map((server) => [server.id, server]));
  const clock: Clock = options.realtime ? systemClock : new ManualClock(startedAt);
  const runConsole = new RunConsole(context.stderr, context.stderrIsTerminal);
  const { colors } = context.stderr;
  const { logger, counts: logCounts } = runLogger({ verbose: context.verbose, colors, print: runConsole.print });
  const outage = new OutageWatch();
  const cloudLogger = outage.clientOptions(
    context.verbose ? (entry: RequestLogEntry) => runConsole.print(colors.dim(requestLogLine(entry))) : undefined,
  );
  const secret = generateWebhookSecret();
  context.addSecret(secret);
  return {
    context,
    options,
    startedAt,
    format,
    reportPath,
    state,
    estate,
    byId,
    clock,
    clockStart: clock.now(),
    console: runConsole,
    logger,
    logCounts,
    outage,
    outageLimitMs: outageLimitMs(options.outageLimit),
    cloudLogger,
    secret,
    rejected: [],
  };
}

/** start's scenario names sample servers by id: the sample estate must have them. */
function checkScenario(run: StartRun): void {
  for (const serverId of [...TAGGED_BY_START.map((entry) => entry.serverId), ...BULK_REQUEST.serverIds]) {
    if (!run.byId.has(serverId))
      throw new CliError(
        "INTERNAL",
        `the sample estate has no server ${serverId} (start's scenario and lib/sim/sample-estate.json disagree)`,
        EXIT.internal,
      );
  }
}

/** The simulator, the webhook receiver, and the local runtime notifying that receiver. */
async function startPeers(run: StartRun, peers: StartPeers): Promise<StartedPeers> {
  const { options, clock } = run;
  const simulator = await startSimulator({ estate: run.estate, clock, seed: options.seed });
  peers.simulator = simulator;
  const receiver = await startWebhookReceiver({
    secret: run.secret,
    onRejected: (rejection) => run.rejected.push(rejection),
  });
  peers.receiver = receiver;
  const sample = loadTargetsConfig({ SDRS_TARGETS_FILE: SAMPLE_TARGETS_PATH });
  // The sample's endpoint URL is a placeholder; this run's receiver takes its place.
  const targets = { ...sample, webhooks: [{ id: "local", url: receiver.url, secret: run.secret }] };
  const runtime = await startLocalRuntime({
    database: run.state.file,
    cloudConfig: simulatorCloudConfig(simulator.url),
    targets,
    clock,
    env: {},
    notifySchedule: LOCAL_NOTIFY_SCHEDULE,
    apiPort: 0,
    logger: run.logger,
    cloudClient: run.cloudLogger,
    ...(options.realtime ? { settings: { schedule: { jobTimeoutSeconds: REALTIME_JOB_TIMEOUT_SECONDS } } } : {}),
  });
  peers.runtime = runtime;
  const tagKey = sample.protectTagKey;
  const taggedCount = run.estate.servers.filter((server) => server.tags[tagKey] !== undefined).length;
  return { simulator, receiver, runtime, tagKey, taggedCount };
}

/** A line of start's story, wrapped to the terminal under its label or number. */
function say(run: StartRun, text: string, indent: string): void {
  run.context.stderr.line(wrapText(text, run.context.columns, indent));
}

function printBanner(run: StartRun, peers: StartedPeers): void {
  const { options, estate, context } = run;
  const fact = (text: string) => say(run, text, " ".repeat(19));
  context.stderr.line(
    context.stderr.colors.bold("sdrs-autoprotect start: the whole job on this machine, against the SDRS simulator"),
  );
  fact(
    `  simulator        ${peers.simulator.url} (sample estate: ${estate.servers.length} servers, ${peers.taggedCount} tagged ${peers.tagKey}; seed ${options.seed})`,
  );
  fact(`  webhook receiver ${peers.receiver.url} (verifies every signature; fresh secret)`);
  fact(
    `  local runtime    state ${run.state.temporary === undefined ? displayPath(run.state.file) : "in a temporary file"}; onboarding API ${peers.runtime.api?.url ?? "(none)"}`,
  );
  fact(
    `  time             ${options.realtime ? "real: simulated job durations on the real clock (about 10 minutes)" : "accelerated: the clock jumps to the next due message"}`,
  );
}

/** Step 1: two more servers tagged in the simulator, then one "ECS Server Tags Changed" event per tagged server. */
async function sendTagEvents(run: StartRun, peers: StartedPeers): Promise<Tagging> {
  const { byId, estate, clock } = run;
  const { tagKey } = peers;
  for (const { serverId } of TAGGED_BY_START) {
    const server = byId.get(serverId);
    peers.simulator.setServerTags(serverId, { ...server?.tags, [tagKey]: TAG_TARGET });
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
    const result = await peers.runtime.inventoryEvent(
      tagsChangedEvent({ id: randomUUID(), serverId, tags, at: clock.now(), region: estate.region }),
    );
    if (result.status === "enqueued") events += 1;
  }
  say(
    run,
    `1. tags: ${taggedInSimulator.map((server) => server.serverName).join(" and ")} tagged ${tagKey}=${TAG_TARGET} in the simulator; ${events} "ECS Server Tags Changed" events sent`,
    "   ",
  );
  return { tagOf, events, taggedInSimulator };
}

/** Step 2: one bulk onboarding request through the local HTTP API. */
async function sendBulkRequest(run: StartRun, peers: StartedPeers): Promise<SubmittedRequest> {
  const idempotencyKey = `start-${randomUUID()}`;
  const accepted = await submitBulkRequest(peers.runtime, idempotencyKey);
  say(
    run,
    `2. bulk onboarding request ${accepted.requestId}: POST /onboarding-requests (target ${BULK_REQUEST.target}, ${BULK_REQUEST.serverIds.length} servers, Idempotency-Key ${idempotencyKey}) → 202`,
    "   ",
  );
  return { requestId: accepted.requestId, target: accepted.target, idempotencyKey };
}

/** How each server came in: by its tag, by the request, or both. */
function serversAndWays(tagging: Tagging): Map<string, StartServerResult["via"]> {
  const via = new Map<string, StartServerResult["via"]>();
  for (const serverId of tagging.tagOf.keys()) via.set(serverId, ["tag"]);
  for (const serverId of BULK_REQUEST.serverIds) via.set(serverId, [...(via.get(serverId) ?? []), "request"]);
  return via;
}

/** Step 3: every job followed to its end, with the live progress view. */
async function followJobs(run: StartRun, peers: StartedPeers, serverIds: readonly string[]): Promise<void> {
  const { options, clock } = run;
  run.context.stderr.line("3. following every job to its end…");
  const { runtime, receiver } = peers;
  await run.console.follow(runtime, {
    view: { columns: run.context.columns, intervalMs: options.realtime ? 5_000 : 1_000 },
    outage: {
      watch: run.outage,
      limitMs: run.outageLimitMs,
      afterwards:
        run.state.temporary === undefined ? `state kept in ${displayPath(run.state.file)}` : "the state was temporary",
    },
    snapshot: async () => ({
      ...(await serverSnapshot(runtime, serverIds)),
      webhooks: { received: receiver.events().length, rejected: run.rejected.length },
      // On the real clock the elapsed time is plain to see; accelerated, the simulated time is the news.
      ...(options.realtime ? {} : { simulatedMs: clock.now() - run.clockStart }),
    }),
  });
}

/** Each server's result as the report shows it, with how it came in. */
async function serverResults(
  run: StartRun,
  runtime: LocalRuntime,
  tagging: Tagging,
  via: Map<string, StartServerResult["via"]>,
): Promise<StartServerResult[]> {
  const serverIds = [...via.keys()];
  const records = await runtime.repos.servers.getMany(serverIds);
  return serverIds.map((serverId) => {
    const record = records.get(serverId)?.record;
    const target = record?.target ?? tagging.tagOf.get(serverId) ?? BULK_REQUEST.target;
    return {
      ...serverResultOf(
        {
          serverId,
          state: record?.status ?? "queued",
          target,
          protectedInstanceId: record?.protectedInstanceId,
          jobId: record?.jobId,
          reasons: record?.reasons ?? [],
        },
        run.byId.get(serverId)?.name,
      ),
      via: via.get(serverId) ?? [],
    };
  });
}

/** Every SDRS job of the run, in the order they were submitted. */
async function followedJobs(runtime: LocalRuntime): Promise<FollowedJob[]> {
  const jobs: FollowedJob[] = [];
  for await (const { record } of runtime.repos.jobs.all()) {
    const finished =
      record.finishedAt === undefined ? undefined : Date.parse(record.finishedAt) - Date.parse(record.submittedAt);
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
  return jobs.sort((a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.jobId.localeCompare(b.jobId));
}

/** Step 4, the facts: servers, jobs, the request, notifications, calls, logs and metrics. */
async function collectReport(
  run: StartRun,
  peers: StartedPeers,
  tagging: Tagging,
  request: SubmittedRequest,
  via: Map<string, StartServerResult["via"]>,
): Promise<StartReport> {
  const { runtime, simulator, receiver } = peers;
  const { options, clock } = run;
  const servers = await serverResults(run, runtime, tagging, via);
  const requestStatus = await getOnboardingRequest(request.requestId, runtime.deps);
  const jobs = await followedJobs(runtime);
  const dead = runtime.queue.deadLetters("notify").map((letter) => ({
    type: deadNotificationType(letter.body),
    reason:
      letter.messageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE] ??
      `received ${letter.receiveCount} times without success`,
  }));
  const finishedAt = Date.now();
  return {
    ...buildStartReport({
      startedAt: run.startedAt,
      finishedAt,
      accelerated: !options.realtime,
      simulatedMs: clock.now() - run.clockStart,
      simulator: {
        url: simulator.url,
        seed: options.seed,
        servers: run.estate.servers.length,
        taggedServers: peers.taggedCount,
      },
      state: {
        file: run.state.temporary === undefined ? run.state.file : null,
        kept: run.state.temporary === undefined,
      },
      tagging: { events: tagging.events, taggedInSimulator: tagging.taggedInSimulator },
      request: {
        requestId: request.requestId,
        target: request.target,
        idempotencyKey: request.idempotencyKey,
        serverIds: [...BULK_REQUEST.serverIds],
        ...(requestStatus?.completedAt === undefined ? {} : { completedAt: requestStatus.completedAt }),
        counts: requestStatus?.counts ?? {},
      },
      servers,
      jobs,
      received: receiver.events().map((received) => receivedEventOf(received.event)),
      rejected: run.rejected.map((rejection) => ({
        httpStatus: rejection.httpStatus,
        reason: rejection.reason,
        ...(rejection.webhookId === undefined ? {} : { webhookId: rejection.webhookId }),
      })),
      dead,
      simulatorCounts: simulator.counts(),
      pipelineLog: { ...run.logCounts },
      metrics: runtime.metrics.totals(),
    }),
    reportFile: run.reportPath,
  };
}

/** Step 4, the output: the report file (every ineligible server listed), then stdout, ending with the coverage section. */
async function writeAndPrintReport(run: StartRun, runtime: LocalRuntime, report: StartReport): Promise<void> {
  const { context, options } = run;
  // The coverage section ends the report: is every disk of the protected servers replicated (docs/coverage.md)?
  const coverage = await readCoverage(runtime.deps.cloud, { config: runtime.deps.config });
  const withCoverage = (base: ReportDocument): ReportDocument => ({
    ...base,
    blocks: [...base.blocks, ...coverageBlocks(coverage)],
  });
  writeReport(run.reportPath, withCoverage(startReportDocument(report, { ineligible: "details" })), run.format);
  if (options.json) context.stdout.line(JSON.stringify({ ...report, coverage: coverageToJson(coverage) }, null, 2));
  else {
    const printed = withCoverage(startReportDocument(report, { ineligible: options.details ? "details" : "summary" }));
    context.stdout.line(renderTerminal(printed, { color: context.stdout.colorEnabled, columns: context.columns }));
  }
  context.stderr.line(`Report written to ${displayPath(resolve(run.reportPath))}`);
  context.exitCode = report.ok ? EXIT.ok : EXIT.someServersNotProtected;
}

export async function start(context: CliContext, raw: unknown): Promise<void> {
  const run = prepareRun(context, raw);
  // Ctrl+C stops at once (the shell exits 130): leave the terminal and the temp dir clean.
  const onInterrupt = () => {
    run.console.stop();
    run.state.temporary?.remove();
  };
  context.shutdown.addEventListener("abort", onInterrupt, { once: true });
  const peers: StartPeers = {};
  try {
    checkScenario(run);
    const started = await startPeers(run, peers);
    printBanner(run, started);
    const tagging = await sendTagEvents(run, started);
    const request = await sendBulkRequest(run, started);
    const via = serversAndWays(tagging);
    await followJobs(run, started, [...via.keys()]);
    const report = await collectReport(run, started, tagging, request, via);
    await writeAndPrintReport(run, started.runtime, report);
  } finally {
    context.shutdown.removeEventListener("abort", onInterrupt);
    await peers.runtime?.close();
    await peers.receiver?.close();
    await peers.simulator?.close();
    run.state.temporary?.remove();
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

async function submitBulkRequest(
  runtime: LocalRuntime,
  idempotencyKey: string,
): Promise<z.infer<typeof acceptedResponse>> {
  const api = runtime.api;
  if (api === undefined) throw new CliError("INTERNAL", "the local runtime serves no onboarding API", EXIT.internal);
  const response = await fetch(`${api.url}/onboarding-requests`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${api.token}`,
      "content-type": "application/json",
      "idempotency-key": idempotencyKey,
    },
    body: JSON.stringify({ target: BULK_REQUEST.target, servers: BULK_REQUEST.serverIds }),
  });
  const text = await response.text();
  if (response.status !== 202) {
    throw new CliError(
      "INTERNAL",
      `the local onboarding API answered HTTP ${response.status}: ${text.slice(0, 300)}`,
      EXIT.internal,
    );
  }
  return acceptedResponse.parse(JSON.parse(text));
}
