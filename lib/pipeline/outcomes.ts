/**
 * Settling servers: the one place where a server reaches a final state (protected, failed, ineligible,
 * unknown), is notified once, and where onboarding requests are completed.
 *
 * Exactly-once notification without distributed transactions: the server record is written first, then
 * the notification is enqueued with a stable event id, then `notified` is set. A crash between the last
 * two steps re-sends the same event id, which receivers drop (Standard Webhooks: webhook-id is the
 * idempotency key); a crash before the send leaves `notified` unset, so the next settle sends it.
 */
import { type NotificationEvent, newNotificationMessage } from "../notify/events.ts";
import type { OutcomeReason, ServerRecord } from "../state/records.ts";
import { isFinal } from "../state/statuses.ts";
import { isOnboardingRequestId, metricsOf, nowIso, type PipelineDeps } from "./deps.ts";

export type ServerOutcome =
  | {
      status: "protected";
      serverId: string;
      serverName?: string;
      target: string;
      groupId: string;
      protectedInstanceId: string;
      protectedInstanceName?: string;
      jobId: string;
      warnings?: OutcomeReason[];
    }
  | {
      status: "failed";
      serverId: string;
      serverName?: string;
      target: string;
      groupId?: string;
      jobId?: string;
      errorCode?: string;
      reason: string;
    }
  | {
      status: "ineligible";
      serverId: string;
      serverName?: string;
      target: string;
      /** For INELIGIBLE_PROTECTED_ELSEWHERE: the group the server is really protected in. */
      groupId?: string;
      /** For INELIGIBLE_PROTECTED_ELSEWHERE: its protected instance there. */
      protectedInstanceId?: string;
      reasons: OutcomeReason[];
      warnings?: OutcomeReason[];
    }
  | {
      status: "unknown";
      serverId: string;
      serverName?: string;
      target: string;
      groupId?: string;
      jobId: string;
      reason: string;
    };

function outcomeKey(outcome: ServerOutcome): string {
  switch (outcome.status) {
    case "protected":
      return `protected:${outcome.protectedInstanceId}`;
    case "failed":
      return `failed:${outcome.jobId ?? outcome.errorCode ?? "call"}`;
    case "ineligible":
      return `ineligible:${outcome.reasons
        .map((reason) => reason.code)
        .sort()
        .join(",")}`;
    case "unknown":
      return `unknown:${outcome.jobId}`;
  }
}

function reasonForEvent(reason: OutcomeReason) {
  return {
    code: reason.code,
    message: reason.message,
    remedy: reason.remedy ?? "",
    ...(reason.sdrsCode ? { sdrsCode: reason.sdrsCode } : {}),
  };
}

/** Which server an outcome's event is about. */
function subjectOf(outcome: ServerOutcome) {
  return {
    serverId: outcome.serverId,
    target: outcome.target,
    ...(outcome.serverName ? { serverName: outcome.serverName } : {}),
  };
}

/** The protection group an event names, when the outcome has one. */
function protectionGroupOf(groupId: string | undefined) {
  return groupId ? { protectionGroupId: groupId } : {};
}

