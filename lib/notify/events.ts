/**
 * What we tell the outside world, and the queue message that carries it.
 *
 * The payload follows the Standard Webhooks recommended envelope `{ type, timestamp, data }`; the same JSON
 * goes to webhook endpoints and to SNS. Every outcome has a stable event id (the `webhook-id` header and the
 * SNS `event_id` attribute), so a receiver can drop a second delivery of the same outcome.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import * as z from "../zod.ts";

// ---------------------------------------------------------------------------------------------
// Event payloads
// ---------------------------------------------------------------------------------------------

const nonEmpty = z.string().check(z.minLength(1, { error: "must not be empty" }));
const isoTimestamp = z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" });
const count = z.int().check(z.nonnegative());

/** Why a server cannot be protected (or not yet): the planner's reason, with the SDRS code it would have hit. */
export const eligibilityReason = z.object({
  code: nonEmpty,
  message: z.string(),
  remedy: z.string(),
  sdrsCode: z.optional(z.string()),
});
export type EligibilityReason = z.infer<typeof eligibilityReason>;

/** `target` is the protection target a server was tagged for (a target name such as `web`, or a protection group id). */
const serverSubject = {
  serverId: nonEmpty,
  serverName: z.optional(z.string()),
  target: nonEmpty,
};

export const serverProtectedData = z.object({
  ...serverSubject,
  protectionGroupId: nonEmpty,
  protectedInstanceId: nonEmpty,
  protectedInstanceName: z.optional(z.string()),
  jobId: nonEmpty,
  requestIds: z.array(nonEmpty),
  warnings: z.array(eligibilityReason),
});

export const serverProtectionFailedData = z.object({
  ...serverSubject,
  protectionGroupId: z.optional(z.string()),
  /** Absent when the create call itself was refused and no job exists. */
  jobId: z.optional(z.string()),
  /** The SDRS error code (job `error_code` or the API's refusal), when there is one. */
  errorCode: z.optional(z.string()),
  reason: z.string(),
  attempts: z.int().check(z.positive()),
  requestIds: z.array(nonEmpty),
});

export const serverIneligibleData = z.object({
  ...serverSubject,
  /** `deferred`: a transient state (server resizing, group starting…) — the pipeline retries on its own. */
  verdict: z.optional(z.enum(["ineligible", "deferred"])),
  reasons: z.array(eligibilityReason).check(z.minLength(1, { error: "an ineligible server has at least one reason" })),
  retryAfterSeconds: z.optional(count),
  requestIds: z.array(nonEmpty),
});

/** The job did not reach SUCCESS or FAIL before the overall timeout; reconciliation decides later. */
export const serverProtectionUnknownData = z.object({
  ...serverSubject,
  protectionGroupId: z.optional(z.string()),
  jobId: nonEmpty,
  reason: z.string(),
  requestIds: z.array(nonEmpty),
});

/**
 * A server told failed, ineligible or unknown for its requests turned out protected (a straggling job or
 * group check found its protected instance). It supersedes the event `previousEventId` names; no other
 * change of a notified outcome is ever sent.
 */
export const serverOutcomeCorrectedData = z.object({
  ...serverSubject,
  previousEventId: nonEmpty,
  status: z.literal("protected"),
  protectionGroupId: nonEmpty,
  protectedInstanceId: nonEmpty,
  jobId: nonEmpty,
  requestIds: z.array(nonEmpty),
});

export const serverOutcome = z.enum(["protected", "failed", "ineligible", "unknown"]);
export type ServerOutcome = z.infer<typeof serverOutcome>;

