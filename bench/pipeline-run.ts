/**
 * Our pipeline, whole, on one machine: the SDRS simulator and a webhook receiver on 127.0.0.1, the local
 * runtime (lib/runtime/local.ts) on an in-memory sqlite store and queue, all on one ManualClock so the
 * run is deterministic for a seed and minutes of SDRS jobs pass in seconds. A "tags changed" event is
 * sent for every server to protect, then the queues are pumped until idle.
 */
import { ManualClock } from "../lib/clock.ts";
import { parseTargetsConfig } from "../lib/config/targets.ts";
import { tagsChangedEvent } from "../lib/events/inventory.ts";
import { generateWebhookSecret, startWebhookReceiver, type WebhookReceiver } from "../lib/notify/receiver.ts";
import type { PipelineLogger } from "../lib/pipeline/deps.ts";
import { type LocalRuntime, type RunSummary, startLocalRuntime } from "../lib/runtime/local.ts";
import type { Job } from "../lib/sdrs/schemas.ts";
import { simulatorCloudConfig } from "../lib/sim/cloud-config.ts";
import type { Estate } from "../lib/sim/estate.ts";
import { seededRandom } from "../lib/sim/random.ts";
import { type Simulator, startSimulator } from "../lib/sim/server.ts";
import type { Repositories } from "../lib/state/repositories.ts";
import type { ServerRecordStatus } from "../lib/state/statuses.ts";
import { PROTECT_TAG, TARGET_GROUPS } from "./estates.ts";

/** Every benchmark run starts at the same simulated instant. */
export const BENCH_EPOCH = Date.UTC(2026, 0, 1);

export interface PipelineRunOptions {
  estate: Estate;
  /** The servers to send a tag event for. */
  serverIds: readonly string[];
  seed: number;
}

export interface PipelineRunResult {
  /** Per server id: its record's final status (`missing` when the pipeline wrote none). */
  servers: Record<string, OurServerOutcome>;
  /** Requests the simulator received, by operation. */
  requests: Record<string, number>;
  /** The pipeline's checks of the SDRS jobs it created, as its job records count them. */
  jobChecks: JobCheckStats;
  notifications: number;
  /** Simulated ms from the start to the last `server.protected` notification's timestamp. */
  lastProtectedAtMs: number;
  summary: RunSummary;
  /** Wall ms from the first event to idle (peers already started). */
  wallMs: number;
  warnings: number;
}

export interface OurServerOutcome {
  status: ServerRecordStatus | "missing";
  /** Already a protected instance of its group: recorded as protected without a create call. */
  adopted: boolean;
  /** The SDRS error code of a `failed` server (from its server.protection_failed notification). */
  errorCode?: string;
}

export interface JobCheckStats {
  jobs: number;
  checks: number;
  /** Mean simulated seconds from a job's end (the simulator's end_time) to the check that saw it. */
  meanDetectionDelaySeconds: number;
}

/** Quiet, but counts warnings and errors so a broken run shows in the results. */
export function countingLogger(): PipelineLogger & { warnings(): number } {
  let warnings = 0;
  const count = () => {
    warnings += 1;
  };
  return { debug: () => {}, info: () => {}, warn: count, error: count, warnings: () => warnings };
}

export interface BenchRuntimeOptions {
  /** The simulator the run protects against (the caller starts it with its estate and job durations). */
  sim: Simulator;
  clock: ManualClock;
  seed: number;
  /** Target name → protection group id. */
  targetGroups: Readonly<Record<string, string>>;
  /** List page size of the SDRS client (default its maximum). */
  pageSize?: number;
}

/** What a benchmark run drives and reads: the local runtime, the webhook receiver it notifies, its logger. */
export interface BenchPeers {
  runtime: LocalRuntime;
  receiver: WebhookReceiver;
  logger: ReturnType<typeof countingLogger>;
  /** Closes the runtime, the receiver and the simulator. */
  close(): Promise<void>;
}

/**
 * The peers every benchmark run uses: a webhook receiver, and the local runtime against `sim` (in-memory
 * sqlite, one webhook, instant retries, seeded jitter).
 */
