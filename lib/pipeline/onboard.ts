/**
 * The onboard step: a batch of protect intents (SQS) → eligibility → plan → atomic claims → SDRS create
 * calls → job checks. Inventory is read once per batch, for exactly the batch's servers and their shared-disk
 * peers (list calls by id), and shared by every target of the batch.
 *
 * Never twice: a server is claimed with a conditional write before any create call, and a claimed,
 * creating, ambiguous or in-progress server is never claimed again; an ambiguous create is looked up in the
 * group before anything is retried. Never lost: every intent ends in a final state, a deferral (re-enqueued
 * with a delay) or a transient failure returned to the queue.
 */
import { configuredGroupTargets } from "../config/targets.ts";
import { decideServer, type RecordFacts } from "../planning/decision.ts";
import { type Inventory, readInventory, readScalingGroupMembers } from "../planning/inventory.ts";
import { planProtection } from "../planning/plan.ts";
import { sharedDiskClusters } from "../planning/shared-disks.ts";
import type { PlannedCall, Reason, ServerFacts, Verdict } from "../planning/types.ts";
import { AmbiguousCreateError, CloudApiError, RequestValidationError } from "../sdrs/errors.ts";
import type { OutcomeReason, ServerRecord } from "../state/records.ts";
import { isFinal, isInFlight, type ServerRecordStatus } from "../state/statuses.ts";
import { outOfTime } from "./deadline.ts";
import { automaticRequestId, metricsOf, type PipelineDeps } from "./deps.ts";
import { instanceViewOf, sharedReadsOf } from "./instance-view.ts";
import { newAmbiguousCheck, newJobCheck, type ProtectIntent, protectIntent } from "./messages.ts";
import { attachRequest, completeRequests, type ServerOutcome, settleServer } from "./outcomes.ts";
import { MAX_TRANSIENT_RETRIES, nextCheckDelaySeconds, transientBackoffSeconds } from "./schedule.ts";
import { type ResolvedTarget, resolveTarget } from "./targets.ts";


export interface OnboardResult {
  /** Indexes (into the input) of intents to return to the queue: transient failures, and the unstarted. */
  retry: number[];
  /** Of those, intents not started because the invocation's deadline was near (lib/pipeline/deadline.ts). */
  unstarted: number[];
}

interface Candidate {
  serverId: string;
  requestIds: string[];
  intents: { index: number; intent: ProtectIntent }[];
  flavorRef?: string;
  isolate: boolean;
  deferrals: number;
  /** Reconcile retries a server final for a long time: its claim starts a new round of attempts. */
  newRound?: boolean;
}

function toOutcomeReason(reason: Reason): OutcomeReason {
  return {
    code: reason.code,
    message: reason.message,
    remedy: reason.remedy,
    ...(reason.sdrsCode ? { sdrsCode: reason.sdrsCode } : {}),
  };
}

/** The request an intent belongs to: an onboarding request, an inventory event, or the reconcile sweep. */
function requestIdOf(intent: ProtectIntent): string {
  return intent.requestId ?? automaticRequestId(intent.eventId ? `event:${intent.eventId}` : intent.source);
}

/**
 * A final record that every request of the candidate was already told about: a redelivered or duplicate
 * intent, which must not start another attempt (nor another verdict). Reconcile's intent for a server final
 * longer than `reconcileRetryAfterSeconds` starts a new round instead.
 */
function alreadyToldFor(record: ServerRecord, candidate: Candidate, deps: PipelineDeps): boolean {
  if (!isFinal(record.status) || record.status === "protected") return false;
  if (!candidate.requestIds.every((requestId) => record.requestIds.includes(requestId))) return false;
  return !newRound(record, candidate, deps);
}

function newRound(record: ServerRecord, candidate: Candidate, deps: PipelineDeps): boolean {
  const ageSeconds = (deps.clock.now() - Date.parse(record.updatedAt)) / 1000;
  return candidate.intents.some((item) => item.intent.source === "reconcile") && ageSeconds > deps.settings.reconcileRetryAfterSeconds;
}

