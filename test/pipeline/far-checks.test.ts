/**
 * Job checks due further ahead than SQS's 900 s message delay travel as hops (`notBefore`). A check due in
 * 2 h or 24 h is made once, at its time, on the local runtime's virtual clock, and every copy of a hop
 * (at-least-once delivery) is dropped as that hop's duplicate, not as the check's.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { QueueSender } from "../../lib/queue/queue.ts";
import { type Harness, serverId, startHarness, twiceSender } from "./harness.ts";

const HOUR_MS = 3600 * 1000;

/** Sends the first check of every create job `delayMs` ahead, as a far check would travel. */
function farFirstCheck(delayMs: number, clock: { now(): number }) {
  return (inner: QueueSender): QueueSender => ({
    async send(queue, body, options) {
      const check = body as { type?: string; checks?: number; notBefore?: number; hops?: number; kind?: string };
      if (
        queue === "job-status" &&
        check.type === "job" &&
        check.kind !== "group" &&
        check.checks === 0 &&
        check.hops === undefined
      ) {
        await inner.send(queue, { ...check, notBefore: clock.now() + delayMs }, { delaySeconds: 900 });
        return;
      }
      await inner.send(queue, body, options);
    },
    sendBatch: (queue, entries) => inner.sendBatch(queue, entries),
  });
}

describe("far job checks", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it.each([
    ["2 h", 2 * HOUR_MS],
    ["24 h", 24 * HOUR_MS],
  ])("a check due in %s is made once, at its time, even with every message delivered twice", async (_, delayMs) => {
    const clockHolder: { now(): number } = { now: () => 0 };
    harness = await startHarness({
      runtime: { wrapSender: (sender) => farFirstCheck(delayMs, clockHolder)(twiceSender(sender)) },
    });
    clockHolder.now = () => harness?.clock.now() ?? 0;
    const start = harness.clock.now();
    const web01 = serverId("web-01");
    await harness.tagEvents([{ id: web01, tags: { sdrs_protect: "web" } }]);
    const summary = await harness.runtime.runUntilIdle({ maxIterations: 500 });
    expect(summary.ended).toBe("idle");

    const jobReads = harness.cloudCalls.filter((call) => call.operation === "showJob" && call.attempt === 1);
    expect(jobReads).toHaveLength(1);
    const protectedEvents = (harness.serverEvents().get(web01) ?? []).filter(
      (event) => event.type === "server.protected",
    );
    expect(protectedEvents).toHaveLength(1);
    const toldAt = Date.parse(protectedEvents[0]?.timestamp ?? "");
    expect(toldAt - start).toBeGreaterThanOrEqual(delayMs);
    expect(toldAt - start).toBeLessThan(delayMs + 900 * 1000);
  });
});
