/**
 * The records the pipeline keeps in the VersionedStore, one zod schema per kind: validated on write and on
 * read by the repositories (lib/state/repository.ts), their types inferred from the schemas.
 */
import * as z from "../zod.ts";
import { jobKind, requestSource, serverRecordStatus } from "./statuses.ts";

const isoDateTime = z.iso.datetime({ offset: true });
const nonEmpty = z.string().check(z.minLength(1));

/** Why a server is not (yet) protected, or what to watch: `code` for programs, `message`/`remedy` for people. */
export const outcomeReason = z.object({
  code: nonEmpty,
  message: z.string(),
  remedy: z.optional(z.string()),
  /** The SDRS error code behind the reason, when the cloud gave one (e.g. SDRS.1305). */
  sdrsCode: z.optional(z.string()),
});
export type OutcomeReason = z.infer<typeof outcomeReason>;

export const serverRecord = z.object({
  serverId: nonEmpty,
  /** The configured protection target the server was requested for. */
  target: nonEmpty,
  /** The protection group (SDRS server_group_id) chosen for it. */
  groupId: z.optional(nonEmpty),
  status: serverRecordStatus,
  /** Every request that asked for this server, oldest first, without repeats. */
  requestIds: z.array(nonEmpty),
  jobId: z.optional(nonEmpty),
  protectedInstanceId: z.optional(nonEmpty),
  reasons: z.array(outcomeReason),
  warnings: z.array(outcomeReason),
  /**
   * Create attempts of the current round (claims that may have reached a create call): counted by the claim
   * itself, given back when the call was refused before being applied (throttled), reset by a new round.
   */
  attempts: z.int().check(z.nonnegative()),
  createdAt: isoDateTime,
  /** Stamped by the repository on every write. */
  updatedAt: isoDateTime,
  /** The outcome already notified (e.g. "protected"), so a redelivered message does not notify twice. */
  notified: z.optional(z.string()),
  /** The event id of that notification, named by a `server.outcome_corrected` that supersedes it. */
  notifiedEventId: z.optional(z.string()),
});
export type ServerRecord = z.infer<typeof serverRecord>;

export const requestRecord = z.object({
  requestId: nonEmpty,
  target: nonEmpty,
  source: requestSource,
  idempotencyKey: z.optional(nonEmpty),
  serverIds: z.array(nonEmpty),
  /** DR-site flavor per server id, when the request chose one. */
  flavorRefs: z.optional(z.record(z.string(), nonEmpty)),
  /** The entries the request refused (listed twice), with their position: a replay answers them again. */
  refusedEntries: z.optional(
    z.array(z.object({ index: z.int().check(z.nonnegative()), serverId: nonEmpty, reason: nonEmpty })),
  ),
  createdAt: isoDateTime,
  /** Every accepted server's intent is on the queue. Unset: recorded but not (fully) enqueued yet. */
  enqueuedAt: z.optional(isoDateTime),
  /** The enqueue failed (the caller got an error): a retry with the same key finishes at once. */
  enqueueFailedAt: z.optional(isoDateTime),
  completedAt: z.optional(isoDateTime),
  /** Servers per final status, e.g. { protected: 3, ineligible: 1 }. */
  counts: z.optional(z.record(z.string(), z.int().check(z.nonnegative()))),
  /**
   * Each server's outcome for this request, fixed when the request completed: a later verdict for another
   * target (a retag) changes the server's record, not this request's answer.
   */
  outcomes: z.optional(
    z.array(
      z.object({
        serverId: nonEmpty,
        outcome: nonEmpty,
        protectedInstanceId: z.optional(nonEmpty),
        codes: z.optional(z.array(nonEmpty)),
      }),
    ),
  ),
});
export type RequestRecord = z.infer<typeof requestRecord>;

export const jobRecordStatus = z.enum(["INIT", "RUNNING", "SUCCESS", "FAIL", "unknown"]);
export type JobRecordStatus = z.infer<typeof jobRecordStatus>;

export const jobRecord = z.object({
  jobId: nonEmpty,
  kind: jobKind,
  groupId: nonEmpty,
  target: nonEmpty,
  serverIds: z.array(nonEmpty),
  submittedAt: isoDateTime,
  status: jobRecordStatus,
  /** How many times the job status was queried. */
  checks: z.int().check(z.nonnegative()),
  finishedAt: z.optional(isoDateTime),
  errorCode: z.optional(z.string()),
  failReason: z.optional(z.string()),
});
export type JobRecord = z.infer<typeof jobRecord>;

/** An event id / CTS trace id already handled: dedupe of redelivered inventory events (expires by TTL). */
export const eventRecord = z.object({ eventId: nonEmpty, firstSeenAt: isoDateTime });
export type EventRecord = z.infer<typeof eventRecord>;

/**
 * An idempotency key, the request that owns it and the fingerprint of that request's canonical body
 * (expires after 24 h). Written once, never updated: whether the request was fully accepted is on the
 * request record (`enqueuedAt`).
 */
export const idempotencyRecord = z.object({
  key: nonEmpty,
  requestId: nonEmpty,
  fingerprint: z.optional(nonEmpty),
  createdAt: isoDateTime,
});
export type IdempotencyRecord = z.infer<typeof idempotencyRecord>;

export const endpointRecord = z.object({
  endpointId: nonEmpty,
  disabled: z.boolean(),
  reason: z.optional(z.string()),
  disabledAt: z.optional(isoDateTime),
});
export type EndpointRecord = z.infer<typeof endpointRecord>;

/** Learned SDRS job durations for one job kind and batch size: the last samples, oldest first. */
export const statsRecord = z.object({
  statsId: nonEmpty,
  kind: jobKind,
  size: z.int().check(z.positive()),
  samplesMs: z.array(z.number().check(z.nonnegative())),
});
export type StatsRecord = z.infer<typeof statsRecord>;

/** A server's last coverage verdict (docs/coverage.md); `change` counts changes, `notified` the last one sent. */
export const coverageRecord = z.object({
  serverId: nonEmpty,
  /** coverageFingerprint of the gaps; "" when fully covered. */
  fingerprint: z.string(),
  codes: z.array(z.string()),
  change: z.int().check(z.nonnegative()),
  notified: z.int().check(z.nonnegative()),
  /** The notification of change number `change`, kept until it is sent (a crash before the send resends it). */
  pendingEvent: z.optional(z.unknown()),
  updatedAt: isoDateTime,
});
export type CoverageRecord = z.infer<typeof coverageRecord>;
