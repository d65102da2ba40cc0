import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { parseWebhookEndpoints } from "../../lib/notify/endpoints.ts";
import { notificationEventId } from "../../lib/notify/events.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../lib/notify/receiver.ts";
import { classifyResponse, postWebhook, signWebhook, WEBHOOK_USER_AGENT } from "../../lib/notify/webhook.ts";
import { OTHER_SECRET, protectedEvent, type ScriptedEndpoint, SECRET, startScriptedEndpoint } from "./helpers.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function receiver(options: Partial<Parameters<typeof startWebhookReceiver>[0]> = {}): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver({ secret: SECRET, ...options });
  cleanups.push(() => started.close());
  return started;
}

async function scripted(...script: Parameters<typeof startScriptedEndpoint>[0]): Promise<ScriptedEndpoint> {
  const started = await startScriptedEndpoint(script);
  cleanups.push(() => started.close());
  return started;
}

const endpointFor = (url: string, secret = SECRET) => {
  const [endpoint] = parseWebhookEndpoints([{ id: "local", url, secret }], { allowLoopbackHttp: true });
  if (endpoint === undefined) throw new Error("no endpoint");
  return endpoint;
};

const payload = JSON.stringify(protectedEvent);
const eventId = notificationEventId(protectedEvent);

describe("signing (Standard Webhooks)", () => {
  it("reproduces the published Standard Webhooks test vector", () => {
    const headers = signWebhook(SECRET, {
      eventId: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: new Date(1614265330 * 1000),
      payload: '{"test": 2432232314}',
    });
    expect(headers).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
  });

  it("round-trips through the reference verifier, and a tampered body, id or timestamp is rejected", () => {
    const headers = signWebhook(SECRET, { eventId, timestamp: new Date(), payload });
    const verifier = new Webhook(SECRET);
    expect(verifier.verify(payload, headers)).toEqual(protectedEvent);

    const tampered = payload.replace("pi-0001", "pi-0666");
    expect(() => verifier.verify(tampered, headers)).toThrow(WebhookVerificationError);
    expect(() => verifier.verify(payload, { ...headers, "webhook-id": `${eventId}x` })).toThrow(
      "No matching signature found",
    );
    const shifted = String(Number(headers["webhook-timestamp"]) - 1);
    expect(() => verifier.verify(payload, { ...headers, "webhook-timestamp": shifted })).toThrow(
      "No matching signature found",
    );
    expect(() => new Webhook(OTHER_SECRET).verify(payload, headers)).toThrow("No matching signature found");
  });
});

describe("classifying a response", () => {
  const now = Date.UTC(2026, 0, 1);
  it.each([
    [200, null, { result: "delivered", httpStatus: 200 }],
    [204, null, { result: "delivered", httpStatus: 204 }],
    [410, null, { result: "gone", httpStatus: 410 }],
    [503, "120", { result: "failed", failure: "http", httpStatus: 503, retryAfterSeconds: 120 }],
    [
      429,
      "Thu, 01 Jan 2026 00:01:30 GMT",
      { result: "failed", failure: "http", httpStatus: 429, retryAfterSeconds: 90 },
    ],
    [500, "soon", { result: "failed", failure: "http", httpStatus: 500 }],
    [301, null, { result: "failed", failure: "http", httpStatus: 301 }],
    [400, null, { result: "failed", failure: "http", httpStatus: 400 }],
    [404, null, { result: "failed", failure: "http", httpStatus: 404 }],
  ] as const)("HTTP %i (Retry-After %s) → %o", (status, retryAfter, expected) => {
    expect(classifyResponse(status, retryAfter, now, "https://example.com")).toMatchObject(expected);
  });

  it("explains a redirect as a failure by rule, naming only the origin", () => {
    expect(classifyResponse(302, null, now, "https://example.com")).toMatchObject({
      message:
        "POST https://example.com answered HTTP 302: redirects are not followed (Standard Webhooks: 3xx is a failure)",
    });
  });

  it("takes Retry-After in whole seconds, rounding a date's fraction up, and ignores an unusable one", () => {
    expect(classifyResponse(429, " 30 ", now, "https://example.com")).toMatchObject({ retryAfterSeconds: 30 });
    expect(classifyResponse(503, "Thu, 01 Jan 2026 00:00:10 GMT", now + 500, "https://example.com")).toMatchObject({
      retryAfterSeconds: 10,
    });
    expect(classifyResponse(503, "Wed, 31 Dec 2025 23:00:00 GMT", now, "https://example.com")).toMatchObject({
      retryAfterSeconds: 0,
    });
    expect(classifyResponse(503, "-5", now, "https://example.com")).not.toHaveProperty("retryAfterSeconds");
  });
});