export const onboardingRequestCompletedData = z
  .object({
    requestId: nonEmpty,
    target: nonEmpty,
    counts: z.object({ protected: count, failed: count, ineligible: count, unknown: count, total: count }),
    servers: z.array(
      z.object({
        serverId: nonEmpty,
        outcome: serverOutcome,
        protectedInstanceId: z.optional(z.string()),
        /** The error code (failed) or the reason codes (ineligible). */
        codes: z.optional(z.array(z.string())),
      }),
    ),
    /** Servers left out of `servers` to keep a bulk request's payload small (SNS takes at most 256 KB). */
    serversOmitted: z.optional(count),
  })
  .check(
    z.superRefine((data, ctx) => {
      const { counts } = data;
      const sum = counts.protected + counts.failed + counts.ineligible + counts.unknown;
      if (sum !== counts.total) {
        ctx.addIssue({
          code: "custom",
          path: ["counts", "total"],
          message: `must equal protected + failed + ineligible + unknown (${sum}), got ${counts.total}`,
        });
      }
      const listed = data.servers.length + (data.serversOmitted ?? 0);
      if (listed !== counts.total) {
        ctx.addIssue({
          code: "custom",
          path: ["servers"],
          message: `servers (${data.servers.length}) + serversOmitted (${data.serversOmitted ?? 0}) must equal counts.total (${counts.total})`,
        });
      }
    }),
  );

export const protectionEnabledData = z.object({
  protectionGroupId: nonEmpty,
  jobId: nonEmpty,
  target: z.optional(z.string()),
});

/** A server's coverage changed (docs/coverage.md): its gaps now, and the running number of the change. */
export const coverageChangeData = z.object({
  serverId: nonEmpty,
  serverName: z.optional(z.string()),
  /** The protect tag's value; null when the server carries none (COVERAGE_UNTAGGED_BUT_PROTECTED). */
  target: z.nullable(z.string()),
  protectedInstanceId: z.optional(z.string()),
  protectionGroupId: z.optional(z.string()),
  state: z.enum(["fully", "partially", "not"]),
  disksAttached: count,
  disksReplicated: count,
  gaps: z.array(
    z.object({
      code: nonEmpty,
      message: z.string(),
      remedy: z.string(),
      volumeId: z.optional(z.string()),
      device: z.optional(z.string()),
      sizeGb: z.optional(count),
      replicationPairId: z.optional(z.string()),
      faultLevel: z.optional(z.string()),
    }),
  ),
  /** The gap codes before this change (empty when the server was fully covered). */
  previousCodes: z.array(z.string()),
  /** 1 for the first change seen for this server, +1 for each later one: part of the event id. */
  change: z.int().check(z.positive()),
});
export type CoverageChangeData = z.infer<typeof coverageChangeData>;

function envelope<Type extends string, Data extends z.ZodMiniType>(type: Type, data: Data) {
  return z.object({ type: z.literal(type), timestamp: isoTimestamp, data });
}

export const notificationEvent = z.discriminatedUnion("type", [
  envelope("server.protected", serverProtectedData),
  envelope("server.protection_failed", serverProtectionFailedData),
  envelope("server.ineligible", serverIneligibleData),
  envelope("server.protection_unknown", serverProtectionUnknownData),
  envelope("server.outcome_corrected", serverOutcomeCorrectedData),
  envelope("onboarding_request.completed", onboardingRequestCompletedData),
  envelope("protection_group.protection_enabled", protectionEnabledData),
  envelope("server.coverage_degraded", coverageChangeData),
  envelope("server.coverage_restored", coverageChangeData),
]);
export type NotificationEvent = z.infer<typeof notificationEvent>;
export type NotificationEventType = NotificationEvent["type"];

export const NOTIFICATION_EVENT_TYPES: readonly NotificationEventType[] = [
  "server.protected",
  "server.protection_failed",
  "server.ineligible",
  "server.protection_unknown",
  "server.outcome_corrected",
  "onboarding_request.completed",
  "protection_group.protection_enabled",
  "server.coverage_degraded",
  "server.coverage_restored",
];

// ---------------------------------------------------------------------------------------------
// Stable event ids
// ---------------------------------------------------------------------------------------------

const BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let text = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) text += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return text;
}

/**
 * `msg_` + base32 of sha256 over the parts. The parts are hashed as a JSON array so ["a,b"] and ["a", "b"]
 * never collide. Standard Webhooks: the id is the receiver's idempotency key, so it must not change between
 * retries of one outcome.
 */
export function stableEventId(parts: readonly string[]): string {
  const digest = createHash("sha256").update(JSON.stringify(parts)).digest();
  return `msg_${base32(digest)}`;
}