/** A record that makes an intent a no-op: protected, or in flight (a stale claim excepted). */
function protectedOrInFlight(record: ServerRecord | undefined, staleBefore: number): boolean {
  if (!record) return false;
  const staleClaim = record.status === "claimed" && Date.parse(record.updatedAt) < staleBefore;
  return record.status === "protected" || (isInFlight(record.status) && !staleClaim);
}

/** The batch's one inventory read, made when the first target needs it, for every server of the batch that may need planning. */
type SharedInventory = () => Promise<Inventory>;

async function sharedInventory(intents: readonly ProtectIntent[], deps: PipelineDeps): Promise<SharedInventory> {
  const serverIds = [...new Set(intents.map((intent) => intent.serverId))];
  const records = await deps.repos.servers.getMany(serverIds);
  const staleBefore = deps.clock.now() - deps.settings.staleClaimSeconds * 1000;
  // A server protected or in flight for the very target every intent names joins it unread; any other is read
  // (a retag to another target is decided from what the cloud shows).
  const targetsOf = new Map<string, Set<string>>();
  for (const intent of intents) targetsOf.set(intent.serverId, (targetsOf.get(intent.serverId) ?? new Set()).add(intent.target));
  const settledForAll = (serverId: string) => {
    const record = records.get(serverId)?.record;
    return protectedOrInFlight(record, staleBefore) && [...(targetsOf.get(serverId) ?? [])].every((target) => target === record?.target);
  };
  const toRead = serverIds.filter((serverId) => !settledForAll(serverId));
  const view = instanceViewOf(deps);
  let read: Promise<Inventory> | undefined;
  return () => {
    read ??= readInventory(
      deps.cloud,
      { serverIds: toRead, withSharedDiskPeers: true },
      { protectedInstances: () => view.all(), scalingGroupMembers: () => sharedReadsOf(deps).get("scaling-group-members", () => readScalingGroupMembers(deps.cloud)) },
    );
    return read;
  };
}

/** Processes one SQS batch of intents. */
export async function processIntents(intents: readonly ProtectIntent[], deps: PipelineDeps): Promise<OnboardResult> {
  const byTarget = new Map<string, { index: number; intent: ProtectIntent }[]>();
  intents.forEach((intent, index) => {
    const list = byTarget.get(intent.target) ?? [];
    list.push({ index, intent });
    byTarget.set(intent.target, list);
  });
  const retry: number[] = [];
  const unstarted: number[] = [];
  let inventory: SharedInventory;
  try {
    inventory = await sharedInventory(intents, deps);
  } catch (error) {
    deps.log.error("reading the store failed; intents return to the queue", { error: error instanceof Error ? error.message : String(error) });
    return { retry: intents.map((_, index) => index), unstarted: [] };
  }
  for (const [target, items] of byTarget) {
    if (outOfTime(deps)) {
      unstarted.push(...items.map((item) => item.index));
      continue;
    }
    try {
      retry.push(...(await onboardTarget(target, items, deps, inventory, unstarted)));
    } catch (error) {
      // Reading inventory or the store failed: nothing was created for these intents; they back off.
      deps.log.error("onboarding a target failed; its intents back off", {
        target,
        error: error instanceof Error ? error.message : String(error),
      });
      retry.push(...(await backOff(items, deps)));
    }
  }
  const sorted = (indexes: number[]) => [...new Set(indexes)].sort((a, b) => a - b);
  return { retry: sorted([...retry, ...unstarted]), unstarted: sorted(unstarted) };
}

/**
 * Intents that hit a transient failure come back on their own after a short, growing, jittered delay, as
 * fresh messages (so the rest of the batch proceeds, and a throttled intent does not count receives towards
 * the dead-letter queue). Past MAX_TRANSIENT_RETRIES, or when the send fails, they return to the queue as
 * batch item failures (the visibility timeout, then the DLQ). Returns the indexes of those.
 */
