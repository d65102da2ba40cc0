/**
 * The bounded chaos run in the suite (bench/chaos/run.ts): 60 servers in two bulk requests and tag events,
 * every message sent three times, 20 % throttling, 4 % 5xx, a create dropped after being applied, failing
 * jobs, a receiver failing 3 %, and three SIGKILLs of the worker process with restarts on the same state.
 * `npm run chaos` runs the same at 2,000 servers with 8 kills.
 */
import { describe, expect, it } from "vitest";
import { runChaos } from "../../bench/chaos/run.ts";

describe("chaos (seeded, bounded)", () => {
  it("keeps 0 duplicates, 0 lost, one final id per server, no premature failure notice, attempts within the limit", async () => {
    const report = await runChaos({
      servers: 60,
      kills: 3,
      seed: 3,
      killAfterMs: { min: 600, max: 1500 },
      timeoutMs: 150_000,
    });
    expect(report.kills).toBe(3);
    expect({
      duplicates: report.duplicates,
      lost: report.lost,
      multipleFinalIds: report.multipleFinalIds,
      prematureFailureNotices: report.prematureFailureNotices,
    }).toEqual({ duplicates: 0, lost: 0, multipleFinalIds: 0, prematureFailureNotices: 0 });
    expect(report.maxAttempts).toBeLessThanOrEqual(report.attemptLimit);
    expect(report.outcomes.protected).toBeGreaterThan(50);
    expect(report.outcomes.failed ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
