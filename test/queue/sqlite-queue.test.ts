import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { localQueueArn, SqliteQueue } from "../../lib/queue/sqlite-queue.ts";
import { openDatabase } from "../../lib/state/sqlite-database.ts";
import { SqliteStore } from "../../lib/state/sqlite-store.ts";
import { describeQueueContract } from "./queue-contract.ts";

const directories: string[] = [];
function temporaryFile(): string {
  const directory = mkdtempSync(join(tmpdir(), "sqlite-queue-"));
  directories.push(directory);
  return join(directory, "queue.sqlite");
}
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describeQueueContract("sqlite (two connections to one file)", async () => {
  const path = temporaryFile();
  const clock = new ManualClock();
  const maxReceiveCount = 3;
  const queue = new SqliteQueue({ database: path, clock, maxReceiveCount });
  const other = new SqliteQueue({ database: path, clock, maxReceiveCount });
  return {
    queue,
    otherReceiver: other,
    maxReceiveCount,
    advance: (seconds) => clock.advance(seconds * 1000),
    deadLetterBodies: async (name) => queue.deadLetters(name).map((deadLetter) => deadLetter.body),
    queueArn: localQueueArn,
    async close() {
      queue.close();
      other.close();
    },
  };
});

describe("SqliteQueue", () => {
  let clock: ManualClock;
  let queue: SqliteQueue;
  const receiveAll = { maxMessages: 10, visibilityTimeoutSeconds: 30 };

  beforeEach(() => {
    clock = new ManualClock();
    queue = new SqliteQueue({ database: ":memory:", clock, maxReceiveCount: { onboarding: 2 } });
  });
  afterEach(() => {
    queue.close();
  });

  it("counts visible, delayed, in-flight and dead messages per queue", async () => {
    await queue.sendBatch("onboarding", [{ body: 1 }, { body: 2 }, { body: 3, delaySeconds: 60 }, { body: 4 }]);
    await queue.send("notify", { other: "queue" });
    const [received] = await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
    expect(queue.stats("onboarding")).toEqual({ visible: 2, delayed: 1, inFlight: 1, dead: 0 });
    await queue.delete("onboarding", received?.receiptHandle ?? "");
    expect(queue.stats("onboarding")).toEqual({ visible: 2, delayed: 1, inFlight: 0, dead: 0 });
    expect(queue.stats("notify")).toEqual({ visible: 1, delayed: 0, inFlight: 0, dead: 0 });
  });

  it("dead-letters per queue threshold (onboarding 2, others the default 5) and keeps the dead letter's history", async () => {
    await queue.send("onboarding", { serverId: "srv-1" });
    await queue.send("notify", { outcome: "failed" });
    for (let round = 1; round <= 5; round += 1) {
      await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 0 });
      await queue.receive("notify", { maxMessages: 1, visibilityTimeoutSeconds: 0 });
    }
    clock.advance(5_000);
    expect(await queue.receive("onboarding", receiveAll)).toEqual([]);
    expect(await queue.receive("notify", receiveAll)).toEqual([]);
    expect(queue.stats("onboarding")).toMatchObject({ visible: 0, dead: 1 });
    expect(queue.deadLetters("onboarding")).toEqual([
      {
        messageId: expect.any(String),
        body: '{"serverId":"srv-1"}',
        receiveCount: 2,
        sentAt: Date.UTC(2026, 0, 1),
        deadAt: Date.UTC(2026, 0, 1),
      },
    ]);
    expect(queue.deadLetters("notify")).toMatchObject([
      { body: '{"outcome":"failed"}', receiveCount: 5, deadAt: Date.UTC(2026, 0, 1, 0, 0, 5) },
    ]);
  });

  it("looks only at the due messages a receive reaches: a backlog behind them is not rescanned (nor dead-lettered) each time", async () => {
    await queue.send("onboarding", { serverId: "srv-fresh" }, { delaySeconds: 3 });
    await queue.sendBatch("onboarding", [{ body: "a" }, { body: "b" }, { body: "c" }]);
    for (let round = 1; round <= 2; round += 1) {
      expect(await queue.receive("onboarding", { maxMessages: 3, visibilityTimeoutSeconds: 2 })).toHaveLength(3);
      clock.advance(2_000);
    }
    // srv-fresh became due first (at 3 s); a, b, c (received twice: maxReceiveCount) at 4 s.
    const [first, ...rest] = await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
    expect([first?.body, rest]).toEqual(['{"serverId":"srv-fresh"}', []]);
    expect(queue.stats("onboarding")).toMatchObject({ dead: 0, visible: 3 });
    // The next receive reaches them: each goes to the dead-letter queue instead of being delivered.
    expect(await queue.receive("onboarding", receiveAll)).toEqual([]);
    expect(queue.stats("onboarding")).toMatchObject({ dead: 3, visible: 0 });
  });

  it("redrives dead letters back to their queue with a fresh receive count", async () => {
    await queue.send("onboarding", { serverId: "srv-1" });
    for (let round = 0; round < 3; round += 1)
      await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 0 });
    expect(queue.redriveDeadLetters("onboarding")).toBe(1);
    expect(queue.deadLetters("onboarding")).toEqual([]);
    const [message] = await queue.receive("onboarding", receiveAll);
    expect(message).toMatchObject({ body: '{"serverId":"srv-1"}', receiveCount: 1 });
  });

  it("reports when the next message becomes visible, so a manual clock can jump to it", async () => {
    expect(queue.nextVisibleAt()).toBeUndefined();
    await queue.send("job-status", { jobId: "job-1" }, { delaySeconds: 120 });
    await queue.send("notify", { n: 1 }, { delaySeconds: 45 });
    expect(queue.nextVisibleAt()).toBe(clock.now() + 45_000);
    expect(queue.nextVisibleAt("job-status")).toBe(clock.now() + 120_000);

    clock.set(queue.nextVisibleAt("job-status") ?? 0);
    const [due] = await queue.receive("job-status", { maxMessages: 1, visibilityTimeoutSeconds: 600 });
    expect(due?.body).toBe('{"jobId":"job-1"}');
    expect(queue.nextVisibleAt("job-status")).toBe(clock.now() + 600_000);
  });

  it("drops a repeat deduplicationId within 5 minutes and accepts it after", async () => {
    await queue.send("job-status", { check: 1 }, { deduplicationId: "job-1:check" });
    await queue.send("job-status", { check: 2 }, { deduplicationId: "job-1:check" });
    await queue.sendBatch("job-status", [
      { body: { check: 3 }, deduplicationId: "job-1:check" },
      { body: { check: 4 } },
    ]);
    expect((await queue.receive("job-status", receiveAll)).map((message) => message.body)).toEqual([
      '{"check":1}',
      '{"check":4}',
    ]);
    clock.advance(5 * 60_000);
    await queue.send("job-status", { check: 5 }, { deduplicationId: "job-1:check" });
    expect((await queue.receive("job-status", receiveAll)).map((message) => message.body)).toContain('{"check":5}');
  });

  it("does not let a superseded receipt handle delete a redelivered message", async () => {
    await queue.send("onboarding", { serverId: "srv-1" });
    const [first] = await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
    clock.advance(30_000);
    const [second] = await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
    await queue.delete("onboarding", first?.receiptHandle ?? "");
    expect(queue.stats("onboarding").inFlight).toBe(1);
    await expect(queue.changeVisibility("onboarding", first?.receiptHandle ?? "", 0)).rejects.toMatchObject({
      field: "receiptHandle",
    });
    await queue.delete("onboarding", second?.receiptHandle ?? "");
    expect(queue.stats("onboarding")).toEqual({ visible: 0, delayed: 0, inFlight: 0, dead: 0 });
  });

  it("delivers oldest-due first", async () => {
    await queue.send("notify", { n: "later" }, { delaySeconds: 10 });
    await queue.send("notify", { n: "first" });
    clock.advance(1_000);
    await queue.send("notify", { n: "second" });
    clock.advance(10_000);
    expect((await queue.receive("notify", receiveAll)).map((message) => message.body)).toEqual([
      '{"n":"first"}',
      '{"n":"second"}',
      '{"n":"later"}',
    ]);
  });

  it("rejects a maxReceiveCount outside 1–1000", () => {
    expect(() => new SqliteQueue({ database: ":memory:", maxReceiveCount: { notify: 0 } })).toThrow(
      "maxReceiveCount for queue notify must be an integer from 1 to 1000; got 0",
    );
  });

  it("shares one database file with the store", async () => {
    const database = openDatabase(temporaryFile());
    const store = new SqliteStore({ database, clock });
    const shared = new SqliteQueue({ database, clock });
    await store.put("server", "srv-1", { serverId: "srv-1" }, { expectedVersion: null });
    await shared.send("onboarding", { serverId: "srv-1" });
    expect(await store.get("server", "srv-1")).toBeDefined();
    expect(shared.stats("onboarding").visible).toBe(1);
    shared.close();
    store.close();
    expect(database.isOpen).toBe(true);
    database.close();
  });
});

describe("recovery after a crashed consumer", () => {
  it("releases every in-flight message at once and lists the live bodies of a queue", async () => {
    const clock = new ManualClock();
    const queue = new SqliteQueue({ database: ":memory:", clock });
    await queue.send("onboarding", { n: 1 });
    await queue.send("onboarding", { n: 2 }, { delaySeconds: 60 });
    const [received] = await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 600 });
    expect(received?.body).toBe('{"n":1}');
    expect(await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 600 })).toEqual([]);
    expect(queue.releaseInFlight()).toBe(1);
    const again = await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 600 });
    expect(again.map((message) => message.body)).toEqual(['{"n":1}']);
    expect(again[0]?.receiveCount).toBe(2);
    expect(queue.liveBodies("onboarding")).toEqual(['{"n":1}', '{"n":2}']);
    expect(queue.liveBodies("notify")).toEqual([]);
    queue.close();
  });
});
