/**
 * Typed repositories over the VersionedStore: one zod schema per record kind (validated on write and
 * on read), and the optimistic-concurrency loop (read version → mutate → conditional write → on
 * ConditionalWriteError re-read and retry) written once here so the pipeline never hand-rolls it.
 *
 * `claimServer` is the guard behind "never create two protected instances for one server": of any
 * number of concurrent claims on one server exactly one wins, because each is a conditional write on
 * the version it read.
 */
import * as z from "zod";
import { type Clock, systemClock } from "../clock.ts";
import { isReclaimableStatus, type JobKind, jobKind, requestSource, type ServerRecordStatus, serverRecordStatus } from "./statuses.ts";
import { ConditionalWriteError, type RecordKind, type VersionedStore } from "./store.ts";

const isoDateTime = z.iso.datetime({ offset: true });
const nonEmpty = z.string().min(1);

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(record)"}: ${issue.message}`)
    .join("; ");
}

/** A stored record does not match its schema (written by another version, or edited by hand). */
export class CorruptRecordError extends Error {
  readonly code = "CORRUPT_RECORD";
  readonly kind: RecordKind;
  readonly id: string;

  constructor(kind: RecordKind, id: string, detail: string) {
    super(`stored ${kind} record "${id}" is corrupt: ${detail}`);
    this.name = "CorruptRecordError";
    this.kind = kind;
    this.id = id;
  }
}

/** The pipeline tried to write a record that breaks its schema: a bug, refused before it is stored. */
export class InvalidRecordError extends Error {
  readonly code = "INVALID_RECORD";
  readonly kind: RecordKind;
  readonly id: string;

  constructor(kind: RecordKind, id: string, detail: string) {
    super(`refusing to write ${kind} record "${id}": ${detail}`);
    this.name = "InvalidRecordError";
    this.kind = kind;
    this.id = id;
  }
}

export class RecordNotFoundError extends Error {
  readonly code = "RECORD_NOT_FOUND";
  readonly kind: RecordKind;
  readonly id: string;

  constructor(kind: RecordKind, id: string) {
    super(`no ${kind} record "${id}" to update`);
    this.name = "RecordNotFoundError";
    this.kind = kind;
    this.id = id;
  }
}

// ---------------------------------------------------------------------------------------------
// Generic repository
// ---------------------------------------------------------------------------------------------

export interface Versioned<T> {
  record: T;
  version: number;
  /** Epoch seconds (TTL), when the record expires. */
  expiresAt?: number;
}

/**
 * Computes the next record from the current one. Must be pure: it is re-run on a fresh read after a
 * lost race. Returning undefined (or an unchanged record) writes nothing; throwing aborts.
 */
export type Mutation<T> = (current: T) => T | undefined;

export interface UpdateOptions {
  /** Conditional-write attempts before the last ConditionalWriteError is thrown (default 5). */
  attempts?: number;
}

export interface Repository<T> {
  get(id: string): Promise<Versioned<T> | undefined>;
  getMany(ids: string[]): Promise<Map<string, Versioned<T>>>;
  /** Creates only if absent; throws ConditionalWriteError when a record exists. */
  create(record: T, options?: { expiresAt?: number }): Promise<Versioned<T>>;
  /** One conditional replace of the version the caller read; ConditionalWriteError if it changed. */
  replace(record: T, expectedVersion: number): Promise<Versioned<T>>;
  /** Read → mutate → conditional write, re-reading and re-running `mutate` after a lost race. */
  update(id: string, mutate: Mutation<T>, options?: UpdateOptions): Promise<Versioned<T>>;
  /** Runs `mutate` once on the record only if it is still at `expectedVersion`; no retry. */
  update(id: string, expectedVersion: number, mutate: Mutation<T>): Promise<Versioned<T>>;
  /** Like update, but `mutate` also sees an absent record (undefined) and may create it. */
  upsert(id: string, mutate: (current: T | undefined) => T | undefined, options?: UpdateOptions): Promise<Versioned<T> | undefined>;
  delete(id: string): Promise<void>;
  list(options?: { limit?: number; cursor?: string }): Promise<{ items: Versioned<T>[]; cursor?: string }>;
  /** Every record of the kind, page by page. */
  all(options?: { pageSize?: number }): AsyncIterable<Versioned<T>>;
}

interface RepositoryDefinition<T> {
  kind: RecordKind;
  schema: z.ZodType<T>;
  idOf: (record: T) => string;
  /** Applied to every record written by replace/update/upsert (e.g. stamp updatedAt). */
  beforeWrite?: (record: T) => T;
  /** Default conditional-write attempts of update/upsert (default 5). */
  attempts?: number;
}