async function backOff(items: readonly { index: number; intent: ProtectIntent }[], deps: PipelineDeps): Promise<number[]> {
  const failed: number[] = [];
  for (const { index, intent } of items) {
    const retries = intent.retries ?? 0;
    if (retries >= MAX_TRANSIENT_RETRIES) {
      failed.push(index);
      continue;
    }
    try {
      const delaySeconds = transientBackoffSeconds(retries, deps.random?.() ?? Math.random());
      await deps.queue.send("onboarding", protectIntent.parse({ ...intent, retries: retries + 1 }), { delaySeconds });
    } catch {
      failed.push(index);
    }
  }
  return failed;
}

async function requeue(candidate: Candidate, target: string, delaySeconds: number, deps: PipelineDeps, patch: Partial<ProtectIntent> = {}) {
  const first = candidate.intents[0]?.intent;
  const intent = protectIntent.parse({
    type: "protect",
    serverId: candidate.serverId,
    target,
    source: first?.source ?? "reconcile",
    ...(first?.requestId ? { requestId: first.requestId } : {}),
    ...(candidate.flavorRef ? { flavorRef: candidate.flavorRef } : {}),
    deferrals: candidate.deferrals,
    ...patch,
  });
  await deps.queue.send("onboarding", intent, { delaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))) });
  // Every other request that asked for the server rides on the record: one intent suffices.
  for (const requestId of candidate.requestIds.slice(1)) await attachRequest(candidate.serverId, target, requestId, deps);
}

async function setStatus(serverId: string, status: ServerRecordStatus, deps: PipelineDeps, patch: Partial<ServerRecord> = {}) {
  await deps.repos.servers.update(serverId, (current) => ({ ...current, ...patch, status }));
}

async function defer(candidate: Candidate, target: string, reasons: OutcomeReason[], retryAfterSeconds: number, deps: PipelineDeps) {
  // Attached first, so the requests see the server's outcome whichever branch settles it.
  for (const requestId of candidate.requestIds) await attachRequest(candidate.serverId, target, requestId, deps);
  if (candidate.deferrals + 1 > deps.settings.maxDeferrals) {
    await settleServer(
      {
        status: "ineligible",
        serverId: candidate.serverId,
        target,
        reasons: [
          ...reasons,
          {
            code: "INELIGIBLE_STILL_DEFERRED",
            message: `still not ready after ${candidate.deferrals} deferrals`,
            remedy: "resolve the transient state, then re-tag the server or submit it again",
          },
        ],
      },
      deps,
    );
    return;
  }
  await setStatus(candidate.serverId, "deferred", deps, { reasons });
  await requeue({ ...candidate, deferrals: candidate.deferrals + 1 }, target, retryAfterSeconds, deps);
}

