/**
 * Delivering a notification message from the `notify` queue.
 *
 * A message without `endpointId` fans out: one queue message per matching, enabled endpoint (and one SNS
 * publish), so a slow or failing endpoint never delays another and each retries on its own schedule.
 * A message with `endpointId` makes one signed attempt and, on failure, re-enqueues itself for the next
 * attempt. SQS delays a message at most 900 s, so a longer wait travels as `notBefore` and hops through the
 * queue in ≤ 900 s steps until due.
 */
import type { Clock } from "../clock.ts";
import { endpointSubscribes, redactUrl, type WebhookEndpoint } from "./endpoints.ts";
import type { NotificationEvent, NotificationMessage } from "./events.ts";
import { type AttemptResult, postWebhook } from "./webhook.ts";

/** Standard Webhooks' example schedule after the immediate first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400,
];
/** SQS: DelaySeconds is 0–900. */
export const MAX_QUEUE_DELAY_SECONDS = 900;
/** Each scheduled wait varies by up to ±10 % so endpoints that failed together do not retry together. */
export const DEFAULT_JITTER_RATIO = 0.1;
/** A receiver's Retry-After is honoured up to one day. */
export const DEFAULT_MAX_RETRY_AFTER_SECONDS = 86_400;

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/** The slice of lib/queue's QueueSender the dispatcher uses. */
export interface NotificationQueueSender {
  send(queue: "notify", body: unknown, options?: { delaySeconds?: number }): Promise<void>;
}

/** Endpoints switched off at runtime (HTTP 410), kept in the state store. */
export interface EndpointState {
  isDisabled(endpointId: string): Promise<boolean>;
  disable(endpointId: string, reason: string): Promise<void>;
}

export interface NotificationPublisher {
  publish(event: NotificationEvent, eventId: string): Promise<void>;
}

export interface DispatcherDeps {
  endpoints: readonly WebhookEndpoint[];
  sender: NotificationQueueSender;
  endpointState: EndpointState;
  sns?: NotificationPublisher;
  /** Decides when a retry is due (`notBefore`). */
  clock: Clock;
  fetch?: typeof fetch;
  /** Waits after attempt 1, 2, …; its length + 1 is the number of attempts. */
  schedule?: readonly number[];
  /** [0, 1); default Math.random. */
  random?: () => number;
  jitterRatio?: number;
  maxRetryAfterSeconds?: number;
  timeoutMs?: number;
  userAgent?: string;
  /**
   * The time written into `webhook-timestamp`. Default: the wall clock, because receivers check it against
   * theirs (±5 min in the reference library) — a scaled or manual `clock` would make them reject it.
   */
  signingClock?: Clock;
}

/** In-process endpoint state for the local runtime and tests; the cloud keeps it in the state store. */
export function createInMemoryEndpointState(): EndpointState & { reasons(): ReadonlyMap<string, string> } {
  const disabled = new Map<string, string>();
  return {
    isDisabled: async (endpointId) => disabled.has(endpointId),
    disable: async (endpointId, reason) => {
      disabled.set(endpointId, reason);
    },
    reasons: () => new Map(disabled),
  };
}

// ---------------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------------

export interface DeliveryFailure {
  failure: "http" | "timeout" | "network";
  httpStatus?: number;
  message: string;
}

export type DeliveryOutcome =
  | { status: "delivered"; eventId: string; endpointId: string; attempt: number; httpStatus: number }
  /** Attempt `attempt` failed; attempt `nextAttempt` is queued to run `delaySeconds` from now (at `dueAt`). */
  | {
      status: "retry_scheduled";
      eventId: string;
      endpointId: string;
      attempt: number;
      nextAttempt: number;
      delaySeconds: number;
      dueAt: string;
      lastFailure: DeliveryFailure;
    }
  /** Received before its `notBefore`: re-enqueued for min(remaining, 900 s). */
  | { status: "not_due"; eventId: string; endpointId?: string; delaySeconds: number; notBefore: string }
  | { status: "fanned_out"; eventId: string; endpointIds: string[]; skippedDisabled: string[]; publishedToSns: boolean }
  /** The endpoint answered 410 Gone and is now disabled. */
  | { status: "disabled"; eventId: string; endpointId: string; attempt: number; reason: string }
  | { status: "skipped_disabled"; eventId: string; endpointId: string }
  /** The endpoint was removed from configuration, or no longer subscribes to this event type. */
  | { status: "skipped_unsubscribed"; eventId: string; endpointId: string }
  /** No attempts left: the caller sends `message` to the dead-letter queue (or records it). */
  | {
      status: "dead";
      eventId: string;
      endpointId: string;
      attempts: number;
      lastFailure: DeliveryFailure;
      message: NotificationMessage;
    };

