/**
 * From a protect-tag value to a protection group: a configured target (by group id, or by group name,
 * creating the group with the seed's create-protection-group call when it is missing), or, when the value
 * is no configured target, a protection group id used with default creation options.
 */

import { type TargetConfig, targetConfig } from "../config/targets.ts";
import { ownValue } from "../own.ts";
import { targetUnknownReason } from "../planning/decision.ts";
import { CloudApiError } from "../sdrs/errors.ts";
import type { ProtectionGroup } from "../sdrs/schemas.ts";
import type { OutcomeReason } from "../state/records.ts";
import type { PipelineDeps } from "./deps.ts";
import { sharedReadsOf } from "./instance-view.ts";
import { newJobCheck } from "./messages.ts";
import { nextCheckDelaySeconds } from "./schedule.ts";

export type ResolvedTarget =
  | { status: "ready"; name: string; config: TargetConfig; group: ProtectionGroup }
  | { status: "pending"; name: string; config: TargetConfig; retryAfterSeconds: number; reason: string }
  | { status: "unknown"; name: string; reason: OutcomeReason };

/** SDRS answers a missing group with 400 SDRS.1013 (or SDRS.0207 for an invalid id), the gateway with 404. */
export function isGroupNotFound(error: unknown): boolean {
  return (
    error instanceof CloudApiError && (error.code === "SDRS.1013" || error.code === "SDRS.0207" || error.status === 404)
  );
}

async function groupById(id: string, deps: PipelineDeps): Promise<ProtectionGroup | undefined> {
  try {
    // Shared for a few seconds: every batch of a wave asks for the same group. A group that changed meanwhile
    // is refused by SDRS at the create, which the onboard step handles.
    return await sharedReadsOf(deps).get(`protection-group:${id}`, () => deps.cloud.getProtectionGroup(id));
  } catch (error) {
    if (isGroupNotFound(error)) return undefined;
    throw error;
  }
}

/** Creates the target's group once (a store claim keeps concurrent workers from creating two). */
async function ensureGroupCreation(name: string, config: TargetConfig, deps: PipelineDeps): Promise<void> {
  const ref = config.protectionGroup;
  if (!("name" in ref) || !ref.create) return;
  const first = await deps.repos.events.firstSeen(`create-group:${name}:${ref.name}`, 3600);
  if (!first) return;
  const { jobId } = await deps.cloud.createProtectionGroup({
    name: ref.name,
    ...(ref.create.description ? { description: ref.create.description } : {}),
    source_availability_zone: ref.create.sourceAvailabilityZone,
    target_availability_zone: ref.create.targetAvailabilityZone,
    domain_id: ref.create.domainId,
    source_vpc_id: ref.create.sourceVpcId,
    dr_type: "migration",
  });
  deps.log.info("protection group creation submitted", { target: name, groupName: ref.name, jobId });
  const delaySeconds = nextCheckDelaySeconds({
    kind: "group",
    checks: 0,
    learnedDurationsMs: [],
    random: deps.random?.() ?? Math.random(),
  });
  await deps.queue.send(
    "job-status",
    newJobCheck({
      jobId,
      kind: "group",
      target: name,
      groupId: `name:${ref.name}`,
      serverIds: [],
      submittedAt: deps.clock.now(),
    }),
    { delaySeconds },
  );
}

export async function resolveTarget(name: string, deps: PipelineDeps): Promise<ResolvedTarget> {
  const configured = ownValue(deps.config.targets, name);
  if (!configured) {
    const group = await groupById(name, deps);
    if (group)
      return { status: "ready", name, config: targetConfig.parse({ protectionGroup: { id: group.id } }), group };
    return {
      status: "unknown",
      name,
      reason: targetUnknownReason(name),
    };
  }
  const ref = configured.protectionGroup;
  if ("id" in ref) {
    const group = await groupById(ref.id, deps);
    if (group) return { status: "ready", name, config: configured, group };
    return {
      status: "unknown",
      name,
      reason: {
        code: "INELIGIBLE_GROUP_NOT_FOUND",
        message: `target "${name}" names protection group ${ref.id}, which does not exist`,
        remedy: "fix protectionGroup.id in the targets configuration",
        sdrsCode: "SDRS.1013",
      },
    };
  }
  const groups = await deps.cloud.listProtectionGroups({ name: ref.name });
  const group = groups.find((candidate) => candidate.name === ref.name);
  if (group) return { status: "ready", name, config: configured, group };
  if (ref.create) {
    await ensureGroupCreation(name, configured, deps);
    return {
      status: "pending",
      name,
      config: configured,
      retryAfterSeconds: deps.settings.groupPendingRetrySeconds,
      reason: `protection group "${ref.name}" is being created`,
    };
  }
  return {
    status: "unknown",
    name,
    reason: {
      code: "INELIGIBLE_GROUP_NOT_FOUND",
      message: `target "${name}" names protection group "${ref.name}", which does not exist`,
      remedy: "create the group, or give protectionGroup.create in the targets configuration",
    },
  };
}
