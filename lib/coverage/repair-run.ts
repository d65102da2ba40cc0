/**
 * Runs a repair plan (repair-plan.ts) step by step, following each job, resumable: the plan and each
 * step's job id are kept in a progress file, and every step first looks whether the cloud already is
 * where the step leads (a volume already detached, a pair already created or attached), so a run killed
 * at any point continues from where it stopped without doing anything twice.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { CloudClient } from "../sdrs/client.ts";
import { CloudApiError } from "../sdrs/errors.ts";
import { pairVolumeIds, type ReplicationPair } from "../sdrs/replication-schemas.ts";
import * as z from "../zod.ts";
import { RepairError, type RepairPlan, type RepairStep, repairPlan } from "./repair-plan.ts";

export const repairProgress = z.object({
  plan: repairPlan,
  startedAt: z.string(),
  completedAt: z.optional(z.string()),
  steps: z.array(
    z.object({ done: z.boolean(), jobId: z.optional(z.string()), replicationPairId: z.optional(z.string()) }),
  ),
});
export type RepairProgress = z.infer<typeof repairProgress>;

/** A step that failed or could not be followed to its end; the progress file keeps what was done. */
export class RepairStepError extends RepairError {}

export function readProgress(file: string): RepairProgress | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = repairProgress.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success)
    throw new RepairStepError(
      "REPAIR_PROGRESS_INVALID",
      `${file}: not a repair progress file (${parsed.error.issues[0]?.message ?? "invalid"}); move it away to start over`,
    );
  return parsed.data;
}

