/**
 * One end-to-end run of the pipeline over a wave estate (bench/wave-estate.ts): the simulator with jobs of
 * 2–10 minutes, the local runtime on an in-memory sqlite store and queue, one ManualClock. At each wave's
 * time the wave's servers are tagged in the simulator, then either
 *   - events mode: one "ECS Server Tags Changed" event per server (what EventBridge delivers), or
 *   - bulk mode: one onboarding request per target (at most 1000 servers each), as the API accepts them;
 * and the queues are pumped until the next wave, then until idle.
 *
 * Measured: wall, CPU (this process: pipeline and simulator), peak RSS (run it in its own process for a
 * clean figure: bench/scale.ts does), requests by operation (the simulator's counts), outcomes, job checks
 * per job and detection lag (a job's end_time to the check that saw it).
 */
import { ManualClock } from "../lib/clock.ts";
import { tagsChangedEvent } from "../lib/events/inventory.ts";
import { acceptOnboardingRequest, MAX_SERVERS_PER_REQUEST } from "../lib/pipeline/intake.ts";
import { median } from "../lib/pipeline/schedule.ts";
import { startSimulator } from "../lib/sim/server.ts";
import { PROTECT_TAG } from "./estates.ts";
import { BENCH_EPOCH, startBenchPeers } from "./pipeline-run.ts";
import { minimumCreates, WAVE_GROUPS, type WaveEstate, type WaveTarget } from "./wave-estate.ts";

export type WaveMode = "events" | "bulk";

/** Jobs of 2–10 minutes, single and batch alike. */
export const WAVE_JOB_DURATIONS = {
  createProtectedInstance: { minMs: 120_000, maxMs: 600_000 },
  batchCreateProtectedInstances: { minMs: 120_000, maxMs: 600_000 },
};
/** A wave every 15 simulated minutes. */
export const WAVE_INTERVAL_MS = 15 * 60_000;

export interface WaveRunResult {
  mode: WaveMode;
  servers: number;
  tagged: number;
  eligible: number;
  outcomes: Record<string, number>;
  /** Reason codes of the ineligible servers, counted. */
  ineligibleCodes: Record<string, number>;
  /** Servers with more than one protected instance (must be 0). */
  duplicateInstances: number;
  /** Final notifications received per tagged server: min and max (must be 1 and 1). */
  notificationsPerServer: { min: number; max: number };
  requests: Record<string, number>;
  totalRequests: number;
  callsPerProtectedServer: number;
  /** The floor: minimum creates + one check per job + one pass of the list pages. */
  floorRequests: number;
  jobs: number;
  checksPerJobMedian: number;
  checksPerJobMean: number;
  detectionLagMeanSeconds: number;
  detectionLagP95Seconds: number;
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  simulatedSeconds: number;
  ended: string;
  warnings: number;
}

function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

/** List pages one pass over the project reads: ECS, EVS (both 1000 per page) and protected instances. */
function onePassPages(servers: number, volumes: number, instances: number): number {
  return Math.ceil(servers / 1000) + Math.ceil(volumes / 1000) + Math.ceil(instances / 1000) + 1;
}

export interface WaveRunOptions {
  /** Items per list page the client asks for (default 1000, the APIs' maximum); small pages make a full read show. */
  pageSize?: number;
}

