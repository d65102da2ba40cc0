/**
 * The local composition root: the whole pipeline in one process, on one sqlite file (store + queues),
 * driving THE SAME steps the Lambdas run (lib/pipeline/sqs.ts, intake.ts, api.ts). A pump receives from
 * the sqlite queues, hands each step the SQSEvent shape Lambda would get (`toSqsEvent`), and deletes what
 * the step did not list in `batchItemFailures`; failed messages come back after the visibility timeout,
 * and after `maxReceiveCount` receives they land in `<queue>-dlq` (the sqlite queue's redrive). The pipeline's
 * DeadLetterSink puts unprocessable messages and dead notifications into the same `<queue>-dlq`, with the reason.
 *
 * Accelerated time: with a ManualClock (shared with the simulator, so SDRS jobs progress with it), an idle
 * pump jumps the clock to the next message's visible time, so minutes of SDRS jobs run in seconds. With any
 * other clock it sleeps until then.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type Clock, ManualClock } from "../clock.ts";
import type { TargetsConfig } from "../config/targets.ts";
import { readBoundedBody } from "../http/body.ts";
import { cloudRequestMetrics, MetricsCollector } from "../metrics.ts";
import type { DispatcherDeps } from "../notify/dispatcher.ts";
import { handleApiRequest } from "../pipeline/api.ts";
import {
  DEFAULT_PIPELINE_SETTINGS,
  type PipelineDeps,
  type PipelineLogger,
  type PipelineSettings,
} from "../pipeline/deps.ts";
import { inFlightInstancesView, protectedInstanceView, sharedReads } from "../pipeline/instance-view.ts";
import {
  handleInventoryEvent,
  type InventoryEventResult,
  type ReconcileResult,
  reconcile,
} from "../pipeline/intake.ts";
import { createRejectionLog } from "../pipeline/rejections.ts";
import type { ScheduleSettings } from "../pipeline/schedule.ts";
import { inFlightViewMaxAgeSeconds } from "../pipeline/schedule.ts";
import { processSqsIntents, processSqsJobChecks } from "../pipeline/sqs.ts";
import { processSqsNotifications } from "../pipeline/sqs-notify.ts";
import { QUEUE_NAMES, type QueueName, type QueueSender, type ReceivedMessage, toSqsEvent } from "../queue/queue.ts";
import { localQueueArn, type QueueStats, SqliteQueue } from "../queue/sqlite-queue.ts";
import { CloudClient, type CloudClientOptions } from "../sdrs/client.ts";
import type { CloudConfig } from "../sdrs/config.ts";
import { createRepositories, type Repositories } from "../state/repositories.ts";
import { openDatabase } from "../state/sqlite-database.ts";
import { SqliteStore } from "../state/sqlite-store.ts";
import { notifyDepsFor } from "./notify.ts";

/** The Lambda event source mappings of serverless.yml: batch size and the queue's visibility timeout. */
export const LOCAL_CONSUMERS: Record<QueueName, { batchSize: number; visibilityTimeoutSeconds: number }> = {
  onboarding: { batchSize: 50, visibilityTimeoutSeconds: 720 },
  "job-status": { batchSize: 10, visibilityTimeoutSeconds: 360 },
  notify: { batchSize: 10, visibilityTimeoutSeconds: 360 },
};
/** SQS ReceiveMessage returns at most 10 messages; a batch of 50 takes several receives. */
const RECEIVE_LIMIT = 10;
/** Lambda's asynchronous invocation: the first attempt and 2 retries. */
const INVENTORY_EVENT_ATTEMPTS = 3;
/**
 * With a clock we cannot jump, an idle pump sleeps at most this long (wall time) before looking again: the
 * clock may run faster than the wall (ScaledClock), so a wait in clock time is no wait in wall time.
 */
const MAX_IDLE_SLEEP_MS = 100;

