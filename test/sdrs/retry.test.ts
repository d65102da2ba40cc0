import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RetryPolicy } from "../../lib/sdrs/config.ts";
import { backoffDelayMs, nextRetry } from "../../lib/sdrs/retry.ts";

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxTotalDelayMs: 5000 };

describe("backoffDelayMs (full jitter)", () => {
  it.each([
    [1, 0.5, 50],
    [2, 0.5, 100],
    [3, 0.999, 399],
    [5, 0.5, 500],
    [30, 0.5, 500],
    [1, 0, 0],
  ])("retry %i with random %d waits %i ms", (retry, random, expected) => {
    expect(backoffDelayMs(retry, policy, random)).toBe(expected);
  });

  it("stays within [0, min(cap, base·2^(retry-1))) for every retry and random number", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (retry, random, baseDelayMs, maxDelayMs) => {
          const delay = backoffDelayMs(retry, { baseDelayMs, maxDelayMs }, random);
          const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
          return delay >= 0 && (ceiling === 0 ? delay === 0 : delay < ceiling);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("nextRetry", () => {
  it("retries with the jittered backoff when nothing else applies", () => {
    expect(nextRetry({ attempts: 2, waitedMs: 0, retryAfterMs: undefined, random: 0.5, policy })).toEqual({
      retry: true,
      delayMs: 100,
    });
  });

  it("waits at least Retry-After", () => {
    expect(nextRetry({ attempts: 1, waitedMs: 0, retryAfterMs: 2000, random: 0.5, policy })).toEqual({
      retry: true,
      delayMs: 2000,
    });
  });

  it("stops after maxAttempts", () => {
    expect(nextRetry({ attempts: 4, waitedMs: 0, retryAfterMs: undefined, random: 0.5, policy })).toEqual({
      retry: false,
      reason: "attempts",
    });
  });

  it("stops when the wait would overrun the budget", () => {
    expect(nextRetry({ attempts: 1, waitedMs: 4000, retryAfterMs: 1500, random: 0.5, policy })).toEqual({
      retry: false,
      reason: "budget",
    });
  });

  it("never plans more attempts than allowed nor waits beyond the budget", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
            retryAfter: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
          }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        (failures) => {
          let attempts = 0;
          let waitedMs = 0;
          for (const failure of failures) {
            attempts++;
            const decision = nextRetry({
              attempts,
              waitedMs,
              retryAfterMs: failure.retryAfter,
              random: failure.random,
              policy,
            });
            if (!decision.retry) break;
            if (failure.retryAfter !== undefined && decision.delayMs < failure.retryAfter) return false;
            waitedMs += decision.delayMs;
          }
          return attempts <= policy.maxAttempts && waitedMs <= policy.maxTotalDelayMs;
        },
      ),
      { numRuns: 300 },
    );
  });
});
