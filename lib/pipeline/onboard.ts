/**
 * The onboard step: a batch of protect intents (SQS) → eligibility → plan → atomic claims → SDRS create
 * calls → job checks. Inventory is read once per batch, for exactly the batch's servers and their shared-disk
 * peers (list calls by id), and shared by every target of the batch. The candidates and how they return to the
 * queue are in lib/pipeline/candidates.ts; one create call, its claims and its errors in lib/pipeline/create-call.ts.
 *
 * Never twice: a server is claimed with a conditional write before any create call, and a claimed,
 * creating, ambiguous or in-progress server is never claimed again; an ambiguous create is looked up in the
 * group before anything is retried. Never lost: every intent ends in a final state, a deferral (re-enqueued
 * with a delay) or a transient failure returned to the queue.
 */
import { configuredGroupTargets } from "../config/targets.ts";
import { type Decision, decideServer, type RecordFacts } from "../planning/decision.ts";
import { type Inventory, readInventory, readScalingGroupMembers } from "../planning/inventory.ts";
import { planProtection } from "../planning/plan.ts";
import { sharedDiskClusters } from "../planning/shared-disks.ts";
import type { PlanResult as ProtectionPlan, ServerFacts, Verdict } from "../planning/types.ts";
import type { OutcomeReason, ServerRecord } from "../state/records.ts";
import { isFinal, isInFlight } from "../state/statuses.ts";
import {
  attachRequests,
  backOff,
  type Candidate,
  candidatesOf,
  type IntentItem,
  intentIndexes,
  requestIdOf,
  requeue,
  setStatus,
  toOutcomeReason,
} from "./candidates.ts";
import { executeCall } from "./create-call.ts";
import { outOfTime } from "./deadline.ts";
import { automaticRequestId, type PipelineDeps } from "./deps.ts";
import { instanceViewOf, sharedReadsOf } from "./instance-view.ts";
import { type ProtectIntent, protectIntent } from "./messages.ts";
import { completeRequests, settleAdopted, settleServer } from "./outcomes.ts";
import { type ResolvedTarget, resolveTarget } from "./targets.ts";

export interface OnboardResult {
  /** Indexes (into the input) of intents to return to the queue: transient failures, and the unstarted. */
  retry: number[];
  /** Of those, intents not started because the invocation's deadline was near (lib/pipeline/deadline.ts). */
  unstarted: number[];
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
  return (
    candidate.intents.some((item) => item.intent.source === "reconcile") &&
    ageSeconds > deps.settings.reconcileRetryAfterSeconds
  );
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
  for (const intent of intents)
    targetsOf.set(intent.serverId, (targetsOf.get(intent.serverId) ?? new Set()).add(intent.target));
  const settledForAll = (serverId: string) => {
    const record = records.get(serverId)?.record;
    return (
      protectedOrInFlight(record, staleBefore) &&
      [...(targetsOf.get(serverId) ?? [])].every((target) => target === record?.target)
    );
  };
  const toRead = serverIds.filter((serverId) => !settledForAll(serverId));
  const view = instanceViewOf(deps);
  let read: Promise<Inventory> | undefined;
  return () => {
    read ??= readInventory(
      deps.cloud,
      { serverIds: toRead, withSharedDiskPeers: true },
      {
        protectedInstances: () => view.all(),
        scalingGroupMembers: () =>
          sharedReadsOf(deps).get("scaling-group-members", () => readScalingGroupMembers(deps.cloud)),
      },
    );
    return read;
  };
}