const DEFAULT_ATTEMPTS = 5;

export function createRepository<T>(store: VersionedStore, definition: RepositoryDefinition<T>): Repository<T> {
  const { kind, schema, idOf } = definition;
  const beforeWrite = definition.beforeWrite ?? ((record: T) => record);
  const defaultAttempts = definition.attempts ?? DEFAULT_ATTEMPTS;

  function parseStored(id: string, stored: { value: unknown; version: number; expiresAt?: number }): Versioned<T> {
    const parsed = schema.safeParse(stored.value);
    if (!parsed.success) throw new CorruptRecordError(kind, id, describeIssues(parsed.error));
    if (idOf(parsed.data) !== id) {
      throw new CorruptRecordError(kind, id, `its id field says "${idOf(parsed.data)}"`);
    }
    const versioned: Versioned<T> = { record: parsed.data, version: stored.version };
    if (stored.expiresAt !== undefined) versioned.expiresAt = stored.expiresAt;
    return versioned;
  }

  function validated(id: string, record: T): T {
    const parsed = schema.safeParse(record);
    if (!parsed.success) throw new InvalidRecordError(kind, id, describeIssues(parsed.error));
    if (idOf(parsed.data) !== id) throw new InvalidRecordError(kind, id, `its id field says "${idOf(parsed.data)}"`);
    return parsed.data;
  }

  async function get(id: string): Promise<Versioned<T> | undefined> {
    const stored = await store.get(kind, id);
    return stored === undefined ? undefined : parseStored(id, stored);
  }

  async function write(id: string, record: T, expectedVersion: number | null, expiresAt?: number): Promise<Versioned<T>> {
    const value = validated(id, record);
    const version = await store.put(kind, id, value, expiresAt === undefined ? { expectedVersion } : { expectedVersion, expiresAt });
    return expiresAt === undefined ? { record: value, version } : { record: value, version, expiresAt };
  }

  /** One attempt: apply `mutate` to `current` and write it conditionally; unchanged → no write. */
  async function applyOnce(
    id: string,
    current: Versioned<T> | undefined,
    mutate: (current: T | undefined) => T | undefined,
  ): Promise<Versioned<T> | undefined> {
    const next = mutate(current?.record);
    if (next === undefined) return current;
    if (current !== undefined && sameJson(next, current.record)) return current;
    // A TTL the record had is kept: mutations change content, not lifetime.
    return write(id, beforeWrite(next), current?.version ?? null, current?.expiresAt);
  }

  async function retrying(
    id: string,
    mutate: (current: T | undefined) => T | undefined,
    attempts: number,
  ): Promise<Versioned<T> | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await get(id);
      try {
        return await applyOnce(id, current, mutate);
      } catch (error) {
        if (!(error instanceof ConditionalWriteError) || attempt >= attempts) throw error;
      }
    }
  }

  function update(id: string, mutate: Mutation<T>, options?: UpdateOptions): Promise<Versioned<T>>;
  function update(id: string, expectedVersion: number, mutate: Mutation<T>): Promise<Versioned<T>>;
  async function update(
    id: string,
    mutateOrVersion: Mutation<T> | number,
    optionsOrMutate?: UpdateOptions | Mutation<T>,
  ): Promise<Versioned<T>> {
    if (typeof mutateOrVersion === "number") {
      const expectedVersion = mutateOrVersion;
      const mutate = optionsOrMutate as Mutation<T>;
      const current = await get(id);
      if (current === undefined) throw new RecordNotFoundError(kind, id);
      if (current.version !== expectedVersion) throw new ConditionalWriteError(kind, id, expectedVersion);
      const written = await applyOnce(id, current, (record) => (record === undefined ? undefined : mutate(record)));
      return written ?? current;
    }
    const mutate = mutateOrVersion;
    const options = (optionsOrMutate as UpdateOptions | undefined) ?? {};
    const written = await retrying(
      id,
      (record) => {
        if (record === undefined) throw new RecordNotFoundError(kind, id);
        return mutate(record);
      },
      options.attempts ?? defaultAttempts,
    );
    if (written === undefined) throw new RecordNotFoundError(kind, id);
    return written;
  }

  return {
    get,
    async getMany(ids) {
      const found = await store.getMany(kind, ids);
      const records = new Map<string, Versioned<T>>();
      for (const [id, stored] of found) records.set(id, parseStored(id, stored));
      return records;
    },
    create(record, options = {}) {
      return write(idOf(record), record, null, options.expiresAt);
    },
    replace(record, expectedVersion) {
      return write(idOf(record), beforeWrite(record), expectedVersion);
    },
    update,
    upsert(id, mutate, options = {}) {
      return retrying(id, mutate, options.attempts ?? defaultAttempts);
    },
    delete(id) {
      return store.delete(kind, id);
    },
    async list(options = {}) {
      const page = await store.list(kind, options);
      const items = page.items.map(({ id, stored }) => parseStored(id, stored));
      return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
    },
    async *all(options = {}) {
      let cursor: string | undefined;
      do {
        const page = await store.list(kind, cursor === undefined ? { limit: options.pageSize } : { limit: options.pageSize, cursor });
        for (const { id, stored } of page.items) yield parseStored(id, stored);
        cursor = page.cursor;
      } while (cursor !== undefined);
    },
  };
}

