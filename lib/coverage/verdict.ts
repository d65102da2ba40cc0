/**
 * The coverage verdict of one server: is its data replicated, every disk, now? Pure over what the
 * cloud answered (server, protected instance, group, the group's replication pairs, disk sizes).
 *
 * "Protected" at creation is not "protected later": SDRS pairs only the disks a server has when it is
 * protected, a group never started replicates nothing, a pair can fault or lose a disk, and a server
 * can lose or change its tag while protected. Each gap has a stable code, a message naming the volume
 * or pair, a remedy, and how it is repaired: automatically (a safe change, when the target asks for
 * `coverage: "repair"`), with `sdrs-autoprotect repair` (disruptive: needs confirmation), or by hand.
 */
import { pairVolumeIds, type ReplicationPair } from "../sdrs/replication-schemas.ts";
import type { EcsServer, ProtectedInstance, ProtectionGroup } from "../sdrs/schemas.ts";

export const COVERAGE_CODES = [
  "COVERAGE_NOT_PROTECTED",
  "COVERAGE_PROTECTION_IN_PROGRESS",
  "COVERAGE_DISK_UNREPLICATED",
  "COVERAGE_REPLICATION_NOT_STARTED",
  "COVERAGE_PAIR_FAULT",
  "COVERAGE_PAIR_INVALID",
  "COVERAGE_PAIR_ERROR",
  "COVERAGE_DISK_GROWN",
  "COVERAGE_FAILED_OVER",
  "COVERAGE_UNTAGGED_BUT_PROTECTED",
  "COVERAGE_TARGET_CHANGED",
] as const;
export type CoverageCode = (typeof COVERAGE_CODES)[number];

/** automatic: safe, done when the target's coverage option is "repair"; command: `sdrs-autoprotect repair`; manual: a person decides. */
export type RepairKind = "automatic" | "command" | "manual" | "none";

export interface CoverageGap {
  code: CoverageCode;
  message: string;
  remedy: string;
  repair: RepairKind;
  volumeId?: string;
  device?: string;
  sizeGb?: number;
  replicationPairId?: string;
  pairStatus?: string;
  faultLevel?: string;
}

/** fully: replicated, every disk; partially: some disks replicated; not: none replicated (or no protected instance). */
export type CoverageState = "fully" | "partially" | "not";

export interface ServerCoverage {
  serverId: string;
  serverName: string;
  /** The protect tag's value; null when the server carries none. */
  target: string | null;
  protectedInstanceId?: string;
  protectionGroupId?: string;
  state: CoverageState;
  disksAttached: number;
  disksReplicated: number;
  gaps: CoverageGap[];
}

export interface CoverageFacts {
  server: EcsServer;
  /** The protect tag's value, if any. */
  target: string | undefined;
  /** The group the target resolves to; undefined when it cannot be resolved (an unknown target). */
  expectedGroupId: string | undefined;
  /** The server's protected instance (it is the production server), if any. */
  instance: ProtectedInstance | undefined;
  group: ProtectionGroup | undefined;
  /** The replication pairs of the instance's group (one listing per group serves all its servers). */
  groupPairs: readonly ReplicationPair[];
  /** Current EVS sizes (GB) by volume id. */
  volumeSizes: ReadonlyMap<string, number>;
}

const FAULT_LEVEL_MEANING: Record<string, { message: string; remedy: string }> = {
  "2": {
    message: "the production disk has no read/write permission",
    remedy: "SDRS advises a failover of the protection group; then reprotect once the production site is repaired",
  },
  "5": {
    message: "the replication link is broken (failover is not allowed)",
    remedy: "contact Huawei Cloud / OTC support with the replication pair id",
  },
};

/** Group statuses in which data is replicated, or about to be (a start under way is no alarm). */
const REPLICATING_GROUP_STATUSES = new Set(["protected", "starting", "reprotecting"]);
const HEALTHY_PAIR_STATUSES = new Set(["protected", "starting", "extending", "attaching"]);

interface AttachedDisk {
  volumeId: string;
  device: string;
}

function attachedDisks(server: EcsServer): AttachedDisk[] {
  return server["os-extended-volumes:volumes_attached"].map((volume) => ({
    volumeId: volume.id,
    device: volume.device ?? "",
  }));
}

