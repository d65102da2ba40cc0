/**
 * The job-status step: follows each SDRS job to its end with delayed queue messages, and resolves
 * ambiguous creates by looking in the protection group.
 *
 * A protection job is first looked at in the shared in-flight view (lib/pipeline/instance-view.ts): one
 * list of the instances still `creating` per few seconds (only what is in flight, whatever the size of the
 * estate) plus one lookup by id per 30 that finished, shared by every check. A server still creating: the
 * job is running, looked at again soon, no request of its own. Every server available or protected: the
 * job succeeded, settled without reading it. Otherwise (an instance in error or gone: a failure; never
 * seen) the job itself is read (`showJob`) and settles each server as before (sub-jobs, failures).
 *
 * SUCCESS → protected instance ids from the job's top-level entities or its sub_jobs, falling back to the
 * group's protected instances matched by source_server (the batch result shape is undocumented).
 * FAIL → per-server failures from sub_jobs; a failed batch whose failing server is unknown, or whose every
 * sub-job failed, is retried server by server, so one bad server does not sink four good ones. Past the
 * overall timeout → unknown, notified, and left to reconcile.
 */

import { createHash } from "node:crypto";
import { newNotificationMessage } from "../notify/events.ts";
import { ownValue } from "../own.ts";
import { CloudApiError } from "../sdrs/errors.ts";
import type { Job, ProtectedInstance, SubJob } from "../sdrs/schemas.ts";
import type { OutcomeReason } from "../state/records.ts";
import { isOnboardingRequestId, metricsOf, type PipelineDeps } from "./deps.ts";
import { creatingViewOf } from "./instance-view.ts";
import {
  type AmbiguousCheck,
  type JobCheck,
  type JobStatusMessage,
  newJobCheck,
  nextAmbiguousCheck,
  nextJobCheck,
  protectIntent,
} from "./messages.ts";
import { type ServerOutcome, settleServer } from "./outcomes.ts";
import { hop, MAX_TRANSIENT_RETRIES, nextCheckDelaySeconds, transientBackoffSeconds } from "./schedule.ts";

export type JobStatusResult = "done" | "rescheduled" | "duplicate";

/**
 * Identical check messages are copies of one (SQS delivers at least once): the content (job, check number,
 * hop) names the check. Without this, every copy would schedule its own next check and the copies would
 * live on as parallel polling chains.
 */
function checkKey(message: JobStatusMessage): string {
  return `job-status:${createHash("sha256").update(JSON.stringify(message)).digest("base64url")}`;
}

export async function processJobStatus(message: JobStatusMessage, deps: PipelineDeps): Promise<JobStatusResult> {
  const key = checkKey(message);
  if (await deps.repos.events.seen(key)) {
    deps.log.debug("job check already made; duplicate dropped", {
      type: message.type,
      ...(message.type === "job" ? { jobId: message.jobId } : {}),
    });
    return "duplicate";
  }
  const now = deps.clock.now();
  let result: JobStatusResult;
  if (message.notBefore !== undefined && message.notBefore > now) {
    const next = hop((message.notBefore - now) / 1000, now);
    // The hop counts itself: a hop identical to the message it replaces would share its checkKey, and be
    // dropped as that message's duplicate when it arrives (a check due in 2 h was never made).
    const hops = (message.hops ?? 0) + 1;
    await deps.queue.send(
      "job-status",
      { ...message, notBefore: next.notBefore, hops },
      { delaySeconds: next.delaySeconds },
    );
    result = "rescheduled";
  } else {
    try {
      result = message.type === "job" ? await checkJob(message, deps) : await checkAmbiguous(message, deps);
    } catch (error) {
      const retries = message.retries ?? 0;
      if (!(error instanceof CloudApiError && error.retryable) || retries >= MAX_TRANSIENT_RETRIES) throw error;
      // A throttled or failed read: the check comes back in seconds, not after the visibility timeout.
      const delaySeconds = transientBackoffSeconds(retries, deps.random?.() ?? Math.random());
      await deps.queue.send("job-status", { ...message, retries: retries + 1 }, { delaySeconds });
      result = "rescheduled";
    }
  }
  // Marked only once the check's effects (settlements, the next check) are written: a check that failed
  // half-way is redelivered and made again, never dropped.
  await deps.repos.events.firstSeen(key, deps.settings.eventDedupeTtlSeconds);
  return result;
}

