/**
 * Idempotency-Key on the onboarding API (draft-ietf-httpapi-idempotency-key-header, as Stripe does it):
 * the key is stored with the fingerprint of the canonical request; the same request replays the first
 * answer, another request with the key is refused with 422, and a key whose first request is still being
 * accepted answers 409. A request recorded but not enqueued is finished by the retry and by reconcile.
 */
import { afterEach, describe, expect, it } from "vitest";
import { acceptOnboardingRequest, IdempotencyKeyInUseError } from "../../lib/pipeline/intake.ts";
import type { QueueSender } from "../../lib/queue/queue.ts";
import { API_TOKEN, callApi, type Harness, requestStatus, serverId, startHarness } from "./harness.ts";

const web01 = serverId("web-01");
const web02 = serverId("web-02");
const db01 = serverId("db-01");
const db02 = serverId("db-02");

/** A sender whose onboarding sends go through `gate` first (which may wait or throw). */
function gatedSender(gate: () => Promise<void>): (inner: QueueSender) => QueueSender {
  return (inner) => ({
    async send(queue, body, options) {
      if (queue === "onboarding") await gate();
      await inner.send(queue, body, options);
    },
    async sendBatch(queue, entries) {
      if (queue === "onboarding") await gate();
      await inner.sendBatch(queue, entries);
    },
  });
}

/** A gate that fails the first onboarding send ("queue unavailable") and lets every later one through. */
function failingOnce(): () => Promise<void> {
  let failures = 1;
  return async () => {
    if (failures > 0) {
      failures -= 1;
      throw new Error("queue unavailable");
    }
  };
}