/** The pairs attached to the instance, by the production disk they replicate (either id of `volume_ids`). */
function pairsByDisk(
  instance: ProtectedInstance,
  groupPairs: readonly ReplicationPair[],
  disks: readonly AttachedDisk[],
) {
  const onServer = new Set(disks.map((disk) => disk.volumeId));
  const attachedIds = new Set((instance.attachment ?? []).map((attached) => attached.replication));
  const byDisk = new Map<string, ReplicationPair>();
  const stale: ReplicationPair[] = [];
  for (const pair of groupPairs) {
    const toInstance =
      attachedIds.has(pair.id) ||
      (pair.attachment ?? []).some((attached) => attached.protected_instance === instance.id);
    if (!toInstance) continue;
    const { sourceVolumeId, drVolumeId } = pairVolumeIds(pair);
    const production = onServer.has(sourceVolumeId)
      ? sourceVolumeId
      : drVolumeId !== undefined && onServer.has(drVolumeId)
        ? drVolumeId
        : undefined;
    if (production === undefined) stale.push(pair);
    else byDisk.set(production, pair);
  }
  return { byDisk, stale };
}

function groupGaps(group: ProtectionGroup | undefined, groupId: string): CoverageGap[] {
  if (group === undefined) {
    return [
      {
        code: "COVERAGE_PAIR_INVALID",
        message: `protection group ${groupId} no longer exists`,
        remedy: "delete the protected instance and onboard the server again",
        repair: "manual",
      },
    ];
  }
  if (group.status === "failed-over" || group.status === "failing-over" || group.status === "error-failing-over") {
    return [
      {
        code: "COVERAGE_FAILED_OVER",
        message: `protection group ${group.name} (${group.id}) is ${group.status}: the server runs on the DR site and nothing is replicated`,
        remedy:
          "reprotect the protection group once the original production site is back (SDRS console or reprotect API)",
        repair: "manual",
      },
    ];
  }
  if (!REPLICATING_GROUP_STATUSES.has(group.status)) {
    const safe = group.status === "available" || group.status === "error-starting";
    return [
      {
        code: "COVERAGE_REPLICATION_NOT_STARTED",
        message: `protection group ${group.name} (${group.id}) is ${group.status}: its replication pairs exist but no data is replicated`,
        remedy: safe
          ? 'enable protection of the group (automatic with coverage: "repair")'
          : "wait for the group's operation to end, then enable protection",
        repair: safe ? "automatic" : "manual",
      },
    ];
  }
  return [];
}

function pairGap(
  pair: ReplicationPair,
  disk: AttachedDisk,
  sizeGb: number | undefined,
  serverId: string,
): CoverageGap | undefined {
  const where = { volumeId: disk.volumeId, device: disk.device, replicationPairId: pair.id, pairStatus: pair.status };
  if (pair.status === "fault") {
    const level = pair.fault_level ?? "unknown";
    const meaning = FAULT_LEVEL_MEANING[level] ?? {
      message: "replication is abnormal",
      remedy: "check the pair in the SDRS console",
    };
    return {
      code: "COVERAGE_PAIR_FAULT",
      message: `replication pair ${pair.id} of volume ${disk.volumeId} (${disk.device}) is in fault, fault_level ${level}: ${meaning.message}`,
      remedy: meaning.remedy,
      repair: "manual",
      faultLevel: level,
      ...where,
    };
  }
  if (pair.status === "invalid") {
    return {
      code: "COVERAGE_PAIR_INVALID",
      message: `replication pair ${pair.id} of volume ${disk.volumeId} (${disk.device}) is invalid: one of its disks was deleted`,
      remedy: `detach and delete the pair, then pair the disk again: sdrs-autoprotect repair --server ${serverId} --volume ${disk.volumeId}`,
      repair: "command",
      ...where,
    };
  }
  if (pair.status === "error" || pair.status.startsWith("error-")) {
    return {
      code: "COVERAGE_PAIR_ERROR",
      message: `replication pair ${pair.id} of volume ${disk.volumeId} (${disk.device}) is ${pair.status}${pair.failure_detail ? ` (${pair.failure_detail})` : ""}`,
      remedy: "retry the failed operation (allowed from error-* states) or delete the pair; see the SDRS task center",
      repair: "manual",
      ...where,
    };
  }
  const recorded = pair.record_metadata?.volume_size ?? undefined;
  // An expansion under way is the repair itself.
  if (sizeGb !== undefined && recorded !== undefined && sizeGb > recorded && pair.status !== "extending") {
    return {
      code: "COVERAGE_DISK_GROWN",
      message: `volume ${disk.volumeId} (${disk.device}) grew to ${sizeGb} GB outside SDRS; replication pair ${pair.id} covers ${recorded} GB`,
      remedy: `expand the pair to ${sizeGb} GB (automatic with coverage: "repair")`,
      repair: "automatic",
      sizeGb,
      ...where,
    };
  }
  return undefined;
}

/** Gaps about the tag, not the data: they do not make a server less replicated. */
const POLICY_CODES: ReadonlySet<CoverageCode> = new Set(["COVERAGE_UNTAGGED_BUT_PROTECTED", "COVERAGE_TARGET_CHANGED"]);