export interface LocalRuntimeOptions {
  /** A sqlite file path, or ":memory:"; the store and the queues share it. */
  database: string;
  cloudConfig: CloudConfig;
  targets: TargetsConfig;
  /** A ManualClock for accelerated runs (share it with the simulator); the system clock otherwise. */
  clock: Clock;
  /** Where `{ "env": "VAR" }` webhook secrets are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Webhook retry waits (seconds) after attempt 1, 2, …; default the Standard Webhooks schedule. */
  notifySchedule?: readonly number[];
  /** Serve the onboarding API on 127.0.0.1 (0 = any free port); absent = no API server. */
  apiPort?: number;
  /** The bearer token the API requires; default a random one (see `api.token`). */
  apiToken?: string;
  /** Receives before a message goes to `<queue>-dlq` (default 5, as serverless.yml). */
  maxReceiveCount?: number;
  logger?: PipelineLogger;
  /** Overrides of the pipeline settings (e.g. a short `schedule.jobTimeoutSeconds`). */
  settings?: Partial<Omit<PipelineSettings, "schedule">> & { schedule?: Partial<ScheduleSettings> };
  /** Options of the SDRS client (e.g. its retry policy or an instant `sleep` for tests). Its clock stays the wall clock: signatures are dated in real time. */
  cloudClient?: Omit<CloudClientOptions, "clock">;
  /** Wraps the queue sender the pipeline and the notifier use (tests: a sender that delivers every message twice). */
  wrapSender?: (sender: QueueSender) => QueueSender;
  /** [0, 1) for job-check and webhook-retry jitter; default Math.random. */
  random?: () => number;
}

export interface PumpResult {
  /** Messages received and handed to a step. */
  processed: number;
  byQueue: Record<QueueName, number>;
  /** Of those, messages the steps returned to the queue (batchItemFailures). */
  failed: number;
}

export type RunEnd = "idle" | "maxVirtualMs" | "maxIterations" | "aborted";

export interface RunSummary {
  ended: RunEnd;
  /** Pump iterations that processed something. */
  iterations: number;
  processed: Record<QueueName, number>;
  failed: number;
  /** Clock milliseconds from the start to the end of the run. */
  virtualMs: number;
  /** Wall milliseconds the run took. */
  wallMs: number;
}

export interface RunOptions {
  /** Stop once the clock would pass start + this. */
  maxVirtualMs?: number;
  /** Stop after this many pump iterations (default 100 000). */
  maxIterations?: number;
  /** Called after every pump iteration that processed something. */
  onTick?: (tick: PumpResult & { now: number }) => void | Promise<void>;
  /** Stops the run between two pump iterations (the step in progress ends first). */
  signal?: AbortSignal;
}

export interface LocalStats {
  queues: Record<QueueName, QueueStats>;
  /** Messages received per queue since start. */
  processed: Record<QueueName, number>;
  /** Messages returned to their queue by a step (transient failures). */
  failed: number;
}

export interface LocalRuntime {
  deps: PipelineDeps;
  dispatcher: DispatcherDeps;
  /** What the pipeline counted (the metrics Lambda publishes as EMF). */
  metrics: MetricsCollector;
  queue: SqliteQueue;
  repos: Repositories;
  api?: { url: string; token: string };
  /** One EventBridge inventory event, as the inventory-events Lambda handles it. */
  inventoryEvent(event: unknown): Promise<InventoryEventResult>;
  /** One reconcile sweep, as the scheduled Lambda runs it. */
  reconcile(): Promise<ReconcileResult>;
  /** One receive → step → delete round on each queue. */
  pumpOnce(): Promise<PumpResult>;
  /** Pumps (jumping or sleeping through idle time) until every queue is empty, or a limit is hit. */
  runUntilIdle(options?: RunOptions): Promise<RunSummary>;
  stats(): LocalStats;
  close(): Promise<void>;
}

function zeroByQueue(): Record<QueueName, number> {
  return { onboarding: 0, "job-status": 0, notify: 0 };
}

/** Warnings and errors as JSON lines on stderr: what a person running `npm start` needs to see. */
export const stderrLogger: PipelineLogger = {
  debug: () => {},
  info: () => {},
  warn: (message, extra) => process.stderr.write(`${JSON.stringify({ level: "WARN", message, ...extra })}\n`),
  error: (message, extra) => process.stderr.write(`${JSON.stringify({ level: "ERROR", message, ...extra })}\n`),
};

