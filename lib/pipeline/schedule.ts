/**
 * When to check an SDRS job next. Pure: the caller passes time, history and randomness.
 *
 * Terraform polls every ~10 s from 5 s after submission: fine for one job, wasteful for hundreds. We
 * check first near the completion time learned from recent jobs of the same kind and size (the
 * `firstCheckQuantile` of the last samples, kept in the store across runs), then back off geometrically,
 * capped, with ±10 % jitter so a wave of jobs submitted together does not poll in lockstep. A look served
 * by the shared protected-instance view costs no request of its own, so after one the next comes after
 * `viewRetrySeconds`: a finished job is seen within that (plus the view's age), not minutes late.
 */
import type { JobKind } from "./messages.ts";
import { MAX_DELAY_SECONDS } from "./messages.ts";

export interface ScheduleSettings {
  /** First check when nothing was learned yet, by job kind (seconds). */
  defaultFirstCheckSeconds: Record<JobKind, number>;
  /** Delay after a check that found the job still running: base × factor^(n-1), capped. */
  retryBaseSeconds: number;
  retryFactor: number;
  retryMaxSeconds: number;
  /** Give up (outcome `unknown`) after this long since submission. */
  jobTimeoutSeconds: number;
  /** Which quantile of the learned durations the first check waits for (0.5 = the median). */
  firstCheckQuantile: number;
  /** After a look at the shared instance view that found the job still running (at most the backoff's delay). */
  viewRetrySeconds: number;
  /** How old the shared in-flight view may be; see `inFlightViewMaxAgeSeconds`. */
  viewMaxAgeSeconds: number;
}

export const DEFAULT_SCHEDULE: ScheduleSettings = {
  defaultFirstCheckSeconds: { single: 60, batch: 90, group: 20, enable: 30 },
  retryBaseSeconds: 15,
  retryFactor: 1.5,
  retryMaxSeconds: 120,
  jobTimeoutSeconds: 3600,
  // Early rather than late: a look at the shared view is free, a late one is detection lag.
  firstCheckQuantile: 0.05,
  viewRetrySeconds: 15,
  viewMaxAgeSeconds: 25,
};

/**
 * The in-flight view is kept `viewMaxAgeSeconds`, but never longer than a single job's default first check:
 * where jobs take a second (the simulator's fast mode, SDRS_JOB_FIRST_CHECK_SECONDS=1) so does the view.
 */
export function inFlightViewMaxAgeSeconds(settings: ScheduleSettings): number {
  return Math.min(settings.viewMaxAgeSeconds, settings.defaultFirstCheckSeconds.single);
}

export function median(samples: readonly number[]): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The q-quantile (0–1) of the samples, nearest rank; undefined when there are none. */
export function quantile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export interface NextCheckInput {
  kind: JobKind;
  /** Checks already made (0 = the first check is being scheduled). */
  checks: number;
  /** Learned durations (ms) of recent jobs of the same kind and size. */
  learnedDurationsMs: readonly number[];
  /** A number in [0, 1) (Math.random in production, fixed in tests). */
  random: number;
  settings?: ScheduleSettings;
  /** The previous look was at the shared instance view (no request of its own). */
  afterViewLook?: boolean;
}

/** Seconds until the next check (at least 1, at most the SQS maximum of 900). */
export function nextCheckDelaySeconds(input: NextCheckInput): number {
  const settings = input.settings ?? DEFAULT_SCHEDULE;
  let seconds: number;
  if (input.checks === 0) {
    const learned = quantile(input.learnedDurationsMs, settings.firstCheckQuantile);
    seconds = learned !== undefined ? learned / 1000 : settings.defaultFirstCheckSeconds[input.kind];
  } else {
    const backoff = Math.min(
      settings.retryMaxSeconds,
      settings.retryBaseSeconds * settings.retryFactor ** (input.checks - 1),
    );
    seconds = input.afterViewLook ? Math.min(settings.viewRetrySeconds, backoff) : backoff;
  }
  const jitter = 1 + (input.random * 0.2 - 0.1);
  return Math.max(1, Math.min(MAX_DELAY_SECONDS, Math.round(seconds * jitter)));
}

/** A delay longer than SQS allows is split: send with at most 900 s and `notBefore`, re-send until due. */
export function hop(delaySeconds: number, nowMs: number): { delaySeconds: number; notBefore?: number } {
  if (delaySeconds <= MAX_DELAY_SECONDS) return { delaySeconds: Math.max(0, Math.round(delaySeconds)) };
  return { delaySeconds: MAX_DELAY_SECONDS, notBefore: nowMs + delaySeconds * 1000 };
}

/** Transient failures (429, 5xx) an intent is backed off for before it returns to the queue as a failure. */
export const MAX_TRANSIENT_RETRIES = 10;
const TRANSIENT_BASE_SECONDS = 2;
const TRANSIENT_MAX_SECONDS = 300;

/**
 * The wait before an intent that hit a transient failure is tried again: 2 s doubling per failure, capped
 * at 5 min, with "full jitter" in [half, whole] so a throttled batch does not come back in lockstep
 * (AWS Architecture Blog, "Exponential Backoff And Jitter"). Far shorter than the queue's visibility timeout.
 */
export function transientBackoffSeconds(retries: number, random: number): number {
  const ceiling = Math.min(TRANSIENT_MAX_SECONDS, TRANSIENT_BASE_SECONDS * 2 ** retries);
  return Math.max(1, Math.round(ceiling * (0.5 + random * 0.5)));
}