function parseTime(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2} \d/.test(text) ? `${text.replace(" ", "T")}Z` : text;
  const time = Date.parse(iso);
  return Number.isNaN(time) ? undefined : time;
}

async function reschedule(check: JobCheck, deps: PipelineDeps, afterViewLook = false): Promise<JobStatusResult> {
  const delaySeconds = nextCheckDelaySeconds({
    kind: check.kind,
    checks: check.checks + 1,
    learnedDurationsMs: [],
    random: deps.random?.() ?? Math.random(),
    settings: deps.settings.schedule,
    afterViewLook,
  });
  await deps.queue.send("job-status", nextJobCheck(check), { delaySeconds });
  return "rescheduled";
}

/** Instance statuses of a server whose protection succeeded (SDRS: available, or protected once the group is). */
const PROTECTED_INSTANCE_STATUSES: ReadonlySet<string> = new Set(["available", "protected"]);

/**
 * The job's servers as the shared in-flight view shows them. Any still creating: the job is running (SDRS
 * ends a job when every sub-job has ended), the check is rescheduled. All available or protected: the job
 * succeeded for each, settled without reading it. Anything else (an instance in error, gone, or never
 * seen): undefined, and the job itself is read for each server's outcome.
 */
async function checkInView(check: JobCheck, deps: PipelineDeps): Promise<JobStatusResult | undefined> {
  if (check.kind !== "single" && check.kind !== "batch") return undefined;
  const elapsedMs = deps.clock.now() - check.submittedAt;
  if (elapsedMs > deps.settings.schedule.jobTimeoutSeconds * 1000) return undefined; // the job read confirms a timeout
  // A view read before the create cannot show its instances.
  const bySource = await creatingViewOf(deps).ofServers({ notBefore: check.submittedAt + 1 });
  const instances = check.serverIds
    .map((serverId) => bySource.get(serverId))
    .filter((instance) => instance?.server_group_id === check.groupId);
  if (instances.some((instance) => instance?.status === "creating")) {
    await deps.repos.jobs.upsert(check.jobId, (current) =>
      current ? { ...current, status: "RUNNING", checks: check.checks + 1 } : undefined,
    );
    return reschedule(check, deps, true);
  }
  const succeeded = instances.filter(
    (instance): instance is ProtectedInstance =>
      instance !== undefined && PROTECTED_INSTANCE_STATUSES.has(instance.status),
  );
  if (succeeded.length < check.serverIds.length) return undefined;
  const finishedAt = new Date(deps.clock.now()).toISOString();
  await deps.repos.jobs.upsert(check.jobId, (current) =>
    current ? { ...current, status: "SUCCESS", checks: check.checks + 1, finishedAt } : undefined,
  );
  // Seen at most a view age plus a check interval after its end: the learned duration errs late, never early.
  metricsOf(deps).observe("JobChecks", check.checks + 1, { target: check.target, kind: check.kind });
  metricsOf(deps).observe("JobDuration", elapsedMs, { target: check.target, kind: check.kind });
  await deps.repos.stats.recordJobDuration(check.kind, check.serverIds.length, elapsedMs);
  for (const instance of succeeded) await settleProtected(instance.source_server, check, instance, check.jobId, deps);
  await maybeEnableProtection(check, deps);
  return "done";
}