export async function runWave(
  wave: WaveEstate,
  mode: WaveMode,
  seed = 11,
  options: WaveRunOptions = {},
): Promise<WaveRunResult> {
  const clock = new ManualClock(BENCH_EPOCH);
  // Nothing carries the protect tag before its wave.
  const untagged = {
    ...wave.estate,
    servers: wave.estate.servers.map((server) => {
      const { [PROTECT_TAG]: _tag, ...tags } = server.tags;
      return { ...server, tags };
    }),
  };
  const finalTags = new Map(wave.estate.servers.map((server) => [server.id, server.tags]));
  const sim = await startSimulator({ estate: untagged, clock, seed, jobDurations: WAVE_JOB_DURATIONS });
  const peers = await startBenchPeers({
    sim,
    clock,
    seed,
    targetGroups: WAVE_GROUPS,
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
  });
  const { runtime, receiver, logger } = peers;
  try {
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    let ended = "idle";
    for (let index = 0; index < wave.waves; index++) {
      const waveAt = BENCH_EPOCH + index * WAVE_INTERVAL_MS;
      if (clock.now() < waveAt) clock.set(waveAt);
      const servers = wave.tagged.filter((server) => server.wave === index);
      for (const server of servers) sim.setServerTags(server.id, finalTags.get(server.id) ?? {});
      if (mode === "events") {
        for (const server of servers) {
          // Our own event source carries the server's tags after the change.
          const tags = finalTags.get(server.id) ?? {};
          await runtime.inventoryEvent(
            tagsChangedEvent({
              id: `wave-${server.id}`,
              serverId: server.id,
              tags,
              at: clock.now(),
              region: wave.estate.region,
            }),
          );
        }
      } else {
        for (const target of Object.keys(WAVE_GROUPS) as WaveTarget[]) {
          const ids = servers.filter((server) => server.target === target).map((server) => server.id);
          for (let start = 0; start < ids.length; start += MAX_SERVERS_PER_REQUEST) {
            await acceptOnboardingRequest(
              { target, servers: ids.slice(start, start + MAX_SERVERS_PER_REQUEST) },
              { source: "api" },
              runtime.deps,
            );
          }
        }
      }
      const last = index === wave.waves - 1;
      const summary = await runtime.runUntilIdle({
        maxIterations: 1_000_000,
        ...(last ? {} : { maxVirtualMs: BENCH_EPOCH + (index + 1) * WAVE_INTERVAL_MS - clock.now() }),
      });
      if (summary.ended === "maxIterations") ended = summary.ended;
    }
    const wallMs = performance.now() - wallStart;
    const cpu = process.cpuUsage(cpuStart);

    const outcomes: Record<string, number> = {};
    const ineligibleCodes: Record<string, number> = {};
    for (const server of wave.tagged) {
      const record = (await runtime.repos.servers.get(server.id))?.record;
      const status = record?.status ?? "missing";
      outcomes[status] = (outcomes[status] ?? 0) + 1;
      if (status !== "ineligible") continue;
      for (const reason of record?.reasons ?? [])
        ineligibleCodes[reason.code] = (ineligibleCodes[reason.code] ?? 0) + 1;
    }
    const instancesPerServer = new Map<string, number>();
    for (const instance of sim.state.protectedInstances()) {
      instancesPerServer.set(instance.source_server, (instancesPerServer.get(instance.source_server) ?? 0) + 1);
    }
    const finalPerServer = new Map<string, number>(wave.tagged.map((server) => [server.id, 0]));
    for (const { event } of receiver.events()) {
      if (!event.type.startsWith("server.")) continue;
      const serverId = (event.data as { serverId?: string }).serverId;
      if (serverId !== undefined && finalPerServer.has(serverId))
        finalPerServer.set(serverId, (finalPerServer.get(serverId) ?? 0) + 1);
    }
    const jobs = sim.state.jobs().filter((job) => (job.job_type ?? "").includes("ProtectedInstance"));
    const checks: number[] = [];
    const lags: number[] = [];
    for (const job of jobs) {
      const record = (await runtime.repos.jobs.get(job.job_id))?.record;
      if (record === undefined) continue;
      checks.push(record.checks);
      if (record.finishedAt !== undefined && job.end_time)
        lags.push((Date.parse(record.finishedAt) - Date.parse(job.end_time)) / 1000);
    }
    const requests = sim.counts();
    const totalRequests = Object.values(requests).reduce((sum, n) => sum + n, 0);
    const protectedServers = outcomes.protected ?? 0;
    const creates = minimumCreates(wave);
    const perServerCounts = [...finalPerServer.values()];
    return {
      mode,
      servers: wave.estate.servers.length,
      tagged: wave.tagged.length,
      eligible: wave.eligible,
      outcomes,
      ineligibleCodes,
      duplicateInstances: [...instancesPerServer.values()].filter((n) => n > 1).length,
      notificationsPerServer: { min: Math.min(...perServerCounts), max: Math.max(...perServerCounts) },
      requests: Object.fromEntries(Object.entries(requests).sort(([a], [b]) => (a < b ? -1 : 1))),
      totalRequests,
      callsPerProtectedServer: protectedServers === 0 ? 0 : totalRequests / protectedServers,
      floorRequests: 2 * creates + onePassPages(wave.estate.servers.length, wave.estate.volumes.length, wave.eligible),
      jobs: jobs.length,
      checksPerJobMedian: median(checks) ?? 0,
      checksPerJobMean: checks.length === 0 ? 0 : checks.reduce((sum, n) => sum + n, 0) / checks.length,
      detectionLagMeanSeconds: lags.length === 0 ? 0 : lags.reduce((sum, n) => sum + n, 0) / lags.length,
      detectionLagP95Seconds: percentile(lags, 0.95),
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      simulatedSeconds: (clock.now() - BENCH_EPOCH) / 1000,
      ended,
      warnings: logger.warnings(),
    };
  } finally {
    await peers.close();
  }
}