function eventFor(outcome: ServerOutcome, record: ServerRecord, timestamp: string): NotificationEvent {
  const requestIds = record.requestIds.filter(isOnboardingRequestId);
  const subject = subjectOf(outcome);
  switch (outcome.status) {
    case "protected":
      return {
        type: "server.protected",
        timestamp,
        data: {
          ...subject,
          protectionGroupId: outcome.groupId,
          protectedInstanceId: outcome.protectedInstanceId,
          ...(outcome.protectedInstanceName ? { protectedInstanceName: outcome.protectedInstanceName } : {}),
          jobId: outcome.jobId,
          requestIds,
          warnings: (outcome.warnings ?? record.warnings).map(reasonForEvent),
        },
      };
    case "failed":
      return {
        type: "server.protection_failed",
        timestamp,
        data: {
          ...subject,
          ...protectionGroupOf(outcome.groupId),
          ...(outcome.jobId ? { jobId: outcome.jobId } : {}),
          ...(outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
          reason: outcome.reason,
          attempts: Math.max(1, record.attempts),
          requestIds,
        },
      };
    case "ineligible":
      return {
        type: "server.ineligible",
        timestamp,
        data: { ...subject, verdict: "ineligible", reasons: outcome.reasons.map(reasonForEvent), requestIds },
      };
    case "unknown":
      return {
        type: "server.protection_unknown",
        timestamp,
        data: {
          ...subject,
          ...protectionGroupOf(outcome.groupId),
          jobId: outcome.jobId,
          reason: outcome.reason,
          requestIds,
        },
      };
  }
}

function settledRecord(current: ServerRecord | undefined, outcome: ServerOutcome, now: string): ServerRecord {
  const base: ServerRecord = current ?? {
    serverId: outcome.serverId,
    target: outcome.target,
    status: "pending",
    requestIds: [],
    reasons: [],
    warnings: [],
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  };
  const next: ServerRecord = { ...base, target: outcome.target, status: outcome.status, updatedAt: now };
  if ("groupId" in outcome && outcome.groupId) next.groupId = outcome.groupId;
  switch (outcome.status) {
    case "protected":
      next.protectedInstanceId = outcome.protectedInstanceId;
      next.jobId = outcome.jobId;
      next.reasons = [];
      if (outcome.warnings) next.warnings = outcome.warnings;
      break;
    case "failed":
      if (outcome.jobId) next.jobId = outcome.jobId;
      next.reasons = [
        {
          code: outcome.errorCode ?? "PROTECTION_FAILED",
          message: outcome.reason,
          ...(outcome.errorCode?.startsWith("SDRS.") ? { sdrsCode: outcome.errorCode } : {}),
        },
      ];
      break;
    case "ineligible":
      if (outcome.protectedInstanceId) next.protectedInstanceId = outcome.protectedInstanceId;
      next.reasons = outcome.reasons;
      if (outcome.warnings) next.warnings = outcome.warnings;
      break;
    case "unknown":
      next.jobId = outcome.jobId;
      next.reasons = [
        { code: "JOB_OUTCOME_UNKNOWN", message: outcome.reason, remedy: "reconcile checks the server again" },
      ];
      break;
  }
  return next;
}

/** The event that tells `outcome`: its own, or a correction of the outcome told before (only ever to protected). */
function notificationFor(outcome: ServerOutcome, record: ServerRecord, timestamp: string): NotificationEvent {
  const told = record.notifiedEventId;
  if (outcome.status !== "protected" || told === undefined) return eventFor(outcome, record, timestamp);
  return {
    type: "server.outcome_corrected",
    timestamp,
    data: {
      ...subjectOf(outcome),
      previousEventId: told,
      status: "protected",
      protectionGroupId: outcome.groupId,
      protectedInstanceId: outcome.protectedInstanceId,
      jobId: outcome.jobId,
      requestIds: record.requestIds.filter(isOnboardingRequestId),
    },
  };
}

/** A server found already protected in its group (by an earlier create whose answer was lost): adopted. */
export async function settleAdopted(
  where: { serverId: string; target: string; groupId: string },
  instance: { id: string; name: string },
  deps: PipelineDeps,
): Promise<void> {
  await settleServer(
    {
      status: "protected",
      ...where,
      protectedInstanceId: instance.id,
      protectedInstanceName: instance.name,
      jobId: "adopted",
    },
    deps,
  );
}

/**
 * Writes the final state, notifies it once, and completes the requests it finishes. A notified outcome
 * stands for its requests: a later settle with another outcome (a straggling check of an earlier attempt)
 * changes nothing, except news that the server is protected, sent as `server.outcome_corrected`. Only a new
 * claim (a new request or round) clears what was told.
 */
export async function settleServer(outcome: ServerOutcome, deps: PipelineDeps): Promise<void> {
  const now = nowIso(deps);
  const key = outcomeKey(outcome);
  const written = await deps.repos.servers.upsert(outcome.serverId, (current) => {
    if (current && isFinal(current.status) && current.notified === key) return undefined;
    // Never downgrade a protection by a late verdict for the same target; a verdict for another target
    // (a retag) is that request's outcome, and the record keeps which group the server is really in.
    if (current?.status === "protected" && outcome.status !== "protected" && current.target === outcome.target)
      return undefined;
    // Told once: a final outcome already notified for this target is not replaced by a later attempt's verdict.
    const told = current !== undefined && isFinal(current.status) && current.notified !== undefined;
    if (told && outcome.status !== "protected" && current.target === outcome.target) return undefined;
    return { ...settledRecord(current, outcome, now), ...(current?.notified === key ? { notified: key } : {}) };
  });
  const record = written?.record ?? (await deps.repos.servers.get(outcome.serverId))?.record;
  if (!record) return;
  if (record.status === outcome.status && record.notified !== key) {
    const message = newNotificationMessage(notificationFor(outcome, record, now), deps.clock);
    await deps.queue.send("notify", message);
    await deps.repos.servers.update(outcome.serverId, (current) =>
      current.status === outcome.status && current.notified !== key
        ? { ...current, notified: key, notifiedEventId: message.eventId }
        : undefined,
    );
    deps.log.info("server settled", {
      serverId: outcome.serverId,
      status: outcome.status,
      eventId: message.eventId,
      type: message.event.type,
    });
    // A re-emission of the same final outcome (same event id) is no new outcome: counted once.
    if (record.notifiedEventId !== message.eventId) countOutcome(outcome, deps);
  }
  await completeRequests(record.requestIds, deps);
}

const OUTCOME_METRICS = {
  protected: "ServersProtected",
  failed: "ServersFailed",
  ineligible: "ServersIneligible",
  unknown: "ServersUnknown",
} as const;

/** Counted where the outcome is notified: once per server outcome. */
function countOutcome(outcome: ServerOutcome, deps: PipelineDeps): void {
  const metrics = metricsOf(deps);
  const reason = outcome.status === "ineligible" ? outcome.reasons[0]?.code : undefined;
  metrics.count(OUTCOME_METRICS[outcome.status], { target: outcome.target, ...(reason ? { reason } : {}) });
  if (outcome.status === "protected" && outcome.jobId === "adopted")
    metrics.count("ServersAdopted", { target: outcome.target });
}

/** Final for request R: the record is final and R was attached when it got there (or later). */
function settledFor(record: ServerRecord | undefined, requestId: string): boolean {
  return record !== undefined && isFinal(record.status) && record.requestIds.includes(requestId);
}

/** Servers read per step while checking a request: a request still open usually stops at its first step. */
const COMPLETION_CHECK_STEP = 25;

/**
 * The records of a request's servers when every one is final for it; undefined at the first that is not.
 * Read a step at a time, so a settle in a 1000-server request that is far from done reads a few records,
 * not all of them (which made a bulk wave quadratic in the request size).
 */
async function settledRecords(
  serverIds: readonly string[],
  requestId: string,
  deps: PipelineDeps,
): Promise<(ServerRecord | undefined)[] | undefined> {
  const records: (ServerRecord | undefined)[] = [];
  for (let start = 0; start < serverIds.length; start += COMPLETION_CHECK_STEP) {
    const step = serverIds.slice(start, start + COMPLETION_CHECK_STEP);
    const found = await deps.repos.servers.getMany(step);
    for (const serverId of step) {
      const record = found.get(serverId)?.record;
      if (!settledFor(record, requestId)) return undefined;
      records.push(record);
    }
  }
  return records;
}

/**
 * Completes each onboarding request whose servers are all final: one conditional write decides the single
 * winner among concurrent settlers, which sends `onboarding_request.completed` (stable id per request).
 */
export async function completeRequests(requestIds: readonly string[], deps: PipelineDeps): Promise<void> {
  for (const requestId of requestIds.filter(isOnboardingRequestId)) {
    const request = await deps.repos.requests.get(requestId);
    if (!request || request.record.completedAt) continue;
    const records = await settledRecords(request.record.serverIds, requestId, deps);
    if (records === undefined) continue;
    const counts = { protected: 0, failed: 0, ineligible: 0, unknown: 0, total: records.length };
    const summary = request.record.serverIds.map((serverId, index) => {
      const record = records[index];
      const outcome = (record?.status ?? "unknown") as "protected" | "failed" | "ineligible" | "unknown";
      counts[outcome] += 1;
      return {
        serverId,
        outcome,
        ...(record?.protectedInstanceId ? { protectedInstanceId: record.protectedInstanceId } : {}),
        ...(record && record.reasons.length > 0 ? { codes: record.reasons.map((reason) => reason.code) } : {}),
      };
    });
    const completedAt = nowIso(deps);
    try {
      await deps.repos.requests.update(requestId, request.version, (current) =>
        current.completedAt ? undefined : { ...current, completedAt, counts: { ...counts }, outcomes: summary },
      );
    } catch {
      continue; // another settler completed it (or is completing it) first
    }
    // SNS messages are limited to 256 KB: a bulk request lists at most 200 servers, the rest are counted.
    const listed = summary.slice(0, 200);
    const event: NotificationEvent = {
      type: "onboarding_request.completed",
      timestamp: completedAt,
      data: {
        requestId,
        target: request.record.target,
        counts,
        servers: listed,
        ...(summary.length > listed.length ? { serversOmitted: summary.length - listed.length } : {}),
      },
    };
    await deps.queue.send("notify", newNotificationMessage(event, deps.clock));
    deps.log.info("onboarding request completed", { requestId, ...counts });
  }
}

/** Adds `requestId` to a server's record (creating a pending one), so the request can complete on it. */
export async function attachRequest(
  serverId: string,
  target: string,
  requestId: string,
  deps: PipelineDeps,
): Promise<ServerRecord | undefined> {
  const now = nowIso(deps);
  const written = await deps.repos.servers.upsert(serverId, (current) => {
    if (!current) {
      return {
        serverId,
        target,
        status: "pending",
        requestIds: [requestId],
        reasons: [],
        warnings: [],
        attempts: 0,
        createdAt: now,
        updatedAt: now,
      };
    }
    if (current.requestIds.includes(requestId)) return undefined;
    return { ...current, requestIds: [...current.requestIds, requestId] };
  });
  return written?.record ?? (await deps.repos.servers.get(serverId))?.record;
}