async function checkJob(check: JobCheck, deps: PipelineDeps): Promise<JobStatusResult> {
  const seen = await checkInView(check, deps);
  if (seen !== undefined) return seen;
  const job = await readJob(check, deps);
  if (job === undefined) return "done";
  await deps.repos.jobs.upsert(check.jobId, (current) =>
    current ? { ...current, status: job.status, checks: check.checks + 1 } : undefined,
  );
  if (job.status === "INIT" || job.status === "RUNNING") return rescheduleRunning(check, job.status, deps);
  const finishedAt = await recordJobEnd(check, job, deps);
  if (check.kind === "group") {
    deps.log.info("protection group creation finished", {
      jobId: check.jobId,
      status: job.status,
      target: check.target,
    });
    return "done";
  }
  if (check.kind === "enable") {
    if (job.status === "SUCCESS") await notifyProtectionEnabled(check, finishedAt, deps);
    return "done";
  }
  await settleProtectionJob(check, job, deps);
  return "done";
}

/** The job as SDRS shows it; undefined when it cannot be read (its servers are settled unknown). */
async function readJob(check: JobCheck, deps: PipelineDeps): Promise<Job | undefined> {
  try {
    return await deps.cloud.getJob(check.jobId);
  } catch (error) {
    if (error instanceof CloudApiError && !error.retryable) {
      await settleUnknown(check, `the job could not be read: ${error.code}`, deps);
      return undefined;
    }
    throw error; // transient: the queue redelivers the check
  }
}

/** A job still INIT or RUNNING is checked again, until the job timeout makes its servers unknown. */
async function rescheduleRunning(check: JobCheck, status: string, deps: PipelineDeps): Promise<JobStatusResult> {
  const elapsedSeconds = (deps.clock.now() - check.submittedAt) / 1000;
  if (elapsedSeconds > deps.settings.schedule.jobTimeoutSeconds) {
    await settleUnknown(check, `job still ${status} after ${Math.round(elapsedSeconds)} s`, deps);
    return "done";
  }
  return reschedule(check, deps);
}

/** The ended job on its record (status, end, error); returns the end's time stamp. */
async function recordJobEnd(check: JobCheck, job: Job, deps: PipelineDeps): Promise<string> {
  const finishedAt = new Date(deps.clock.now()).toISOString();
  metricsOf(deps).observe("JobChecks", check.checks + 1, { target: check.target, kind: check.kind });
  await deps.repos.jobs.upsert(check.jobId, (current) =>
    current
      ? {
          ...current,
          status: job.status,
          finishedAt,
          ...(job.error_code ? { errorCode: job.error_code } : {}),
          ...(job.fail_reason ? { failReason: job.fail_reason } : {}),
        }
      : undefined,
  );
  return finishedAt;
}

/** An enable-protection job succeeded: `protection_group.protection_enabled`, sent once per job. */
async function notifyProtectionEnabled(check: JobCheck, finishedAt: string, deps: PipelineDeps): Promise<void> {
  if (!(await deps.repos.events.firstSeen(`enabled:${check.jobId}`, 7 * 24 * 3600))) return;
  await deps.queue.send(
    "notify",
    newNotificationMessage(
      {
        type: "protection_group.protection_enabled",
        timestamp: finishedAt,
        data: { protectionGroupId: check.groupId, jobId: check.jobId, target: check.target },
      },
      deps.clock,
    ),
  );
}

/** A protection job ended: its duration is learned from a success, and each of its servers settles. */
async function settleProtectionJob(check: JobCheck, job: Job, deps: PipelineDeps): Promise<void> {
  const begin = parseTime(job.begin_time);
  const end = parseTime(job.end_time);
  const durationMs =
    begin !== undefined && end !== undefined && end >= begin ? end - begin : deps.clock.now() - check.submittedAt;
  metricsOf(deps).observe("JobDuration", durationMs, { target: check.target, kind: check.kind });
  if (job.status === "SUCCESS") {
    await deps.repos.stats.recordJobDuration(check.kind, check.serverIds.length, durationMs);
    await settleSuccess(check, job, deps);
    await maybeEnableProtection(check, deps);
  } else {
    await settleFailure(check, job, deps);
  }
}

