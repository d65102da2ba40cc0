/**
 * The onboard step's candidates: a batch's protect intents gathered per server, and the ways a candidate
 * goes back to the onboarding queue (re-enqueued with a delay, or backed off after a transient failure).
 */
import type { Reason } from "../planning/types.ts";
import type { OutcomeReason, ServerRecord } from "../state/records.ts";
import type { ServerRecordStatus } from "../state/statuses.ts";
import { automaticRequestId, type PipelineDeps } from "./deps.ts";
import { MAX_DELAY_SECONDS, type ProtectIntent, protectIntent } from "./messages.ts";
import { attachRequest } from "./outcomes.ts";
import { MAX_TRANSIENT_RETRIES, transientBackoffSeconds } from "./schedule.ts";

/** An intent of the batch and its position in it (SQS batch item failures name positions). */
export interface IntentItem {
  index: number;
  intent: ProtectIntent;
}

/** One server of a batch, with every intent and request that asked for it. */
export interface Candidate {
  serverId: string;
  requestIds: string[];
  intents: IntentItem[];
  flavorRef?: string;
  isolate: boolean;
  deferrals: number;
  /** Reconcile retries a server final for a long time: its claim starts a new round of attempts. */
  newRound?: boolean;
}

/** The request an intent belongs to: an onboarding request, an inventory event, or the reconcile sweep. */
export function requestIdOf(intent: ProtectIntent): string {
  return intent.requestId ?? automaticRequestId(intent.eventId ? `event:${intent.eventId}` : intent.source);
}

/** The batch's intents for one target, gathered per server: repeats of a server add their requests to it. */
export function candidatesOf(items: readonly IntentItem[]): Map<string, Candidate> {
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
  return candidates;
}

/** The batch positions of the intents behind `serverIds`. */
export function intentIndexes(candidates: ReadonlyMap<string, Candidate>, serverIds: readonly string[]): number[] {
  return serverIds.flatMap((serverId) => candidates.get(serverId)?.intents.map((item) => item.index) ?? []);
}

export function toOutcomeReason(reason: Reason): OutcomeReason {
  return {
    code: reason.code,
    message: reason.message,
    remedy: reason.remedy,
    ...(reason.sdrsCode ? { sdrsCode: reason.sdrsCode } : {}),
  };
}

/** Attaches every request of the candidate to its server's record, so each request completes on it. */
export async function attachRequests(candidate: Candidate, target: string, deps: PipelineDeps): Promise<void> {
  for (const requestId of candidate.requestIds) await attachRequest(candidate.serverId, target, requestId, deps);
}

export async function setStatus(
  serverId: string,
  status: ServerRecordStatus,
  deps: PipelineDeps,
  patch: Partial<ServerRecord> = {},
) {
  await deps.repos.servers.update(serverId, (current) => ({ ...current, ...patch, status }));
}

/**
 * Intents that hit a transient failure come back on their own after a short, growing, jittered delay, as
 * fresh messages (so the rest of the batch proceeds, and a throttled intent does not count receives towards
 * the dead-letter queue). Past MAX_TRANSIENT_RETRIES, or when the send fails, they return to the queue as
 * batch item failures (the visibility timeout, then the DLQ). Returns the indexes of those.
 */
export async function backOff(items: readonly IntentItem[], deps: PipelineDeps): Promise<number[]> {
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

/** Sends the candidate back to onboarding after `delaySeconds`, as one intent its other requests ride on. */
export async function requeue(
  candidate: Candidate,
  target: string,
  delaySeconds: number,
  deps: PipelineDeps,
  patch: Partial<ProtectIntent> = {},
) {
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
  await deps.queue.send("onboarding", intent, {
    delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
  });
  // Every other request that asked for the server rides on the record: one intent suffices.
  for (const requestId of candidate.requestIds.slice(1))
    await attachRequest(candidate.serverId, target, requestId, deps);
}
