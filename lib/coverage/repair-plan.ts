/**
 * The steps that close a server's coverage gaps (docs/coverage.md, "Repair"). Pure: a verdict in, a
 * plan out. A disk attached through ECS cannot be paired while in use (SDRS.1801), so its repair is
 * disruptive: detach it from the running server, create its pair, attach the pair on the same device
 * (SDRS attaches the disk to the production server and its DR twin to the DR server). An invalid pair
 * is detached and deleted first. Protection is enabled where the group does not replicate yet.
 */
import * as z from "../zod.ts";
import type { ServerCoverage } from "./verdict.ts";

export const repairStep = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("detach-volume"), serverId: z.string(), volumeId: z.string() }),
  z.object({
    kind: z.literal("detach-pair"),
    protectedInstanceId: z.string(),
    replicationPairId: z.string(),
    volumeId: z.string(),
  }),
  z.object({ kind: z.literal("delete-pair"), replicationPairId: z.string(), volumeId: z.string() }),
  z.object({ kind: z.literal("create-pair"), protectionGroupId: z.string(), volumeId: z.string(), name: z.string() }),
  z.object({
    kind: z.literal("attach-pair"),
    protectedInstanceId: z.string(),
    volumeId: z.string(),
    device: z.string(),
  }),
  z.object({
    kind: z.literal("expand-pair"),
    replicationPairId: z.string(),
    volumeId: z.string(),
    sizeGb: z.int().check(z.positive()),
  }),
  z.object({ kind: z.literal("enable-protection"), protectionGroupId: z.string() }),
]);
export type RepairStep = z.infer<typeof repairStep>;

export const repairPlan = z.object({
  serverId: z.string(),
  serverName: z.string(),
  protectedInstanceId: z.string(),
  protectionGroupId: z.string(),
  steps: z.array(repairStep),
  /** Gaps this plan cannot close (codes), e.g. a pair in fault: a person decides. */
  leftAlone: z.array(z.string()),
});
export type RepairPlan = z.infer<typeof repairPlan>;

/** A repair that cannot go on, with a stable code; its subclasses say when (planning or a step). */
export class RepairError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Refused before anything is changed: the command's input is the cause. */
export class RepairPlanError extends RepairError {}

/** A pair name from its disk (SDRS: ≤64 of [A-Za-z0-9._-]). */
function pairName(serverName: string, volumeId: string): string {
  return `${serverName}-${volumeId.slice(0, 8)}`.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64);
}

/** The plan for one server, optionally only for one volume. */
export function planRepair(coverage: ServerCoverage, volumeId?: string): RepairPlan {
  const { protectedInstanceId, protectionGroupId } = coverage;
  if (protectedInstanceId === undefined || protectionGroupId === undefined) {
    throw new RepairPlanError(
      "REPAIR_NOT_PROTECTED",
      `--server: ${coverage.serverName} (${coverage.serverId}) is no protected instance: onboard it first`,
    );
  }
  const gaps =
    volumeId === undefined
      ? coverage.gaps
      : coverage.gaps.filter((gap) => gap.volumeId === volumeId || gap.volumeId === undefined);
  if (volumeId !== undefined && !coverage.gaps.some((gap) => gap.volumeId === volumeId)) {
    throw new RepairPlanError(
      "REPAIR_NOTHING_TO_DO",
      `--volume: volume ${volumeId} has no coverage gap on ${coverage.serverName}`,
    );
  }
  const steps: RepairStep[] = [];
  const leftAlone: string[] = [];
  let enable = false;
  for (const gap of gaps) {
    const disk = gap.volumeId;
    if (gap.code === "COVERAGE_DISK_UNREPLICATED" && disk !== undefined && gap.device !== undefined) {
      steps.push(
        { kind: "detach-volume", serverId: coverage.serverId, volumeId: disk },
        { kind: "create-pair", protectionGroupId, volumeId: disk, name: pairName(coverage.serverName, disk) },
        { kind: "attach-pair", protectedInstanceId, volumeId: disk, device: gap.device },
      );
    } else if (
      gap.code === "COVERAGE_PAIR_INVALID" &&
      disk !== undefined &&
      gap.device !== undefined &&
      gap.replicationPairId !== undefined
    ) {
      steps.push(
        { kind: "detach-pair", protectedInstanceId, replicationPairId: gap.replicationPairId, volumeId: disk },
        { kind: "delete-pair", replicationPairId: gap.replicationPairId, volumeId: disk },
        { kind: "create-pair", protectionGroupId, volumeId: disk, name: pairName(coverage.serverName, disk) },
        { kind: "attach-pair", protectedInstanceId, volumeId: disk, device: gap.device },
      );
    } else if (
      gap.code === "COVERAGE_DISK_GROWN" &&
      disk !== undefined &&
      gap.replicationPairId !== undefined &&
      gap.sizeGb !== undefined
    ) {
      steps.push({ kind: "expand-pair", replicationPairId: gap.replicationPairId, volumeId: disk, sizeGb: gap.sizeGb });
    } else if (gap.code === "COVERAGE_REPLICATION_NOT_STARTED" && gap.repair === "automatic") {
      enable = true;
    } else {
      leftAlone.push(gap.code);
    }
  }
  if (enable) steps.push({ kind: "enable-protection", protectionGroupId });
  return {
    serverId: coverage.serverId,
    serverName: coverage.serverName,
    protectedInstanceId,
    protectionGroupId,
    steps,
    leftAlone,
  };
}

/**
 * Why the plan must not start, or undefined. Checked before anything is detached: a pair can be created
 * only in a group that is `available` or `protected` and produces on its source site (else SDRS.1017 /
 * SDRS.1809 would stop the run after the disk was already taken off the server).
 */
export function repairBlocker(
  plan: RepairPlan,
  group: { status: string; priority_station?: string | null | undefined },
): string | undefined {
  if (!plan.steps.some((step) => step.kind === "create-pair")) return undefined;
  if (group.status !== "available" && group.status !== "protected") {
    return `protection group ${plan.protectionGroupId} is ${group.status}: replication pairs can be created only when it is available or protected (SDRS.1017)`;
  }
  if (group.priority_station === "target") {
    return `protection group ${plan.protectionGroupId} produces on its DR site (priority_station target): fail back first, SDRS refuses new pairs (SDRS.1809)`;
  }
  return undefined;
}

/** One line a person reads before confirming. */
export function describeStep(step: RepairStep): string {
  switch (step.kind) {
    case "detach-volume":
      return `detach volume ${step.volumeId} from server ${step.serverId} (ECS; the guest must have unmounted it: it is offline until re-attached)`;
    case "detach-pair":
      return `detach replication pair ${step.replicationPairId} (volume ${step.volumeId}) from protected instance ${step.protectedInstanceId}`;
    case "delete-pair":
      return `delete replication pair ${step.replicationPairId}`;
    case "create-pair":
      return `create a replication pair "${step.name}" for volume ${step.volumeId} in protection group ${step.protectionGroupId} (SDRS creates the DR disk)`;
    case "attach-pair":
      return `attach that pair to protected instance ${step.protectedInstanceId} on ${step.device} (the disk comes back on the same device)`;
    case "expand-pair":
      return `expand replication pair ${step.replicationPairId} to ${step.sizeGb} GB (both disks)`;
    case "enable-protection":
      return `enable protection of group ${step.protectionGroupId} (start replicating)`;
  }
}