function stateOf(disksAttached: number, disksReplicated: number, gaps: readonly CoverageGap[]): CoverageState {
  if (disksReplicated === 0) return "not";
  const dataGaps = gaps.filter((gap) => !POLICY_CODES.has(gap.code));
  return disksReplicated === disksAttached && dataGaps.length === 0 ? "fully" : "partially";
}

/** The verdict for one server. */
export function coverageOf(facts: CoverageFacts): ServerCoverage {
  const { server, instance } = facts;
  const disks = attachedDisks(server);
  const base = {
    serverId: server.id,
    serverName: server.name,
    target: facts.target ?? null,
    disksAttached: disks.length,
  };
  if (instance === undefined) {
    const gaps: CoverageGap[] = [
      {
        code: "COVERAGE_NOT_PROTECTED",
        message: `server ${server.name} carries the protect tag (${facts.target}) but is no protected instance`,
        remedy: "onboarding protects it; sdrs-autoprotect plan shows why it cannot be",
        repair: "none",
      },
    ];
    return { ...base, state: "not", disksReplicated: 0, gaps };
  }
  const ids = { protectedInstanceId: instance.id, protectionGroupId: instance.server_group_id };
  if (instance.status === "creating") {
    const gaps: CoverageGap[] = [
      {
        code: "COVERAGE_PROTECTION_IN_PROGRESS",
        message: `protected instance ${instance.id} is being created`,
        remedy: "wait for the job to end",
        repair: "none",
      },
    ];
    return { ...base, ...ids, state: "not", disksReplicated: 0, gaps };
  }

  const gaps: CoverageGap[] = [];
  if (facts.target === undefined) {
    gaps.push({
      code: "COVERAGE_UNTAGGED_BUT_PROTECTED",
      message: `server ${server.name} is protected (instance ${instance.id}) but no longer carries the protect tag`,
      remedy: "tag it again to keep it covered, or delete the protected instance if it need not be protected",
      repair: "manual",
    });
  } else if (facts.expectedGroupId !== undefined && facts.expectedGroupId !== instance.server_group_id) {
    gaps.push({
      code: "COVERAGE_TARGET_CHANGED",
      message: `server ${server.name} is tagged for ${facts.target} (protection group ${facts.expectedGroupId}) but protected in group ${instance.server_group_id}`,
      remedy:
        "restore the tag, or delete the protected instance so that onboarding protects it in the new target's group",
      repair: "manual",
    });
  }
  const groupProblems = groupGaps(facts.group, instance.server_group_id);
  gaps.push(...groupProblems);
  const replicating = groupProblems.length === 0;

  const { byDisk, stale } = pairsByDisk(instance, facts.groupPairs, disks);
  let disksReplicated = 0;
  for (const disk of disks) {
    const pair = byDisk.get(disk.volumeId);
    const sizeGb = facts.volumeSizes.get(disk.volumeId);
    if (pair === undefined) {
      gaps.push({
        code: "COVERAGE_DISK_UNREPLICATED",
        message: `volume ${disk.volumeId} (${disk.device}${sizeGb === undefined ? "" : `, ${sizeGb} GB`}) is attached to ${server.name} but in no replication pair: its data is not replicated`,
        remedy: `sdrs-autoprotect repair --server ${server.id} --volume ${disk.volumeId} (detaches the disk, pairs it, attaches it again on ${disk.device})`,
        repair: "command",
        volumeId: disk.volumeId,
        device: disk.device,
        ...(sizeGb === undefined ? {} : { sizeGb }),
      });
      continue;
    }
    const gap = pairGap(pair, disk, sizeGb, server.id);
    if (gap !== undefined) gaps.push(gap);
    // A grown disk is still replicated up to the pair's size; a faulty or invalid pair is not.
    if (
      (gap === undefined || gap.code === "COVERAGE_DISK_GROWN") &&
      replicating &&
      HEALTHY_PAIR_STATUSES.has(pair.status)
    )
      disksReplicated += 1;
  }
  for (const pair of stale) {
    gaps.push({
      code: "COVERAGE_PAIR_INVALID",
      message: `replication pair ${pair.id} is attached to instance ${instance.id} but its disk is no longer on ${server.name}`,
      remedy: "detach and delete the pair (its disk was detached or deleted outside SDRS)",
      repair: "manual",
      replicationPairId: pair.id,
      pairStatus: pair.status,
    });
  }
  return { ...base, ...ids, state: stateOf(disks.length, disksReplicated, gaps), disksReplicated, gaps };
}

/** What identifies a coverage outcome: the gap codes with their volume/pair, sorted (stable across reads). */
export function coverageFingerprint(coverage: Pick<ServerCoverage, "gaps">): string {
  return coverage.gaps
    .map((gap) => [gap.code, gap.volumeId ?? "", gap.replicationPairId ?? "", gap.faultLevel ?? ""].join(":"))
    .sort()
    .join(",");
}