/** `unstarted` collects the intents of create calls not started because the deadline was near. */
async function onboardTarget(
  target: string,
  items: { index: number; intent: ProtectIntent }[],
  deps: PipelineDeps,
  sharedRead: SharedInventory,
  unstarted: number[],
): Promise<number[]> {
  const retry: number[] = [];
  const candidates = new Map<string, Candidate>();
  for (const item of items) {
    const existing = candidates.get(item.intent.serverId);
    const requestId = requestIdOf(item.intent);
    if (existing) {
      if (!existing.requestIds.includes(requestId)) existing.requestIds.push(requestId);
      existing.intents.push(item);
      existing.isolate ||= item.intent.isolate === true;
      existing.deferrals = Math.max(existing.deferrals, item.intent.deferrals);
      continue;
    }
    candidates.set(item.intent.serverId, {
      serverId: item.intent.serverId,
      requestIds: [requestId],
      intents: [item],
      ...(item.intent.flavorRef ? { flavorRef: item.intent.flavorRef } : {}),
      isolate: item.intent.isolate === true,
      deferrals: item.intent.deferrals,
    });
  }

  // 1. Our records (the decision of lib/planning/decision.ts): in flight or protected for this target → the
  // request joins it (a duplicate never creates twice); in flight for another target → decided again later.
  const records = await deps.repos.servers.getMany([...candidates.keys()]);
  const staleBefore = deps.clock.now() - deps.settings.staleClaimSeconds * 1000;
  const recordFacts = new Map<string, RecordFacts>();
  for (const [serverId, record] of records) {
    const { status, target: recordTarget, groupId, updatedAt } = record.record;
    recordFacts.set(serverId, { status, target: recordTarget, groupId, stale: status === "claimed" && Date.parse(updatedAt) < staleBefore });
  }
  for (const [serverId, candidate] of candidates) {
    const record = records.get(serverId)?.record;
    if (record && isFinal(record.status) && newRound(record, candidate, deps)) candidate.newRound = true;
    const decision = decideServer({ serverId, target, record: recordFacts.get(serverId) });
    // A duplicate intent of a request already told this server's final outcome starts nothing.
    const toldAlready = record !== undefined && record.target === target && alreadyToldFor(record, candidate, deps);
    if (decision.kind === "join" || toldAlready) {
      for (const requestId of candidate.requestIds) await attachRequest(serverId, target, requestId, deps);
      if (record && isFinal(record.status)) await completeRequests(candidate.requestIds, deps);
      candidates.delete(serverId);
    } else if (decision.kind === "deferred") {
      // Not attached (the record's requests are the other target's), and not counted as a deferral: the other
      // target's create ends by itself, at the job timeout at the latest. One intent per request, so none rides on it.
      for (const requestId of candidate.requestIds) {
        const intents = candidate.intents.filter((item) => requestIdOf(item.intent) === requestId);
        await requeue({ ...candidate, requestIds: [requestId], intents }, target, decision.retryAfterSeconds, deps);
      }
      candidates.delete(serverId);
    }
  }
  if (candidates.size === 0) return retry;

  // 2. The target's protection group.
  const resolved: ResolvedTarget = await resolveTarget(target, deps);
  if (resolved.status === "unknown") {
    for (const candidate of candidates.values()) {
      for (const requestId of candidate.requestIds) await attachRequest(candidate.serverId, target, requestId, deps);
      await settleServer({ status: "ineligible", serverId: candidate.serverId, target, reasons: [resolved.reason] }, deps);
    }
    return retry;
  }
  if (resolved.status === "pending") {
    const reason: OutcomeReason = { code: "DEFERRED_GROUP_BEING_CREATED", message: resolved.reason, remedy: "none: retried automatically" };
    for (const candidate of candidates.values()) await defer(candidate, target, [reason], resolved.retryAfterSeconds, deps);
    return retry;
  }
  const { group, config } = resolved;

  // 3. Inventory, read once for the whole batch (the group was just read by resolveTarget), with the
  // shared-disk peers; the peers that were asked for too join the candidates.
  const inventory = await sharedRead();
  const facts = new Map([...inventory.servers, ...inventory.peers].map((server: ServerFacts) => [server.serverId, server]));
  const factsOf = (serverIds: Iterable<string>) => [...serverIds].map((serverId) => facts.get(serverId) ?? { serverId, volumes: [] });
  await verifyClaimedTags(target, candidates, facts, deps);
  await pullSharedDiskPeers(target, candidates, factsOf(candidates.keys()), facts, deps);

  // 4. What the cloud shows: a protected instance in the target's group is adopted (created elsewhere, or by
  // an earlier attempt); one still creating is waited for; one in another group makes the server ineligible.
  const groupTargets = configuredGroupTargets(deps.config);
  const names = new Map(inventory.servers.map((facts: ServerFacts) => [facts.serverId, facts.server?.name]));
  for (const candidate of [...candidates.values()]) {
    const decision = decideServer({
      serverId: candidate.serverId,
      serverName: names.get(candidate.serverId),
      target,
      record: recordFacts.get(candidate.serverId),
      resolution: { status: "ready", groupId: group.id },
      protectedInstances: inventory.protectedInstances,
      groupTargets,
    });
    if (decision.kind === "evaluate" || decision.kind === "needs" || decision.kind === "join") continue;
    if (decision.kind === "deferred") {
      // Someone else's create is waited for as long as one of ours would be: the job timeout, over the allowed deferrals.
      const { jobTimeoutSeconds } = deps.settings.schedule;
      const retryAfterSeconds = Math.max(1, Math.min(decision.retryAfterSeconds, Math.ceil(jobTimeoutSeconds / deps.settings.maxDeferrals)));
      await defer(candidate, target, [toOutcomeReason(decision.reason)], retryAfterSeconds, deps);
    } else {
      for (const requestId of candidate.requestIds) await attachRequest(candidate.serverId, target, requestId, deps);
      if (decision.kind === "adopt") {
        const { instance } = decision;
        await settleServer(
          { status: "protected", serverId: candidate.serverId, target, groupId: group.id, protectedInstanceId: instance.id, protectedInstanceName: instance.name, jobId: "adopted" },
          deps,
        );
      } else {
        // The record keeps the truth: the group (and instance) the server is really protected in.
        const where = decision.protectedElsewhere;
        await settleServer(
          {
            status: "ineligible",
            serverId: candidate.serverId,
            ...(names.get(candidate.serverId) ? { serverName: names.get(candidate.serverId) } : {}),
            target,
            ...(where ? { groupId: where.groupId, protectedInstanceId: where.protectedInstanceId } : { groupId: group.id }),
            reasons: [toOutcomeReason(decision.reason)],
          },
          deps,
        );
      }
    }
    candidates.delete(candidate.serverId);
  }
  if (candidates.size === 0) return retry;

  // 5. Plan: isolated servers (a failed batch retried server by server) each with their shared-disk peers.
  const partitions = partition(candidates, factsOf(candidates.keys()));
  for (const serverIds of partitions) {
    const plan = planProtection({
      protectionGroupId: group.id,
      protectionGroup: group,
      targetName: target,
      servers: serverIds.map((serverId) => facts.get(serverId) ?? { serverId }),
      protectedInstances: inventory.protectedInstances,
      creationOptions: config.creation,
      flavorOverrides: Object.fromEntries(
        serverIds.flatMap((serverId) => {
          const flavorRef = candidates.get(serverId)?.flavorRef;
          return flavorRef ? [[serverId, flavorRef]] : [];
        }),
      ),
      batchLimit: deps.config.batchLimit,
      sharedDiskPolicy: deps.config.sharedDiskPolicy,
    });
    const verdicts = new Map(plan.verdicts.map((verdict: Verdict) => [verdict.serverId, verdict]));
    for (const verdict of plan.verdicts) {
      const candidate = candidates.get(verdict.serverId);
      if (!candidate) continue;
      if (verdict.verdict === "ineligible") {
        for (const requestId of candidate.requestIds) await attachRequest(candidate.serverId, target, requestId, deps);
        await settleServer(
          {
            status: "ineligible",
            serverId: verdict.serverId,
            ...(verdict.serverName ? { serverName: verdict.serverName } : {}),
            target,
            groupId: group.id,
            reasons: verdict.reasons.map(toOutcomeReason),
            warnings: verdict.warnings.map(toOutcomeReason),
          },
          deps,
        );
      } else if (verdict.verdict === "deferred") {
        await defer(candidate, target, verdict.reasons.map(toOutcomeReason), verdict.retryAfterSeconds ?? 60, deps);
      }
    }
    for (const call of plan.calls) {
      // No create call starts that the invocation might not live to record: the rest go back to the queue.
      if (outOfTime(deps)) {
        for (const serverId of call.serverIds) unstarted.push(...(candidates.get(serverId)?.intents.map((item) => item.index) ?? []));
        continue;
      }
      const callRetry = await executeCall(call, target, group.id, candidates, verdicts, deps);
      for (const serverId of callRetry) retry.push(...(candidates.get(serverId)?.intents.map((item) => item.index) ?? []));
    }
  }
  return retry;
}

