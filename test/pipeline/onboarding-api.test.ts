/**
 * The onboarding API as the local runtime serves it (bearer token on 127.0.0.1), through the pipeline to
 * the simulator and the webhook receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotificationEvent } from "../../lib/notify/events.ts";
import { API_TOKEN, callApi, type Harness, serverId, startHarness } from "./harness.ts";

const TOKEN = API_TOKEN;
const api = callApi;

describe("onboarding API on the local runtime", () => {
  let harness: Harness;
  const web01 = serverId("web-01");
  const web02 = serverId("web-02");
  const devWeb01 = serverId("dev-web-01");

  beforeAll(async () => {
    harness = await startHarness({ runtime: { apiPort: 0, apiToken: TOKEN } });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("refuses a request without the bearer token, or with another token, with 401", async () => {
    const body = { target: "web", servers: [web01] };
    expect((await api(harness, "POST", "/onboarding-requests", { body, token: null })).status).toBe(401);
    expect((await api(harness, "POST", "/onboarding-requests", { body, token: "wrong-token" })).status).toBe(401);
    expect((await api(harness, "GET", "/onboarding-requests/anything", { token: "x" })).status).toBe(401);
    expect(harness.runtime.stats().queues.onboarding).toEqual({ visible: 0, delayed: 0, inFlight: 0, dead: 0 });
  });

  it("answers a bad body with 400 naming the field and the rule", async () => {
    const empty = await api(harness, "POST", "/onboarding-requests", { body: { target: "web", servers: [] } });
    expect(empty.status).toBe(400);
    expect(empty.json).toEqual({
      error: {
        code: "INVALID_REQUEST",
        message: "invalid onboarding request: servers: must list at least 1 server",
        issues: [{ field: "servers", rule: "must list at least 1 server" }],
      },
    });
    const noTarget = await api(harness, "POST", "/onboarding-requests", { body: { servers: [web01] } });
    expect(noTarget.status).toBe(400);
    expect((noTarget.json.error as { issues: { field: string }[] }).issues.map((issue) => issue.field)).toEqual([
      "target",
    ]);
    const notJson = await api(harness, "POST", "/onboarding-requests", { body: "{not json" });
    expect(notJson.status).toBe(400);
    expect((notJson.json.error as { code: string }).code).toBe("INVALID_JSON");
  });

  it("answers an unknown request id with 404", async () => {
    const missing = await api(harness, "GET", "/onboarding-requests/no-such-request");
    expect(missing.status).toBe(404);
    expect((missing.json.error as { code: string }).code).toBe("REQUEST_NOT_FOUND");
  });

  it("accepts a request once per Idempotency-Key, reports states, and notifies its completion exactly once", async () => {
    const body = { target: "web", servers: [web01, { serverId: web02 }, devWeb01, web01] };
    const first = await api(harness, "POST", "/onboarding-requests", {
      body,
      headers: { "Idempotency-Key": "order-4711" },
    });
    expect(first.status).toBe(202);
    const requestId = String(first.json.requestId);
    expect(first.json).toEqual({
      requestId,
      target: "web",
      servers: [
        { serverId: web01, accepted: true },
        { serverId: web02, accepted: true },
        { serverId: devWeb01, accepted: true },
        { serverId: web01, accepted: false, reason: "duplicate: listed earlier in this request" },
      ],
      replayed: false,
      statusPath: `/onboarding-requests/${requestId}`,
    });

    const replay = await api(harness, "POST", "/onboarding-requests", {
      body,
      headers: { "Idempotency-Key": "order-4711" },
    });
    expect(replay.status).toBe(202);
    expect(replay.json.requestId).toBe(requestId);
    expect(replay.json.replayed).toBe(true);

    const queued = await api(harness, "GET", `/onboarding-requests/${requestId}`);
    expect(queued.status).toBe(200);
    expect(queued.json.counts).toEqual({ queued: 3 });
    expect(queued.json.completedAt).toBeUndefined();

    const summary = await harness.runtime.runUntilIdle({ maxIterations: 500 });
    expect(summary.ended).toBe("idle");

    const done = await api(harness, "GET", `/onboarding-requests/${requestId}`);
    expect(done.json.counts).toEqual({ protected: 2, ineligible: 1 });
    expect(typeof done.json.completedAt).toBe("string");
    const states = (done.json.servers as { serverId: string; state: string; reasons: { code: string }[] }[]).map(
      (server) => [server.serverId, server.state, server.reasons.map((reason) => reason.code)],
    );
    expect(states).toEqual([
      [web01, "protected", []],
      [web02, "protected", []],
      [devWeb01, "ineligible", ["INELIGIBLE_VPC_MISMATCH"]],
    ]);

    const events = harness.receiver.events().map((received) => received.event);
    const completed = events.filter(
      (event): event is Extract<NotificationEvent, { type: "onboarding_request.completed" }> =>
        event.type === "onboarding_request.completed",
    );
    expect(completed).toHaveLength(1);
    expect(completed[0]?.data.requestId).toBe(requestId);
    expect(completed[0]?.data.counts).toEqual({ protected: 2, failed: 0, ineligible: 1, unknown: 0, total: 3 });
    expect(completed[0]?.data.servers.map((server) => [server.serverId, server.outcome, server.codes ?? []])).toEqual([
      [web01, "protected", []],
      [web02, "protected", []],
      [devWeb01, "ineligible", ["INELIGIBLE_VPC_MISMATCH"]],
    ]);
    const perServer = events.filter((event) => event.type.startsWith("server."));
    expect(
      perServer.map((event) => [
        event.type,
        (event.data as { serverId: string }).serverId,
        (event.data as { requestIds: string[] }).requestIds,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ["server.protected", web01, [requestId]],
        ["server.protected", web02, [requestId]],
        ["server.ineligible", devWeb01, [requestId]],
      ]),
    );
    expect(perServer).toHaveLength(3);
    // One create call for the two eligible servers (a batch of 2).
    expect(harness.sim.counts().batchCreateProtectedInstances).toBe(1);
    expect(harness.rejectedWebhooks).toEqual([]);
  });
});