export async function startBenchPeers(options: BenchRuntimeOptions): Promise<BenchPeers> {
  const random = seededRandom(options.seed + 100);
  const webhookSecret = generateWebhookSecret();
  const receiver = await startWebhookReceiver({ secret: webhookSecret });
  const logger = countingLogger();
  const runtime = await startLocalRuntime({
    database: ":memory:",
    cloudConfig: simulatorCloudConfig(options.sim.url),
    targets: parseTargetsConfig({
      protectTagKey: PROTECT_TAG,
      batchLimit: 5,
      targets: Object.fromEntries(
        Object.entries(options.targetGroups).map(([name, id]) => [name, { protectionGroup: { id } }]),
      ),
      webhooks: [{ id: "bench", url: receiver.url, secret: { env: "BENCH_WEBHOOK_SECRET" } }],
    }),
    clock: options.clock,
    env: { BENCH_WEBHOOK_SECRET: webhookSecret },
    logger,
    // The simulator injects no faults here, so retries never wait; keep them instant anyway.
    cloudClient: { sleep: async () => {}, ...(options.pageSize ? { pageSize: options.pageSize } : {}) },
    random: () => random.next(),
  });
  return {
    runtime,
    receiver,
    logger,
    close: async () => {
      await runtime.close();
      await receiver.close();
      await options.sim.close();
    },
  };
}

export async function runPipeline(options: PipelineRunOptions): Promise<PipelineRunResult> {
  const clock = new ManualClock(BENCH_EPOCH);
  const sim = await startSimulator({ estate: options.estate, clock, seed: options.seed });
  const peers = await startBenchPeers({ sim, clock, seed: options.seed, targetGroups: TARGET_GROUPS });
  const { runtime, receiver, logger } = peers;
  try {
    const wallStart = performance.now();
    for (const serverId of options.serverIds) {
      const tags = options.estate.servers.find((server) => server.id === serverId)?.tags;
      await runtime.inventoryEvent(
        tagsChangedEvent({ id: `bench-${serverId}`, serverId, tags, at: clock.now(), region: options.estate.region }),
      );
    }
    const summary = await runtime.runUntilIdle({ maxIterations: 50_000 });
    const wallMs = performance.now() - wallStart;
    const failureCodes = new Map<string, string>();
    for (const { event } of receiver.events()) {
      if (event.type === "server.protection_failed" && event.data.errorCode)
        failureCodes.set(event.data.serverId, event.data.errorCode);
    }
    const servers: PipelineRunResult["servers"] = {};
    for (const serverId of options.serverIds) {
      const record = (await runtime.repos.servers.get(serverId))?.record;
      const errorCode = failureCodes.get(serverId);
      servers[serverId] = {
        status: record?.status ?? "missing",
        adopted: record?.jobId === "adopted",
        ...(errorCode ? { errorCode } : {}),
      };
    }
    const protectedAt = receiver
      .events()
      .filter((received) => received.event.type === "server.protected")
      .map((received) => Date.parse(received.event.timestamp));
    return {
      servers,
      requests: sim.counts(),
      jobChecks: await jobCheckStats(sim.state.jobs(), runtime.repos),
      notifications: receiver.events().length,
      lastProtectedAtMs: Math.max(BENCH_EPOCH, ...protectedAt) - BENCH_EPOCH,
      summary,
      wallMs,
      warnings: logger.warnings(),
    };
  } finally {
    await peers.close();
  }
}

/** Compares the simulator's jobs with the pipeline's job records: how often, and how late, it looked. */
async function jobCheckStats(jobs: readonly Job[], repos: Repositories): Promise<JobCheckStats> {
  let checks = 0;
  let delayMs = 0;
  let finished = 0;
  const protectionJobs = jobs.filter((job) => (job.job_type ?? "").includes("ProtectedInstance"));
  for (const job of protectionJobs) {
    const record = (await repos.jobs.get(job.job_id))?.record;
    if (record === undefined) continue;
    checks += record.checks;
    if (record.finishedAt !== undefined && job.end_time) {
      delayMs += Date.parse(record.finishedAt) - Date.parse(job.end_time);
      finished += 1;
    }
  }
  return {
    jobs: protectionJobs.length,
    checks,
    meanDetectionDelaySeconds: finished === 0 ? 0 : delayMs / finished / 1000,
  };
}