/**
 * Intents whose target an event only claimed (`verifyTag`) are checked against the tags the batch read
 * listed: the tag is gone (or the server is) → nothing to do; it names another target → re-routed there.
 */
async function verifyClaimedTags(target: string, candidates: Map<string, Candidate>, facts: ReadonlyMap<string, ServerFacts>, deps: PipelineDeps): Promise<void> {
  const prefix = `${deps.config.protectTagKey}=`;
  for (const candidate of [...candidates.values()]) {
    if (candidate.intents.length === 0 || !candidate.intents.every((item) => item.intent.verifyTag === true)) continue;
    const tagged = facts.get(candidate.serverId)?.server?.tags?.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
    if (tagged === target) continue;
    candidates.delete(candidate.serverId);
    if (tagged) {
      await deps.queue.send("onboarding", protectIntent.parse({ type: "protect", serverId: candidate.serverId, target: tagged, source: "event" }));
    }
    deps.log.info(tagged ? "an event claimed another target; re-routed to the tagged one" : "an event claimed a protect tag the server does not carry; nothing to do", { serverId: candidate.serverId, claimed: target, tagged: tagged ?? null });
  }
}

/**
 * Servers sharing a disk with a candidate must be in the same batch (SDRS.1408). A peer joins when it was
 * asked for too: it carries the protect tag for this target, or it is in the same onboarding request.
 * Its own intent, arriving later, then finds it in flight.
 */