describe("posting a webhook", () => {
  it("delivers to the local receiver, which verifies it and records the event", async () => {
    const local = await receiver();
    const result = await postWebhook(endpointFor(local.url), { eventId, payload, timestamp: new Date() });
    expect(result).toEqual({ result: "delivered", httpStatus: 200 });
    expect(local.events().map((received) => [received.webhookId, received.event])).toEqual([[eventId, protectedEvent]]);
  });

  it("sends the Standard Webhooks headers, content type and user agent, and the exact signed body", async () => {
    const peer = await scripted({ status: 204 });
    const timestamp = new Date(Date.UTC(2026, 0, 1, 12));
    await postWebhook(endpointFor(peer.url), { eventId, payload, timestamp });
    const [request] = peer.requests;
    expect(request?.method).toBe("POST");
    expect(request?.body).toBe(payload);
    expect(request?.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": WEBHOOK_USER_AGENT,
      ...signWebhook(SECRET, { eventId, payload, timestamp }),
    });
  });

  it("does not follow a redirect", async () => {
    const target = await scripted({ status: 200 });
    const redirecting = await scripted({ status: 307, headers: { location: target.url } });
    const result = await postWebhook(endpointFor(redirecting.url), { eventId, payload, timestamp: new Date() });
    expect(result).toMatchObject({ result: "failed", failure: "http", httpStatus: 307 });
    expect(target.requests).toHaveLength(0);
  });

  it("reports a timeout and a refused connection as failures without the URL path", async () => {
    const silent = await scripted({ status: 200, hang: true });
    const timedOut = await postWebhook(
      endpointFor(`${silent.url}/token-in-path`),
      { eventId, payload, timestamp: new Date() },
      { timeoutMs: 150 },
    );
    expect(timedOut).toEqual({
      result: "failed",
      failure: "timeout",
      message: `POST ${new URL(silent.url).origin} timed out after 150 ms`,
    });

    const closed = await scripted({ status: 200 });
    await closed.close();
    const refused = await postWebhook(endpointFor(`${closed.url}/token-in-path`), {
      eventId,
      payload,
      timestamp: new Date(),
    });
    expect(refused).toEqual({
      result: "failed",
      failure: "network",
      message: `POST ${new URL(closed.url).origin} failed: ECONNREFUSED`,
    });
  });
});

describe("local receiver", () => {
  async function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
    const response = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });
    await response.body?.cancel();
    return response.status;
  }

  it("answers 401 to a bad signature, a wrong secret and a timestamp outside the 5-minute tolerance, recording nothing", async () => {
    const rejections: Array<{ httpStatus: number; reason: string }> = [];
    const local = await receiver({ onRejected: (rejection) => rejections.push(rejection) });
    const now = new Date();
    const good = signWebhook(SECRET, { eventId, payload, timestamp: now });
    expect(await post(local.url, payload.replace("web-01", "web-02"), good)).toBe(401);
    expect(await post(local.url, payload, signWebhook(OTHER_SECRET, { eventId, payload, timestamp: now }))).toBe(401);
    const stale = new Date(now.getTime() - 6 * 60_000);
    expect(await post(local.url, payload, signWebhook(SECRET, { eventId, payload, timestamp: stale }))).toBe(401);
    expect(await post(local.url, payload, {})).toBe(401);
    expect(rejections.map((rejection) => rejection.reason)).toEqual([
      "No matching signature found",
      "No matching signature found",
      "Message timestamp too old",
      "Missing required headers",
    ]);
    expect(local.events()).toEqual([]);
  });

  it("acknowledges a duplicate webhook-id with 200 but records it once", async () => {
    const seen: string[] = [];
    const local = await receiver({ onEvent: (received) => void seen.push(received.webhookId) });
    const headers = signWebhook(SECRET, { eventId, payload, timestamp: new Date() });
    expect(await post(local.url, payload, headers)).toBe(200);
    expect(await post(local.url, payload, headers)).toBe(200);
    expect(local.events()).toHaveLength(1);
    expect(seen).toEqual([eventId]);
  });

  it("answers 500 when the event handler fails, so the sender retries, and records the retry", async () => {
    let failures = 1;
    const local = await receiver({
      onEvent: () => {
        if (failures-- > 0) throw new Error("disk full");
      },
    });
    const headers = signWebhook(SECRET, { eventId, payload, timestamp: new Date() });
    expect(await post(local.url, payload, headers)).toBe(500);
    expect(await post(local.url, payload, headers)).toBe(200);
    expect(local.events()).toHaveLength(1);
  });

  it("answers 400 to a verified body that is not a notification event", async () => {
    const local = await receiver();
    const body = JSON.stringify({ type: "server.renamed", timestamp: "2026-01-01T00:00:00Z", data: {} });
    expect(await post(local.url, body, signWebhook(SECRET, { eventId, payload: body, timestamp: new Date() }))).toBe(
      400,
    );
    expect(local.events()).toEqual([]);
  });

  it("refuses to start with a malformed secret, without echoing it", async () => {
    await expect(startWebhookReceiver({ secret: "whsec_c2hvcnQ=" })).rejects.toThrow(
      "secret: must decode to 24–64 bytes (Standard Webhooks), got 5",
    );
  });
});