function mergeSettings(overrides: LocalRuntimeOptions["settings"]): PipelineSettings {
  const { schedule, ...rest } = overrides ?? {};
  return { ...DEFAULT_PIPELINE_SETTINGS, ...rest, schedule: { ...DEFAULT_PIPELINE_SETTINGS.schedule, ...schedule } };
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const database: DatabaseSync = openDatabase(options.database);
  try {
    return await startOn(database, options);
  } catch (error) {
    // A configuration error (webhook secret not set, API port taken…) must not leave the file open.
    database.close();
    throw error;
  }
}

/** The pipeline's dependencies on one sqlite file: store and queues, the cloud client, metrics, shared views. */
function pipelineOn(
  database: DatabaseSync,
  options: LocalRuntimeOptions,
): { deps: PipelineDeps; queue: SqliteQueue; metrics: MetricsCollector } {
  const { clock } = options;
  const store = new SqliteStore({ database, clock });
  const queue = new SqliteQueue({
    database,
    clock,
    ...(options.maxReceiveCount !== undefined ? { maxReceiveCount: options.maxReceiveCount } : {}),
  });
  // The figures Lambda publishes as EMF, collected for the run's report (lib/metrics.ts).
  const metrics = new MetricsCollector();
  const cloud = new CloudClient(options.cloudConfig, {
    ...options.cloudClient,
    logger: cloudRequestMetrics(metrics, options.cloudClient?.logger),
  });
  const settings = mergeSettings(options.settings);
  const deps: PipelineDeps = {
    cloud,
    repos: createRepositories(store, { clock }),
    queue: options.wrapSender ? options.wrapSender(queue) : queue,
    config: options.targets,
    clock,
    log: options.logger ?? stderrLogger,
    settings,
    deadLetter: (name, body, reason) => queue.deadLetter(name, body, reason),
    rejections: createRejectionLog(store, { clock }),
    ...(options.random ? { random: options.random } : {}),
    metrics,
    instances: protectedInstanceView(() => cloud.listProtectedInstances({}), clock),
    creatingInstances: inFlightInstancesView(cloud, clock, inFlightViewMaxAgeSeconds(settings.schedule)),
    reads: sharedReads(clock),
  };
  return { deps, queue, metrics };
}

/** The notify step's dependencies: webhook endpoints and delivery schedule (loopback HTTP allowed locally). */
function dispatcherFor(options: LocalRuntimeOptions, deps: PipelineDeps): DispatcherDeps {
  return {
    ...notifyDepsFor({
      config: options.targets,
      env: options.env ?? process.env,
      repos: deps.repos,
      queue: deps.queue,
      clock: deps.clock,
      allowLoopbackHttp: true,
      ...(options.notifySchedule ? { schedule: options.notifySchedule } : {}),
    }),
    ...(options.random ? { random: options.random } : {}),
  };
}

type Step = (event: SQSEvent) => Promise<SQSBatchResponse>;

/**
 * Lambda's SQS event source mappings, played on the sqlite queues: receive a batch, run the step, delete
 * what it did not list as failed; and the run loop that pumps until idle, jumping a ManualClock to the next
 * visible message.
 */
class QueuePump {
  readonly processed = zeroByQueue();
  failedTotal = 0;
  readonly #queue: SqliteQueue;
  readonly #steps: Record<QueueName, Step>;
  readonly #clock: Clock;
  readonly #log: PipelineLogger;

  constructor(queue: SqliteQueue, steps: Record<QueueName, Step>, clock: Clock, log: PipelineLogger) {
    this.#queue = queue;
    this.#steps = steps;
    this.#clock = clock;
    this.#log = log;
  }

