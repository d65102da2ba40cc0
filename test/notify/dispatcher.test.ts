import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import {
  createInMemoryEndpointState,
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  type DeliveryOutcome,
  type DispatcherDeps,
  deliverNotification,
  MAX_QUEUE_DELAY_SECONDS,
  parseRetrySchedule,
  planRetry,
  type RetryPolicy,
  scheduleAfter,
  secondsUntil,
} from "../../lib/notify/dispatcher.ts";
import { parseWebhookEndpoints } from "../../lib/notify/endpoints.ts";
import {
  type NotificationEvent,
  type NotificationMessage,
  newNotificationMessage,
  parseNotificationMessage,
} from "../../lib/notify/events.ts";
import { startWebhookReceiver } from "../../lib/notify/receiver.ts";
import {
  ineligibleEvent,
  protectedEvent,
  RecordingSender,
  type ScriptedResponse,
  SECRET,
  startScriptedEndpoint,
} from "./helpers.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function scripted(...script: ScriptedResponse[]) {
  const started = await startScriptedEndpoint(script);
  cleanups.push(() => started.close());
  return started;
}

function setup(
  endpoints: Array<{ id: string; url: string; eventTypes?: string[]; enabled?: boolean }>,
  overrides: Partial<DispatcherDeps> = {},
) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const sender = new RecordingSender();
  const endpointState = createInMemoryEndpointState();
  const deps: DispatcherDeps = {
    endpoints: parseWebhookEndpoints(
      endpoints.map((endpoint) => ({ secret: SECRET, ...endpoint })),
      { allowLoopbackHttp: true },
    ),
    sender,
    endpointState,
    clock,
    random: () => 0.5,
    ...overrides,
  };
  return { clock, sender, endpointState, deps };
}

/** The message queued for one endpoint, as the notify queue would hand it back. */
function perEndpoint(
  event: NotificationEvent,
  endpointId: string,
  clock: ManualClock,
  attempt = 1,
): NotificationMessage {
  return { ...newNotificationMessage(event, clock), endpointId, attempt };
}

const policy = (schedule: readonly number[] = DEFAULT_RETRY_SCHEDULE_SECONDS): RetryPolicy => ({
  schedule,
  random: () => 0.5,
  jitterRatio: 0.1,
  maxRetryAfterSeconds: 86_400,
});

describe("retry planning", () => {
  it("follows the Standard Webhooks schedule after the immediate first attempt, then gives up", () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((attempt) => planRetry(attempt, undefined, policy()));
    expect(waits).toEqual([
      { kind: "retry", delaySeconds: 5 },
      { kind: "retry", delaySeconds: 300 },
      { kind: "retry", delaySeconds: 1800 },
      { kind: "retry", delaySeconds: 7200 },
      { kind: "retry", delaySeconds: 18_000 },
      { kind: "retry", delaySeconds: 36_000 },
      { kind: "retry", delaySeconds: 50_400 },
      { kind: "retry", delaySeconds: 72_000 },
      { kind: "retry", delaySeconds: 86_400 },
      { kind: "dead" },
    ]);
  });

  it("honours Retry-After instead of the schedule, capped at the maximum, but still counts the attempt", () => {
    expect(planRetry(1, 120, policy())).toEqual({ kind: "retry", delaySeconds: 120 });
    expect(planRetry(1, 10 * 86_400, policy())).toEqual({ kind: "retry", delaySeconds: 86_400 });
    expect(planRetry(3, 120, policy([5, 10]))).toEqual({ kind: "dead" });
  });

  it("jitters each wait by at most ±10 % of the scheduled wait (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, random) => {
          const base = DEFAULT_RETRY_SCHEDULE_SECONDS[attempt - 1] ?? 0;
          const plan = planRetry(attempt, undefined, { ...policy(), random: () => random });
          return (
            plan.kind === "retry" &&
            Number.isInteger(plan.delaySeconds) &&
            Math.abs(plan.delaySeconds - base) <= Math.ceil(base * 0.1)
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("carries any wait in hops of at most 900 s that add up to exactly the wait (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), (wait) => {
        const start = Date.UTC(2026, 0, 1);
        const first = scheduleAfter(wait, start);
        let now = start + first.delaySeconds * 1000;
        let total = first.delaySeconds;
        const hops = [first.delaySeconds];
        for (
          let remaining = secondsUntil(first.notBefore, now);
          remaining > 0;
          remaining = secondsUntil(first.notBefore, now)
        ) {
          const hop = Math.min(remaining, MAX_QUEUE_DELAY_SECONDS);
          hops.push(hop);
          total += hop;
          now += hop * 1000;
        }
        return (
          total === wait &&
          hops.every((hop) => hop >= 0 && hop <= MAX_QUEUE_DELAY_SECONDS) &&
          wait > 900 === (first.notBefore !== undefined)
        );
      }),
      { numRuns: 300 },
    );
  });

  it("parses a schedule written as durations", () => {
    expect(parseRetrySchedule("5s, 5m,30m,2h,1d,7")).toEqual([5, 300, 1800, 7200, 86_400, 7]);
    expect(() => parseRetrySchedule("5s,soon")).toThrow(
      'retry schedule: "soon" must be a whole number of seconds or a duration like 5s, 5m, 2h, 1d',
    );
  });
});