async function pullSharedDiskPeers(
  target: string,
  candidates: Map<string, Candidate>,
  servers: readonly ServerFacts[],
  facts: ReadonlyMap<string, ServerFacts>,
  deps: PipelineDeps,
): Promise<string[]> {
  const clusters = sharedDiskClusters(servers);
  const peers = new Set([...clusters.values()].flatMap((cluster) => cluster.members).filter((serverId) => !candidates.has(serverId)));
  if (peers.size === 0) return [];
  const requestMembers = new Map<string, string>();
  const requestIds = new Set([...candidates.values()].flatMap((candidate) => candidate.requestIds));
  for (const requestId of requestIds) {
    const request = await deps.repos.requests.get(requestId);
    for (const serverId of request?.record.serverIds ?? []) requestMembers.set(serverId, requestId);
  }
  const records = await deps.repos.servers.getMany([...peers]);
  const tag = `${deps.config.protectTagKey}=${target}`;
  const pulled: string[] = [];
  for (const peerId of peers) {
    const record = records.get(peerId)?.record;
    if (record && (record.status === "protected" || isInFlight(record.status))) continue;
    let requestId = requestMembers.get(peerId);
    if (!requestId) {
      // The peer's tags come with the batch's inventory read; not found: the planner reports the missing peer.
      const server = facts.get(peerId)?.server;
      if (server === undefined) continue;
      if ((server.tags ?? []).includes(tag)) requestId = automaticRequestId("event");
    }
    if (!requestId) continue;
    candidates.set(peerId, { serverId: peerId, requestIds: [requestId], intents: [], isolate: false, deferrals: 0 });
    pulled.push(peerId);
  }
  return pulled;
}

/** Candidate ids split into plans: each isolated server's shared-disk cluster alone, the rest together. */
function partition(candidates: Map<string, Candidate>, servers: readonly ServerFacts[]): string[][] {
  const clusters = sharedDiskClusters(servers);
  const placed = new Set<string>();
  const together: string[] = [];
  const alone: string[][] = [];
  for (const serverId of candidates.keys()) {
    if (placed.has(serverId)) continue;
    const members = (clusters.get(serverId)?.members ?? [serverId]).filter((memberId) => candidates.has(memberId));
    for (const memberId of members) placed.add(memberId);
    if (members.some((memberId) => candidates.get(memberId)?.isolate)) alone.push(members);
    else together.push(...members);
  }
  return [...(together.length > 0 ? [together] : []), ...alone];
}

