/**
 * The records the pipeline keeps in the VersionedStore, one zod schema per kind: validated on write and on
 * read by the repositories (lib/state/repository.ts), their types inferred from the schemas.
 */
import * as z from "zod";
import { jobKind, requestSource, serverRecordStatus } from "./statuses.ts";

const isoDateTime = z.iso.datetime({ offset: true });
const nonEmpty = z.string().min(1);

/** Why a server is not (yet) protected, or what to watch: `code` for programs, `message`/`remedy` for people. */
export const outcomeReason = z.object({
  code: nonEmpty,
  message: z.string(),
  remedy: z.string().optional(),
  /** The SDRS error code behind the reason, when the cloud gave one (e.g. SDRS.1305). */
  sdrsCode: z.string().optional(),
});
export type OutcomeReason = z.infer<typeof outcomeReason>;

export const serverRecord = z.object({
  serverId: nonEmpty,
  /** The configured protection target the server was requested for. */
  target: nonEmpty,
  /** The protection group (SDRS server_group_id) chosen for it. */
  groupId: nonEmpty.optional(),
  status: serverRecordStatus,
  /** Every request that asked for this server, oldest first, without repeats. */
  requestIds: z.array(nonEmpty),
  jobId: nonEmpty.optional(),
  protectedInstanceId: nonEmpty.optional(),
  reasons: z.array(outcomeReason),
  warnings: z.array(outcomeReason),
  /**
   * Create attempts of the current round (claims that may have reached a create call): counted by the claim
   * itself, given back when the call was refused before being applied (throttled), reset by a new round.
   */
  attempts: z.number().int().nonnegative(),
  createdAt: isoDateTime,
  /** Stamped by the repository on every write. */
  updatedAt: isoDateTime,
  /** The outcome already notified (e.g. "protected"), so a redelivered message does not notify twice. */
  notified: z.string().optional(),
  /** The event id of that notification, named by a `server.outcome_corrected` that supersedes it. */
  notifiedEventId: z.string().optional(),
});
export type ServerRecord = z.infer<typeof serverRecord>;

export const requestRecord = z.object({
  requestId: nonEmpty,
  target: nonEmpty,
  source: requestSource,
  idempotencyKey: nonEmpty.optional(),
  serverIds: z.array(nonEmpty),
  /** DR-site flavor per server id, when the request chose one. */
  flavorRefs: z.record(z.string(), nonEmpty).optional(),
  /** The entries the request refused (listed twice), with their position: a replay answers them again. */
  refusedEntries: z.array(z.object({ index: z.number().int().nonnegative(), serverId: nonEmpty, reason: nonEmpty })).optional(),
  createdAt: isoDateTime,
  /** Every accepted server's intent is on the queue. Unset: recorded but not (fully) enqueued yet. */
  enqueuedAt: isoDateTime.optional(),
  /** The enqueue failed (the caller got an error): a retry with the same key finishes at once. */
  enqueueFailedAt: isoDateTime.optional(),
  completedAt: isoDateTime.optional(),
  /** Servers per final status, e.g. { protected: 3, ineligible: 1 }. */
  counts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /**
   * Each server's outcome for this request, fixed when the request completed: a later verdict for another
   * target (a retag) changes the server's record, not this request's answer.
   */
  outcomes: z
    .array(z.object({ serverId: nonEmpty, outcome: nonEmpty, protectedInstanceId: nonEmpty.optional(), codes: z.array(nonEmpty).optional() }))
    .optional(),
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
  checks: z.number().int().nonnegative(),
  finishedAt: isoDateTime.optional(),
  errorCode: z.string().optional(),
  failReason: z.string().optional(),
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
export const idempotencyRecord = z.object({ key: nonEmpty, requestId: nonEmpty, fingerprint: nonEmpty.optional(), createdAt: isoDateTime });
export type IdempotencyRecord = z.infer<typeof idempotencyRecord>;

export const endpointRecord = z.object({
  endpointId: nonEmpty,
  disabled: z.boolean(),
  reason: z.string().optional(),
  disabledAt: isoDateTime.optional(),
});
export type EndpointRecord = z.infer<typeof endpointRecord>;

/** Learned SDRS job durations for one job kind and batch size: the last samples, oldest first. */
export const statsRecord = z.object({
  statsId: nonEmpty,
  kind: jobKind,
  size: z.number().int().positive(),
  samplesMs: z.array(z.number().nonnegative()),
});
export type StatsRecord = z.infer<typeof statsRecord>;

/** A server's last coverage verdict (docs/coverage.md); `change` counts changes, `notified` the last one sent. */
export const coverageRecord = z.object({
  serverId: nonEmpty,
  /** coverageFingerprint of the gaps; "" when fully covered. */
  fingerprint: z.string(),
  codes: z.array(z.string()),
  change: z.number().int().nonnegative(),
  notified: z.number().int().nonnegative(),
  /** The notification of change number `change`, kept until it is sent (a crash before the send resends it). */
  pendingEvent: z.unknown().optional(),
  updatedAt: isoDateTime,
});
export type CoverageRecord = z.infer<typeof coverageRecord>;
