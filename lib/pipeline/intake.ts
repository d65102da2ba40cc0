/**
 * Where intents come from: onboarding requests (HTTP API, CLI), inventory events, and the scheduled
 * reconcile sweep. All three only enqueue protect intents; the onboard step decides.
 */
import { createHash, randomUUID } from "node:crypto";
import { type CoverageSweepResult, sweepCoverage } from "../coverage/detect.ts";
import { classifyInventoryEvent, coverageScopeOf, type InventoryHint } from "../events/inventory.ts";
import { ownValue, prototypeFree } from "../own.ts";
import { decideServer } from "../planning/decision.ts";
import { CloudApiError } from "../sdrs/errors.ts";
import { ecsFlavorName, ecsServerId } from "../sdrs/field-rules.ts";
import type { RequestRecord, ServerRecord } from "../state/records.ts";
import { isFinal } from "../state/statuses.ts";
import * as z from "../zod.ts";
import { outOfTime } from "./deadline.ts";
import { metricsOf, nowIso, type PipelineDeps } from "./deps.ts";
import { type IntentSource, type ProtectIntentInput, protectIntent } from "./messages.ts";
import { type RecoveryResult, recoverStalledServers } from "./recovery.ts";

export const MAX_SERVERS_PER_REQUEST = 1000;

/** The same id and flavor shapes as the CLI's servers file, inventory events and the targets file. */
const serverEntry = z.union(
  [ecsServerId, z.strictObject({ serverId: ecsServerId, flavorRef: z.optional(ecsFlavorName) })],
  {
    error: (issue) => (typeof issue.input === "string" ? undefined : "must be a server id or { serverId, flavorRef? }"),
  },
);

export const onboardingRequestBody = z.strictObject({
  target: z.string().check(z.minLength(1, { error: "must name a target (or a protection group id)" }), z.maxLength(64)),
  servers: z
    .array(serverEntry)
    .check(
      z.minLength(1, { error: "must list at least 1 server" }),
      z.maxLength(MAX_SERVERS_PER_REQUEST, { error: `must list at most ${MAX_SERVERS_PER_REQUEST} servers` }),
    ),
});
export type OnboardingRequestBody = z.infer<typeof onboardingRequestBody>;

export interface ServerAcceptance {
  serverId: string;
  accepted: boolean;
  reason?: string;
}

export interface AcceptedRequest {
  requestId: string;
  target: string;
  servers: ServerAcceptance[];
  /** True when an Idempotency-Key replay returned an earlier request. */
  replayed: boolean;
}

export class InvalidRequestError extends Error {
  readonly code = "INVALID_REQUEST";
  readonly issues: { field: string; rule: string }[];
  constructor(issues: { field: string; rule: string }[]) {
    super(`invalid onboarding request: ${issues.map((issue) => `${issue.field}: ${issue.rule}`).join("; ")}`);
    this.name = "InvalidRequestError";
    this.issues = issues;
  }
}

export function parseOnboardingRequest(raw: unknown): OnboardingRequestBody {
  const parsed = onboardingRequestBody.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidRequestError(
      parsed.error.issues.map((issue) => ({
        field: issue.path.map(String).join(".") || "(body)",
        rule: issue.message,
      })),
    );
  }
  return parsed.data;
}

async function enqueueIntents(intents: ProtectIntentInput[], deps: PipelineDeps): Promise<void> {
  if (intents.length === 0) return;
  await deps.queue.sendBatch(
    "onboarding",
    intents.map((intent) => ({ body: protectIntent.parse(intent) })),
  );
}

/**
 * The fingerprint an Idempotency-Key is stored with: the canonical request, target and servers (with their
 * flavorRefs) sorted, so the same request in another order or with other whitespace is the same request.
 */
export function requestFingerprint(body: OnboardingRequestBody): string {
  const entries = body.servers
    .map((entry) => (typeof entry === "string" ? [entry, null] : [entry.serverId, entry.flavorRef ?? null]))
    .sort((a, b) =>
      String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : String(a[1]).localeCompare(String(b[1])),
    );
  return createHash("sha256")
    .update(JSON.stringify([body.target, entries]))
    .digest("hex");
}

/** A key's first request was bound this recently and is not recorded as enqueued: it is still being accepted. */
export const IDEMPOTENCY_ACCEPT_LEASE_SECONDS = 30;