  async receiveBatch(name: QueueName): Promise<ReceivedMessage[]> {
    const { batchSize, visibilityTimeoutSeconds } = LOCAL_CONSUMERS[name];
    const batch: ReceivedMessage[] = [];
    while (batch.length < batchSize) {
      const maxMessages = Math.min(RECEIVE_LIMIT, batchSize - batch.length);
      const received = await this.#queue.receive(name, { maxMessages, visibilityTimeoutSeconds });
      batch.push(...received);
      if (received.length < maxMessages) break;
    }
    return batch;
  }

  /** Receives one batch, runs the step, deletes what succeeded; returns [received, failed]. */
  async pumpQueue(name: QueueName): Promise<[number, number]> {
    const messages = await this.receiveBatch(name);
    if (messages.length === 0) return [0, 0];
    const failedIds = await this.#runStep(name, messages);
    await this.#queue.deleteBatch(
      name,
      messages.filter((message) => !failedIds.has(message.messageId)).map((message) => message.receiptHandle),
    );
    this.processed[name] += messages.length;
    this.failedTotal += failedIds.size;
    return [messages.length, failedIds.size];
  }

  /** The ids of the messages the step failed. */
  async #runStep(name: QueueName, messages: ReceivedMessage[]): Promise<Set<string>> {
    try {
      const response = await this.#steps[name](toSqsEvent(localQueueArn(name), messages));
      return new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    } catch (error) {
      // Lambda: a handler that throws fails the whole batch; every message comes back after the timeout.
      this.#log.error("step failed; the whole batch returns to the queue", {
        queue: name,
        error: error instanceof Error ? error.message : String(error),
      });
      return new Set(messages.map((message) => message.messageId));
    }
  }

  async pumpOnce(): Promise<PumpResult> {
    const byQueue = zeroByQueue();
    let failed = 0;
    for (const name of QUEUE_NAMES) {
      const [received, failedHere] = await this.pumpQueue(name);
      byQueue[name] = received;
      failed += failedHere;
    }
    return { processed: byQueue.onboarding + byQueue["job-status"] + byQueue.notify, byQueue, failed };
  }

  async runUntilIdle(run: RunOptions = {}): Promise<RunSummary> {
    const clock = this.#clock;
    const startedAt = clock.now();
    const wallStart = Date.now();
    const maxIterations = run.maxIterations ?? 100_000;
    const totals = zeroByQueue();
    let failed = 0;
    let iterations = 0;
    const summary = (ended: RunEnd): RunSummary => ({
      ended,
      iterations,
      processed: totals,
      failed,
      virtualMs: clock.now() - startedAt,
      wallMs: Date.now() - wallStart,
    });
    for (;;) {
      if (run.signal?.aborted) return summary("aborted");
      if (iterations >= maxIterations) return summary("maxIterations");
      const tick = await this.pumpOnce();
      if (tick.processed > 0) {
        iterations += 1;
        for (const name of QUEUE_NAMES) totals[name] += tick.byQueue[name];
        failed += tick.failed;
        await run.onTick?.({ ...tick, now: clock.now() });
        continue;
      }
      const wait = await this.#idleWait(startedAt, run);
      if (wait !== "continue") return summary(wait);
    }
  }

  /** Nothing was due: move time on to the next visible message, or say why the run ends. */
  async #idleWait(startedAt: number, run: RunOptions): Promise<"continue" | "idle" | "maxVirtualMs"> {
    const next = this.#queue.nextVisibleAt();
    if (next === undefined) return "idle";
    const now = this.#clock.now();
    if (next <= now) return "continue"; // due messages that the receive just moved to a dead-letter queue
    if (run.maxVirtualMs !== undefined && next - startedAt > run.maxVirtualMs) return "maxVirtualMs";
    if (this.#clock instanceof ManualClock) this.#clock.set(next);
    else await sleep(Math.min(next - now, MAX_IDLE_SLEEP_MS));
    return "continue";
  }
}

/** The onboarding API on 127.0.0.1, when a port is asked for. */
async function startLocalApi(
  options: LocalRuntimeOptions,
  deps: PipelineDeps,
): Promise<{ server: Server; url: string; token: string } | undefined> {
  if (options.apiPort === undefined) return undefined;
  const token = options.apiToken ?? randomToken();
  const server = await startApiServer(options.apiPort, token, deps, deps.log);
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, token };
}