describe("fan-out", () => {
  it("queues one message per matching, enabled endpoint, publishes once to SNS, and each is then delivered on its own", async () => {
    const all = await startWebhookReceiver({ secret: SECRET });
    cleanups.push(() => all.close());
    const servers = await scripted({ status: 202 });
    const requestsOnly = await scripted({ status: 200 });
    const gone = await scripted({ status: 200 });
    const published: Array<[string, string]> = [];
    const { deps, sender, clock, endpointState } = setup(
      [
        { id: "all", url: all.url },
        { id: "servers", url: servers.url, eventTypes: ["server.*"] },
        { id: "requests-only", url: requestsOnly.url, eventTypes: ["onboarding_request.completed"] },
        { id: "paused", url: gone.url, enabled: false },
        { id: "was-gone", url: gone.url },
      ],
      { sns: { publish: async (event, eventId) => void published.push([event.type, eventId]) } },
    );
    await endpointState.disable("was-gone", "HTTP 410");
    const message = newNotificationMessage(protectedEvent, clock);

    const outcome = await deliverNotification(message, deps);

    expect(outcome).toEqual({
      status: "fanned_out",
      eventId: message.eventId,
      endpointIds: ["all", "servers"],
      skippedDisabled: ["paused", "was-gone"],
      publishedToSns: true,
    });
    expect(published).toEqual([["server.protected", message.eventId]]);
    const queued = sender.take();
    expect(
      queued.map((sent) => [sent.queue, sent.delaySeconds, (sent.body as NotificationMessage).endpointId]),
    ).toEqual([
      ["notify", 0, "all"],
      ["notify", 0, "servers"],
    ]);

    const outcomes = [];
    for (const sent of queued) outcomes.push(await deliverNotification(parseNotificationMessage(sent.body), deps));
    expect(
      outcomes.map((delivered) => [delivered.status, "endpointId" in delivered ? delivered.endpointId : ""]),
    ).toEqual([
      ["delivered", "all"],
      ["delivered", "servers"],
    ]);
    expect(all.events().map((received) => received.webhookId)).toEqual([message.eventId]);
    expect(servers.requests.map((request) => request.headers["webhook-id"])).toEqual([message.eventId]);
    expect(requestsOnly.requests).toEqual([]);
    expect(gone.requests).toEqual([]);
  });

  it("queues nothing when no endpoint subscribes to the type", async () => {
    const { deps, sender, clock } = setup([
      { id: "requests-only", url: "https://example.com/", eventTypes: ["onboarding_request.completed"] },
    ]);
    const outcome = await deliverNotification(newNotificationMessage(ineligibleEvent, clock), deps);
    expect(outcome).toMatchObject({
      status: "fanned_out",
      endpointIds: [],
      skippedDisabled: [],
      publishedToSns: false,
    });
    expect(sender.sent).toEqual([]);
  });
});

