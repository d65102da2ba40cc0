/**
 * One planned SDRS create call of the onboard step: claim its servers, call SDRS, record the job and its
 * first check; or, when the call fails, the answer its error asks for (look in the group, back off, adopt,
 * retry server by server, or settle failed).
 *
 * Never twice: every server of the call is claimed with a conditional write before the call, and a call one
 * of whose claims is lost is not made at all.
 */
import type { PlannedCall, Verdict } from "../planning/types.ts";
import { AmbiguousCreateError, CloudApiError, RequestValidationError } from "../sdrs/errors.ts";
import type { ServerRecord } from "../state/records.ts";
import { backOff, type Candidate, requeue, setStatus, toOutcomeReason } from "./candidates.ts";
import { automaticRequestId, metricsOf, type PipelineDeps } from "./deps.ts";
import { newAmbiguousCheck, newJobCheck } from "./messages.ts";
import { attachRequest, type ServerOutcome, settleAdopted, settleServer } from "./outcomes.ts";
import { nextCheckDelaySeconds } from "./schedule.ts";

/** Where a call goes: the target and its protection group. */
interface CallTarget {
  target: string;
  groupId: string;
}

/** Claims, calls SDRS, records the job. Returns the server ids whose intents go back to the queue. */
export async function executeCall(
  call: PlannedCall,
  target: string,
  groupId: string,
  candidates: Map<string, Candidate>,
  verdicts: Map<string, Verdict>,
  deps: PipelineDeps,
): Promise<string[]> {
  const where = { target, groupId };
  const claims = await claimCall(call, where, candidates, deps);
  if (claims.won.length < call.serverIds.length) {
    await giveUpCall(call, where, claims, deps);
    return [];
  }
  await markCreating(call, groupId, verdicts, deps);
  let jobId: string;
  try {
    jobId = await submitCreate(call, target, deps);
  } catch (error) {
    return handleCreateError(error, call, where, candidates, deps);
  }
  await followSubmittedJob(call, jobId, where, deps);
  return [];
}

function jobKindOf(call: PlannedCall): "single" | "batch" {
  return call.kind === "single" ? "single" : "batch";
}

interface CallClaims {
  won: string[];
  /** The record of the server whose claim was lost, which stopped the claims. */
  lost?: ServerRecord;
}

/** Claims the call's servers in order, stopping at the first claim lost. */
async function claimCall(
  call: PlannedCall,
  { target, groupId }: CallTarget,
  candidates: Map<string, Candidate>,
  deps: PipelineDeps,
): Promise<CallClaims> {
  const won: string[] = [];
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
    if (!claim.won) return { won, lost: claim.server.record };
    won.push(serverId);
  }
  return { won };
}

/** Another worker has one of the call's servers: release ours, giving back the attempts the claims counted. */
async function giveUpCall(
  call: PlannedCall,
  { target, groupId }: CallTarget,
  { won, lost }: CallClaims,
  deps: PipelineDeps,
): Promise<void> {
  for (const serverId of won) await releaseClaim(serverId, deps);
  if (lost && lost.status === "pending" && lost.attempts >= deps.settings.maxAttempts) {
    await settleServer(exhausted(lost, target, groupId), deps);
    return;
  }
  deps.log.info("claim lost; another worker is protecting these servers", { serverIds: call.serverIds });
}

/** Back to pending, giving back the attempt its claim counted: no create call was applied. */
async function releaseClaim(serverId: string, deps: PipelineDeps) {
  await deps.repos.servers.update(serverId, (current) => ({
    ...current,
    status: "pending",
    attempts: Math.max(0, current.attempts - 1),
  }));
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
    reason: last
      ? `${last.message} (after ${record.attempts} attempts)`
      : `no create attempt left (${record.attempts} made)`,
  };
}

/** Every server of the call is `creating` in the group, with its plan's warnings, before the call is made. */
async function markCreating(
  call: PlannedCall,
  groupId: string,
  verdicts: Map<string, Verdict>,
  deps: PipelineDeps,
): Promise<void> {
  const warningsOf = (serverId: string) => (verdicts.get(serverId)?.warnings ?? []).map(toOutcomeReason);
  for (const serverId of call.serverIds) {
    await deps.repos.servers.update(serverId, (current) => ({
      ...current,
      status: "creating",
      groupId,
      warnings: warningsOf(serverId),
    }));
  }
}

/** The SDRS create call (single or batch); its job id. */
async function submitCreate(call: PlannedCall, target: string, deps: PipelineDeps): Promise<string> {
  const kind = jobKindOf(call);
  metricsOf(deps).count("CreateCalls", { target, kind });
  metricsOf(deps).observe("ServersPerCall", call.serverIds.length, { target, kind });
  const { jobId } =
    call.kind === "single"
      ? await deps.cloud.createProtectedInstance(call.request.protected_instance)
      : await deps.cloud.batchCreateProtectedInstances(call.request.protected_instances);
  return jobId;
}