/** Back to pending, giving back the attempt its claim counted: no create call was applied. */
async function releaseClaim(serverId: string, deps: PipelineDeps) {
  await deps.repos.servers.update(serverId, (current) => ({ ...current, status: "pending", attempts: Math.max(0, current.attempts - 1) }));
}

/** A server whose attempts are spent: failed, with the last attempt's reason. */
function exhausted(record: ServerRecord, target: string, groupId: string): ServerOutcome {
  const last = record.reasons[0];
  return {
    status: "failed",
    serverId: record.serverId,
    target,
    groupId,
    ...(record.jobId ? { jobId: record.jobId } : {}),
    errorCode: last?.code ?? "ATTEMPTS_EXHAUSTED",
    reason: last ? `${last.message} (after ${record.attempts} attempts)` : `no create attempt left (${record.attempts} made)`,
  };
}

/** Claims, calls SDRS, records the job. Returns the server ids whose intents go back to the queue. */
async function executeCall(
  call: PlannedCall,
  target: string,
  groupId: string,
  candidates: Map<string, Candidate>,
  verdicts: Map<string, Verdict>,
  deps: PipelineDeps,
): Promise<string[]> {
  const won: string[] = [];
  let lost: ServerRecord | undefined;
  const staleClaimBefore = new Date(deps.clock.now() - deps.settings.staleClaimSeconds * 1000).toISOString();
  for (const serverId of call.serverIds) {
    const candidate = candidates.get(serverId);
    const [firstRequest = automaticRequestId("event"), ...otherRequests] = candidate?.requestIds ?? [];
    const claim = await deps.repos.servers.claim(serverId, {
      target,
      requestId: firstRequest,
      groupId,
      staleClaimBefore,
      maxAttempts: deps.settings.maxAttempts,
      ...(candidate?.newRound ? { newRound: true } : {}),
    });
    for (const requestId of otherRequests) await attachRequest(serverId, target, requestId, deps);
    if (!claim.won) {
      lost = claim.server.record;
      break;
    }
    won.push(serverId);
  }
  if (won.length < call.serverIds.length) {
    // Another worker has one of them: release ours, giving back the attempts the claims counted.
    for (const serverId of won) await releaseClaim(serverId, deps);
    if (lost && lost.status === "pending" && lost.attempts >= deps.settings.maxAttempts) {
      await settleServer(exhausted(lost, target, groupId), deps);
      return [];
    }
    deps.log.info("claim lost; another worker is protecting these servers", { serverIds: call.serverIds });
    return [];
  }

  const warningsOf = (serverId: string) => (verdicts.get(serverId)?.warnings ?? []).map(toOutcomeReason);
  for (const serverId of call.serverIds) {
    await deps.repos.servers.update(serverId, (current) => ({ ...current, status: "creating", groupId, warnings: warningsOf(serverId) }));
  }

  const callKind = call.kind === "single" ? "single" : "batch";
  metricsOf(deps).count("CreateCalls", { target, kind: callKind });
  metricsOf(deps).observe("ServersPerCall", call.serverIds.length, { target, kind: callKind });
  let jobId: string;
  try {
    ({ jobId } =
      call.kind === "single"
        ? await deps.cloud.createProtectedInstance(call.request.protected_instance)
        : await deps.cloud.batchCreateProtectedInstances(call.request.protected_instances));
  } catch (error) {
    return handleCreateError(error, call, target, groupId, candidates, deps);
  }

  const submittedAt = deps.clock.now();
  const kind = call.kind === "single" ? "single" : "batch";
  await deps.repos.jobs.create({
    jobId,
    kind,
    groupId,
    target,
    serverIds: call.serverIds,
    submittedAt: new Date(submittedAt).toISOString(),
    status: "INIT",
    checks: 0,
  });
  for (const serverId of call.serverIds) await setStatus(serverId, "in_progress", deps, { jobId });
  const learned = await deps.repos.stats.jobDurations(kind, call.serverIds.length);
  const delaySeconds = nextCheckDelaySeconds({
    kind,
    checks: 0,
    learnedDurationsMs: learned,
    random: deps.random?.() ?? Math.random(),
    settings: deps.settings.schedule,
  });
  await deps.queue.send(
    "job-status",
    newJobCheck({ jobId, kind, target, groupId, serverIds: call.serverIds, submittedAt }),
    { delaySeconds },
  );
  deps.log.info("protection submitted", { jobId, kind, target, groupId, serverIds: call.serverIds, firstCheckInSeconds: delaySeconds });
  return [];
}