/** Processes one SQS batch of intents. */
export async function processIntents(intents: readonly ProtectIntent[], deps: PipelineDeps): Promise<OnboardResult> {
  const byTarget = new Map<string, IntentItem[]>();
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
    deps.log.error("reading the store failed; intents return to the queue", {
      error: error instanceof Error ? error.message : String(error),
    });
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

/** Defers the candidate (re-enqueued after `retryAfterSeconds`), or settles it ineligible past the allowed deferrals. */
async function defer(
  candidate: Candidate,
  target: string,
  reasons: OutcomeReason[],
  retryAfterSeconds: number,
  deps: PipelineDeps,
) {
  // Attached first, so the requests see the server's outcome whichever branch settles it.
  await attachRequests(candidate, target, deps);
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
  items: IntentItem[],
  deps: PipelineDeps,
  sharedRead: SharedInventory,
  unstarted: number[],
): Promise<number[]> {
  const candidates = candidatesOf(items);
  // 1. Our records: a duplicate joins what is in flight or protected, never creating twice.
  const recordFacts = await decideFromRecords(target, candidates, deps);
  if (candidates.size === 0) return [];
  // 2. The target's protection group.
  const resolved = await resolveTarget(target, deps);
  if (resolved.status !== "ready") {
    await settleWithoutGroup(target, resolved, candidates, deps);
    return [];
  }
  // 3. Inventory, read once for the whole batch (the group was just read by resolveTarget), with the
  // shared-disk peers; the peers that were asked for too join the candidates.
  const batch = await readBatchFacts(target, candidates, sharedRead, deps);
  // 4. What the cloud shows: a protected instance already there is adopted, waited for, or refused.
  await decideFromCloud(target, resolved.group.id, candidates, recordFacts, batch, deps);
  if (candidates.size === 0) return [];
  // 5. Plan and create.
  return planAndCreate(target, resolved, candidates, batch, deps, unstarted);
}

/**
 * Step 1, the decision of lib/planning/decision.ts on our records: in flight or protected for this target →
 * the request joins it (a duplicate never creates twice); in flight for another target → decided again
 * later. Decided candidates leave `candidates`; returns what the records say of every candidate's server.
 */
async function decideFromRecords(
  target: string,
  candidates: Map<string, Candidate>,
  deps: PipelineDeps,
): Promise<Map<string, RecordFacts>> {
  const records = await deps.repos.servers.getMany([...candidates.keys()]);
  const staleBefore = deps.clock.now() - deps.settings.staleClaimSeconds * 1000;
  const recordFacts = new Map<string, RecordFacts>();
  for (const [serverId, record] of records) {
    const { status, target: recordTarget, groupId, updatedAt } = record.record;
    recordFacts.set(serverId, {
      status,
      target: recordTarget,
      groupId,
      stale: status === "claimed" && Date.parse(updatedAt) < staleBefore,
    });
  }
  for (const [serverId, candidate] of candidates) {
    const record = records.get(serverId)?.record;
    if (record && isFinal(record.status) && newRound(record, candidate, deps)) candidate.newRound = true;
    const decision = decideServer({ serverId, target, record: recordFacts.get(serverId) });
    // A duplicate intent of a request already told this server's final outcome starts nothing.
    const toldAlready = record !== undefined && record.target === target && alreadyToldFor(record, candidate, deps);
    if (decision.kind === "join" || toldAlready) {
      await attachRequests(candidate, target, deps);
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
  return recordFacts;
}

/** Step 2 found no group: an unknown target makes every candidate ineligible; a group being created defers them. */
async function settleWithoutGroup(
  target: string,
  resolved: Exclude<ResolvedTarget, { status: "ready" }>,
  candidates: Map<string, Candidate>,
  deps: PipelineDeps,
): Promise<void> {
  if (resolved.status === "unknown") {
    for (const candidate of candidates.values()) {
      await attachRequests(candidate, target, deps);
      await settleServer(
        { status: "ineligible", serverId: candidate.serverId, target, reasons: [resolved.reason] },
        deps,
      );
    }
    return;
  }
  const reason: OutcomeReason = {
    code: "DEFERRED_GROUP_BEING_CREATED",
    message: resolved.reason,
    remedy: "none: retried automatically",
  };
  for (const candidate of candidates.values())
    await defer(candidate, target, [reason], resolved.retryAfterSeconds, deps);
}

/** What the batch's inventory read says of the target's candidates. */
interface BatchFacts {
  inventory: Inventory;
  /** Server id → its facts, for the batch's servers and their shared-disk peers. */
  facts: Map<string, ServerFacts>;
}

function factsOf(batch: BatchFacts, serverIds: Iterable<string>): ServerFacts[] {
  return [...serverIds].map((serverId) => batch.facts.get(serverId) ?? { serverId, volumes: [] });
}

/** Step 3: the batch's inventory; claimed tags are verified, and shared-disk peers that were asked for join. */
async function readBatchFacts(
  target: string,
  candidates: Map<string, Candidate>,
  sharedRead: SharedInventory,
  deps: PipelineDeps,
): Promise<BatchFacts> {
  const inventory = await sharedRead();
  const batch = {
    inventory,
    facts: new Map([...inventory.servers, ...inventory.peers].map((server: ServerFacts) => [server.serverId, server])),
  };
  await verifyClaimedTags(target, candidates, batch.facts, deps);
  await pullSharedDiskPeers(target, candidates, factsOf(batch, candidates.keys()), batch.facts, deps);
  return batch;
}

/**
 * Step 4, what the cloud shows: a protected instance in the target's group is adopted (created elsewhere, or
 * by an earlier attempt); one still creating is waited for; one in another group makes the server ineligible.
 * Decided candidates leave `candidates`.
 */
async function decideFromCloud(
  target: string,
  groupId: string,
  candidates: Map<string, Candidate>,
  recordFacts: ReadonlyMap<string, RecordFacts>,
  batch: BatchFacts,
  deps: PipelineDeps,
): Promise<void> {
  const groupTargets = configuredGroupTargets(deps.config);
  const names = new Map(batch.inventory.servers.map((facts: ServerFacts) => [facts.serverId, facts.server?.name]));
  for (const candidate of [...candidates.values()]) {
    const serverName = names.get(candidate.serverId);
    const decision = decideServer({
      serverId: candidate.serverId,
      serverName,
      target,
      record: recordFacts.get(candidate.serverId),
      resolution: { status: "ready", groupId },
      protectedInstances: batch.inventory.protectedInstances,
      groupTargets,
    });
    if (decision.kind === "evaluate" || decision.kind === "needs" || decision.kind === "join") continue;
    await settleCloudDecision(candidate, decision, target, groupId, serverName, deps);
    candidates.delete(candidate.serverId);
  }
}

/** A candidate the cloud decided: someone else's create waited for, an instance adopted, or protected elsewhere. */
async function settleCloudDecision(
  candidate: Candidate,
  decision: Extract<Decision, { kind: "deferred" | "adopt" | "ineligible" }>,
  target: string,
  groupId: string,
  serverName: string | undefined,
  deps: PipelineDeps,
): Promise<void> {
  if (decision.kind === "deferred") {
    // Someone else's create is waited for as long as one of ours would be: the job timeout, over the allowed deferrals.
    const { jobTimeoutSeconds } = deps.settings.schedule;
    const retryAfterSeconds = Math.max(
      1,
      Math.min(decision.retryAfterSeconds, Math.ceil(jobTimeoutSeconds / deps.settings.maxDeferrals)),
    );
    await defer(candidate, target, [toOutcomeReason(decision.reason)], retryAfterSeconds, deps);
    return;
  }
  await attachRequests(candidate, target, deps);
  if (decision.kind === "adopt") {
    const { instance } = decision;
    await settleAdopted({ serverId: candidate.serverId, target, groupId }, instance, deps);
    return;
  }
  // The record keeps the truth: the group (and instance) the server is really protected in.
  const where = decision.protectedElsewhere;
  await settleServer(
    {
      status: "ineligible",
      serverId: candidate.serverId,
      ...(serverName ? { serverName } : {}),
      target,
      ...(where ? { groupId: where.groupId, protectedInstanceId: where.protectedInstanceId } : { groupId }),
      reasons: [toOutcomeReason(decision.reason)],
    },
    deps,
  );
}

/**
 * Step 5: a plan per partition (isolated servers, a failed batch retried server by server, each with their
 * shared-disk peers), its verdicts settled, its create calls made. Returns the batch positions to retry.
 */
async function planAndCreate(
  target: string,
  resolved: Extract<ResolvedTarget, { status: "ready" }>,
  candidates: Map<string, Candidate>,
  batch: BatchFacts,
  deps: PipelineDeps,
  unstarted: number[],
): Promise<number[]> {
  const retry: number[] = [];
  for (const serverIds of partition(candidates, factsOf(batch, candidates.keys()))) {
    const plan = planPartition(serverIds, target, resolved, candidates, batch, deps);
    const verdicts = new Map(plan.verdicts.map((verdict: Verdict) => [verdict.serverId, verdict]));
    await settleVerdicts(plan.verdicts, target, resolved.group.id, candidates, deps);
    for (const call of plan.calls) {
      // No create call starts that the invocation might not live to record: the rest go back to the queue.
      if (outOfTime(deps)) {
        unstarted.push(...intentIndexes(candidates, call.serverIds));
        continue;
      }
      const callRetry = await executeCall(call, target, resolved.group.id, candidates, verdicts, deps);
      retry.push(...intentIndexes(candidates, callRetry));
    }
  }
  return retry;
}

function planPartition(
  serverIds: readonly string[],
  target: string,
  { group, config }: Extract<ResolvedTarget, { status: "ready" }>,
  candidates: ReadonlyMap<string, Candidate>,
  batch: BatchFacts,
  deps: PipelineDeps,
): ProtectionPlan {
  return planProtection({
    protectionGroupId: group.id,
    protectionGroup: group,
    targetName: target,
    servers: serverIds.map((serverId) => batch.facts.get(serverId) ?? { serverId }),
    protectedInstances: batch.inventory.protectedInstances,
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
}

/** The plan's ineligible servers settle, its deferred ones are deferred; eligible ones wait for their call. */
async function settleVerdicts(
  verdicts: readonly Verdict[],
  target: string,
  groupId: string,
  candidates: ReadonlyMap<string, Candidate>,
  deps: PipelineDeps,
): Promise<void> {
  for (const verdict of verdicts) {
    const candidate = candidates.get(verdict.serverId);
    if (!candidate) continue;
    if (verdict.verdict === "ineligible") {
      await attachRequests(candidate, target, deps);
      await settleServer(
        {
          status: "ineligible",
          serverId: verdict.serverId,
          ...(verdict.serverName ? { serverName: verdict.serverName } : {}),
          target,
          groupId,
          reasons: verdict.reasons.map(toOutcomeReason),
          warnings: verdict.warnings.map(toOutcomeReason),
        },
        deps,
      );
    } else if (verdict.verdict === "deferred") {
      await defer(candidate, target, verdict.reasons.map(toOutcomeReason), verdict.retryAfterSeconds ?? 60, deps);
    }
  }
}

/**
 * Intents whose target an event only claimed (`verifyTag`) are checked against the tags the batch read
 * listed: the tag is gone (or the server is) → nothing to do; it names another target → re-routed there.
 */
async function verifyClaimedTags(
  target: string,
  candidates: Map<string, Candidate>,
  facts: ReadonlyMap<string, ServerFacts>,
  deps: PipelineDeps,
): Promise<void> {
  const prefix = `${deps.config.protectTagKey}=`;
  for (const candidate of [...candidates.values()]) {
    if (candidate.intents.length === 0 || !candidate.intents.every((item) => item.intent.verifyTag === true)) continue;
    const tagged = facts
      .get(candidate.serverId)
      ?.server?.tags?.find((tag) => tag.startsWith(prefix))
      ?.slice(prefix.length);
    if (tagged === target) continue;
    candidates.delete(candidate.serverId);
    if (tagged) {
      await deps.queue.send(
        "onboarding",
        protectIntent.parse({ type: "protect", serverId: candidate.serverId, target: tagged, source: "event" }),
      );
    }
    deps.log.info(
      tagged
        ? "an event claimed another target; re-routed to the tagged one"
        : "an event claimed a protect tag the server does not carry; nothing to do",
      { serverId: candidate.serverId, claimed: target, tagged: tagged ?? null },
    );
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
  const peers = new Set(
    [...clusters.values()].flatMap((cluster) => cluster.members).filter((serverId) => !candidates.has(serverId)),
  );
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
