/**
 * Where intents come from: onboarding requests (HTTP API, CLI), inventory events, and the scheduled
 * reconcile sweep. All three only enqueue protect intents; the onboard step decides.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { classifyInventoryEvent } from "../events/inventory.ts";
import { CloudApiError } from "../sdrs/errors.ts";
import type { ServerRecord } from "../state/records.ts";
import { nowIso, type PipelineDeps } from "./deps.ts";
import { type IntentSource, type ProtectIntentInput, protectIntent } from "./messages.ts";
import { FINAL_STATUSES } from "./outcomes.ts";
import { type RecoveryResult, recoverStalledServers } from "./recovery.ts";

export const MAX_SERVERS_PER_REQUEST = 1000;

const serverEntry = z.union([
  z.string().min(1, { error: "a server id must not be empty" }),
  z.strictObject({ serverId: z.string().min(1), flavorRef: z.string().min(1).optional() }),
]);

export const onboardingRequestBody = z.strictObject({
  target: z.string().min(1, { error: "must name a target (or a protection group id)" }).max(64),
  servers: z
    .array(serverEntry)
    .min(1, { error: "must list at least 1 server" })
    .max(MAX_SERVERS_PER_REQUEST, { error: `must list at most ${MAX_SERVERS_PER_REQUEST} servers` }),
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
      parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join(".") || "(body)", rule: issue.message })),
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

/** Accepts an onboarding request: records it and enqueues one intent per accepted server. */
export async function acceptOnboardingRequest(
  body: OnboardingRequestBody,
  options: { idempotencyKey?: string; source?: IntentSource },
  deps: PipelineDeps,
): Promise<AcceptedRequest> {
  const source = options.source ?? "api";
  let requestId: string = randomUUID();
  if (options.idempotencyKey) {
    const owner = await deps.repos.idempotency.claim(options.idempotencyKey, requestId);
    if (owner !== requestId) {
      const earlier = await deps.repos.requests.get(owner);
      if (earlier) {
        return {
          requestId: owner,
          target: earlier.record.target,
          servers: earlier.record.serverIds.map((serverId) => ({ serverId, accepted: true })),
          replayed: true,
        };
      }
      requestId = owner; // the earlier call died before recording the request: finish it under the same id
    }
  }
  const seen = new Set<string>();
  const servers: ServerAcceptance[] = [];
  const flavorRefs: Record<string, string> = {};
  for (const entry of body.servers) {
    const serverId = typeof entry === "string" ? entry : entry.serverId;
    if (seen.has(serverId)) {
      servers.push({ serverId, accepted: false, reason: "duplicate: listed earlier in this request" });
      continue;
    }
    seen.add(serverId);
    servers.push({ serverId, accepted: true });
    if (typeof entry !== "string" && entry.flavorRef) flavorRefs[serverId] = entry.flavorRef;
  }
  const accepted = servers.filter((server) => server.accepted).map((server) => server.serverId);
  await deps.repos.requests.upsert(requestId, (current) =>
    current
      ? undefined
      : {
          requestId,
          target: body.target,
          source,
          ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
          serverIds: accepted,
          ...(Object.keys(flavorRefs).length > 0 ? { flavorRefs } : {}),
          createdAt: nowIso(deps),
        },
  );
  await enqueueIntents(
    accepted.map((serverId) => ({
      type: "protect",
      serverId,
      target: body.target,
      requestId,
      source,
      ...(flavorRefs[serverId] ? { flavorRef: flavorRefs[serverId] } : {}),
    })),
    deps,
  );
  deps.log.info("onboarding request accepted", { requestId, target: body.target, servers: accepted.length });
  return { requestId, target: body.target, servers, replayed: false };
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
  const servers = request.record.serverIds.map((serverId) => {
    const record = records.get(serverId)?.record;
    // A record not yet touched for this request (e.g. an old final state) still counts as queued.
    const attached = record?.requestIds.includes(requestId) ?? false;
    const state: ServerState = record && (attached || !FINAL_STATUSES.includes(record.status)) ? record.status : "queued";
    counts[state] = (counts[state] ?? 0) + 1;
    return {
      serverId,
      state,
      ...(record?.protectedInstanceId && state === "protected" ? { protectedInstanceId: record.protectedInstanceId } : {}),
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
  status: "enqueued" | "ignored" | "duplicate" | "rejected";
  reason?: string;
  eventId?: string;
  enqueued: { serverId: string; target: string }[];
}

/** One EventBridge inventory event → protect intents for the servers that carry the protect tag. */
export async function handleInventoryEvent(event: unknown, deps: PipelineDeps): Promise<InventoryEventResult> {
  const classified = classifyInventoryEvent(event);
  if (classified.status === "rejected") {
    // Kept in the store (14 days), not only logged: a malformed event usually means a changed producer.
    await deps.rejections.record({ ...(classified.eventId ? { eventId: classified.eventId } : {}), reason: classified.reason, event });
    deps.log.warn("inventory event rejected", { reason: classified.reason, eventId: classified.eventId });
    return { status: "rejected", reason: classified.reason, ...(classified.eventId ? { eventId: classified.eventId } : {}), enqueued: [] };
  }
  if (classified.status === "ignored") {
    deps.log.debug("inventory event ignored", { reason: classified.reason, eventId: classified.eventId });
    return { status: "ignored", reason: classified.reason, ...(classified.eventId ? { eventId: classified.eventId } : {}), enqueued: [] };
  }
  const { hint } = classified;
  // Dedupe on the event / trace id (CTS and EventBridge deliver at least once). Marked only after the intents
  // are enqueued: an event whose tag read failed (throttled, 5xx) is retried by the invoker and must not be
  // taken for a duplicate then. Two copies handled at the same moment both enqueue; onboarding tolerates that.
  if (await deps.repos.events.seen(hint.eventId)) return { status: "duplicate", eventId: hint.eventId, enqueued: [] };
  const enqueued: { serverId: string; target: string }[] = [];
  const toVerify = new Set<string>();
  // The event claims the protect tag: the onboard step verifies it with its batch read (no tag read per event).
  const claimedTarget = hint.claimedTags?.[deps.config.protectTagKey];
  for (const serverId of hint.serverIds) {
    if (claimedTarget) {
      enqueued.push({ serverId, target: claimedTarget });
      toVerify.add(serverId);
      continue;
    }
    const target = await protectTagValue(serverId, deps);
    if (!target) continue;
    enqueued.push({ serverId, target });
  }
  await enqueueIntents(
    enqueued.map(({ serverId, target }) => ({ type: "protect", serverId, target, source: "event", ...(toVerify.has(serverId) ? { verifyTag: true } : {}) })),
    deps,
  );
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
    .map((server) => ({ serverId: server.id, target: (server.tags ?? []).find((tag) => tag.startsWith(prefix))?.slice(prefix.length) }))
    .filter((entry): entry is { serverId: string; target: string } => Boolean(entry.target));
  // First the stalled records (any server, tagged or requested), then the tagged servers without one.
  const recovery = await recoverStalledServers(deps);
  const records = await deps.repos.servers.getMany(tagged.map((entry) => entry.serverId));
  const now = deps.clock.now();
  const skipped: Record<string, number> = {};
  const intents: ProtectIntentInput[] = [];
  for (const { serverId, target } of tagged) {
    const record = records.get(serverId)?.record;
    const age = record ? (now - Date.parse(record.updatedAt)) / 1000 : Number.POSITIVE_INFINITY;
    // Stalled in-flight records were handled by the recovery above.
    const due = !record || (["failed", "ineligible", "unknown"].includes(record.status) && age > deps.settings.reconcileRetryAfterSeconds);
    if (!due) {
      const key = record?.status ?? "none";
      skipped[key] = (skipped[key] ?? 0) + 1;
      continue;
    }
    intents.push({ type: "protect", serverId, target, source: "reconcile" });
  }
  await enqueueIntents(intents, deps);
  deps.log.info("reconcile finished", { tagged: tagged.length, enqueued: intents.length, skipped, recovered: recovery.recovered });
  return { tagged: tagged.length, enqueued: intents.length, skipped, recovered: recovery.recovered };
}