/** server id → protected instance id, from the job's entities and sub_jobs. */
function instancesFromJob(check: JobCheck, job: Job): Map<string, string> {
  const found = new Map<string, string>();
  const top = job.entities?.protected_instance_id;
  if (top && check.serverIds.length === 1 && check.serverIds[0]) found.set(check.serverIds[0], top);
  for (const subJob of job.entities?.sub_jobs ?? []) {
    const serverId = subJob.entities?.server_id;
    const instanceId = subJob.entities?.protected_instance_id;
    if (serverId && instanceId && subJob.status === "SUCCESS") found.set(serverId, instanceId);
  }
  return found;
}

/** The group's instances, listed now (never from the shared view: the caller needs what the job just did). */
async function groupInstances(groupId: string, deps: PipelineDeps): Promise<ProtectedInstance[]> {
  return deps.cloud.listProtectedInstances({ serverGroupId: groupId });
}

async function settleSuccess(check: JobCheck, job: Job, deps: PipelineDeps): Promise<void> {
  const found = instancesFromJob(check, job);
  let listed: ProtectedInstance[] | undefined;
  for (const serverId of check.serverIds) {
    let instanceId = found.get(serverId);
    let instanceName: string | undefined;
    if (!instanceId) {
      listed ??= await groupInstances(check.groupId, deps);
      const instance = listed.find((pi) => pi.source_server === serverId);
      instanceId = instance?.id;
      instanceName = instance?.name;
    }
    if (!instanceId) {
      const reason = "the job succeeded but no protected instance of this server is in the group";
      await settleInGroup(serverId, check, { status: "unknown", jobId: check.jobId, reason }, deps);
      continue;
    }
    await settleProtected(serverId, check, { id: instanceId, name: instanceName }, check.jobId, deps);
  }
}

/** An outcome of a server of the check, which names its target and group. */
type OutcomeInGroup = ServerOutcome extends infer Outcome
  ? Outcome extends ServerOutcome
    ? Omit<Outcome, "serverId" | "target" | "groupId">
    : never
  : never;

/** Settles a server of the check (a job's or an ambiguous create's) in the check's target and group. */
async function settleInGroup(
  serverId: string,
  check: Pick<JobCheck, "target" | "groupId">,
  outcome: OutcomeInGroup,
  deps: PipelineDeps,
): Promise<void> {
  await settleServer({ ...outcome, serverId, target: check.target, groupId: check.groupId }, deps);
}

/** The server is protected instance `instance` of the check's group; `jobId` names how we know. */
async function settleProtected(
  serverId: string,
  check: Pick<JobCheck, "target" | "groupId">,
  instance: { id: string; name?: string | undefined },
  jobId: string,
  deps: PipelineDeps,
): Promise<void> {
  const named = instance.name ? { protectedInstanceName: instance.name } : {};
  await settleInGroup(
    serverId,
    check,
    { status: "protected", protectedInstanceId: instance.id, ...named, jobId },
    deps,
  );
}

/**
 * Sends the server back to onboarding while it has create attempts left. `isolate`: plan it alone (with its
 * shared-disk peers), for a batch that failed without saying which server broke it.
 */
async function retryServer(
  serverId: string,
  check: Pick<JobCheck, "target">,
  deps: PipelineDeps,
  why: string,
  options: { isolate: boolean; failure?: OutcomeReason },
): Promise<boolean> {
  const record = await deps.repos.servers.get(serverId);
  if (!record || record.record.attempts >= deps.settings.maxAttempts) return false;
  // A retried failure is not an outcome: it stays on the record (and in the log), it is not notified.
  await deps.repos.servers.update(serverId, (current) => ({
    ...current,
    status: "pending",
    ...(options.failure ? { reasons: [options.failure] } : {}),
  }));
  const requestId = record.record.requestIds.find(isOnboardingRequestId);
  await deps.queue.send(
    "onboarding",
    protectIntent.parse({
      type: "protect",
      serverId,
      target: check.target,
      source: requestId ? "api" : "reconcile",
      ...(requestId ? { requestId } : {}),
      ...(options.isolate ? { isolate: true } : {}),
    }),
  );
  deps.log.warn(options.isolate ? "retrying server alone" : "retrying server", { serverId, why });
  return true;
}