function sameJson(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

// ---------------------------------------------------------------------------------------------
// Server claims: the pure transition and the repository call
// ---------------------------------------------------------------------------------------------

export interface ServerClaim {
  target: string;
  requestId: string;
  groupId?: string;
  /**
   * A `claimed` record last written before this instant (ISO) is taken over: its claimer died before
   * submitting a create call. Only `claimed` qualifies — `creating` may have reached SDRS.
   */
  staleClaimBefore?: string;
  /** Create attempts a round may make: a claim past them loses (the caller settles the server failed). */
  maxAttempts?: number;
  /**
   * A new round may start from a final failed/unknown record already attached to `requestId` (reconcile
   * retrying a server long after it failed). Without it, such a claim is a duplicate intent and loses.
   */
  newRound?: boolean;
}

/** Final outcomes a claim of the same request may not reopen: the request was told, once. */
const SETTLED_FOR_REQUEST: readonly ServerRecordStatus[] = ["failed", "unknown"];

function isStaleClaim(server: ServerRecord, claim: Pick<ServerClaim, "staleClaimBefore">): boolean {
  return (
    server.status === "claimed" &&
    claim.staleClaimBefore !== undefined &&
    Date.parse(server.updatedAt) < Date.parse(claim.staleClaimBefore)
  );
}

/** A claim that starts a new round of attempts: from a final state, by a new request or a new round. */
function startsNewRound(server: ServerRecord, claim: Pick<ServerClaim, "requestId" | "newRound">): boolean {
  return SETTLED_FOR_REQUEST.includes(server.status) && (claim.newRound === true || !server.requestIds.includes(claim.requestId));
}

export function isReclaimable(server: ServerRecord, claim: Pick<ServerClaim, "staleClaimBefore" | "requestId" | "maxAttempts" | "newRound">): boolean {
  if (SETTLED_FOR_REQUEST.includes(server.status)) return startsNewRound(server, claim);
  if (!isReclaimableStatus(server.status) && !isStaleClaim(server, claim)) return false;
  // A stale claim made no create call: taking it over does not add an attempt, so it is not refused for one.
  return isStaleClaim(server, claim) || claim.maxAttempts === undefined || server.attempts < claim.maxAttempts;
}

/**
 * The server record after `claim` wins, or undefined when the current record may not be claimed.
 * A reclaim clears what belonged to the previous attempt (reasons, job, notified outcome) and keeps the
 * history (createdAt, requestIds); it counts the attempt it starts (a new round counts from zero).
 */
export function claimedServer(current: ServerRecord | undefined, serverId: string, claim: ServerClaim, now: string): ServerRecord | undefined {
  if (current === undefined) {
    const created: ServerRecord = {
      serverId,
      target: claim.target,
      status: "claimed",
      requestIds: [claim.requestId],
      reasons: [],
      warnings: [],
      attempts: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (claim.groupId !== undefined) created.groupId = claim.groupId;
    return created;
  }
  if (!isReclaimable(current, claim)) return undefined;
  const { jobId: _jobId, notified: _notified, notifiedEventId: _eventId, groupId: _groupId, ...kept } = current;
  // The attempt counter is part of the conditional write: of two redeliveries, one claims and counts.
  const attemptsBefore = startsNewRound(current, claim) ? 0 : current.attempts;
  const reclaimed: ServerRecord = {
    ...kept,
    attempts: isStaleClaim(current, claim) ? Math.max(1, attemptsBefore) : attemptsBefore + 1,
    target: claim.target,
    status: "claimed",
    requestIds: current.requestIds.includes(claim.requestId) ? current.requestIds : [...current.requestIds, claim.requestId],
    reasons: [],
    warnings: [],
    updatedAt: now,
  };
  if (claim.groupId !== undefined) reclaimed.groupId = claim.groupId;
  return reclaimed;
}

export type ClaimResult = { won: true; server: Versioned<ServerRecord> } | { won: false; server: Versioned<ServerRecord> };

// ---------------------------------------------------------------------------------------------
// The repositories the pipeline uses
// ---------------------------------------------------------------------------------------------

/** idempotency keys are kept 24 h. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/**
 * Job-duration samples kept per (kind, size). Samples arrive in order of completion, so a short window
 * holds only the slowest jobs of the last wave; 1000 keep a few waves of spread (about 7 KB per record).
 */
export const DEFAULT_STATS_SAMPLES = 1000;

export interface RepositoriesOptions {
  /** Stamps updatedAt/createdAt and computes TTLs. */
  clock?: Clock;
  /** Conditional-write attempts in update/upsert/claim loops (default 5). */
  attempts?: number;
  /** Job-duration samples kept per (kind, size) (default 20). */
  statsSamples?: number;
}

export interface Repositories {
  servers: Repository<ServerRecord> & {
    /** Atomically moves the server to `claimed` if it has no record or a reclaimable one; `won` says whether this caller did. */
    claim(serverId: string, claim: ServerClaim): Promise<ClaimResult>;
  };
  requests: Repository<RequestRecord>;
  jobs: Repository<JobRecord>;
  events: {
    /** Records `eventId` as seen for `ttlSeconds`: true the first time, false for a repeat (atomic). */
    firstSeen(eventId: string, ttlSeconds: number): Promise<boolean>;
    /** The record of an event id seen within its TTL, without marking it. */
    get(eventId: string): Promise<Versioned<EventRecord> | undefined>;
    /** Whether `eventId` was seen within its TTL, without marking it. */
    seen(eventId: string): Promise<boolean>;
  };
  idempotency: {
    /** Binds `key` to `requestId` for 24 h if unbound; returns the requestId that owns the key (ours or an earlier one). */
    claim(key: string, requestId: string): Promise<string>;
    /** Like claim, storing the request's fingerprint; returns the owning record (ours or an earlier one). */
    bind(key: string, requestId: string, fingerprint: string): Promise<IdempotencyRecord>;
  };
  endpoints: Repository<EndpointRecord> & {
    disable(endpointId: string, reason: string): Promise<Versioned<EndpointRecord>>;
    enable(endpointId: string): Promise<Versioned<EndpointRecord>>;
    isDisabled(endpointId: string): Promise<boolean>;
  };
  /** The last coverage verdict per server and which change was notified (lib/coverage/detect.ts). */
  coverage: Repository<CoverageRecord>;
  stats: {
    /** Appends a job duration, keeping the last `statsSamples`. */
    recordJobDuration(kind: JobKind, size: number, durationMs: number): Promise<StatsRecord>;
    /** The kept samples, oldest first; empty when none. */
    jobDurations(kind: JobKind, size: number): Promise<number[]>;
  };
}

export function jobDurationStatsId(kind: JobKind, size: number): string {
  return `job-duration:${kind}:${size}`;
}

export function createRepositories(store: VersionedStore, options: RepositoriesOptions = {}): Repositories {
  const clock = options.clock ?? systemClock;
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const statsSamples = options.statsSamples ?? DEFAULT_STATS_SAMPLES;
  const nowIso = () => new Date(clock.now()).toISOString();
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  const servers = createRepository<ServerRecord>(store, {
    kind: "server",
    schema: serverRecord,
    idOf: (record) => record.serverId,
    beforeWrite: (record) => ({ ...record, updatedAt: nowIso() }),
    attempts,
  });
  const requests = createRepository<RequestRecord>(store, {
    kind: "request",
    schema: requestRecord,
    idOf: (record) => record.requestId,
    attempts,
  });
  const jobs = createRepository<JobRecord>(store, { kind: "job", schema: jobRecord, idOf: (record) => record.jobId, attempts });
  const events = createRepository<EventRecord>(store, { kind: "event", schema: eventRecord, idOf: (record) => record.eventId, attempts });
  const idempotency = createRepository<IdempotencyRecord>(store, {
    kind: "idempotency",
    schema: idempotencyRecord,
    idOf: (record) => record.key,
    attempts,
  });
  const endpoints = createRepository<EndpointRecord>(store, {
    kind: "endpoint",
    schema: endpointRecord,
    idOf: (record) => record.endpointId,
    attempts,
  });
  const coverage = createRepository<CoverageRecord>(store, {
    kind: "coverage",
    schema: coverageRecord,
    idOf: (record) => record.serverId,
    beforeWrite: (record) => ({ ...record, updatedAt: nowIso() }),
    attempts,
  });
  const stats = createRepository<StatsRecord>(store, { kind: "stats", schema: statsRecord, idOf: (record) => record.statsId, attempts });

  async function claim(serverId: string, serverClaim: ServerClaim): Promise<ClaimResult> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await servers.get(serverId);
      const next = claimedServer(current?.record, serverId, serverClaim, nowIso());
      if (next === undefined) {
        if (current === undefined) throw new RecordNotFoundError("server", serverId);
        return { won: false, server: current };
      }
      try {
        const written =
          current === undefined ? await servers.create(next) : await servers.replace(next, current.version);
        return { won: true, server: written };
      } catch (error) {
        // Someone wrote in between: re-read and decide again (usually: they claimed it, we lost).
        if (!(error instanceof ConditionalWriteError) || attempt >= attempts) throw error;
      }
    }
  }

  async function bindKey(key: string, requestId: string, fingerprint: string | undefined): Promise<IdempotencyRecord> {
    for (let attempt = 1; ; attempt += 1) {
      const record: IdempotencyRecord = { key, requestId, ...(fingerprint === undefined ? {} : { fingerprint }), createdAt: nowIso() };
      try {
        await idempotency.create(record, { expiresAt: nowSeconds() + IDEMPOTENCY_TTL_SECONDS });
        return record;
      } catch (error) {
        if (!(error instanceof ConditionalWriteError)) throw error;
      }
      const owner = await idempotency.get(key);
      if (owner !== undefined) return owner.record;
      // The owner expired between our create and our read: try to bind the key again.
      if (attempt >= attempts) throw new ConditionalWriteError("idempotency", key, null);
    }
  }

  return {
    servers: { ...servers, claim },
    requests,
    jobs,
    coverage,
    events: {
      get: (eventId) => events.get(eventId),
      async seen(eventId) {
        return (await events.get(eventId)) !== undefined;
      },
      async firstSeen(eventId, ttlSeconds) {
        if (!(Number.isSafeInteger(ttlSeconds) && ttlSeconds > 0)) {
          throw new RangeError(`event dedupe ttlSeconds must be a positive integer; got ${ttlSeconds}`);
        }
        try {
          await events.create({ eventId, firstSeenAt: nowIso() }, { expiresAt: nowSeconds() + ttlSeconds });
          return true;
        } catch (error) {
          if (error instanceof ConditionalWriteError) return false;
          throw error;
        }
      },
    },
    idempotency: {
      async claim(key, requestId) {
        return (await bindKey(key, requestId, undefined)).requestId;
      },
      bind: bindKey,
    },
    endpoints: {
      ...endpoints,
      async disable(endpointId, reason) {
        const written = await endpoints.upsert(
          endpointId,
          (current) =>
            current?.disabled === true ? current : { endpointId, disabled: true, reason, disabledAt: nowIso() },
          { attempts },
        );
        if (written === undefined) throw new RecordNotFoundError("endpoint", endpointId);
        return written;
      },
      async enable(endpointId) {
        const written = await endpoints.upsert(endpointId, () => ({ endpointId, disabled: false }), { attempts });
        if (written === undefined) throw new RecordNotFoundError("endpoint", endpointId);
        return written;
      },
      async isDisabled(endpointId) {
        return (await endpoints.get(endpointId))?.record.disabled === true;
      },
    },
    stats: {
      async recordJobDuration(kind, size, durationMs) {
        if (!(Number.isFinite(durationMs) && durationMs >= 0)) {
          throw new RangeError(`job duration must be a non-negative number of milliseconds; got ${durationMs}`);
        }
        const statsId = jobDurationStatsId(kind, size);
        const written = await stats.upsert(
          statsId,
          (current) => ({
            statsId,
            kind,
            size,
            samplesMs: [...(current?.samplesMs ?? []), durationMs].slice(-statsSamples),
          }),
          { attempts },
        );
        if (written === undefined) throw new RecordNotFoundError("stats", statsId);
        return written.record;
      },
      async jobDurations(kind, size) {
        return (await stats.get(jobDurationStatsId(kind, size)))?.record.samplesMs ?? [];
      },
    },
  };
}
