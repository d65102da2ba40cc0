/**
 * Job polling economy, pure: for job durations drawn as the simulator draws them (uniform between the
 * kind's min and max, lib/sim/world.ts DEFAULT_JOB_DURATIONS), when would each strategy check the job, and
 * how many checks and how long after the job's end until it knows? No clock, no network.
 *
 * Ours is lib/pipeline/schedule.ts itself (`nextCheckDelaySeconds`) as it schedules job reads (`showJob`)
 * when no shared instance view answers: the first check at the 5 % quantile of the last 200 durations
 * learned for the same kind and size (the default first check while nothing is learned), then
 * 15 s × 1.5^(n−1) capped at 120 s, each ±10 % jitter. With the shared view (the pipeline's default) most
 * looks cost no request of their own; the scale curve (bench/scale.ts) measures that.
 */
import { DEFAULT_SCHEDULE, nextCheckDelaySeconds, type ScheduleSettings } from "../lib/pipeline/schedule.ts";
import { type Random, seededRandom } from "../lib/sim/random.ts";
import { DEFAULT_JOB_DURATIONS } from "../lib/sim/world.ts";
import { DEFAULT_STATS_SAMPLES } from "../lib/state/repositories.ts";
import { TERRAFORM_CADENCE } from "./naive.ts";
import type { PolledJobKind, PollingRow } from "./results.ts";

const SIMULATOR_DURATIONS: Record<PolledJobKind, { minMs: number; maxMs: number }> = {
  single: DEFAULT_JOB_DURATIONS.createProtectedInstance,
  batch: DEFAULT_JOB_DURATIONS.batchCreateProtectedInstances,
};

/** Seconds from the previous check (from the submission, for check 0) to check n, given what is known. */
export type CheckPlanner = (
  check: number,
  context: { learnedDurationsMs: readonly number[]; random: number },
) => number;

export interface PollingStrategy {
  name: string;
  description: string;
  delaySeconds: CheckPlanner;
  /** The strategy the others' check counts are divided by. */
  isReference?: boolean;
}

export function fixedInterval(
  name: string,
  firstCheckSeconds: number,
  intervalSeconds: number,
  description: string,
): PollingStrategy {
  return { name, description, delaySeconds: (check) => (check === 0 ? firstCheckSeconds : intervalSeconds) };
}

const TERRAFORM_STRATEGY: PollingStrategy = {
  ...fixedInterval(
    "every 10 s (Terraform)",
    TERRAFORM_CADENCE.firstCheckSeconds,
    TERRAFORM_CADENCE.intervalSeconds,
    `first check at ${TERRAFORM_CADENCE.firstCheckSeconds} s, then every ${TERRAFORM_CADENCE.intervalSeconds} s`,
  ),
  isReference: true,
};

export function adaptive(
  kind: PolledJobKind,
  learns: boolean,
  settings: ScheduleSettings = DEFAULT_SCHEDULE,
): PollingStrategy {
  return {
    name: learns ? "ours (adaptive, learned)" : "ours (adaptive, cold)",
    description: learns
      ? `first check at the median of the last ${DEFAULT_STATS_SAMPLES} durations, then ${settings.retryBaseSeconds} s × ${settings.retryFactor}^n ≤ ${settings.retryMaxSeconds} s, ±10 % jitter`
      : `nothing learned yet: first check at ${settings.defaultFirstCheckSeconds[kind]} s, then the same backoff`,
    delaySeconds: (check, context) =>
      nextCheckDelaySeconds({
        kind,
        checks: check,
        learnedDurationsMs: learns ? context.learnedDurationsMs : [],
        random: context.random,
        settings,
      }),
  };
}

export function strategiesFor(kind: PolledJobKind): PollingStrategy[] {
  return [
    adaptive(kind, true),
    adaptive(kind, false),
    TERRAFORM_STRATEGY,
    fixedInterval("every 5 s (naive)", 5, 5, "a check every 5 s from submission"),
  ];
}

export interface PolledJob {
  durationMs: number;
  checks: number;
  /** Ms from the job's end to the check that saw it ended. */
  detectionDelayMs: number;
}

/** Checks one job until a check falls at or after its end. */
export function pollJob(
  strategy: PollingStrategy,
  durationMs: number,
  learnedDurationsMs: readonly number[],
  random: Pick<Random, "next">,
): PolledJob {
  let atMs = 0;
  let checks = 0;
  for (;;) {
    atMs += strategy.delaySeconds(checks, { learnedDurationsMs, random: random.next() }) * 1000;
    checks += 1;
    if (atMs >= durationMs) return { durationMs, checks, detectionDelayMs: atMs - durationMs };
  }
}

/** `count` durations (ms) drawn as the simulator draws them for this kind of job. */
export function simulatorDurations(kind: PolledJobKind, count: number, seed: number): number[] {
  const random = seededRandom(seed);
  const { minMs, maxMs } = SIMULATOR_DURATIONS[kind];
  return Array.from({ length: count }, () => random.between(minMs, maxMs));
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * Jobs one after the other, as a steady stream: each learns from the durations of the jobs before it
 * (the last DEFAULT_STATS_SAMPLES), as the pipeline's job-duration statistics do.
 */
export function comparePolling(kind: PolledJobKind, durationsMs: readonly number[], seed: number): PollingRow[] {
  const strategies = strategiesFor(kind);
  const rows = strategies.map((strategy) => {
    const random = seededRandom(seed);
    const learned: number[] = [];
    const polled = durationsMs.map((durationMs) => {
      const job = pollJob(strategy, durationMs, learned.slice(-DEFAULT_STATS_SAMPLES), random);
      learned.push(durationMs);
      return job;
    });
    const delays = polled.map((job) => job.detectionDelayMs / 1000).sort((a, b) => a - b);
    const total = (values: number[]) => values.reduce((sum, value) => sum + value, 0);
    return {
      strategy: strategy.name,
      description: strategy.description,
      kind,
      jobs: polled.length,
      meanChecksPerJob: total(polled.map((job) => job.checks)) / Math.max(1, polled.length),
      maxChecksPerJob: Math.max(0, ...polled.map((job) => job.checks)),
      meanDetectionDelaySeconds: total(delays) / Math.max(1, delays.length),
      p95DetectionDelaySeconds: quantile(delays, 0.95),
    };
  });
  const reference = rows[strategies.findIndex((strategy) => strategy.isReference === true)]?.meanChecksPerJob ?? 0;
  return rows.map((row) => ({ ...row, checksVsTerraform: reference === 0 ? 0 : row.meanChecksPerJob / reference }));
}
