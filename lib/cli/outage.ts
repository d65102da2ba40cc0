/**
 * A cloud outage seen from one machine: the cloud client's calls keep failing for a reason that is the
 * cloud's (no answer, a timeout, a 5xx, a throttle), with no success in between. The watch is fed every
 * attempt (the client's request log) and every scheduled retry; the progress line shows what it says
 * (`cloud unreachable (NETWORK_ERROR) · retry 3 in 40 s`), and `onboard` and `start` give up with exit 3
 * once an outage has lasted the outage limit, keeping the state for a resume.
 */
import type { RequestLogEntry, RetryNotice } from "../sdrs/client.ts";
import { usageError } from "./errors.ts";

/** Default --outage-limit: how long calls may keep failing before a run gives up. */
export const DEFAULT_OUTAGE_LIMIT_SECONDS = 300;

/** The gateway's flow control: the cloud is there but refuses the rate. */
const THROTTLED = new Set(["APIGW.0308"]);

export interface OutageStatus {
  /** The code of the last failed attempt (NETWORK_ERROR, TIMEOUT, HTTP_503 / SDRS.xxxx of a 5xx, APIGW.0308). */
  code: string;
  /** Wall ms since the first failure of this run of failures. */
  forMs: number;
  /** The retry the client waits for, when one is scheduled. */
  retry?: { attempt: number; inMs: number };
}

/** Whether an attempt failed for a reason of the cloud's (retrying later may work), not of the request's. */
export function isOutageAttempt(entry: Pick<RequestLogEntry, "status" | "errorCode">): boolean {
  if (entry.status === undefined) return entry.errorCode !== undefined; // no answer: network error or timeout
  return (
    entry.status >= 500 || entry.status === 429 || (entry.errorCode !== undefined && THROTTLED.has(entry.errorCode))
  );
}

export class OutageWatch {
  readonly #now: () => number;
  #since: number | undefined;
  #code = "";
  #retry: { attempt: number; at: number } | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** One attempt of the cloud client (its `logger`). */
  attempt(entry: RequestLogEntry): void {
    if (!isOutageAttempt(entry)) {
      // Any answer that is not the cloud failing (2xx, or a 4xx about the request) ends the outage.
      this.#since = undefined;
      this.#retry = undefined;
      return;
    }
    this.#since ??= this.#now();
    this.#code = entry.errorCode ?? `HTTP_${entry.status}`;
    this.#retry = undefined;
  }

  /** A retry the client scheduled (its `onRetry`). */
  retry(notice: RetryNotice): void {
    if (this.#since === undefined) return;
    this.#retry = { attempt: notice.attempt, at: this.#now() + notice.delayMs };
  }

  status(): OutageStatus | undefined {
    if (this.#since === undefined) return undefined;
    const now = this.#now();
    const retry =
      this.#retry !== undefined && this.#retry.at >= now
        ? { attempt: this.#retry.attempt, inMs: this.#retry.at - now }
        : undefined;
    return { code: this.#code, forMs: now - this.#since, ...(retry ? { retry } : {}) };
  }

  /** Whether the current outage has lasted `limitMs` or longer. */
  exceeded(limitMs: number): boolean {
    return this.#since !== undefined && this.#now() - this.#since >= limitMs;
  }

  /** The client options that feed this watch, chained before `logger` when one is given. */
  clientOptions(logger?: (entry: RequestLogEntry) => void): {
    logger: (entry: RequestLogEntry) => void;
    onRetry: (notice: RetryNotice) => void;
  } {
    return {
      logger: (entry) => {
        this.attempt(entry);
        logger?.(entry);
      },
      onRetry: (notice) => this.retry(notice),
    };
  }
}

function secondsText(ms: number): string {
  return ms < 10_000 ? `${(Math.ceil(ms / 100) / 10).toFixed(1)} s` : `${Math.ceil(ms / 1000)} s`;
}

/** "cloud unreachable (NETWORK_ERROR) · retry 3 in 40 s", or "… for 75 s" while no retry is scheduled. */
export function outageText(status: OutageStatus): string {
  const what = status.code === "APIGW.0308" || status.code === "HTTP_429" ? "cloud throttling" : "cloud unreachable";
  const next = status.retry
    ? `retry ${status.retry.attempt} in ${secondsText(status.retry.inMs)}`
    : `for ${secondsText(status.forMs)}`;
  return `${what} (${status.code}) · ${next}`;
}

/** `--outage-limit <seconds>` in ms: a whole number of seconds, at least 1. */
export function outageLimitMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_OUTAGE_LIMIT_SECONDS * 1000;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
    throw usageError(`--outage-limit: must be a whole number of seconds, at least 1 (got ${JSON.stringify(value)})`);
  }
  return Number(value) * 1000;
}

/** The option both `onboard` and `start` take. */
export const OUTAGE_LIMIT_OPTION = {
  flags: "--outage-limit <seconds>",
  description: `give up (exit 3, state kept) once cloud calls have kept failing this long (default ${DEFAULT_OUTAGE_LIMIT_SECONDS})`,
} as const;