/** Base of the Idempotency-Key answers that are not a 202 (draft-ietf-httpapi-idempotency-key-header §2.7). */
export class IdempotencyKeyError extends Error {
  readonly code: "IDEMPOTENCY_KEY_REUSED" | "IDEMPOTENCY_KEY_IN_USE";
  readonly status: 409 | 422;
  readonly idempotencyKey: string;
  constructor(
    code: IdempotencyKeyError["code"],
    status: IdempotencyKeyError["status"],
    idempotencyKey: string,
    message: string,
  ) {
    super(message);
    this.name = "IdempotencyKeyError";
    this.code = code;
    this.status = status;
    this.idempotencyKey = idempotencyKey;
  }
}

/** Same key, another body: refused, never replayed as if it were the first request. */
export class IdempotencyKeyReusedError extends IdempotencyKeyError {
  constructor(idempotencyKey: string, requestId: string) {
    super(
      "IDEMPOTENCY_KEY_REUSED",
      422,
      idempotencyKey,
      `Idempotency-Key "${idempotencyKey}" was used for another request (${requestId}, with a different target or servers); use a new key for a new request`,
    );
  }
}

/** Same key while its first request is still being accepted. */
export class IdempotencyKeyInUseError extends IdempotencyKeyError {
  readonly retryAfterSeconds: number;
  constructor(idempotencyKey: string, retryAfterSeconds: number) {
    super(
      "IDEMPOTENCY_KEY_IN_USE",
      409,
      idempotencyKey,
      `a request with Idempotency-Key "${idempotencyKey}" is still being accepted; retry in ${retryAfterSeconds} s`,
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

interface Acceptance {
  servers: ServerAcceptance[];
  accepted: string[];
  /** A Map: server ids are user input, and a plain object's `constructor` or `__proto__` is no flavorRef. */
  flavorRefs: Map<string, string>;
}

/** Which entries are accepted (the first of each server id) and their flavorRefs. Pure. */
function acceptanceOf(body: OnboardingRequestBody): Acceptance {
  const seen = new Set<string>();
  const servers: ServerAcceptance[] = [];
  const flavorRefs = new Map<string, string>();
  for (const entry of body.servers) {
    const serverId = typeof entry === "string" ? entry : entry.serverId;
    if (seen.has(serverId)) {
      servers.push({ serverId, accepted: false, reason: "duplicate: listed earlier in this request" });
      continue;
    }
    seen.add(serverId);
    servers.push({ serverId, accepted: true });
    if (typeof entry !== "string" && entry.flavorRef) flavorRefs.set(serverId, entry.flavorRef);
  }
  return {
    servers,
    accepted: servers.filter((server) => server.accepted).map((server) => server.serverId),
    flavorRefs,
  };
}

/** The first answer, rebuilt from the request record. */
function answerOf(request: RequestRecord): ServerAcceptance[] {
  const servers: ServerAcceptance[] = request.serverIds.map((serverId) => ({ serverId, accepted: true }));
  for (const refused of [...(request.refusedEntries ?? [])].sort((a, b) => a.index - b.index)) {
    servers.splice(refused.index, 0, { serverId: refused.serverId, accepted: false, reason: refused.reason });
  }
  return servers;
}

/**
 * Enqueues the intents of a recorded request that are not on their way yet (a server whose record lists
 * the request was taken up by the onboard step), then marks the request enqueued. A failure is marked on
 * the request, so the client's retry with the same key (or reconcile) finishes it at once.
 */
async function enqueueRequest(request: RequestRecord, deps: PipelineDeps): Promise<void> {
  try {
    const records = await deps.repos.servers.getMany(request.serverIds);
    const missing = request.serverIds.filter(
      (serverId) => !records.get(serverId)?.record.requestIds.includes(request.requestId),
    );
    await enqueueIntents(
      missing.map((serverId) => ({
        type: "protect",
        serverId,
        target: request.target,
        requestId: request.requestId,
        source: request.source,
        ...(ownValue(request.flavorRefs, serverId) ? { flavorRef: ownValue(request.flavorRefs, serverId) } : {}),
      })),
      deps,
    );
  } catch (error) {
    await deps.repos.requests
      .update(request.requestId, (current) => ({ ...current, enqueueFailedAt: nowIso(deps) }))
      .catch(() => undefined); // the original error is the one to report
    throw error;
  }
  await deps.repos.requests.update(request.requestId, (current) =>
    current.enqueuedAt ? undefined : { ...current, enqueuedAt: nowIso(deps) },
  );
}

/** The request a key already owns: replayed, refused, or finished now when its first acceptance died. */
async function earlierRequest(
  key: string,
  owner: { requestId: string; createdAt: string },
  exclusive: boolean,
  deps: PipelineDeps,
): Promise<{ replay: AcceptedRequest } | { finish: string }> {
  const earlier = await deps.repos.requests.get(owner.requestId);
  const ageSeconds = (deps.clock.now() - Date.parse(owner.createdAt)) / 1000;
  const stillAccepting =
    !exclusive && ageSeconds < IDEMPOTENCY_ACCEPT_LEASE_SECONDS && earlier?.record.enqueueFailedAt === undefined;
  const replay = (record: RequestRecord) => ({
    replay: { requestId: owner.requestId, target: record.target, servers: answerOf(record), replayed: true as const },
  });
  if (earlier?.record.enqueuedAt) {
    return replay(earlier.record);
  }
  if (stillAccepting)
    throw new IdempotencyKeyInUseError(key, Math.max(1, Math.ceil(IDEMPOTENCY_ACCEPT_LEASE_SECONDS - ageSeconds)));
  if (earlier) {
    // Recorded, not (fully) enqueued: the first call failed or died halfway. Finish it under the same id.
    await enqueueRequest(earlier.record, deps);
    deps.log.info("onboarding request finished by a retry with its Idempotency-Key", { requestId: owner.requestId });
    return replay(earlier.record);
  }
  return { finish: owner.requestId }; // the first call died before recording the request: record it under the same id
}

/**
 * Accepts an onboarding request: records it and enqueues one intent per accepted server. With an
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header, as Stripe does it): the same key with the
 * same request answers the first response again (`replayed: true`); with another request, 422
 * IDEMPOTENCY_KEY_REUSED; while the first is still being accepted, 409 IDEMPOTENCY_KEY_IN_USE.
 */
export async function acceptOnboardingRequest(
  body: OnboardingRequestBody,
  options: {
    idempotencyKey?: string;
    source?: IntentSource;
    /** No other acceptance can be running (the CLI holds its state file's lock): an unfinished one is finished, never 409. */
    exclusive?: boolean;
  },
  deps: PipelineDeps,
): Promise<AcceptedRequest> {
  const source = options.source ?? "api";
  let requestId: string = randomUUID();
  if (options.idempotencyKey) {
    const key = options.idempotencyKey;
    const owner = await deps.repos.idempotency.bind(key, requestId, requestFingerprint(body));
    if (owner.requestId !== requestId) {
      // A key stored before fingerprints were kept matches any body.
      if (owner.fingerprint !== undefined && owner.fingerprint !== requestFingerprint(body))
        throw new IdempotencyKeyReusedError(key, owner.requestId);
      const earlier = await earlierRequest(key, owner, options.exclusive === true, deps);
      if ("replay" in earlier) return earlier.replay;
      requestId = earlier.finish;
    }
  }
  const { servers, accepted, flavorRefs } = acceptanceOf(body);
  const refusedEntries = servers.flatMap((server, index) =>
    server.accepted ? [] : [{ index, serverId: server.serverId, reason: server.reason ?? "refused" }],
  );
  const written = await deps.repos.requests.upsert(requestId, (current) =>
    current
      ? undefined
      : {
          requestId,
          target: body.target,
          source,
          ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
          serverIds: accepted,
          ...(flavorRefs.size > 0 ? { flavorRefs: prototypeFree(flavorRefs) } : {}),
          ...(refusedEntries.length > 0 ? { refusedEntries } : {}),
          createdAt: nowIso(deps),
        },
  );
  const request = written?.record ?? (await deps.repos.requests.get(requestId))?.record;
  if (request === undefined) throw new Error(`onboarding request ${requestId} was not recorded`);
  await enqueueRequest(request, deps);
  deps.log.info("onboarding request accepted", { requestId, target: body.target, servers: accepted.length });
  return { requestId, target: body.target, servers, replayed: false };
}

/**
 * Requests recorded but not fully enqueued (the accepting call died or its enqueue failed, and the client
 * never retried): reconcile finishes them after the acceptance lease.
 */
export async function finishUnenqueuedRequests(deps: PipelineDeps): Promise<number> {
  const now = deps.clock.now();
  let finished = 0;
  for await (const { record } of deps.repos.requests.all()) {
    if (record.enqueuedAt || record.completedAt) continue;
    if (
      (now - Date.parse(record.createdAt)) / 1000 < IDEMPOTENCY_ACCEPT_LEASE_SECONDS &&
      record.enqueueFailedAt === undefined
    )
      continue;
    await enqueueRequest(record, deps);
    finished += 1;
  }
  if (finished > 0)
    deps.log.warn("reconcile enqueued onboarding requests whose acceptance did not finish", { requests: finished });
  return finished;
}

export type ServerState = "queued" | ServerRecord["status"];

export interface RequestStatus {
  requestId: string;
  target: string;
  source: string;
  createdAt: string;
  completedAt?: string;
  counts: Record<string, number>;
  servers: {
    serverId: string;
    state: ServerState;
    protectedInstanceId?: string;
    jobId?: string;
    reasons: { code: string; message: string; remedy?: string }[];
  }[];
}

/** An onboarding request and each server's state; undefined when no such request exists. */
export async function getOnboardingRequest(requestId: string, deps: PipelineDeps): Promise<RequestStatus | undefined> {
  const request = await deps.repos.requests.get(requestId);
  if (!request) return undefined;
  const records = await deps.repos.servers.getMany(request.record.serverIds);
  const counts: Record<string, number> = {};
  const settled = new Map((request.record.outcomes ?? []).map((outcome) => [outcome.serverId, outcome]));
  const servers = request.record.serverIds.map((serverId) => {
    const record = records.get(serverId)?.record;
    const fixed = settled.get(serverId);
    if (fixed !== undefined && (record?.target !== request.record.target || record.status !== fixed.outcome)) {
      // Completed, and the server's record has moved on since (another target's verdict): this request's answer stands.
      counts[fixed.outcome] = (counts[fixed.outcome] ?? 0) + 1;
      return {
        serverId,
        state: fixed.outcome as ServerState,
        ...(fixed.protectedInstanceId ? { protectedInstanceId: fixed.protectedInstanceId } : {}),
        reasons: (fixed.codes ?? []).map((code) => ({
          code,
          message: `${code} (when the request completed; the server was requested for target "${record?.target}" since)`,
        })),
      };
    }
    // A record not yet touched for this request (e.g. an old final state) still counts as queued.
    const attached = record?.requestIds.includes(requestId) ?? false;
    const state: ServerState = record && (attached || !isFinal(record.status)) ? record.status : "queued";
    counts[state] = (counts[state] ?? 0) + 1;
    return {
      serverId,
      state,
      ...(record?.protectedInstanceId && state === "protected"
        ? { protectedInstanceId: record.protectedInstanceId }
        : {}),
      ...(record?.jobId ? { jobId: record.jobId } : {}),
      reasons: attached ? (record?.reasons ?? []) : [],
    };
  });
  return {
    requestId,
    target: request.record.target,
    source: request.record.source,
    createdAt: request.record.createdAt,
    ...(request.record.completedAt ? { completedAt: request.record.completedAt } : {}),
    counts,
    servers,
  };
}

/** The protect tag's value on a server, read from the ECS tags API (a trace is only a hint). */
async function protectTagValue(serverId: string, deps: PipelineDeps): Promise<string | undefined | null> {
  try {
    const tags = await deps.cloud.getServerTags(serverId);
    return tags.find((tag) => tag.key === deps.config.protectTagKey)?.value ?? undefined;
  } catch (error) {
    if (error instanceof CloudApiError && (error.status === 404 || error.code === "Ecs.0114")) return null;
    throw error;
  }
}

export interface InventoryEventResult {
  /** `rechecked`: a disk or replication change; the coverage of the servers it names was checked again. */
  status: "enqueued" | "ignored" | "duplicate" | "rejected" | "rechecked";
  coverage?: CoverageSweepResult;
  reason?: string;
  eventId?: string;
  enqueued: { serverId: string; target: string }[];
}

/**
 * A protect intent for each server of the event that carries the protect tag, protected or not: a tag change
 * may name another target, which the onboard step's decision answers (INELIGIBLE_PROTECTED_ELSEWHERE, or the
 * request joins). Returns the servers enqueued and their targets.
 */
async function enqueueTaggedServers(
  hint: InventoryHint,
  deps: PipelineDeps,
): Promise<{ serverId: string; target: string }[]> {
  const enqueued: { serverId: string; target: string }[] = [];
  // The event claims the protect tag: the onboard step verifies it with its batch read (no tag read per event).
  const claimedTarget = ownValue(hint.claimedTags, deps.config.protectTagKey);
  for (const serverId of hint.serverIds) {
    const target = claimedTarget ? claimedTarget : await protectTagValue(serverId, deps);
    if (target) enqueued.push({ serverId, target });
  }
  await enqueueIntents(
    enqueued.map(({ serverId, target }) => ({
      type: "protect",
      serverId,
      target,
      source: "event",
      eventId: hint.eventId,
      ...(claimedTarget ? { verifyTag: true } : {}),
    })),
    deps,
  );
  return enqueued;
}

/** One EventBridge inventory event → protect intents for the servers that carry the protect tag. */
export async function handleInventoryEvent(event: unknown, deps: PipelineDeps): Promise<InventoryEventResult> {
  const classified = classifyInventoryEvent(event);
  if (classified.status === "rejected") {
    // Kept in the store (14 days), not only logged: a malformed event usually means a changed producer.
    await deps.rejections.record({
      ...(classified.eventId ? { eventId: classified.eventId } : {}),
      reason: classified.reason,
      event,
    });
    deps.log.warn("inventory event rejected", { reason: classified.reason, eventId: classified.eventId });
    return {
      status: "rejected",
      reason: classified.reason,
      ...(classified.eventId ? { eventId: classified.eventId } : {}),
      enqueued: [],
    };
  }
  if (classified.status === "ignored") {
    deps.log.debug("inventory event ignored", { reason: classified.reason, eventId: classified.eventId });
    return {
      status: "ignored",
      reason: classified.reason,
      ...(classified.eventId ? { eventId: classified.eventId } : {}),
      enqueued: [],
    };
  }
  const { hint } = classified;
  // Dedupe on the event / trace id (CTS and EventBridge deliver at least once). Marked only after the intents
  // are enqueued: an event whose tag read failed (throttled, 5xx) is retried by the invoker and must not be
  // taken for a duplicate then. Two copies handled at the same moment both enqueue; onboarding tolerates that.
  if (await deps.repos.events.seen(hint.eventId)) return { status: "duplicate", eventId: hint.eventId, enqueued: [] };
  if (hint.kind === "coverage-changed") {
    const coverage = await sweepCoverage(deps, coverageScopeOf(hint));
    await deps.repos.events.firstSeen(hint.eventId, deps.settings.eventDedupeTtlSeconds);
    deps.log.info("inventory event handled", { eventId: hint.eventId, kind: hint.kind, coverage });
    return { status: "rechecked", eventId: hint.eventId, enqueued: [], coverage };
  }
  const enqueued = await enqueueTaggedServers(hint, deps);
  await deps.repos.events.firstSeen(hint.eventId, deps.settings.eventDedupeTtlSeconds);
  deps.log.info("inventory event handled", { eventId: hint.eventId, kind: hint.kind, enqueued: enqueued.length });
  return {
    status: enqueued.length > 0 ? "enqueued" : "ignored",
    eventId: hint.eventId,
    ...(enqueued.length === 0 ? { reason: "no server of the event carries the protect tag" } : {}),
    enqueued,
  };
}

export interface ReconcileResult {
  tagged: number;
  enqueued: number;
  skipped: Record<string, number>;
  /** Servers whose worker died halfway, given the step that is safe for their state. */
  recovered: RecoveryResult["recovered"];
  /** Onboarding requests recorded but not fully enqueued, enqueued now. */
  requestsFinished: number;
  /** Coverage of the protected servers (docs/coverage.md); `error` when it could not be read this time. */
  coverage: CoverageSweepResult | { error: string };
}

async function sweepCoverageSafely(deps: PipelineDeps): Promise<ReconcileResult["coverage"]> {
  try {
    return await sweepCoverage(deps);
  } catch (error) {
    const code = error instanceof CloudApiError ? error.code : error instanceof Error ? error.name : "error";
    deps.log.warn("coverage sweep failed; the next reconcile tries again", { code });
    return { error: code };
  }
}

/** Per target: tagged servers, those recorded protected, and the ratio (1 for a target without tagged servers). */
function recordCoverage(
  tagged: readonly { serverId: string; target: string }[],
  records: Awaited<ReturnType<PipelineDeps["repos"]["servers"]["getMany"]>>,
  deps: PipelineDeps,
): void {
  const byTarget = new Map<string, { tagged: number; protected: number }>(
    Object.keys(deps.config.targets).map((target) => [target, { tagged: 0, protected: 0 }]),
  );
  for (const { serverId, target } of tagged) {
    const counts = byTarget.get(target) ?? { tagged: 0, protected: 0 };
    counts.tagged += 1;
    if (records.get(serverId)?.record.status === "protected") counts.protected += 1;
    byTarget.set(target, counts);
  }
  const metrics = metricsOf(deps);
  for (const [target, counts] of byTarget) {
    metrics.observe("TaggedServers", counts.tagged, { target });
    metrics.observe("ProtectedServers", counts.protected, { target });
    metrics.observe("CoverageRatio", counts.tagged === 0 ? 1 : counts.protected / counts.tagged, { target });
  }
}

/**
 * The safety net: every server carrying the protect tag that is neither protected nor in flight is
 * enqueued, so a missed event never leaves a server unprotected. Final failures are retried after
 * `reconcileRetryAfterSeconds`; a claim that went stale (its worker died before the create call) too.
 */
export async function reconcile(deps: PipelineDeps): Promise<ReconcileResult> {
  const servers = await deps.cloud.listServers({ tags: deps.config.protectTagKey });
  const prefix = `${deps.config.protectTagKey}=`;
  const tagged = servers
    .map((server) => ({
      serverId: server.id,
      target: (server.tags ?? []).find((tag) => tag.startsWith(prefix))?.slice(prefix.length),
    }))
    .filter((entry): entry is { serverId: string; target: string } => Boolean(entry.target));
  // First the stalled records (any server, tagged or requested), then the tagged servers without one.
  const recovery = await recoverStalledServers(deps);
  if (outOfTime(deps)) {
    // Nothing is lost: the next scheduled sweep enqueues what this one did not.
    deps.log.warn("deadline near: reconcile stops before enqueuing; the next sweep continues", {
      tagged: tagged.length,
      recovered: recovery.recovered,
    });
    return {
      tagged: tagged.length,
      enqueued: 0,
      skipped: {},
      recovered: recovery.recovered,
      requestsFinished: 0,
      coverage: { error: "DEADLINE_NEAR" },
    };
  }
  const requestsFinished = await finishUnenqueuedRequests(deps);
  const records = await deps.repos.servers.getMany(tagged.map((entry) => entry.serverId));
  const now = deps.clock.now();
  const skipped: Record<string, number> = {};
  const intents: ProtectIntentInput[] = [];
  for (const { serverId, target } of tagged) {
    const record = records.get(serverId)?.record;
    const age = record ? (now - Date.parse(record.updatedAt)) / 1000 : Number.POSITIVE_INFINITY;
    // Protected or in flight for the tag's target, or in flight for another: nothing to do now (stalled
    // in-flight records were handled by the recovery above). Protected for another target: a retag, due now.
    const decision = decideServer({ serverId, target, record });
    const due =
      decision.kind === "needs" &&
      (!record ||
        record.status === "protected" ||
        (["failed", "ineligible", "unknown"].includes(record.status) &&
          age > deps.settings.reconcileRetryAfterSeconds));
    if (!due) {
      const key = record?.status ?? "none";
      skipped[key] = (skipped[key] ?? 0) + 1;
      continue;
    }
    intents.push({ type: "protect", serverId, target, source: "reconcile" });
  }
  await enqueueIntents(intents, deps);
  recordCoverage(tagged, records, deps);
  const coverage = await sweepCoverageSafely(deps);
  deps.log.info("reconcile finished", {
    tagged: tagged.length,
    enqueued: intents.length,
    skipped,
    recovered: recovery.recovered,
    coverage,
  });
  return {
    tagged: tagged.length,
    enqueued: intents.length,
    skipped,
    recovered: recovery.recovered,
    requestsFinished,
    coverage,
  };
}
