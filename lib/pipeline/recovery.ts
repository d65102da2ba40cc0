/**
 * Recovery of servers whose worker died halfway (a Lambda timeout, a killed process): a record left
 * `claimed`, `creating`, `ambiguous` or `in_progress` with no message on its way would otherwise wait
 * forever. The scheduled reconcile runs this over every server record; `onboard` runs it when it resumes
 * the state file of a run that was killed (lib/cli/onboard/resume.ts), where every record in flight is
 * known to be stalled and the local queue says which messages are still on their way.
 *
 * Each stalled state gets the step that is safe for it: a stale claim was never sent to SDRS, so the
 * intent is queued again; a `creating` or `ambiguous` server may exist in the group, so it is looked up
 * there before anything is retried; an `in_progress` server's job is checked again. Duplicated checks
 * are harmless: outcomes are settled idempotently and creates are guarded by claims.
 */
import { ownValue } from "../own.ts";
import type { RequestRecord, ServerRecord } from "../state/records.ts";
import { isOnboardingRequestId, type PipelineDeps } from "./deps.ts";
import { jobCheckOfRecord, newAmbiguousCheck, type ProtectIntentInput, protectIntent } from "./messages.ts";

export type RecoveryAction = "intent" | "ambiguous-check" | "job-check";

/** What to do for one record, or undefined when it is not stalled (the age rules of the scheduled reconcile). Pure. */
export function recoveryFor(
  record: ServerRecord,
  nowMs: number,
  deps: Pick<PipelineDeps, "settings">,
): RecoveryAction | undefined {
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

/**
 * What to do for a record left by a run known to be dead (its state lock says no other run uses the
 * store): every record in flight is stalled, whatever its age. Pure.
 */
export function recoveryAfterDeadRun(record: ServerRecord): RecoveryAction | undefined {
  switch (record.status) {
    case "claimed":
      return "intent";
    case "creating":
    case "ambiguous":
      return record.groupId ? "ambiguous-check" : undefined;
    case "in_progress":
      return record.jobId ? "job-check" : record.groupId ? "ambiguous-check" : undefined;
    default:
      return undefined;
  }
}

export interface RecoveryScope {
  /** Which records are stalled and the step each needs. Default: `recoveryFor` at the deps' clock. */
  stalled?: (record: ServerRecord) => RecoveryAction | undefined;
  /**
   * Servers whose intent or job-status check is already on the queue (the local queue can list them, SQS
   * cannot): nothing more is sent for them.
   */
  onTheirWay?: { intents: ReadonlySet<string>; checks: ReadonlySet<string> };
  /** A stalled claim is given back (status `pending`, its attempt returned) before its intent is queued: no create call was made under it. */
  releaseClaims?: boolean;
  /** Servers of one request that need their intent again, unless it is on its way (e.g. those it has not taken up yet). */
  request?: { requestId: string; serverIds: readonly string[] };
}

export interface RecoveryResult {
  examined: number;
  /** Servers moved on, per step. */
  recovered: Record<RecoveryAction, number>;
  /** The servers moved on, each once. */
  serverIds: string[];
}

/** One pass of recovery; what a pass has sent so far, so that no server gets a second message from it. */
class RecoveryPass {
  readonly recovered: Record<RecoveryAction, number> = { intent: 0, "ambiguous-check": 0, "job-check": 0 };
  readonly serverIds = new Set<string>();
  /** Servers with an intent on its way, from before the pass or sent by it. */
  readonly intents: Set<string>;
  /** Servers with a job-status check on its way from before the pass: left alone. */
  readonly checks: ReadonlySet<string>;
  /** Jobs checked by this pass. */
  readonly checkedJobs = new Set<string>();
  /** Stalled `creating`/`ambiguous` servers by target and group: one look in the group for all of them. */
  readonly ambiguous = new Map<string, { target: string; groupId: string; serverIds: string[] }>();
  readonly #requests = new Map<string, RequestRecord | undefined>();

  readonly deps: PipelineDeps;

  constructor(deps: PipelineDeps, scope: RecoveryScope) {
    this.deps = deps;
    this.intents = new Set(scope.onTheirWay?.intents);
    this.checks = new Set(scope.onTheirWay?.checks);
  }

  moved(record: Pick<ServerRecord, "serverId" | "status">, action: RecoveryAction): void {
    this.recovered[action] += 1;
    this.serverIds.add(record.serverId);
    this.deps.log.warn("stalled server recovered", { serverId: record.serverId, status: record.status, action });
  }

  async request(requestId: string): Promise<RequestRecord | undefined> {
    if (!this.#requests.has(requestId))
      this.#requests.set(requestId, (await this.deps.repos.requests.get(requestId))?.record);
    return this.#requests.get(requestId);
  }
}

/**
 * The intent a server's onboarding request would send again: the request's own source (api or cli) and
 * the server's flavorRef; a server no request asked for gets a reconcile intent.
 */
async function intentAgain(
  pass: RecoveryPass,
  serverId: string,
  target: string,
  requestIds: readonly string[],
): Promise<ProtectIntentInput> {
  const requestId = requestIds.find(isOnboardingRequestId);
  if (requestId === undefined) return { type: "protect", serverId, target, source: "reconcile" };
  const request = await pass.request(requestId);
  const flavorRef = ownValue(request?.flavorRefs, serverId);
  // A request id without its record: the API is the only other source that names one.
  return {
    type: "protect",
    serverId,
    target,
    requestId,
    source: request?.source ?? "api",
    ...(flavorRef === undefined ? {} : { flavorRef }),
  };
}

async function sendIntentAgain(pass: RecoveryPass, record: ServerRecord, releaseClaims: boolean): Promise<void> {
  if (releaseClaims && record.status === "claimed") {
    await pass.deps.repos.servers.update(record.serverId, (current) =>
      current.status === "claimed"
        ? { ...current, status: "pending", attempts: Math.max(0, current.attempts - 1) }
        : undefined,
    );
  }
  if (pass.intents.has(record.serverId)) return;
  await pass.deps.queue.send(
    "onboarding",
    protectIntent.parse(await intentAgain(pass, record.serverId, record.target, record.requestIds)),
  );
  pass.intents.add(record.serverId);
  pass.moved(record, "intent");
}

/** One check per job: the other servers of the job are moved on by the same message. A job not on record: the group is looked at. */
async function checkJobAgain(pass: RecoveryPass, record: ServerRecord): Promise<void> {
  const job = record.jobId === undefined ? undefined : (await pass.deps.repos.jobs.get(record.jobId))?.record;
  if (job === undefined) return lookInGroupAgain(pass, record);
  if (!pass.checkedJobs.has(job.jobId)) {
    await pass.deps.queue.send("job-status", jobCheckOfRecord(job));
    pass.checkedJobs.add(job.jobId);
  }
  pass.moved(record, "job-check");
}

function lookInGroupAgain(pass: RecoveryPass, record: ServerRecord): void {
  if (record.groupId === undefined) return;
  const key = `${record.target}\n${record.groupId}`;
  const group = pass.ambiguous.get(key) ?? { target: record.target, groupId: record.groupId, serverIds: [] };
  group.serverIds.push(record.serverId);
  pass.ambiguous.set(key, group);
  pass.moved(record, "ambiguous-check");
}

/** A request's servers that no record moves on (never enqueued, or their message was lost). */
async function enqueueAgain(pass: RecoveryPass, request: NonNullable<RecoveryScope["request"]>): Promise<void> {
  const record = await pass.request(request.requestId);
  if (record === undefined) return;
  for (const serverId of request.serverIds) {
    if (pass.intents.has(serverId)) continue;
    await pass.deps.queue.send(
      "onboarding",
      protectIntent.parse(await intentAgain(pass, serverId, record.target, [request.requestId])),
    );
    pass.intents.add(serverId);
    pass.moved({ serverId, status: "pending" }, "intent");
  }
}

export async function recoverStalledServers(deps: PipelineDeps, scope: RecoveryScope = {}): Promise<RecoveryResult> {
  const now = deps.clock.now();
  const stalled = scope.stalled ?? ((record: ServerRecord) => recoveryFor(record, now, deps));
  const pass = new RecoveryPass(deps, scope);
  let examined = 0;
  for await (const { record } of deps.repos.servers.all()) {
    examined += 1;
    const action = stalled(record);
    if (action === undefined) continue;
    if (action === "intent") await sendIntentAgain(pass, record, scope.releaseClaims ?? false);
    else if (pass.checks.has(record.serverId))
      continue; // its check is on its way
    else if (action === "job-check") await checkJobAgain(pass, record);
    else lookInGroupAgain(pass, record);
  }
  for (const group of pass.ambiguous.values())
    await deps.queue.send("job-status", newAmbiguousCheck({ ...group, createdAt: now }));
  if (scope.request !== undefined) await enqueueAgain(pass, scope.request);
  return { examined, recovered: pass.recovered, serverIds: [...pass.serverIds] };
}