describe("one endpoint's delivery", () => {
  it("disables the endpoint on 410 Gone and skips it afterwards without a request", async () => {
    const peer = await scripted({ status: 410 });
    const { deps, sender, clock, endpointState } = setup([{ id: "gone", url: peer.url }]);
    const message = perEndpoint(protectedEvent, "gone", clock);

    const first = await deliverNotification(message, deps);
    expect(first).toEqual({
      status: "disabled",
      eventId: message.eventId,
      endpointId: "gone",
      attempt: 1,
      reason: `${new URL(peer.url).origin} answered HTTP 410 Gone at attempt 1 (Standard Webhooks: stop sending)`,
    });
    expect(endpointState.reasons().has("gone")).toBe(true);
    expect(sender.sent).toEqual([]);

    expect(await deliverNotification(message, deps)).toEqual({
      status: "skipped_disabled",
      eventId: message.eventId,
      endpointId: "gone",
    });
    expect(peer.requests).toHaveLength(1);
  });

  it("schedules the next attempt after the Retry-After of a 503", async () => {
    const peer = await scripted({ status: 503, headers: { "retry-after": "120" } });
    const { deps, sender, clock } = setup([{ id: "busy", url: peer.url }]);
    const message = perEndpoint(protectedEvent, "busy", clock);

    const outcome = await deliverNotification(message, deps);

    expect(outcome).toEqual({
      status: "retry_scheduled",
      eventId: message.eventId,
      endpointId: "busy",
      attempt: 1,
      nextAttempt: 2,
      delaySeconds: 120,
      dueAt: "2026-01-01T00:02:00.000Z",
      lastFailure: {
        failure: "http",
        httpStatus: 503,
        message: `POST ${new URL(peer.url).origin} answered HTTP 503: only 2xx counts as delivered`,
      },
    });
    expect(sender.sent).toEqual([{ queue: "notify", delaySeconds: 120, body: { ...message, attempt: 2 } }]);
  });

  it("retries a timeout on the schedule", async () => {
    const peer = await scripted({ status: 200, hang: true });
    const { deps, sender, clock } = setup([{ id: "slow", url: peer.url }], { timeoutMs: 100 });
    const outcome = await deliverNotification(perEndpoint(protectedEvent, "slow", clock), deps);
    expect(outcome).toMatchObject({ status: "retry_scheduled", delaySeconds: 5, lastFailure: { failure: "timeout" } });
    expect(sender.sent.map((sent) => sent.delaySeconds)).toEqual([5]);
  });

  it("hops a wait longer than 900 s through the queue until due, then makes the attempt", async () => {
    const peer = await scripted({ status: 500 }, { status: 200 });
    const { deps, sender, clock } = setup([{ id: "flaky", url: peer.url }]);
    const start = clock.now();
    // Attempt 4 fails: the schedule's 4th wait is 2 h.
    const failed = await deliverNotification(perEndpoint(protectedEvent, "flaky", clock, 4), deps);
    expect(failed).toMatchObject({
      status: "retry_scheduled",
      nextAttempt: 5,
      delaySeconds: 7200,
      dueAt: "2026-01-01T02:00:00.000Z",
    });

    const statuses: DeliveryOutcome["status"][] = [];
    const delays: Array<number | undefined> = [];
    for (let next = sender.take()[0]; next !== undefined; next = sender.take()[0]) {
      delays.push(next.delaySeconds);
      clock.advance((next.delaySeconds ?? 0) * 1000);
      statuses.push((await deliverNotification(parseNotificationMessage(next.body), deps)).status);
    }

    expect(delays).toEqual([900, 900, 900, 900, 900, 900, 900, 900]);
    expect(statuses).toEqual([...Array(7).fill("not_due"), "delivered"]);
    expect(clock.now() - start).toBe(7200 * 1000);
    expect(peer.requests).toHaveLength(2);
  });

  it("declares the message dead after the last attempt, with the message for the dead-letter queue", async () => {
    const peer = await scripted({ status: 500 });
    const { deps, sender, clock } = setup([{ id: "down", url: peer.url }], { schedule: [1, 2] });
    let message: NotificationMessage | undefined = perEndpoint(protectedEvent, "down", clock);
    const outcomes: DeliveryOutcome[] = [];
    while (message !== undefined) {
      outcomes.push(await deliverNotification(message, deps));
      const next = sender.take()[0];
      if (next !== undefined) clock.advance((next.delaySeconds ?? 0) * 1000);
      message = next === undefined ? undefined : parseNotificationMessage(next.body);
    }
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["retry_scheduled", "retry_scheduled", "dead"]);
    expect(outcomes.at(-1)).toMatchObject({
      status: "dead",
      endpointId: "down",
      attempts: 3,
      lastFailure: { failure: "http", httpStatus: 500 },
      message: { attempt: 3, endpointId: "down" },
    });
    expect(peer.requests).toHaveLength(3);
    expect(JSON.stringify(outcomes)).not.toContain(SECRET.slice("whsec_".length));
  });

  it("skips an endpoint removed from configuration or no longer subscribed to the type", async () => {
    const { deps, clock } = setup([
      { id: "requests-only", url: "https://example.com/", eventTypes: ["onboarding_request.completed"] },
    ]);
    expect(await deliverNotification(perEndpoint(protectedEvent, "removed", clock), deps)).toMatchObject({
      status: "skipped_unsubscribed",
      endpointId: "removed",
    });
    expect(await deliverNotification(perEndpoint(protectedEvent, "requests-only", clock), deps)).toMatchObject({
      status: "skipped_unsubscribed",
      endpointId: "requests-only",
    });
  });

  it("stops hopping a waiting retry once its endpoint is disabled", async () => {
    const { deps, sender, clock, endpointState } = setup([{ id: "later", url: "https://example.com/" }]);
    await endpointState.disable("later", "HTTP 410");
    const waiting = { ...perEndpoint(protectedEvent, "later", clock, 5), notBefore: "2026-01-01T05:00:00.000Z" };
    expect(await deliverNotification(waiting, deps)).toMatchObject({ status: "skipped_disabled" });
    expect(sender.sent).toEqual([]);
  });
});