async function settleFailure(check: JobCheck, job: Job, deps: PipelineDeps): Promise<void> {
  const subJobs = job.entities?.sub_jobs ?? [];
  const byServer = new Map(
    subJobs.filter((sub) => sub.entities?.server_id).map((sub) => [sub.entities?.server_id ?? "", sub]),
  );
  const known = check.serverIds.every((serverId) => byServer.has(serverId)) || check.serverIds.length === 1;
  // Every sub-job failed: a batch-level failure (one bad server can fail the whole batch), not a verdict on each.
  const noneSucceeded = check.serverIds.every((serverId) => byServer.get(serverId)?.status !== "SUCCESS");
  if ((!known || noneSucceeded) && check.serverIds.length > 1 && deps.config.retryFailedBatchIndividually) {
    for (const serverId of check.serverIds) {
      const why = known
        ? `every server of batch job ${check.jobId} failed`
        : `batch job ${check.jobId} failed without naming the server`;
      const retried = await retryServer(serverId, check, deps, why, { isolate: true });
      if (!retried)
        await settleFailedServer(serverId, check, job, byServer.get(serverId), "the batch job failed", deps);
    }
    return;
  }
  let listed: ProtectedInstance[] | undefined;
  for (const serverId of check.serverIds) {
    const sub = byServer.get(serverId);
    if (sub?.status === "SUCCESS") {
      let instanceId = sub.entities?.protected_instance_id ?? undefined;
      if (!instanceId) {
        listed ??= await groupInstances(check.groupId, deps);
        instanceId = listed.find((pi) => pi.source_server === serverId)?.id;
      }
      if (instanceId) {
        await settleProtected(serverId, check, { id: instanceId }, check.jobId, deps);
        continue;
      }
    }
    await settleFailedServer(serverId, check, job, sub, "the protection job failed", deps);
  }
}

/** A server of a failed job settles failed with its sub-job's error code and reason, else the job's. */
async function settleFailedServer(
  serverId: string,
  check: JobCheck,
  job: Job,
  sub: SubJob | undefined,
  fallbackReason: string,
  deps: PipelineDeps,
): Promise<void> {
  const errorCode = sub?.error_code ?? job.error_code ?? undefined;
  const reason = sub?.fail_reason ?? job.fail_reason ?? fallbackReason;
  const failure: OutcomeReason = {
    code: errorCode ?? "PROTECTION_FAILED",
    message: `attempt failed (job ${check.jobId}): ${reason}`,
    ...(errorCode?.startsWith("SDRS.") ? { sdrsCode: errorCode } : {}),
  };
  if (await retryServer(serverId, check, deps, reason, { isolate: false, failure })) return;
  await settleInGroup(
    serverId,
    check,
    { status: "failed", jobId: check.jobId, ...(errorCode ? { errorCode } : {}), reason },
    deps,
  );
}

async function settleUnknown(check: JobCheck, reason: string, deps: PipelineDeps): Promise<void> {
  await deps.repos.jobs.upsert(check.jobId, (current) => (current ? { ...current, status: "unknown" } : undefined));
  for (const serverId of check.serverIds) {
    await settleInGroup(serverId, check, { status: "unknown", jobId: check.jobId, reason }, deps);
  }
}