/** Lambda retries a failed asynchronous invocation (EventBridge → Lambda) twice. */
async function inventoryEventWithRetries(event: unknown, deps: PipelineDeps): Promise<InventoryEventResult> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await handleInventoryEvent(event, deps);
    } catch (error) {
      if (attempt >= INVENTORY_EVENT_ATTEMPTS) throw error;
      deps.log.warn("inventory event failed; retrying it", {
        attempt,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function startOn(database: DatabaseSync, options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { deps, queue, metrics } = pipelineOn(database, options);
  const dispatcher = dispatcherFor(options, deps);
  const pump = new QueuePump(
    queue,
    {
      onboarding: (event) => processSqsIntents(event, deps),
      "job-status": (event) => processSqsJobChecks(event, deps),
      notify: (event) => processSqsNotifications(event, deps, dispatcher),
    },
    deps.clock,
    deps.log,
  );
  const api = await startLocalApi(options, deps);
  let closed = false;
  return {
    deps,
    dispatcher,
    metrics,
    queue,
    repos: deps.repos,
    ...(api ? { api: { url: api.url, token: api.token } } : {}),
    inventoryEvent: (event) => inventoryEventWithRetries(event, deps),
    reconcile: () => reconcile(deps),
    pumpOnce: () => pump.pumpOnce(),
    runUntilIdle: (run) => pump.runUntilIdle(run),
    stats: () => ({
      queues: {
        onboarding: queue.stats("onboarding"),
        "job-status": queue.stats("job-status"),
        notify: queue.stats("notify"),
      },
      processed: { ...pump.processed },
      failed: pump.failedTotal,
    }),
    close: async () => {
      if (closed) return;
      closed = true;
      if (api) await closeServer(api.server);
      if (database.isOpen) database.close();
    },
  };
}

function randomToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Constant-time comparison of `Authorization: Bearer <token>` against the token. */
function authorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer (\S+)$/.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The onboarding API's bodies are small (≤ 1000 servers); 1 MB bounds what a local client can send. */
const MAX_API_BODY_BYTES = 1024 * 1024;

async function readApiBody(request: IncomingMessage): Promise<string | undefined> {
  return (await readBoundedBody(request, MAX_API_BODY_BYTES))?.toString("utf8");
}

function answer(response: ServerResponse, statusCode: number, headers: Record<string, string>, body: string): void {
  response.writeHead(statusCode, { ...headers, "content-length": String(Buffer.byteLength(body)) });
  response.end(body);
}

/** The loopback onboarding API: bearer-token auth, then lib/pipeline/api.ts as API Gateway would call it. */
async function startApiServer(port: number, token: string, deps: PipelineDeps, log: PipelineLogger): Promise<Server> {
  const server = createServer((request, response) => {
    const json = { "content-type": "application/json" };
    void (async () => {
      if (!authorized(request, token)) {
        request.resume();
        answer(
          response,
          401,
          { ...json, "www-authenticate": "Bearer" },
          JSON.stringify({ error: { code: "UNAUTHORIZED", message: "Authorization: Bearer <token> is required" } }),
        );
        return;
      }
      const body = await readApiBody(request);
      if (body === undefined) {
        answer(
          response,
          413,
          json,
          JSON.stringify({
            error: { code: "BODY_TOO_LARGE", message: `the body must be at most ${MAX_API_BODY_BYTES} bytes` },
          }),
        );
        return;
      }
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.headers))
        headers[name] = Array.isArray(value) ? value.join(", ") : value;
      const result = await handleApiRequest(
        { method: request.method ?? "GET", path: url.pathname, headers, body: body === "" ? undefined : body },
        deps,
      );
      answer(response, result.statusCode, result.headers, result.body);
    })().catch((error: unknown) => {
      log.error("onboarding API request failed", { error: error instanceof Error ? error.message : String(error) });
      if (!response.headersSent)
        answer(
          response,
          500,
          json,
          JSON.stringify({ error: { code: "INTERNAL", message: "internal error; see the log" } }),
        );
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