/** What an event is about: a server, an onboarding request or a protection group, and its id. */
export interface EventSubject {
  kind: "server" | "request" | "protection-group";
  id: string;
}

/** What the event is about, as kind and id. */
export function eventSubjectOf(event: NotificationEvent): EventSubject {
  switch (event.type) {
    case "server.protected":
    case "server.protection_failed":
    case "server.ineligible":
    case "server.protection_unknown":
    case "server.coverage_degraded":
    case "server.coverage_restored":
    case "server.outcome_corrected":
      return { kind: "server", id: event.data.serverId };
    case "onboarding_request.completed":
      return { kind: "request", id: event.data.requestId };
    case "protection_group.protection_enabled":
      return { kind: "protection-group", id: event.data.protectionGroupId };
  }
}

/** What the event is about, as one string: `server/<id>`, `request/<id>` or `protection-group/<id>`. */
export function eventSubject(event: NotificationEvent): string {
  const { kind, id } = eventSubjectOf(event);
  return `${kind}/${id}`;
}

const sorted = (values: readonly string[]) => [...values].sort();

/**
 * The event's id: type + subject + what identifies this outcome. The timestamp is left out on purpose, so
 * re-emitting the same outcome (a retried Lambda, a replayed job check) yields the same id.
 */
export function notificationEventId(event: NotificationEvent): string {
  const subject = eventSubject(event);
  switch (event.type) {
    case "server.protected":
      return stableEventId([event.type, subject, event.data.protectedInstanceId]);
    case "server.protection_failed":
      return stableEventId([
        event.type,
        subject,
        event.data.jobId ?? "",
        String(event.data.attempts),
        ...sorted(event.data.requestIds),
      ]);
    case "server.ineligible":
      return stableEventId([
        event.type,
        subject,
        event.data.verdict ?? "ineligible",
        ...sorted(event.data.reasons.map((reason) => reason.code)),
        "|",
        ...sorted(event.data.requestIds),
      ]);
    case "server.protection_unknown":
      return stableEventId([event.type, subject, event.data.jobId, ...sorted(event.data.requestIds)]);
    case "server.outcome_corrected":
      return stableEventId([event.type, subject, event.data.previousEventId, event.data.protectedInstanceId]);
    case "onboarding_request.completed":
      return stableEventId([event.type, subject]);
    case "protection_group.protection_enabled":
      return stableEventId([event.type, subject, event.data.jobId]);
    case "server.coverage_degraded":
    case "server.coverage_restored":
      return stableEventId([event.type, subject, String(event.data.change)]);
  }
}

// ---------------------------------------------------------------------------------------------
// Queue message
// ---------------------------------------------------------------------------------------------

export const notificationMessage = z.object({
  /** Stable per outcome; sent as `webhook-id`. */
  eventId: z.string().check(z.regex(/^msg_[a-z2-7]+$/, { error: "must be an id from stableEventId (msg_ + base32)" })),
  event: notificationEvent,
  /** Absent: fan out to every matching endpoint (and SNS). Present: deliver to this endpoint only. */
  endpointId: z.optional(z.string().check(z.minLength(1))),
  /** 1-based number of the delivery attempt this message makes. */
  attempt: z.int().check(z.positive()),
  firstAttemptAt: isoTimestamp,
  /** Not to be attempted before this time: SQS delays at most 900 s, so longer waits hop until due. */
  notBefore: z.optional(isoTimestamp),
});
export type NotificationMessage = z.infer<typeof notificationMessage>;

/** The first message for an event: fans out, attempt 1. */
export function newNotificationMessage(event: NotificationEvent, clock: Clock): NotificationMessage {
  const parsed = notificationEvent.parse(event);
  return {
    eventId: notificationEventId(parsed),
    event: parsed,
    attempt: 1,
    firstAttemptAt: new Date(clock.now()).toISOString(),
  };
}

/** A queue body (the JSON text or an already parsed value) → a typed message; throws a ZodError naming the field. */
export function parseNotificationMessage(body: unknown): NotificationMessage {
  return notificationMessage.parse(typeof body === "string" ? JSON.parse(body) : body);
}