/** Enables protection once the group has members, when the target asks for it (SDRS: available → protected). */
async function maybeEnableProtection(check: JobCheck, deps: PipelineDeps): Promise<void> {
  if (!ownValue(deps.config.targets, check.target)?.enableProtection) return;
  const group = await deps.cloud.getProtectionGroup(check.groupId);
  if (group.status !== "available" || (group.protected_instance_num ?? 0) === 0) return;
  if (!(await deps.repos.events.firstSeen(`enable:${check.groupId}`, 3600))) return;
  const { jobId } = await deps.cloud.enableProtection(check.groupId);
  const delaySeconds = nextCheckDelaySeconds({
    kind: "enable",
    checks: 0,
    learnedDurationsMs: [],
    random: deps.random?.() ?? Math.random(),
    settings: deps.settings.schedule,
  });
  await deps.queue.send(
    "job-status",
    newJobCheck({
      jobId,
      kind: "enable",
      target: check.target,
      groupId: check.groupId,
      serverIds: [],
      submittedAt: deps.clock.now(),
    }),
    { delaySeconds },
  );
  deps.log.info("enable protection submitted", { groupId: check.groupId, jobId });
}

/** An ambiguous create: is the server in the group now? */
async function checkAmbiguous(check: AmbiguousCheck, deps: PipelineDeps): Promise<JobStatusResult> {
  const instances = await groupInstances(check.groupId, deps);
  const waiting: string[] = [];
  for (const serverId of check.serverIds) {
    const instance = instances.find((pi) => pi.source_server === serverId);
    const settled =
      instance === undefined
        ? await settleNotListed(serverId, check, deps)
        : await settleListed(serverId, instance, check, deps);
    if (!settled) waiting.push(serverId);
  }
  if (waiting.length === 0) return "done";
  const elapsedSeconds = (deps.clock.now() - check.createdAt) / 1000;
  if (elapsedSeconds > deps.settings.schedule.jobTimeoutSeconds) {
    for (const serverId of waiting) {
      await settleInGroup(
        serverId,
        check,
        { status: "unknown", jobId: "ambiguous-create", reason: "still creating at the timeout" },
        deps,
      );
    }
    return "done";
  }
  return lookAgainLater(check, waiting, deps);
}

/**
 * A server of an ambiguous create not in the group: looked for again (false) while looks are left, since an
 * applied create may not be listed yet; then the create was not applied: retried, or failed.
 */
async function settleNotListed(serverId: string, check: AmbiguousCheck, deps: PipelineDeps): Promise<boolean> {
  if (check.checks + 1 < deps.settings.ambiguousMaxChecks) return false;
  const retried = await retryServer(serverId, check, deps, "ambiguous create was not applied", { isolate: false });
  if (!retried) {
    const reason = "the create call's outcome was unknown and no protected instance appeared";
    await settleInGroup(serverId, check, { status: "failed", errorCode: "AMBIGUOUS_CREATE", reason }, deps);
  }
  return true;
}

/** A server of an ambiguous create listed in the group: still creating (false), in error, or protected. */
async function settleListed(
  serverId: string,
  instance: ProtectedInstance,
  check: AmbiguousCheck,
  deps: PipelineDeps,
): Promise<boolean> {
  if (instance.status === "creating") return false;
  if (instance.status === "error") {
    await settleInGroup(
      serverId,
      check,
      { status: "failed", reason: `protected instance ${instance.id} is in status error` },
      deps,
    );
    return true;
  }
  await settleProtected(serverId, check, instance, "ambiguous-create", deps);
  return true;
}

/** Back off like a job check (an instance stays `creating` for minutes), never sooner than the first look. */
async function lookAgainLater(
  check: AmbiguousCheck,
  waiting: readonly string[],
  deps: PipelineDeps,
): Promise<JobStatusResult> {
  const delaySeconds = Math.max(
    deps.settings.ambiguousCheckDelaySeconds,
    nextCheckDelaySeconds({
      kind: "single",
      checks: check.checks + 1,
      learnedDurationsMs: [],
      random: deps.random?.() ?? Math.random(),
      settings: deps.settings.schedule,
    }),
  );
  await deps.queue.send("job-status", nextAmbiguousCheck(check, waiting), { delaySeconds });
  return "rescheduled";
}