/** The job record, the servers `in_progress` on it, and its first check after the learned duration. */
async function followSubmittedJob(
  call: PlannedCall,
  jobId: string,
  { target, groupId }: CallTarget,
  deps: PipelineDeps,
): Promise<void> {
  const submittedAt = deps.clock.now();
  const kind = jobKindOf(call);
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
  deps.log.info("protection submitted", {
    jobId,
    kind,
    target,
    groupId,
    serverIds: call.serverIds,
    firstCheckInSeconds: delaySeconds,
  });
}

/** The answer to a failed create call. Returns the server ids whose intents go back to the queue. */
async function handleCreateError(
  error: unknown,
  call: PlannedCall,
  where: CallTarget,
  candidates: Map<string, Candidate>,
  deps: PipelineDeps,
): Promise<string[]> {
  if (error instanceof AmbiguousCreateError) {
    await awaitAmbiguousCreate(error, call, where, deps);
    return [];
  }
  if (error instanceof CloudApiError && error.retryable) return backOffRefusedCreate(error, call, candidates, deps);
  const code = error instanceof CloudApiError || error instanceof RequestValidationError ? error.code : "CREATE_FAILED";
  const message = error instanceof Error ? error.message : String(error);
  if (code === "SDRS.1305" && (await adoptAlreadyProtected(call, where, deps))) return [];
  // An isolated call is one shared-disk cluster already: it cannot be split further.
  const splittable =
    call.kind === "batch" &&
    call.serverIds.length > 1 &&
    !call.serverIds.every((serverId) => candidates.get(serverId)?.isolate);
  if (splittable && deps.config.retryFailedBatchIndividually) {
    await retryServerByServer(call, where.target, code, candidates, deps);
    return [];
  }
  await settleCreateFailed(call, where, code, message, deps);
  return [];
}

/** The create may have been applied: never retry before looking in the group. */
async function awaitAmbiguousCreate(
  error: AmbiguousCreateError,
  call: PlannedCall,
  { target, groupId }: CallTarget,
  deps: PipelineDeps,
): Promise<void> {
  metricsOf(deps).count("AmbiguousCreates", { target });
  for (const serverId of call.serverIds) await setStatus(serverId, "ambiguous", deps);
  await deps.queue.send(
    "job-status",
    newAmbiguousCheck({ target, groupId, serverIds: call.serverIds, createdAt: deps.clock.now() }),
    { delaySeconds: deps.settings.ambiguousCheckDelaySeconds },
  );
  deps.log.warn("ambiguous create; the group will be checked before any retry", {
    serverIds: call.serverIds,
    reason: error.message,
  });
}

/** Throttled or refused before being applied (a 429 is unambiguous): no attempt was made; release and back off. */
async function backOffRefusedCreate(
  error: CloudApiError,
  call: PlannedCall,
  candidates: Map<string, Candidate>,
  deps: PipelineDeps,
): Promise<string[]> {
  for (const serverId of call.serverIds) await releaseClaim(serverId, deps);
  deps.log.warn("create refused transiently; intents back off", { code: error.code, serverIds: call.serverIds });
  const items = call.serverIds.flatMap((serverId) => candidates.get(serverId)?.intents.slice(0, 1) ?? []);
  const failed = new Set(await backOff(items, deps));
  return call.serverIds.filter((serverId) => candidates.get(serverId)?.intents.some((item) => failed.has(item.index)));
}

/** Already protected (SDRS.1305): an earlier attempt may have succeeded. Adopts what the group shows; true when every server was. */
async function adoptAlreadyProtected(
  call: PlannedCall,
  { target, groupId }: CallTarget,
  deps: PipelineDeps,
): Promise<boolean> {
  const instances = await deps.cloud.listProtectedInstances({ serverGroupId: groupId });
  let adopted = 0;
  for (const serverId of call.serverIds) {
    const instance = instances.find((pi) => pi.source_server === serverId);
    if (instance) {
      adopted += 1;
      await settleAdopted({ serverId, target, groupId }, instance, deps);
    }
  }
  return adopted === call.serverIds.length;
}

/** The batch was refused and SDRS does not say for which server: retry each (with its shared-disk peers) alone. */
async function retryServerByServer(
  call: PlannedCall,
  target: string,
  code: string,
  candidates: Map<string, Candidate>,
  deps: PipelineDeps,
): Promise<void> {
  for (const serverId of call.serverIds) {
    await setStatus(serverId, "pending", deps);
    const candidate = candidates.get(serverId) ?? {
      serverId,
      requestIds: [],
      intents: [],
      isolate: true,
      deferrals: 0,
    };
    await requeue(candidate, target, 0, deps, { isolate: true });
  }
  deps.log.warn("batch refused; retrying server by server", { code, serverIds: call.serverIds });
}

/** Every server of the call not protected meanwhile settles failed with the call's error. */
async function settleCreateFailed(
  call: PlannedCall,
  { target, groupId }: CallTarget,
  code: string,
  message: string,
  deps: PipelineDeps,
): Promise<void> {
  for (const serverId of call.serverIds) {
    const record = await deps.repos.servers.get(serverId);
    if (record?.record.status === "protected") continue;
    await settleServer({ status: "failed", serverId, target, groupId, errorCode: code, reason: message }, deps);
  }
}