// ---------------------------------------------------------------------------------------------
// Retry planning (pure)
// ---------------------------------------------------------------------------------------------

export interface RetryPolicy {
  schedule: readonly number[];
  random: () => number;
  jitterRatio: number;
  maxRetryAfterSeconds: number;
}

export type RetryPlan = { kind: "retry"; delaySeconds: number } | { kind: "dead" };

/** After failed attempt `attempt` (1-based): the wait before the next one, or dead when the schedule is spent. */
export function planRetry(attempt: number, retryAfterSeconds: number | undefined, policy: RetryPolicy): RetryPlan {
  const base = policy.schedule[attempt - 1];
  if (base === undefined) return { kind: "dead" };
  if (retryAfterSeconds !== undefined)
    return { kind: "retry", delaySeconds: Math.min(retryAfterSeconds, policy.maxRetryAfterSeconds) };
  const jitter = base * policy.jitterRatio * (2 * policy.random() - 1);
  return { kind: "retry", delaySeconds: Math.max(0, Math.round(base + jitter)) };
}

/** How to put a message back for a wait of `waitSeconds`: SQS carries at most 900 s, `notBefore` the rest. */
export function scheduleAfter(waitSeconds: number, nowMs: number): { delaySeconds: number; notBefore?: string } {
  if (waitSeconds <= MAX_QUEUE_DELAY_SECONDS) return { delaySeconds: waitSeconds };
  return { delaySeconds: MAX_QUEUE_DELAY_SECONDS, notBefore: new Date(nowMs + waitSeconds * 1000).toISOString() };
}

/** Whole seconds until `notBefore` (0 when due). Rounded up so a hop never lands before it. */
export function secondsUntil(notBefore: string | undefined, nowMs: number): number {
  if (notBefore === undefined) return 0;
  return Math.max(0, Math.ceil((Date.parse(notBefore) - nowMs) / 1000));
}

export function parseRetrySchedule(text: string): number[] {
  const units: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 };
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const match = /^(\d+)([smhd]?)$/.exec(part);
      const unit = match === null ? undefined : units[match[2] ?? ""];
      if (match === null || unit === undefined) {
        throw new RangeError(
          `retry schedule: "${part}" must be a whole number of seconds or a duration like 5s, 5m, 2h, 1d`,
        );
      }
      return Number(match[1]) * unit;
    });
}

// ---------------------------------------------------------------------------------------------
// Delivery (the shell)
// ---------------------------------------------------------------------------------------------

function policyOf(deps: DispatcherDeps): RetryPolicy {
  return {
    schedule: deps.schedule ?? DEFAULT_RETRY_SCHEDULE_SECONDS,
    random: deps.random ?? Math.random,
    jitterRatio: deps.jitterRatio ?? DEFAULT_JITTER_RATIO,
    maxRetryAfterSeconds: deps.maxRetryAfterSeconds ?? DEFAULT_MAX_RETRY_AFTER_SECONDS,
  };
}

function failureOf(result: Extract<AttemptResult, { result: "failed" }>): DeliveryFailure {
  return {
    failure: result.failure,
    ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
    message: result.message,
  };
}

async function fanOut(message: NotificationMessage, deps: DispatcherDeps): Promise<DeliveryOutcome> {
  const endpointIds: string[] = [];
  const skippedDisabled: string[] = [];
  for (const endpoint of deps.endpoints) {
    if (!endpointSubscribes(endpoint, message.event.type)) continue;
    if (endpoint.enabled === false || (await deps.endpointState.isDisabled(endpoint.id)))
      skippedDisabled.push(endpoint.id);
    else endpointIds.push(endpoint.id);
  }
  // SNS first: if it throws, nothing is queued yet and the redelivered fan-out starts clean. Both channels
  // are at-least-once; the stable event id lets subscribers drop repeats.
  if (deps.sns !== undefined) await deps.sns.publish(message.event, message.eventId);
  for (const endpointId of endpointIds) {
    const perEndpoint: NotificationMessage = {
      eventId: message.eventId,
      event: message.event,
      endpointId,
      attempt: message.attempt,
      firstAttemptAt: message.firstAttemptAt,
    };
    await deps.sender.send("notify", perEndpoint, { delaySeconds: 0 });
  }
  return {
    status: "fanned_out",
    eventId: message.eventId,
    endpointIds,
    skippedDisabled,
    publishedToSns: deps.sns !== undefined,
  };
}