describe("Idempotency-Key", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("replays the first answer for the same request, even with the servers in another order", async () => {
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN } });
    const headers = { "Idempotency-Key": "order-1" };
    const first = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "web", servers: [web01, web02, web01] },
      headers,
    });
    expect(first.status).toBe(202);
    const again = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "web", servers: [web01, web01, web02] },
      headers,
    });
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ ...first.json, replayed: true });
    expect(harness.runtime.stats().queues.onboarding.visible).toBe(2);
  });

  it("refuses the same key with another body with 422 IDEMPOTENCY_KEY_REUSED naming the key, and enqueues nothing for it", async () => {
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN } });
    const headers = { "Idempotency-Key": "order-2" };
    const first = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "web", servers: [web01] },
      headers,
    });
    expect(first.status).toBe(202);
    const other = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "db", servers: [db01, db02] },
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.json).toEqual({
      error: {
        code: "IDEMPOTENCY_KEY_REUSED",
        message: `Idempotency-Key "order-2" was used for another request (${String(first.json.requestId)}, with a different target or servers); use a new key for a new request`,
        idempotencyKey: "order-2",
      },
    });
    const flavorChanged = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "web", servers: [{ serverId: web01, flavorRef: "s6.large.2" }] },
      headers,
    });
    expect(flavorChanged.status).toBe(422);
    expect(harness.runtime.stats().queues.onboarding.visible).toBe(1);
  });

  it("answers 409 with Retry-After while the key's first request is still being accepted", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached: () => void = () => undefined;
    const recorded = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const gate = () => {
      reached();
      return held;
    };
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN, wrapSender: gatedSender(gate) } });
    const headers = { "Idempotency-Key": "order-3" };
    const body = { target: "web", servers: [web01] };
    const first = callApi(harness, "POST", "/onboarding-requests", { body, headers });
    // The first call is recorded and waits in its enqueue; the second arrives meanwhile.
    await recorded;
    const second = await callApi(harness, "POST", "/onboarding-requests", { body, headers });
    expect(second.status).toBe(409);
    expect((second.json.error as { code: string }).code).toBe("IDEMPOTENCY_KEY_IN_USE");
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
    release();
    expect((await first).status).toBe(202);
    const third = await callApi(harness, "POST", "/onboarding-requests", { body, headers });
    expect([third.status, third.json.replayed]).toEqual([202, true]);
  });

  it("an exclusive caller (onboard holding its state lock) finishes an acceptance that died halfway; others get 409", async () => {
    let reached: () => void = () => undefined;
    const recorded = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let sends = 0;
    // The first acceptance is recorded, then dies in its enqueue: its send never returns (a killed process).
    const gate = () => {
      sends += 1;
      if (sends > 1) return Promise.resolve();
      reached();
      return new Promise<void>(() => undefined);
    };
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN, wrapSender: gatedSender(gate) } });
    const { deps } = harness.runtime;
    const body = { target: "web", servers: [web01, web02] };
    void acceptOnboardingRequest(body, { idempotencyKey: "order-5", source: "cli" }, deps);
    await recorded;
    await expect(acceptOnboardingRequest(body, { idempotencyKey: "order-5", source: "cli" }, deps)).rejects.toThrow(
      IdempotencyKeyInUseError,
    );
    const finished = await acceptOnboardingRequest(
      body,
      { idempotencyKey: "order-5", source: "cli", exclusive: true },
      deps,
    );
    expect(finished.replayed).toBe(true);
    expect(harness.runtime.stats().queues.onboarding.visible).toBe(2);
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    expect((await requestStatus(harness, finished.requestId)).counts).toEqual({ protected: 2 });
  });

  it("a retry after a failed enqueue (500) enqueues the servers, and the request completes", async () => {
    harness = await startHarness({
      runtime: { apiPort: 0, apiToken: API_TOKEN, wrapSender: gatedSender(failingOnce()) },
    });
    const headers = { "Idempotency-Key": "order-4" };
    const body = { target: "web", servers: [web01, web02] };
    const failed = await callApi(harness, "POST", "/onboarding-requests", { body, headers });
    expect(failed.status).toBe(500);
    const retry = await callApi(harness, "POST", "/onboarding-requests", { body, headers });
    expect(retry.status).toBe(202);
    expect(retry.json.replayed).toBe(true);
    expect(harness.runtime.stats().queues.onboarding.visible).toBe(2);
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    const state = await requestStatus(harness, String(retry.json.requestId));
    expect(state.counts).toEqual({ protected: 2 });
    expect(typeof state.completedAt).toBe("string");
  });

  it("reconcile finishes a request recorded but never enqueued when the client does not retry", async () => {
    harness = await startHarness({
      runtime: { apiPort: 0, apiToken: API_TOKEN, wrapSender: gatedSender(failingOnce()) },
    });
    const failed = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "db", servers: [db01] },
      headers: { "Idempotency-Key": "order-5" },
    });
    expect(failed.status).toBe(500);
    expect(harness.runtime.stats().queues.onboarding.visible).toBe(0);
    const result = await harness.runtime.reconcile();
    expect(result.requestsFinished).toBe(1);
    await harness.runtime.runUntilIdle({ maxIterations: 500 });
    expect(harness.receiver.events().some((received) => received.event.type === "onboarding_request.completed")).toBe(
      true,
    );
    expect((await harness.runtime.reconcile()).requestsFinished).toBe(0);
  });
});

describe("server ids and flavors at the API's door", () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("refuses a server id that is no ECS id and a flavorRef that is no flavor name with 400 naming the entry", async () => {
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: API_TOKEN } });
    const path = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "web", servers: [web01, "../../etc"] },
    });
    expect(path.status).toBe(400);
    expect((path.json.error as { issues: unknown }).issues).toEqual([
      {
        field: "servers.1",
        rule: '"../../etc" is not a server id (a server id is 1–64 letters, digits or hyphens, such as 403b603d-1d91-42cc-a357-81f3c2daf43f)',
      },
    ]);
    const script = await callApi(harness, "POST", "/onboarding-requests", {
      body: { target: "web", servers: [{ serverId: web01, flavorRef: "<script>alert(1)</script>" }] },
    });
    expect(script.status).toBe(400);
    expect((script.json.error as { issues: unknown }).issues).toEqual([
      {
        field: "servers.0.flavorRef",
        rule: `"<script>alert(1)</script>" is not a flavor name (a flavor name is 1–128 letters, digits, '.', '_' or '-', such as s6.large.2)`,
      },
    ]);
    expect(harness.runtime.stats().queues.onboarding).toEqual({ visible: 0, delayed: 0, inFlight: 0, dead: 0 });
  });
});
