/**
 * The typed repositories the pipeline uses, one per record kind (lib/state/records.ts), each a generic
 * repository (lib/state/repository.ts) plus the operations its kind needs: the server claim, event dedupe,
 * idempotency keys, endpoint switches and the learned job durations.
 */
import { type Clock, systemClock } from "../clock.ts";
import { RecordNotFoundError } from "./errors.ts";
import {
  type CoverageRecord,
  coverageRecord,
  type EndpointRecord,
  type EventRecord,
  endpointRecord,
  eventRecord,
  type IdempotencyRecord,
  idempotencyRecord,
  type JobRecord,
  jobRecord,
  type RequestRecord,
  requestRecord,
  type ServerRecord,
  type StatsRecord,
  serverRecord,
  statsRecord,
} from "./records.ts";
import {
  createRepository,
  DEFAULT_ATTEMPTS,
  type Repository,
  type RepositoryDefinition,
  type Versioned,
} from "./repository.ts";
import { type ClaimResult, claimedServer, type ServerClaim } from "./server-claim.ts";
import type { JobKind, RecordKind } from "./statuses.ts";
import { ConditionalWriteError, type VersionedStore } from "./store.ts";

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
  /** Job-duration samples kept per (kind, size) (default DEFAULT_STATS_SAMPLES). */
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

/** What every repository below shares: the store, the clock's stamps and the attempts of its write loops. */
interface RepositoryContext {
  attempts: number;
  nowIso: () => string;
  nowSeconds: () => number;
  /** A generic repository of one record kind over the store, with the shared attempts. */
  repository<T>(definition: Omit<RepositoryDefinition<T>, "attempts">): Repository<T>;
}

export function createRepositories(store: VersionedStore, options: RepositoriesOptions = {}): Repositories {
  const clock = options.clock ?? systemClock;
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const context: RepositoryContext = {
    attempts,
    nowIso: () => new Date(clock.now()).toISOString(),
    nowSeconds: () => Math.floor(clock.now() / 1000),
    repository: (definition) => createRepository(store, { ...definition, attempts }),
  };
  return {
    servers: serverRepository(context),
    requests: context.repository<RequestRecord>({
      kind: "request",
      schema: requestRecord,
      idOf: (record) => record.requestId,
    }),
    jobs: context.repository<JobRecord>({ kind: "job", schema: jobRecord, idOf: (record) => record.jobId }),
    coverage: context.repository<CoverageRecord>({
      kind: "coverage",
      schema: coverageRecord,
      idOf: (record) => record.serverId,
      beforeWrite: (record) => ({ ...record, updatedAt: context.nowIso() }),
    }),
    events: eventLog(context),
    idempotency: idempotencyKeys(context),
    endpoints: endpointSwitches(context),
    stats: jobDurationStats(context, options.statsSamples ?? DEFAULT_STATS_SAMPLES),
  };
}

/** The record an upsert wrote; its mutation always returns one, so none is a bug. */
function upserted<T>(written: Versioned<T> | undefined, kind: RecordKind, id: string): Versioned<T> {
  if (written === undefined) throw new RecordNotFoundError(kind, id);
  return written;
}

function serverRepository(context: RepositoryContext): Repositories["servers"] {
  const servers = context.repository<ServerRecord>({
    kind: "server",
    schema: serverRecord,
    idOf: (record) => record.serverId,
    beforeWrite: (record) => ({ ...record, updatedAt: context.nowIso() }),
  });

  async function claimServer(serverId: string, serverClaim: ServerClaim): Promise<ClaimResult> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await servers.get(serverId);
      const next = claimedServer(current?.record, serverId, serverClaim, context.nowIso());
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
        if (!(error instanceof ConditionalWriteError) || attempt >= context.attempts) throw error;
      }
    }
  }

  return { ...servers, claim: claimServer };
}

function eventLog(context: RepositoryContext): Repositories["events"] {
  const events = context.repository<EventRecord>({
    kind: "event",
    schema: eventRecord,
    idOf: (record) => record.eventId,
  });
  return {
    get: (eventId) => events.get(eventId),
    async seen(eventId) {
      return (await events.get(eventId)) !== undefined;
    },
    async firstSeen(eventId, ttlSeconds) {
      if (!(Number.isSafeInteger(ttlSeconds) && ttlSeconds > 0)) {
        throw new RangeError(`event dedupe ttlSeconds must be a positive integer; got ${ttlSeconds}`);
      }
      try {
        await events.create(
          { eventId, firstSeenAt: context.nowIso() },
          { expiresAt: context.nowSeconds() + ttlSeconds },
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalWriteError) return false;
        throw error;
      }
    },
  };
}

function idempotencyKeys(context: RepositoryContext): Repositories["idempotency"] {
  const idempotency = context.repository<IdempotencyRecord>({
    kind: "idempotency",
    schema: idempotencyRecord,
    idOf: (record) => record.key,
  });

  async function bindKey(key: string, requestId: string, fingerprint: string | undefined): Promise<IdempotencyRecord> {
    for (let attempt = 1; ; attempt += 1) {
      const record: IdempotencyRecord = {
        key,
        requestId,
        ...(fingerprint === undefined ? {} : { fingerprint }),
        createdAt: context.nowIso(),
      };
      try {
        await idempotency.create(record, { expiresAt: context.nowSeconds() + IDEMPOTENCY_TTL_SECONDS });
        return record;
      } catch (error) {
        if (!(error instanceof ConditionalWriteError)) throw error;
      }
      const owner = await idempotency.get(key);
      if (owner !== undefined) return owner.record;
      // The owner expired between our create and our read: try to bind the key again.
      if (attempt >= context.attempts) throw new ConditionalWriteError("idempotency", key, null);
    }
  }

  return {
    async claim(key, requestId) {
      return (await bindKey(key, requestId, undefined)).requestId;
    },
    bind: bindKey,
  };
}

function endpointSwitches(context: RepositoryContext): Repositories["endpoints"] {
  const { attempts } = context;
  const endpoints = context.repository<EndpointRecord>({
    kind: "endpoint",
    schema: endpointRecord,
    idOf: (record) => record.endpointId,
  });
  return {
    ...endpoints,
    async disable(endpointId, reason) {
      const written = await endpoints.upsert(
        endpointId,
        (current) =>
          current?.disabled === true ? current : { endpointId, disabled: true, reason, disabledAt: context.nowIso() },
        { attempts },
      );
      return upserted(written, "endpoint", endpointId);
    },
    async enable(endpointId) {
      return upserted(
        await endpoints.upsert(endpointId, () => ({ endpointId, disabled: false }), { attempts }),
        "endpoint",
        endpointId,
      );
    },
    async isDisabled(endpointId) {
      return (await endpoints.get(endpointId))?.record.disabled === true;
    },
  };
}

function jobDurationStats(context: RepositoryContext, statsSamples: number): Repositories["stats"] {
  const stats = context.repository<StatsRecord>({
    kind: "stats",
    schema: statsRecord,
    idOf: (record) => record.statsId,
  });
  return {
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
        { attempts: context.attempts },
      );
      return upserted(written, "stats", statsId).record;
    },
    async jobDurations(kind, size) {
      return (await stats.get(jobDurationStatsId(kind, size)))?.record.samplesMs ?? [];
    },
  };
}
