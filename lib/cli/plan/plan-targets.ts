/**
 * The dry run (issue #3): for each target, resolve its protection group without changing anything, read
 * the inventory (lib/planning/inventory.ts) and plan (lib/planning/plan.ts). Read-only by construction:
 * the reader port has no create call. Servers whose target cannot be planned (an unknown tag value, a
 * group still to be created) get a verdict with the reason the pipeline would give them.
 */
import { configuredGroupTargets, type TargetsConfig } from "../../config/targets.ts";
import { ownValue } from "../../own.ts";
import { isGroupNotFound } from "../../pipeline/targets.ts";
import type { CreationOptions } from "../../planning/creation-options.ts";
import { type Decision, decideServer, type TargetResolution, targetUnknownReason } from "../../planning/decision.ts";
import { type InventoryReader, readInventory } from "../../planning/inventory.ts";
import { planProtection } from "../../planning/plan.ts";
import { reasonFor } from "../../planning/rules.ts";
import type { PlanResult, Reason, Verdict } from "../../planning/types.ts";
import type { EcsServer, ProtectionGroup } from "../../sdrs/schemas.ts";
import { selectServers } from "./selection.ts";

/** Inventory reads plus the group lookup by name; CloudClient satisfies it. No call here changes the cloud. */
export interface PlanReader extends InventoryReader {
  listProtectionGroups(filter?: { name?: string }): Promise<ProtectionGroup[]>;
}

export interface DryRunRequest {
  config: TargetsConfig;
  /** Only this target. */
  target?: string | undefined;
  /** These servers instead of the tagged ones. */
  serverIds?: readonly string[] | undefined;
  /** Servers per batch create; default the targets configuration's batchLimit. */
  batchLimit?: number | undefined;
}

export interface TargetPlan {
  /** The protect tag value (target name or protection group id); null for servers that have none. */
  target: string | null;
  /** Whether the target is a name in the targets configuration. */
  configured: boolean;
  protectionGroup: Pick<ProtectionGroup, "id" | "name" | "status"> | undefined;
  result: PlanResult;
}

export interface DryRun {
  protectTagKey: string;
  batchLimit: number;
  sharedDiskPolicy: TargetsConfig["sharedDiskPolicy"];
  targets: TargetPlan[];
  /** Advisory reads (key pairs, Auto Scaling) that failed: the facts they give were left unknown. */
  advisoryFailures: { operation: string; code: string }[];
}

type Resolution =
  | { status: "group"; protectionGroupId: string; creation: CreationOptions | undefined }
  | { status: "unresolved"; verdict: "ineligible" | "deferred"; reason: Reason };

/** The pipeline's resolution (lib/pipeline/targets.ts), minus its side effect: a group to create is only reported. */
async function resolveTarget(target: string, config: TargetsConfig, reader: PlanReader): Promise<Resolution> {
  const configured = ownValue(config.targets, target);
  if (configured === undefined) {
    try {
      const group = await reader.getProtectionGroup(target);
      return { status: "group", protectionGroupId: group.id, creation: undefined };
    } catch (error) {
      if (!isGroupNotFound(error)) throw error;
    }
    return {
      status: "unresolved",
      verdict: "ineligible",
      reason: targetUnknownReason(target),
    };
  }
  const ref = configured.protectionGroup;
  // A configured id that does not exist is left to the planner: it reports INELIGIBLE_GROUP_NOT_FOUND.
  if ("id" in ref) return { status: "group", protectionGroupId: ref.id, creation: configured.creation };
  const group = (await reader.listProtectionGroups({ name: ref.name })).find(
    (candidate) => candidate.name === ref.name,
  );
  if (group !== undefined) return { status: "group", protectionGroupId: group.id, creation: configured.creation };
  if (ref.create !== undefined) {
    return {
      status: "unresolved",
      verdict: "deferred",
      reason: {
        code: "DEFERRED_GROUP_BEING_CREATED",
        message: `protection group "${ref.name}" does not exist yet: onboarding first creates it (targets configuration protectionGroup.create), then plans these servers`,
        remedy: "none: the group is created automatically; plan again once it exists for the full verdicts",
      },
    };
  }
  return {
    status: "unresolved",
    verdict: "ineligible",
    reason: reasonFor(
      "INELIGIBLE_GROUP_NOT_FOUND",
      `target "${target}" names protection group "${ref.name}", which does not exist`,
    ),
  };
}

function unresolvedVerdict(
  serverId: string,
  server: EcsServer | undefined,
  verdict: Verdict["verdict"],
  reason: Reason,
): Verdict {
  return {
    serverId,
    ...(server === undefined ? {} : { serverName: server.name }),
    verdict,
    reasons: [reason],
    warnings: [],
  };
}

/** The verdict of a decision made before planning (the pipeline makes the same one). */
function decidedVerdict(serverId: string, server: EcsServer | undefined, decision: Decision): Verdict {
  switch (decision.kind) {
    case "adopt":
      return {
        serverId,
        ...(server === undefined ? {} : { serverName: server.name }),
        verdict: "adopt",
        reasons: [],
        warnings: [],
        protectedInstanceId: decision.instance.id,
      };
    case "ineligible":
      return unresolvedVerdict(serverId, server, "ineligible", decision.reason);
    case "deferred":
      return {
        ...unresolvedVerdict(serverId, server, "deferred", decision.reason),
        ...(decision.retryAfterSeconds > 0 ? { retryAfterSeconds: decision.retryAfterSeconds } : {}),
      };
    default:
      throw new Error(`plan: no verdict for decision ${decision.kind} of server ${serverId}`);
  }
}