/** Written to a temporary file and renamed: a kill mid-write never leaves half a file. */
export function writeProgress(file: string, progress: RepairProgress): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(progress, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function newProgress(plan: RepairPlan, now: string): RepairProgress {
  return { plan, startedAt: now, steps: plan.steps.map(() => ({ done: false })) };
}

export interface RepairRunOptions {
  cloud: CloudClient;
  file: string;
  pollMs: number;
  /** Job polls per step before giving up (the run can be resumed). */
  maxPolls: number;
  signal?: AbortSignal;
  log: (line: string) => void;
  now: () => string;
}

const isNotFound = (error: unknown) =>
  error instanceof CloudApiError && ["SDRS.1608", "SDRS.0213"].includes(error.code);

async function followJob(jobId: string, what: string, options: RepairRunOptions): Promise<Record<string, unknown>> {
  for (let poll = 0; poll < options.maxPolls; poll++) {
    const job = await options.cloud.getJob(jobId);
    if (job.status === "SUCCESS") return (job.entities ?? {}) as Record<string, unknown>;
    if (job.status === "FAIL")
      throw new RepairStepError(
        job.error_code ?? "JOB_FAILED",
        `${what}: job ${jobId} failed: ${job.fail_reason ?? job.error_code ?? "no reason given"}`,
      );
    await sleep(options.pollMs, undefined, { signal: options.signal });
  }
  throw new RepairStepError(
    "REPAIR_JOB_TIMEOUT",
    `${what}: job ${jobId} has not ended after ${options.maxPolls} checks; run the same repair again to continue`,
  );
}

async function pairOfVolume(
  cloud: CloudClient,
  groupId: string,
  volumeId: string,
): Promise<ReplicationPair | undefined> {
  const pairs = await cloud.listReplications({ serverGroupIds: [groupId] });
  return pairs.find((pair) => pairVolumeIds(pair).sourceVolumeId === volumeId);
}

/** Waits while a resource is in an operation started by an earlier, interrupted run. */
async function waitWhile<T>(
  read: () => Promise<T>,
  busy: (value: T) => boolean,
  options: RepairRunOptions,
): Promise<T> {
  let value = await read();
  for (let poll = 0; busy(value) && poll < options.maxPolls; poll++) {
    await sleep(options.pollMs, undefined, { signal: options.signal });
    value = await read();
  }
  return value;
}

/**
 * One step: look, act only if needed, follow the job. Returns what later steps need (the pair id).
 * `record` persists a job id as soon as the call returned it.
 */
async function runStep(
  step: RepairStep,
  state: RepairProgress["steps"][number],
  pairIds: Map<string, string>,
  options: RepairRunOptions,
  record: () => void,
): Promise<void> {
  const { cloud } = options;
  const act = async (what: string, call: () => Promise<{ jobId: string }>) => {
    if (state.jobId === undefined) {
      state.jobId = (await call()).jobId;
      record();
      options.log(`  job ${state.jobId}`);
    }
    return followJob(state.jobId, what, options);
  };
  switch (step.kind) {
    case "detach-volume": {
      const server = await cloud.getServer(step.serverId);
      if (
        !server["os-extended-volumes:volumes_attached"].some((volume) => volume.id === step.volumeId) &&
        state.jobId === undefined
      )
        return;
      await act("detach volume", () => cloud.detachServerVolume(step.serverId, step.volumeId));
      return;
    }
    case "detach-pair": {
      const pair = await cloud
        .getReplication(step.replicationPairId)
        .catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
      if (
        (pair === undefined ||
          !(pair.attachment ?? []).some((attached) => attached.protected_instance === step.protectedInstanceId)) &&
        state.jobId === undefined
      )
        return;
      await act("detach replication pair", () =>
        cloud.detachReplication(step.protectedInstanceId, step.replicationPairId),
      );
      return;
    }
    case "delete-pair": {
      const pair = await cloud
        .getReplication(step.replicationPairId)
        .catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error)));
      if (pair === undefined && state.jobId === undefined) return;
      await act("delete replication pair", () => cloud.deleteReplication(step.replicationPairId));
      return;
    }
    case "create-pair": {
      if (state.jobId === undefined) {
        const existing = await waitWhile(
          () => pairOfVolume(cloud, step.protectionGroupId, step.volumeId),
          (pair) => pair?.status === "creating",
          options,
        );
        if (existing !== undefined && existing.status !== "invalid" && existing.status !== "deleting") {
          state.replicationPairId = existing.id;
          pairIds.set(step.volumeId, existing.id);
          return;
        }
      }
      const entities = await act("create replication pair", () =>
        cloud.createReplication({ server_group_id: step.protectionGroupId, volume_id: step.volumeId, name: step.name }),
      );
      const pairId =
        typeof entities.replication_pair_id === "string"
          ? entities.replication_pair_id
          : (await pairOfVolume(cloud, step.protectionGroupId, step.volumeId))?.id;
      if (pairId === undefined)
        throw new RepairStepError(
          "REPAIR_PAIR_MISSING",
          `create replication pair: job ${state.jobId} succeeded but names no replication_pair_id`,
        );
      state.replicationPairId = pairId;
      pairIds.set(step.volumeId, pairId);
      return;
    }
    case "attach-pair": {
      const pairId = pairIds.get(step.volumeId);
      if (pairId === undefined)
        throw new RepairStepError(
          "REPAIR_PAIR_MISSING",
          `attach replication pair: no pair for volume ${step.volumeId} (the create step did not record one)`,
        );
      const pair = await waitWhile(
        () => cloud.getReplication(pairId),
        (current) => current.status === "attaching",
        options,
      );
      if (
        (pair.attachment ?? []).some((attached) => attached.protected_instance === step.protectedInstanceId) &&
        state.jobId === undefined
      )
        return;
      await act("attach replication pair", () =>
        cloud.attachReplication(step.protectedInstanceId, pairId, step.device),
      );
      return;
    }
    case "expand-pair": {
      const pair = await waitWhile(
        () => cloud.getReplication(step.replicationPairId),
        (current) => current.status === "extending",
        options,
      );
      if ((pair.record_metadata?.volume_size ?? 0) >= step.sizeGb && state.jobId === undefined) return;
      await act("expand replication pair", () => cloud.expandReplication(step.replicationPairId, step.sizeGb));
      return;
    }
    case "enable-protection": {
      const group = await waitWhile(
        () => cloud.getProtectionGroup(step.protectionGroupId),
        (current) => current.status === "starting",
        options,
      );
      if (group.status === "protected" && state.jobId === undefined) return;
      await act("enable protection", () => cloud.enableProtection(step.protectionGroupId));
      return;
    }
  }
}

/** Runs (or resumes) every step not yet done; the progress file says where it stopped. */
export async function runRepair(
  progress: RepairProgress,
  options: RepairRunOptions,
  describe: (step: RepairStep) => string,
): Promise<RepairProgress> {
  const pairIds = new Map<string, string>();
  progress.steps.forEach((state, index) => {
    const step = progress.plan.steps[index];
    if (step !== undefined && "volumeId" in step && state.replicationPairId !== undefined)
      pairIds.set(step.volumeId, state.replicationPairId);
  });
  const total = progress.plan.steps.length;
  for (const [index, step] of progress.plan.steps.entries()) {
    const state = progress.steps[index];
    if (state === undefined) continue;
    if (state.done) {
      options.log(`${index + 1}/${total} ${describe(step)}: done earlier`);
      continue;
    }
    options.log(`${index + 1}/${total} ${describe(step)}`);
    await runStep(step, state, pairIds, options, () => writeProgress(options.file, progress));
    state.done = true;
    writeProgress(options.file, progress);
    options.log(`  done`);
  }
  progress.completedAt = options.now();
  writeProgress(options.file, progress);
  return progress;
}
