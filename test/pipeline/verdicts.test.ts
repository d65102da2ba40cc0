/**
 * The requested target decides the verdict (issue "verdicts that match reality", case 1): a server protected
 * for one target and then requested (or retagged) for another is INELIGIBLE_PROTECTED_ELSEWHERE, naming the
 * group and its target, never reported protected with the other group's instance; in flight for another
 * target it waits; an unknown target is INELIGIBLE_TARGET_UNKNOWN. Real peers: simulator, runtime, receiver.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { NotificationEvent } from "../../lib/notify/events.ts";
import {
  API_TOKEN,
  callApi,
  type Harness,
  PG_WEB,
  requestStatus,
  serverId,
  startHarness,
  tagsChangedEvent,
} from "./harness.ts";

const web01 = serverId("web-01");
const web02 = serverId("web-02");

async function submit(harness: Harness, target: string, servers: string[]): Promise<string> {
  const accepted = await callApi(harness, "POST", "/onboarding-requests", { body: { target, servers } });
  expect(accepted.status).toBe(202);
  return String(accepted.json.requestId);
}

function ineligibleEvents(harness: Harness, id: string): Extract<NotificationEvent, { type: "server.ineligible" }>[] {
  return (harness.serverEvents().get(id) ?? []).filter(
    (event): event is Extract<NotificationEvent, { type: "server.ineligible" }> => event.type === "server.ineligible",
  );
}

describe("verdicts for the requested target", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("a server protected for web, then requested for db, is INELIGIBLE_PROTECTED_ELSEWHERE naming web's group; the record keeps that group", async () => {
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN } });
    const web = await submit(harness, "web", [web01]);
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    const protectedIn = (await requestStatus(harness, web)).servers[0];
    expect(protectedIn?.state).toBe("protected");

    const db = await submit(harness, "db", [web01]);
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    const verdict = (await requestStatus(harness, db)).servers[0];
    expect(verdict?.state).toBe("ineligible");
    expect(verdict?.protectedInstanceId).toBeUndefined();
    expect(verdict?.reasons.map((reason) => reason.code)).toEqual(["INELIGIBLE_PROTECTED_ELSEWHERE"]);
    expect(verdict?.reasons[0]?.message).toContain(`is already protected in protection group ${PG_WEB} (target "web")`);
    const record = (await harness.runtime.deps.repos.servers.get(web01))?.record;
    expect({ groupId: record?.groupId, protectedInstanceId: record?.protectedInstanceId }).toEqual({
      groupId: PG_WEB,
      protectedInstanceId: protectedIn?.protectedInstanceId,
    });
    expect(ineligibleEvents(harness, web01)).toHaveLength(1);
    // Nothing was created in db's group.
    expect(harness.sim.state.protectedInstances().filter((instance) => instance.source_server === web01)).toHaveLength(
      1,
    );
  });

  it("a retag of a protected server to another target gives the verdict once, from the event or from reconcile alone", async () => {
    harness = await startHarness();
    // Every tagged server of the sample estate settled first, so the sweep below only sees what changed.
    await harness.runtime.reconcile();
    await harness.runtime.runUntilIdle({ maxIterations: 5_000 });
    expect((await harness.runtime.deps.repos.servers.get(web01))?.record.status).toBe("protected");

    // web-01 retagged with an event; web-02 retagged with no event at all (a missed one): reconcile finds it.
    harness.sim.setServerTags(web01, { sdrs_protect: "db" });
    harness.sim.setServerTags(web02, { sdrs_protect: "db" });
    await harness.runtime.inventoryEvent(
      tagsChangedEvent("retag-1", { id: web01, tags: { sdrs_protect: "db" } }, harness.clock.now()),
    );
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    const swept = await harness.runtime.reconcile();
    expect(swept.enqueued).toBe(1);
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    for (const id of [web01, web02]) {
      expect(
        ineligibleEvents(harness, id).map((event) => [
          event.data.target,
          event.data.reasons.map((reason) => reason.code),
        ]),
      ).toEqual([["db", ["INELIGIBLE_PROTECTED_ELSEWHERE"]]]);
    }

    // Reconcile looks again later (new input may change the verdict) and tells nothing new.
    harness.clock.advance(7 * 3600 * 1000);
    await harness.runtime.reconcile();
    await harness.runtime.runUntilIdle({ maxIterations: 2_000 });
    expect(ineligibleEvents(harness, web01)).toHaveLength(1);
    expect((await harness.runtime.deps.repos.servers.get(web01))?.record.groupId).toBe(PG_WEB);
  });

  it("a server in flight for web, requested for db meanwhile, waits for web's create, then gets db's verdict", async () => {
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN } });
    const web = await submit(harness, "web", [web02]);
    await harness.runtime.pumpOnce(); // web's create is sent; its job runs
    expect((await harness.runtime.deps.repos.servers.get(web02))?.record.status).toBe("in_progress");
    // Two db requests in the same onboard batch.
    const db = [await submit(harness, "db", [web02]), await submit(harness, "db", [web02])];
    await harness.runtime.pumpOnce();
    // Deferred, not joined: no db request rides on web's protection.
    const requestIds = (await harness.runtime.deps.repos.servers.get(web02))?.record.requestIds ?? [];
    expect(requestIds.filter((requestId) => db.includes(requestId))).toEqual([]);
    await harness.runtime.runUntilIdle({ maxIterations: 2_000 });
    expect((await requestStatus(harness, web)).counts).toEqual({ protected: 1 });
    for (const requestId of db) {
      expect((await requestStatus(harness, requestId)).servers[0]?.reasons.map((reason) => reason.code)).toEqual([
        "INELIGIBLE_PROTECTED_ELSEWHERE",
      ]);
    }
    expect(harness.sim.state.protectedInstances().filter((instance) => instance.source_server === web02)).toHaveLength(
      1,
    );
  });

  it("a request for a target that names nothing ends INELIGIBLE_TARGET_UNKNOWN", async () => {
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN } });
    const requestId = await submit(harness, "nosuch", [web01]);
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    expect((await requestStatus(harness, requestId)).servers[0]?.reasons.map((reason) => reason.code)).toEqual([
      "INELIGIBLE_TARGET_UNKNOWN",
    ]);
  });
});
