/**
 * A transient failure (429, 5xx) costs the affected intents a short, growing, jittered delay, not the
 * onboarding queue's 720 s visibility timeout; the rest of the batch proceeds.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MAX_TRANSIENT_RETRIES, transientBackoffSeconds } from "../../lib/pipeline/schedule.ts";
import { type Harness, serverId, startHarness } from "./harness.ts";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function protectedAt(current: Harness, id: string): number {
  const event = (current.serverEvents().get(id) ?? []).find((told) => told.type === "server.protected");
  return Date.parse(event?.timestamp ?? "");
}

describe("transient failures back off per intent", () => {
  it("grows from about 2 s, doubling, capped at 5 min, jittered within [half, whole]", () => {
    expect([0, 1, 2, 3, 8, 9].map((retries) => transientBackoffSeconds(retries, 0.999))).toEqual([
      2, 4, 8, 16, 300, 300,
    ]);
    expect([0, 1, 2, 3, 8, 9].map((retries) => transientBackoffSeconds(retries, 0))).toEqual([1, 2, 4, 8, 150, 150]);
    expect(MAX_TRANSIENT_RETRIES).toBeGreaterThan(5);
  });

  it("a throttled create is retried seconds later, not after the visibility timeout, while the other target's server proceeds", async () => {
    harness = await startHarness({
      faults: { throttle: { next: 2, operations: ["createProtectedInstance", "batchCreateProtectedInstances"] } },
    });
    const start = harness.clock.now();
    const web01 = serverId("web-01");
    const db01 = serverId("db-01");
    await harness.tagEvents([
      { id: web01, tags: { sdrs_protect: "web" } },
      { id: db01, tags: { sdrs_protect: "db" } },
    ]);
    expect((await harness.runtime.runUntilIdle()).ended).toBe("idle");
    expect(harness.cloudCalls.filter((call) => call.status === 429)).toHaveLength(2);
    for (const id of [web01, db01]) {
      const seconds = (protectedAt(harness, id) - start) / 1000;
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(720);
    }
    expect(harness.runtime.stats().queues.onboarding.dead).toBe(0);
  });

  it("a job check whose reads keep failing comes back in seconds, not after the job-status queue's 360 s visibility timeout", async () => {
    // A job check reads the shared in-flight view (a protected-instance list), and the job itself only when needed.
    harness = await startHarness({
      faults: { throttle: { next: 12, operations: ["listProtectedInstances", "showJob"] } },
    });
    const start = harness.clock.now();
    const web01 = serverId("web-01");
    await harness.tagEvents([{ id: web01, tags: { sdrs_protect: "web" } }]);
    expect((await harness.runtime.runUntilIdle()).ended).toBe("idle");
    expect(
      harness.cloudCalls.filter(
        (call) => (call.operation === "listProtectedInstances" || call.operation === "showJob") && call.status === 429,
      ),
    ).toHaveLength(12);
    expect((protectedAt(harness, web01) - start) / 1000).toBeLessThan(360);
    expect(harness.runtime.stats().queues["job-status"].dead).toBe(0);
  });
});
