/**
 * One signed webhook delivery attempt, and what its result means.
 *
 * Standard Webhooks 1.0: headers `webhook-id`, `webhook-timestamp` (unix seconds), `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`); any 2xx is success, everything else a failure;
 * 410 Gone means the receiver wants no more deliveries; 429 / 5xx may say when to come back (`Retry-After`).
 * Signing uses the reference library (`standardwebhooks`), so our receivers and everyone else's agree.
 */
import { Webhook } from "standardwebhooks";
import { parseRetryAfter } from "../http/retry-after.ts";
import { redactUrl, type WebhookEndpoint, WebhookSecret } from "./endpoints.ts";

/** Standard Webhooks suggests a 15–30 s request timeout. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
export const WEBHOOK_USER_AGENT = "sdrs-autoprotect-webhooks/0.1.0";

export interface WebhookDelivery {
  /** Stable per outcome: the receiver's idempotency key. */
  eventId: string;
  /** The exact JSON text sent and signed. */
  payload: string;
  /** Attempt time. Receivers compare it with their own wall clock (the reference library allows ±5 min). */
  timestamp: Date;
}

export type WebhookSignatureHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

export function signWebhook(secret: WebhookSecret | string, delivery: WebhookDelivery): WebhookSignatureHeaders {
  const key = secret instanceof WebhookSecret ? secret.reveal() : secret;
  return {
    "webhook-id": delivery.eventId,
    "webhook-timestamp": String(Math.floor(delivery.timestamp.getTime() / 1000)),
    "webhook-signature": new Webhook(key).sign(delivery.eventId, delivery.timestamp, delivery.payload),
  };
}

// ---------------------------------------------------------------------------------------------
// Classifying a result (pure)
// ---------------------------------------------------------------------------------------------

export type AttemptResult =
  | { result: "delivered"; httpStatus: number }
  | { result: "gone"; httpStatus: 410 }
  | {
      result: "failed";
      failure: "http" | "timeout" | "network";
      httpStatus?: number;
      /** From `Retry-After`, when the receiver sent a usable one. */
      retryAfterSeconds?: number;
      /** For people and logs: names the endpoint by origin only, never the path, query or secret. */
      message: string;
    };

export function classifyResponse(
  httpStatus: number,
  retryAfter: string | null | undefined,
  nowMs: number,
  origin: string,
): AttemptResult {
  if (httpStatus >= 200 && httpStatus < 300) return { result: "delivered", httpStatus };
  if (httpStatus === 410) return { result: "gone", httpStatus };
  const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
  const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
  const rule =
    httpStatus >= 300 && httpStatus < 400
      ? "redirects are not followed (Standard Webhooks: 3xx is a failure)"
      : "only 2xx counts as delivered";
  return {
    result: "failed",
    failure: "http",
    httpStatus,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    message: `POST ${origin} answered HTTP ${httpStatus}: ${rule}`,
  };
}

/** The error's code (ECONNREFUSED, ENOTFOUND…) or class name: never its message, which may quote the full URL. */
function networkCode(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  for (const candidate of [cause, error]) {
    if (candidate instanceof Error) {
      const code = (candidate as Error & { code?: unknown }).code;
      if (typeof code === "string") return code;
    }
  }
  return cause instanceof Error ? cause.name : error instanceof Error ? error.name : "unknown error";
}

// ---------------------------------------------------------------------------------------------
// Sending (the shell)
// ---------------------------------------------------------------------------------------------

export interface WebhookSendOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  userAgent?: string;
}

/** POST one signed delivery; never throws for HTTP or network trouble: the result says what happened. */
export async function postWebhook(
  endpoint: WebhookEndpoint,
  delivery: WebhookDelivery,
  options: WebhookSendOptions = {},
): Promise<AttemptResult> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const origin = redactUrl(endpoint.url);
  let response: Response;
  try {
    response = await fetchFn(endpoint.url, {
      method: "POST",
      headers: {
        ...signWebhook(endpoint.secret, delivery),
        "content-type": "application/json",
        "user-agent": options.userAgent ?? WEBHOOK_USER_AGENT,
      },
      body: delivery.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
      return { result: "failed", failure: "timeout", message: `POST ${origin} timed out after ${timeoutMs} ms` };
    }
    return { result: "failed", failure: "network", message: `POST ${origin} failed: ${networkCode(error)}` };
  }
  // The body is not used; release the connection.
  await response.body?.cancel().catch(() => undefined);
  return classifyResponse(response.status, response.headers.get("retry-after"), Date.now(), origin);
}
