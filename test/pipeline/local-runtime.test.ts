/**
 * The local runtime's own contract: the pump (receive → step → delete what succeeded), visibility
 * timeouts and dead-lettering by the sqlite queue, the dead-letter sink (unprocessable messages, dead
 * notifications), rejected inventory events kept in the store, accelerated time, and one sqlite file that
 * survives a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock, ScaledClock } from "../../lib/clock.ts";
import { generateWebhookSecret } from "../../lib/notify/receiver.ts";
import { MAX_TRANSIENT_RETRIES } from "../../lib/pipeline/schedule.ts";
import { SqliteQueue } from "../../lib/queue/sqlite-queue.ts";
import { startLocalRuntime } from "../../lib/runtime/local.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { openDatabase } from "../../lib/state/sqlite-database.ts";
import { estate, type Harness, serverId, startHarness, tagsChangedEvent, targetsFor } from "./harness.ts";

const WEB_01 = { id: serverId("web-01"), tags: { sdrs_protect: "web" } };

let harness: Harness | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("local runtime", () => {
  it("deletes what a step handled and schedules the job check it sent, one pump at a time", async () => {
    harness = await startHarness();
    await harness.tagEvents([WEB_01]);
    expect(harness.runtime.stats().queues.onboarding).toEqual({ visible: 1, delayed: 0, inFlight: 0, dead: 0 });

    const first = await harness.runtime.pumpOnce();
    expect(first).toEqual({ processed: 1, byQueue: { onboarding: 1, "job-status": 0, notify: 0 }, failed: 0 });
    const stats = harness.runtime.stats();
    expect(stats.queues.onboarding).toEqual({ visible: 0, delayed: 0, inFlight: 0, dead: 0 });
    expect(stats.queues["job-status"]).toEqual({ visible: 0, delayed: 1, inFlight: 0, dead: 0 });
    expect((await harness.runtime.repos.servers.get(WEB_01.id))?.record.status).toBe("in_progress");

    expect(await harness.runtime.pumpOnce()).toEqual({
      processed: 0,
      byQueue: { onboarding: 0, "job-status": 0, notify: 0 },
      failed: 0,
    });
  });

  it("jumps a ManualClock to the next due message, so a job of minutes completes without waiting for it", async () => {
    harness = await startHarness();
    const startedAt = harness.clock.now();
    await harness.tagEvents([WEB_01]);
    const summary = await harness.runtime.runUntilIdle();
    expect(summary.ended).toBe("idle");
    const job = harness.sim.state.jobs()[0];
    expect(job?.status).toBe("SUCCESS");
    const jobEnd = Date.parse(job?.end_time ?? "");
    // The simulated single create takes 60–180 s; the run's clock went at least that far.
    expect(jobEnd - startedAt).toBeGreaterThanOrEqual(60_000);
    expect(summary.virtualMs).toBeGreaterThanOrEqual(jobEnd - startedAt);
    expect(harness.clock.now()).toBe(startedAt + summary.virtualMs);
    expect(harness.receiver.events().map((received) => received.event.type)).toEqual(["server.protected"]);
  });

  it("returns a failed message to its queue after the visibility timeout and dead-letters it after maxReceiveCount receives", async () => {
    harness = await startHarness({ runtime: { maxReceiveCount: 2 } });
    const startedAt = harness.clock.now();
    await harness.tagEvents([WEB_01]);
    await harness.runtime.pumpOnce(); // the create is made; its check is due later
    // Every read a job check can make fails (the shared instance view and the job itself).
    harness.sim.faults.set({
      serverError: { probability: 1, status: 503, operations: ["showJob", "listProtectedInstances"] },
    });
    const summary = await harness.runtime.runUntilIdle();
    expect(summary.ended).toBe("idle");
    // Backed off MAX_TRANSIENT_RETRIES times (fresh messages, seconds apart), then returned to the queue twice.
    expect(summary.processed["job-status"]).toBe(MAX_TRANSIENT_RETRIES + 2);
    expect(summary.failed).toBe(2);
    const dead = harness.runtime.queue.deadLetters("job-status");
    expect(
      dead.map((letter) => ({
        jobId: JSON.parse(letter.body).jobId,
        retries: JSON.parse(letter.body).retries,
        receiveCount: letter.receiveCount,
      })),
    ).toEqual([{ jobId: harness.sim.state.jobs()[0]?.job_id, retries: MAX_TRANSIENT_RETRIES, receiveCount: 2 }]);
    // The second receive came one visibility timeout (360 s) after the first.
    expect(harness.clock.now() - startedAt).toBeGreaterThanOrEqual(360_000);
    expect((await harness.runtime.repos.servers.get(WEB_01.id))?.record.status).toBe("in_progress");
    expect(harness.receiver.events()).toEqual([]);
  });

  it("dead-letters a message that can never be processed with the reason naming the field and rule, acknowledges it, and protects the valid one beside it", async () => {
    harness = await startHarness();
    const { queue } = harness.runtime;
    await queue.sendBatch("onboarding", [
      { body: { type: "protect", serverId: "", target: "web", source: "event" } },
      { body: { type: "protect", serverId: WEB_01.id, target: "web", source: "event" } },
    ]);
    await queue.send("job-status", "not an object");
    const summary = await harness.runtime.runUntilIdle();
    expect(summary).toMatchObject({ ended: "idle", failed: 0 });

    const reasons = (name: "onboarding" | "job-status" | "notify") =>
      queue.deadLetters(name).map((letter) => ({ body: letter.body, reason: letter.messageAttributes?.reason }));
    expect(reasons("onboarding")).toEqual([
      {
        body: '{"type":"protect","serverId":"","target":"web","source":"event"}',
        reason: "serverId: Too small: expected string to have >=1 characters",
      },
    ]);
    expect(reasons("job-status")).toEqual([{ body: '"not an object"', reason: expect.stringMatching(/^\(body\): /) }]);
    expect(reasons("notify")).toEqual([]);
    expect((await harness.runtime.repos.servers.get(WEB_01.id))?.record.status).toBe("protected");
    expect(harness.receiver.events().map((received) => received.event.type)).toEqual(["server.protected"]);
    const errors = harness.logs
      .map((line) => JSON.parse(line) as { level: string; message: string; queue?: string })
      .filter((line) => line.level === "ERROR");
    expect(errors.map((line) => [line.message, line.queue])).toEqual([
      ["unprocessable message: sent to the dead-letter queue", "onboarding"],
      ["unprocessable message: sent to the dead-letter queue", "job-status"],
    ]);
  });

  it("dead-letters a body that is not JSON with the reason (body): must be JSON, also after a redrive", async () => {
    harness = await startHarness();
    const { queue } = harness.runtime;
    await queue.deadLetter("notify", "{not json", "put here by the test");
    expect(queue.redriveDeadLetters("notify")).toBe(1);
    expect(harness.runtime.stats().queues.notify).toEqual({ visible: 1, delayed: 0, inFlight: 0, dead: 0 });

    expect(await harness.runtime.runUntilIdle()).toMatchObject({ ended: "idle", processed: { notify: 1 }, failed: 0 });
    expect(queue.deadLetters("notify")).toEqual([
      {
        messageId: expect.any(String),
        body: "{not json",
        receiveCount: 0,
        sentAt: harness.clock.now(),
        deadAt: harness.clock.now(),
        messageAttributes: { reason: expect.stringMatching(/^\(body\): must be JSON \(.+\)$/) },
      },
    ]);
  });

  it("dead-letters a notification whose webhook attempts are all spent, without its secret; a redrive makes the last attempt once more", async () => {
    // The endpoint is configured with another secret than the receiver's: every delivery is answered 401.
    const wrongSecret = generateWebhookSecret();
    harness = await startHarness({ runtime: { env: { SDRS_WEBHOOK_SECRET: wrongSecret }, notifySchedule: [1, 5] } });
    await harness.tagEvents([WEB_01]);
    expect((await harness.runtime.runUntilIdle()).ended).toBe("idle");
    expect(harness.rejectedWebhooks.map((rejection) => rejection.httpStatus)).toEqual([401, 401, 401]);
    const dead = harness.runtime.queue.deadLetters("notify");
    expect(dead).toHaveLength(1);
    const message = JSON.parse(dead[0]?.body ?? "{}") as {
      event: { type: string; data: { serverId: string } };
      attempt: number;
      endpointId: string;
    };
    expect(message).toMatchObject({
      event: { type: "server.protected", data: { serverId: WEB_01.id } },
      attempt: 3,
      endpointId: "local",
    });
    expect(dead[0]?.messageAttributes?.reason).toContain("401");
    expect(JSON.stringify(dead)).not.toContain(wrongSecret);
    expect(JSON.stringify(dead)).not.toContain(wrongSecret.slice("whsec_".length));
    expect(harness.runtime.stats().queues.notify.dead).toBe(1);

    expect(harness.runtime.queue.redriveDeadLetters("notify")).toBe(1);
    expect((await harness.runtime.runUntilIdle()).ended).toBe("idle");
    expect(harness.rejectedWebhooks).toHaveLength(4);
    expect(harness.runtime.queue.deadLetters("notify").map((letter) => JSON.parse(letter.body))).toEqual([message]);
  });

  it("keeps a rejected inventory event in the store for 14 days with its reason, once per event", async () => {
    harness = await startHarness();
    const malformed = {
      ...(tagsChangedEvent("evt-malformed", WEB_01, harness.clock.now()) as Record<string, unknown>),
      detail: { server: WEB_01.id },
    };
    const result = await harness.runtime.inventoryEvent(malformed);
    expect(result).toEqual({
      status: "rejected",
      eventId: "evt-malformed",
      reason: expect.stringContaining("serverId"),
      enqueued: [],
    });
    await harness.runtime.inventoryEvent(malformed);
    const notAnEvent = await harness.runtime.inventoryEvent({ hello: "world" });
    expect(notAnEvent.status).toBe("rejected");

    const rejections = await harness.runtime.deps.rejections.list();
    expect(rejections).toEqual([
      {
        eventId: "rejected:evt-malformed",
        firstSeenAt: new Date(harness.clock.now()).toISOString(),
        reason: result.reason,
        rejectedEventId: "evt-malformed",
        source: "sdrs-autoprotect.inventory",
        detailType: "ECS Server Tags Changed",
      },
      {
        eventId: expect.stringMatching(/^rejected:sha256:[0-9a-f]{64}$/),
        firstSeenAt: expect.any(String),
        reason: notAnEvent.reason,
      },
    ]);
    expect(harness.runtime.stats().queues.onboarding).toEqual({ visible: 0, delayed: 0, inFlight: 0, dead: 0 });

    harness.clock.advance(14 * 24 * 3600 * 1000);
    expect(await harness.runtime.deps.rejections.list()).toEqual([]);
  });

  it("keeps the store and the queues in one sqlite file: a restarted runtime finishes the work", async () => {
    const directory = mkdtempSync(join(tmpdir(), "sdrs-local-"));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const database = join(directory, "local.sqlite");
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const sim = await startSimulator({ estate, clock, seed: 3 });
    cleanups.push(() => sim.close());
    const secret = generateWebhookSecret();
    const options = {
      database,
      cloudConfig: simulatorCloudConfig(sim.url),
      targets: targetsFor("http://127.0.0.1:9/unused", { webhooks: [] }),
      clock,
      env: { SDRS_WEBHOOK_SECRET: secret },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    };

    const first = await startLocalRuntime(options);
    await first.inventoryEvent(tagsChangedEvent("evt-restart", WEB_01, clock.now()));
    await first.pumpOnce();
    await first.close();

    const second = await startLocalRuntime(options);
    cleanups.push(() => second.close());
    expect(second.stats().queues["job-status"]).toEqual({ visible: 0, delayed: 1, inFlight: 0, dead: 0 });
    expect((await second.runUntilIdle()).ended).toBe("idle");
    expect((await second.repos.servers.get(WEB_01.id))?.record.status).toBe("protected");
    expect(await second.inventoryEvent(tagsChangedEvent("evt-restart", WEB_01, clock.now()))).toMatchObject({
      status: "duplicate",
    });
  });

  it("opens a sqlite file written before dead letters had a reason, keeping its queued messages", async () => {
    const directory = mkdtempSync(join(tmpdir(), "sdrs-local-"));
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const path = join(directory, "old.sqlite");
    const old = openDatabase(path);
    // The queue table as the previous release created it: no message_attributes column.
    old.exec(`CREATE TABLE queue_messages (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL, body TEXT NOT NULL,
      sent_at INTEGER NOT NULL, visible_at INTEGER NOT NULL, receive_count INTEGER NOT NULL DEFAULT 0, first_received_at INTEGER,
      receipt_handle TEXT UNIQUE, deduplication_id TEXT, dead_at INTEGER)`);
    old
      .prepare(
        "INSERT INTO queue_messages (message_id, queue, body, sent_at, visible_at) VALUES ('m-1', 'notify', '{}', 0, 0)",
      )
      .run();
    old.close();

    const queue = new SqliteQueue({ database: path, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    cleanups.push(() => queue.close());
    await queue.deadLetter("notify", "{}", "notify: invalid");
    const [received] = await queue.receive("notify", { maxMessages: 10, visibilityTimeoutSeconds: 30 });
    expect(received).toMatchObject({ messageId: "m-1", body: "{}" });
    expect(received?.messageAttributes).toBeUndefined();
    expect(queue.deadLetters("notify").map((letter) => letter.messageAttributes)).toEqual([
      { reason: "notify: invalid" },
    ]);
  });

  it("refuses to start when a webhook secret's variable is not set, naming the field and the variable", async () => {
    await expect(
      startLocalRuntime({
        database: ":memory:",
        cloudConfig: simulatorCloudConfig("http://127.0.0.1:9"),
        targets: targetsFor("http://127.0.0.1:9/hook"),
        clock: new ManualClock(),
        env: {},
      }),
    ).rejects.toThrow("webhooks[0].secret: environment variable SDRS_WEBHOOK_SECRET is not set");
  });

  it("with a clock it cannot jump, waits for the next due message instead", async () => {
    const clock = new ScaledClock(1_000); // one virtual second per wall millisecond
    const runtime = await startLocalRuntime({
      database: ":memory:",
      cloudConfig: simulatorCloudConfig("http://127.0.0.1:9"),
      targets: targetsFor("http://127.0.0.1:9/unused", { webhooks: [] }),
      clock,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    cleanups.push(() => runtime.close());
    await runtime.queue.send("notify", { not: "a notification" }, { delaySeconds: 30 });
    const before = clock.now();
    const summary = await runtime.runUntilIdle();
    expect(summary).toMatchObject({ ended: "idle", processed: { notify: 1 } });
    expect(clock.now() - before).toBeGreaterThanOrEqual(30_000);
  });
});