/** What planning one target reads besides its servers. */
interface PlanContext {
  reader: PlanReader;
  config: TargetsConfig;
  batchLimit: number;
  serversById: Map<string, EcsServer>;
  groupTargets: ReturnType<typeof configuredGroupTargets>;
  /** Advisory reads that failed, each once across the targets. */
  advisoryFailures: DryRun["advisoryFailures"];
}

/** A target without a group to plan in: each server gets the pipeline's verdict for that resolution. */
function unresolvedTargetPlan(
  plan: PlanContext,
  target: string,
  configured: boolean,
  serverIds: readonly string[],
  resolution: Extract<Resolution, { status: "unresolved" }>,
): TargetPlan {
  const targetResolution: TargetResolution =
    resolution.verdict === "ineligible"
      ? { status: "unknown", reason: resolution.reason }
      : { status: "pending", reason: resolution.reason, retryAfterSeconds: 0 };
  const verdicts = serverIds.map((serverId) =>
    decidedVerdict(
      serverId,
      plan.serversById.get(serverId),
      decideServer({ serverId, target, resolution: targetResolution }),
    ),
  );
  return { target, configured, protectionGroup: undefined, result: { verdicts, calls: [] } };
}

/** A target with its group: the pipeline's decision first (adopt, protected elsewhere, …), the planner takes the rest. */
async function resolvedTargetPlan(
  plan: PlanContext,
  target: string,
  configured: boolean,
  serverIds: readonly string[],
  resolution: Extract<Resolution, { status: "group" }>,
): Promise<TargetPlan> {
  const inventory = await readInventory(plan.reader, {
    protectionGroupId: resolution.protectionGroupId,
    serverIds: [...serverIds],
  });
  for (const failure of inventory.advisoryFailures) {
    if (!plan.advisoryFailures.some((known) => known.operation === failure.operation && known.code === failure.code))
      plan.advisoryFailures.push(failure);
  }
  const decided = new Map<string, Verdict>();
  for (const serverId of serverIds) {
    const decision = decideServer({
      serverId,
      serverName: plan.serversById.get(serverId)?.name,
      target,
      resolution: { status: "ready", groupId: resolution.protectionGroupId },
      protectedInstances: inventory.protectedInstances,
      groupTargets: plan.groupTargets,
    });
    if (decision.kind !== "evaluate")
      decided.set(serverId, decidedVerdict(serverId, plan.serversById.get(serverId), decision));
  }
  const planned = planProtection({
    protectionGroupId: resolution.protectionGroupId,
    protectionGroup: inventory.protectionGroup,
    targetName: target,
    servers: inventory.servers.filter((facts) => !decided.has(facts.serverId)),
    protectedInstances: inventory.protectedInstances,
    ...(resolution.creation === undefined ? {} : { creationOptions: resolution.creation }),
    batchLimit: plan.batchLimit,
    sharedDiskPolicy: plan.config.sharedDiskPolicy,
  });
  const plannedById = new Map(planned.verdicts.map((verdict) => [verdict.serverId, verdict]));
  const verdicts = serverIds.flatMap((serverId) => {
    const verdict = decided.get(serverId) ?? plannedById.get(serverId);
    return verdict === undefined ? [] : [verdict];
  });
  const result: PlanResult = { verdicts, calls: planned.calls };
  const group = inventory.protectionGroup;
  return {
    target,
    configured,
    protectionGroup: group === undefined ? undefined : { id: group.id, name: group.name, status: group.status },
    result,
  };
}

/** Servers asked for by id that carry no protect tag (and no --target): not found, or not tagged. */
function untargetedPlan(plan: PlanContext, serverIds: readonly string[]): TargetPlan {
  const tagKey = plan.config.protectTagKey;
  const verdicts = serverIds.map((serverId) => {
    const server = plan.serversById.get(serverId);
    const reason =
      server === undefined
        ? reasonFor("INELIGIBLE_SERVER_NOT_FOUND", `server ${serverId} was not found in the project`)
        : {
            code: "INELIGIBLE_NOT_TAGGED",
            message: `server ${server.name} carries no ${tagKey} tag, and no --target was given`,
            remedy: `tag the server ${tagKey}=<target>, or pass --target`,
          };
    return unresolvedVerdict(serverId, server, "ineligible", reason);
  });
  return { target: null, configured: false, protectionGroup: undefined, result: { verdicts, calls: [] } };
}

export async function planTargets(reader: PlanReader, request: DryRunRequest): Promise<DryRun> {
  const { config } = request;
  const servers = await reader.listServers();
  const plan: PlanContext = {
    reader,
    config,
    batchLimit: request.batchLimit ?? config.batchLimit,
    serversById: new Map(servers.map((server) => [server.id, server])),
    groupTargets: configuredGroupTargets(config),
    advisoryFailures: [],
  };
  const selection = selectServers({
    servers,
    tagKey: config.protectTagKey,
    target: request.target,
    serverIds: request.serverIds,
  });
  const targets: TargetPlan[] = [];
  for (const [target, serverIds] of selection.byTarget) {
    const configured = ownValue(config.targets, target) !== undefined;
    const resolution = await resolveTarget(target, config, reader);
    targets.push(
      resolution.status === "unresolved"
        ? unresolvedTargetPlan(plan, target, configured, serverIds, resolution)
        : await resolvedTargetPlan(plan, target, configured, serverIds, resolution),
    );
  }
  if (selection.untargeted.length > 0) targets.push(untargetedPlan(plan, selection.untargeted));
  return {
    protectTagKey: config.protectTagKey,
    batchLimit: plan.batchLimit,
    sharedDiskPolicy: config.sharedDiskPolicy,
    targets,
    advisoryFailures: plan.advisoryFailures,
  };
}