async function deliverToEndpoint(
  message: NotificationMessage,
  endpointId: string,
  deps: DispatcherDeps,
): Promise<DeliveryOutcome> {
  const { eventId, attempt } = message;
  const endpoint = deps.endpoints.find((candidate) => candidate.id === endpointId);
  if (endpoint === undefined || !endpointSubscribes(endpoint, message.event.type)) {
    return { status: "skipped_unsubscribed", eventId, endpointId };
  }
  if (endpoint.enabled === false || (await deps.endpointState.isDisabled(endpointId))) {
    return { status: "skipped_disabled", eventId, endpointId };
  }

  const result = await postWebhook(
    endpoint,
    {
      eventId,
      payload: JSON.stringify(message.event),
      timestamp: new Date((deps.signingClock ?? { now: Date.now }).now()),
    },
    {
      ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
      ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}),
      ...(deps.userAgent !== undefined ? { userAgent: deps.userAgent } : {}),
    },
  );

  if (result.result === "delivered")
    return { status: "delivered", eventId, endpointId, attempt, httpStatus: result.httpStatus };
  if (result.result === "gone") {
    const reason = `${redactUrl(endpoint.url)} answered HTTP 410 Gone at attempt ${attempt} (Standard Webhooks: stop sending)`;
    await deps.endpointState.disable(endpointId, reason);
    return { status: "disabled", eventId, endpointId, attempt, reason };
  }

  const lastFailure = failureOf(result);
  const plan = planRetry(attempt, result.retryAfterSeconds, policyOf(deps));
  if (plan.kind === "dead") return { status: "dead", eventId, endpointId, attempts: attempt, lastFailure, message };

  const now = deps.clock.now();
  const { delaySeconds, notBefore } = scheduleAfter(plan.delaySeconds, now);
  const next: NotificationMessage = {
    eventId,
    event: message.event,
    endpointId,
    attempt: attempt + 1,
    firstAttemptAt: message.firstAttemptAt,
    ...(notBefore !== undefined ? { notBefore } : {}),
  };
  await deps.sender.send("notify", next, { delaySeconds });
  return {
    status: "retry_scheduled",
    eventId,
    endpointId,
    attempt,
    nextAttempt: attempt + 1,
    delaySeconds: plan.delaySeconds,
    dueAt: new Date(now + plan.delaySeconds * 1000).toISOString(),
    lastFailure,
  };
}

/**
 * Handle one `notify` queue message. Throws only when the queue, the endpoint state or SNS throws (the
 * caller lets the queue redeliver); every webhook result is an outcome. `dead` asks the caller to move the
 * message to the dead-letter queue or record it.
 */
export async function deliverNotification(
  message: NotificationMessage,
  deps: DispatcherDeps,
): Promise<DeliveryOutcome> {
  const waitSeconds = secondsUntil(message.notBefore, deps.clock.now());
  if (waitSeconds > 0 && message.notBefore !== undefined) {
    if (message.endpointId !== undefined && (await deps.endpointState.isDisabled(message.endpointId))) {
      return { status: "skipped_disabled", eventId: message.eventId, endpointId: message.endpointId };
    }
    const delaySeconds = Math.min(waitSeconds, MAX_QUEUE_DELAY_SECONDS);
    await deps.sender.send("notify", message, { delaySeconds });
    return {
      status: "not_due",
      eventId: message.eventId,
      ...(message.endpointId !== undefined ? { endpointId: message.endpointId } : {}),
      delaySeconds,
      notBefore: message.notBefore,
    };
  }
  if (message.endpointId === undefined) return fanOut(message, deps);
  return deliverToEndpoint(message, message.endpointId, deps);
}