async function handleCreateError(
  error: unknown,
  call: PlannedCall,
  target: string,
  groupId: string,
  candidates: Map<string, Candidate>,
  deps: PipelineDeps,
): Promise<string[]> {
  if (error instanceof AmbiguousCreateError) {
    // The create may have been applied: never retry before looking in the group.
    metricsOf(deps).count("AmbiguousCreates", { target });
    for (const serverId of call.serverIds) await setStatus(serverId, "ambiguous", deps);
    await deps.queue.send(
      "job-status",
      newAmbiguousCheck({ target, groupId, serverIds: call.serverIds, createdAt: deps.clock.now() }),
      { delaySeconds: deps.settings.ambiguousCheckDelaySeconds },
    );
    deps.log.warn("ambiguous create; the group will be checked before any retry", { serverIds: call.serverIds, reason: error.message });
    return [];
  }
  if (error instanceof CloudApiError && error.retryable) {
    // Throttled or refused before being applied (a 429 is unambiguous): no attempt was made; release and back off.
    for (const serverId of call.serverIds) await releaseClaim(serverId, deps);
    deps.log.warn("create refused transiently; intents back off", { code: error.code, serverIds: call.serverIds });
    const items = call.serverIds.flatMap((serverId) => candidates.get(serverId)?.intents.slice(0, 1) ?? []);
    const failed = new Set(await backOff(items, deps));
    return call.serverIds.filter((serverId) => candidates.get(serverId)?.intents.some((item) => failed.has(item.index)));
  }
  const code = error instanceof CloudApiError || error instanceof RequestValidationError ? error.code : "CREATE_FAILED";
  const message = error instanceof Error ? error.message : String(error);
  if (code === "SDRS.1305") {
    // Already protected: an earlier attempt may have succeeded. Adopt what the group shows.
    const instances = await deps.cloud.listProtectedInstances({ serverGroupId: groupId });
    let adopted = 0;
    for (const serverId of call.serverIds) {
      const instance = instances.find((pi) => pi.source_server === serverId);
      if (instance) {
        adopted += 1;
        await settleServer(
          { status: "protected", serverId, target, groupId, protectedInstanceId: instance.id, protectedInstanceName: instance.name, jobId: "adopted" },
          deps,
        );
      }
    }
    if (adopted === call.serverIds.length) return [];
  }
  // An isolated call is one shared-disk cluster already: it cannot be split further.
  const splittable = call.kind === "batch" && call.serverIds.length > 1 && !call.serverIds.every((serverId) => candidates.get(serverId)?.isolate);
  if (splittable && deps.config.retryFailedBatchIndividually) {
    // The batch was refused and SDRS does not say for which server: retry each (with its shared-disk peers) alone.
    for (const serverId of call.serverIds) {
      await setStatus(serverId, "pending", deps);
      const candidate = candidates.get(serverId) ?? { serverId, requestIds: [], intents: [], isolate: true, deferrals: 0 };
      await requeue(candidate, target, 0, deps, { isolate: true });
    }
    deps.log.warn("batch refused; retrying server by server", { code, serverIds: call.serverIds });
    return [];
  }
  for (const serverId of call.serverIds) {
    const record = await deps.repos.servers.get(serverId);
    if (record?.record.status === "protected") continue;
    await settleServer({ status: "failed", serverId, target, groupId, errorCode: code, reason: message }, deps);
  }
  return [];
}

