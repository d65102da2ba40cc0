/**
 * Recovery of servers whose worker died halfway (a Lambda timeout, a killed process): a record left
 * `claimed`, `creating`, `ambiguous` or `in_progress` with no message on its way would otherwise wait
 * forever. The scheduled reconcile runs this over every server record.
 *
 * Each stalled state gets the step that is safe for it: a stale claim was never sent to SDRS, so the
 * intent is queued again; a `creating` or `ambiguous` server may exist in the group, so it is looked up
 * there before anything is retried; an `in_progress` server's job is checked again. Duplicated checks
 * are harmless: outcomes are settled idempotently and creates are guarded by claims.
 */
import type { ServerRecord } from "../state/records.ts";
import { isOnboardingRequestId, type PipelineDeps } from "./deps.ts";
import { jobCheckOfRecord, newAmbiguousCheck, protectIntent } from "./messages.ts";

export type RecoveryAction = "intent" | "ambiguous-check" | "job-check";

/** What to do for one record, or undefined when it is not stalled. Pure. */
export function recoveryFor(record: ServerRecord, nowMs: number, deps: Pick<PipelineDeps, "settings">): RecoveryAction | undefined {
  const ageSeconds = (nowMs - Date.parse(record.updatedAt)) / 1000;
  const { staleClaimSeconds, schedule, reconcileRetryAfterSeconds } = deps.settings;
  switch (record.status) {
    case "claimed":
      return ageSeconds > staleClaimSeconds ? "intent" : undefined;
    case "creating":
    case "ambiguous":
      return ageSeconds > staleClaimSeconds && record.groupId ? "ambiguous-check" : undefined;
    case "in_progress":
      // The job-check chain updates the job record, not this one: stalled only past the job timeout.
      if (ageSeconds <= schedule.jobTimeoutSeconds + staleClaimSeconds) return undefined;
      return record.jobId ? "job-check" : record.groupId ? "ambiguous-check" : undefined;
    case "pending":
    case "deferred":
      return ageSeconds > Math.min(reconcileRetryAfterSeconds, schedule.jobTimeoutSeconds) ? "intent" : undefined;
    default:
      return undefined;
  }
}

export interface RecoveryResult {
  examined: number;
  recovered: Record<RecoveryAction, number>;
}

export async function recoverStalledServers(deps: PipelineDeps): Promise<RecoveryResult> {
  const now = deps.clock.now();
  const recovered: Record<RecoveryAction, number> = { intent: 0, "ambiguous-check": 0, "job-check": 0 };
  let examined = 0;
  for await (const { record } of deps.repos.servers.all()) {
    examined += 1;
    const action = recoveryFor(record, now, deps);
    if (!action) continue;
    if (action === "intent") {
      const requestId = record.requestIds.find(isOnboardingRequestId);
      await deps.queue.send(
        "onboarding",
        protectIntent.parse({ type: "protect", serverId: record.serverId, target: record.target, source: requestId ? "api" : "reconcile", ...(requestId ? { requestId } : {}) }),
      );
    } else if (action === "job-check" && record.jobId) {
      const job = await deps.repos.jobs.get(record.jobId);
      if (!job) continue;
      await deps.queue.send(
        "job-status",
        jobCheckOfRecord(job.record),
      );
    } else if (record.groupId) {
      await deps.queue.send(
        "job-status",
        newAmbiguousCheck({ target: record.target, groupId: record.groupId, serverIds: [record.serverId], createdAt: now }),
      );
    }
    recovered[action] += 1;
    deps.log.warn("stalled server recovered", { serverId: record.serverId, status: record.status, action });
  }
  return { examined, recovered };
}
