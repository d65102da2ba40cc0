/**
 * A notification is an outcome, not an attempt: a failed attempt that is retried is recorded, not told;
 * the final outcome is told once per server and request. Attempts are bounded by SDRS_MAX_ATTEMPTS across
 * duplicate intents, a throttled create costs none, and a duplicate intent after the final outcome starts
 * nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { protectIntent } from "../../lib/pipeline/messages.ts";
import { type Harness, type HarnessOptions, serverId, startHarness, tagsChangedEvent, twiceSender } from "./harness.ts";

const WEB_01 = serverId("web-01");
const TAGS = { sdrs_protect: "web" };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: HarnessOptions = {}): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

function toldTypes(current: Harness, id: string): string[] {
  return (current.serverEvents().get(id) ?? []).map((event) => event.type);
}

function creates(current: Harness): number {
  const counts = current.sim.counts();
  return (counts.createProtectedInstance ?? 0) + (counts.batchCreateProtectedInstances ?? 0);
}

describe("told once, and truly", () => {
  it("a job that fails once and then succeeds is told only as server.protected", async () => {
    const current = await start({ faults: { failJob: { serverIds: [WEB_01], errorCode: "SDRS.1802" } } });
    await current.tagEvents([{ id: WEB_01, tags: TAGS }]);
    // Until the first job failed, then the fault is gone: the retry succeeds.
    for (let round = 0; round < 200; round += 1) {
      await current.runtime.pumpOnce();
      const jobs = (await current.runtime.repos.jobs.list()).items;
      if (jobs.some((job) => job.record.status === "FAIL")) break;
      const next = current.runtime.queue.nextVisibleAt();
      if (next !== undefined && next > current.clock.now()) current.clock.set(next);
    }
    const record = (await current.runtime.repos.servers.get(WEB_01))?.record;
    expect(record?.status).toBe("pending");
    expect(record?.reasons.map((reason) => reason.code)).toEqual(["SDRS.1802"]);
    current.sim.faults.clear();
    expect((await current.runtime.runUntilIdle()).ended).toBe("idle");
    expect(toldTypes(current, WEB_01)).toEqual(["server.protected"]);
    expect((await current.runtime.repos.servers.get(WEB_01))?.record.attempts).toBe(2);
  });

  it("a job failing every time is told once, server.protection_failed after the last of 3 attempts, even with every message delivered twice", async () => {
    const current = await start({
      faults: { failJob: { serverIds: [WEB_01], errorCode: "SDRS.1802" } },
      runtime: { wrapSender: twiceSender },
    });
    await current.runtime.inventoryEvent(
      tagsChangedEvent("evt-twice", { id: WEB_01, tags: TAGS }, current.clock.now()),
    );
    expect((await current.runtime.runUntilIdle()).ended).toBe("idle");
    const told = current.serverEvents().get(WEB_01) ?? [];
    expect(told.map((event) => event.type)).toEqual(["server.protection_failed"]);
    expect(told[0]?.data).toMatchObject({ attempts: 3, errorCode: "SDRS.1802" });
    expect(creates(current)).toBe(3);
  });

  it("a duplicate intent for a failed server within the same request starts no new attempt", async () => {
    const current = await start({ faults: { failJob: { serverIds: [WEB_01], errorCode: "SDRS.1802" } } });
    const event = tagsChangedEvent("evt-once", { id: WEB_01, tags: TAGS }, current.clock.now());
    await current.runtime.inventoryEvent(event);
    expect((await current.runtime.runUntilIdle()).ended).toBe("idle");
    expect(creates(current)).toBe(3);
    // The queue delivers the event's intent once more, long after the server failed.
    await current.runtime.queue.send(
      "onboarding",
      protectIntent.parse({
        type: "protect",
        serverId: WEB_01,
        target: "web",
        source: "event",
        eventId: "eb:evt-once",
      }),
    );
    expect((await current.runtime.runUntilIdle()).ended).toBe("idle");
    expect(creates(current)).toBe(3);
    expect(toldTypes(current, WEB_01)).toEqual(["server.protection_failed"]);
  });

  it("throttled creates (429) consume no attempt: a server throttled more often than SDRS_MAX_ATTEMPTS ends protected", async () => {
    const current = await start({
      faults: { throttle: { next: 5, operations: ["createProtectedInstance", "batchCreateProtectedInstances"] } },
    });
    await current.tagEvents([{ id: WEB_01, tags: TAGS }]);
    expect((await current.runtime.runUntilIdle()).ended).toBe("idle");
    expect(toldTypes(current, WEB_01)).toEqual(["server.protected"]);
    expect((await current.runtime.repos.servers.get(WEB_01))?.record.attempts).toBe(1);
    expect(current.cloudCalls.filter((call) => call.status === 429).length).toBeGreaterThanOrEqual(5);
  });

  it("a new request for a failed server starts a new round, told once for that request", async () => {
    const current = await start({ faults: { failJob: { serverIds: [WEB_01], errorCode: "SDRS.1802" } } });
    await current.tagEvents([{ id: WEB_01, tags: TAGS }], "first");
    expect((await current.runtime.runUntilIdle()).ended).toBe("idle");
    current.sim.faults.clear();
    await current.tagEvents([{ id: WEB_01, tags: TAGS }], "second");
    expect((await current.runtime.runUntilIdle()).ended).toBe("idle");
    expect(toldTypes(current, WEB_01)).toEqual(["server.protection_failed", "server.protected"]);
    expect(creates(current)).toBe(4);
  });
});
