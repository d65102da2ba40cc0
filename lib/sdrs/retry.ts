/**
 * The retry schedule of cloud reads: exponential backoff with full jitter, honouring Retry-After,
 * within a budget. Pure: the caller supplies the random number and the current time.
 */
import type { RetryPolicy } from "./config.ts";

/**
 * Full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog): a uniform wait in
 * [0, min(maxDelayMs, baseDelayMs · 2^(retry-1))). `retry` counts from 1; `random` is in [0, 1).
 */
export function backoffDelayMs(
  retry: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  random: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random * ceiling);
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: "attempts" | "budget" };

/**
 * Whether to try again after a failed attempt, and how long to wait first. A Retry-After the server
 * sent is a floor for the wait; a wait that would overrun the budget ends the retries instead.
 */
export function nextRetry(state: {
  /** Attempts made so far (≥ 1). */
  attempts: number;
  /** Total ms already waited for this request. */
  waitedMs: number;
  retryAfterMs: number | undefined;
  random: number;
  policy: RetryPolicy;
}): RetryDecision {
  if (state.attempts >= state.policy.maxAttempts) return { retry: false, reason: "attempts" };
  const jittered = backoffDelayMs(state.attempts, state.policy, state.random);
  const delayMs = Math.max(jittered, state.retryAfterMs ?? 0);
  if (state.waitedMs + delayMs > state.policy.maxTotalDelayMs) return { retry: false, reason: "budget" };
  return { retry: true, delayMs };
}
