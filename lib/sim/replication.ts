/**
 * Replication pairs in the simulator, and the ECS volume calls that change a server's disks: create,
 * list/show, delete, expand, attach to / detach from a protected instance, with their jobs, status
 * transitions, device rules and error codes (docs/coverage.md, "Simulator"). Also the drift switches
 * (`POST /__sim/drift`) that put an estate out of step: a disk attached through ECS to a protected
 * server, a pair in `fault`, a deleted DR disk, a disk grown outside SDRS.
 *
 * Pairs live in `world.replicationPairs` keyed by their production disk. A pair's status is derived
 * from its group unless something set it (`fault`, `invalid`, an operation under way).
 */

import {
  attachReplicationRequest,
  attachServerVolumeRequest,
  createReplicationRequest,
  extendReplicationRequest,
  type ReplicationPair,
} from "../sdrs/replication-schemas.ts";
import { describeIssue } from "../sdrs/schemas.ts";
import type { ReplicationPairStatus } from "../sdrs/statuses.ts";
import * as z from "../zod.ts";
import { type ApiError, isApiError, sdrsError, serviceError } from "./api-error.ts";
import { type Estate, estateVolume } from "./estate.ts";
import {
  addReplicationPair,
  addVolume,
  attachVolume,
  detachVolume,
  instancesOfGroup,
  pairById,
  removeReplicationPair,
  removeVolume,
  serversAttachedTo,
} from "./indexes.ts";
import type {
  JobFailure,
  ProjectForReplication,
  ReplicationJobKind,
  SimReplicationPair,
  SimServer,
  SimVolume,
  World,
} from "./model.ts";
import { type Answer, sdrsIdFilters } from "./reads.ts";
import { renderServer, sdrsTimestamp } from "./render.ts";
import { drSiteAvailabilityZone, groupProductionAz } from "./rules.ts";

type DurationRange = { minMs: number; maxMs: number };

/**
 * Each replication and volume job: its documented job type (OTC API reference; the ECS ones are the ECS
 * job names) and how long it runs, normally and under `sim --fast`, in ms.
 */
const REPLICATION_JOBS: Record<
  ReplicationJobKind,
  { jobType: string; normal: [number, number]; fast: [number, number] }
> = {
  createReplication: { jobType: "createReplicationPairNoCG", normal: [20_000, 60_000], fast: [1_000, 3_000] },
  deleteReplication: { jobType: "deleteReplicationPairNoCG", normal: [10_000, 30_000], fast: [1_000, 2_000] },
  expandReplication: { jobType: "expandReplicationPairNew", normal: [10_000, 40_000], fast: [1_000, 2_000] },
  attachReplication: { jobType: "attachReplicationPairNew", normal: [20_000, 60_000], fast: [1_000, 3_000] },
  detachReplication: { jobType: "detachReplicationPairNew", normal: [10_000, 30_000], fast: [1_000, 2_000] },
  attachServerVolume: { jobType: "attachVolume", normal: [5_000, 15_000], fast: [500, 1_000] },
  detachServerVolume: { jobType: "detachVolume", normal: [5_000, 15_000], fast: [500, 1_000] },
};

function replicationJobColumn<T>(
  column: (job: (typeof REPLICATION_JOBS)[ReplicationJobKind]) => T,
): Record<ReplicationJobKind, T> {
  return Object.fromEntries(Object.entries(REPLICATION_JOBS).map(([kind, job]) => [kind, column(job)])) as Record<
    ReplicationJobKind,
    T
  >;
}

const range = ([minMs, maxMs]: [number, number]): DurationRange => ({ minMs, maxMs });

export const REPLICATION_JOB_DURATIONS = replicationJobColumn((job) => range(job.normal));
/** `sim --fast`: seconds. */
export const FAST_REPLICATION_JOB_DURATIONS = replicationJobColumn((job) => range(job.fast));
export const REPLICATION_JOB_TYPES = replicationJobColumn((job) => job.jobType);

/** "Replication pairs not attached to protected instances to the upper limit" (SDRS.1826). */
export const MAX_UNATTACHED_PAIRS = 5;

const ok = (body: unknown): Answer => ({ status: 200, body });
const accepted = (jobId: string): Answer => ({ status: 200, body: { job_id: jobId } });

function bodyError(issues: readonly z.core.$ZodIssue[]): ApiError {
  const issue = issues[0];
  return sdrsError("SDRS.0201", issue === undefined ? "(body): invalid request" : describeIssue(issue));
}

// ---------------------------------------------------------------------------------------------
// Reading pairs
// ---------------------------------------------------------------------------------------------

export function findPair(world: World, pairId: string): SimReplicationPair | undefined {
  return pairById(world, pairId);
}

/** The pair a path names, or SDRS.1608 as the API answers for an unknown one. */
function pairOfPath(world: World, pairId: string): SimReplicationPair | ApiError {
  return findPair(world, pairId) ?? sdrsError("SDRS.1608", `replication pair ${pairId} does not exist`);
}

/** The status SDRS would show: what was set on the pair, else what its group implies. */
export function pairStatus(world: World, pair: SimReplicationPair): ReplicationPairStatus {
  if (pair.status !== undefined) return pair.status;
  const group = world.groups.get(pair.groupId);
  if (group === undefined) return "invalid";
  switch (group.status) {
    case "protected":
      return "protected";
    case "starting":
      return "starting";
    case "failed-over":
      return "failed-over";
    default:
      return "available";
  }
}

function replicationStatus(status: ReplicationPairStatus): string {
  if (status === "protected") return "active";
  if (status === "starting") return "copying";
  if (status === "fault") return "active-stopped";
  return "inactive";
}

/** The device a volume has on a server (as ECS renders it), or undefined when it is not attached there. */
export function deviceOn(world: World, server: SimServer, volumeId: string): string | undefined {
  return (
    renderServer(world, server)["os-extended-volumes:volumes_attached"].find((attached) => attached.id === volumeId)
      ?.device ?? undefined
  );
}

/** The protected instances a pair is attached to, with the device of its disk there. */
export function pairAttachments(
  world: World,
  pair: SimReplicationPair,
): { protected_instance: string; device: string }[] {
  if (pair.attachedTo === null) return [];
  const attachments: { protected_instance: string; device: string }[] = [];
  for (const instance of instancesOfGroup(world, pair.groupId)) {
    if (pair.attachedTo !== undefined && pair.attachedTo !== instance.id) continue;
    const source = world.servers.get(instance.sourceServerId);
    const device = source === undefined ? undefined : deviceOn(world, source, pair.sourceVolumeId);
    if (device !== undefined) attachments.push({ protected_instance: instance.id, device });
  }
  return attachments;
}

export function renderReplicationPair(world: World, pair: SimReplicationPair, createdAt: number): ReplicationPair {
  const status = pairStatus(world, pair);
  const volume = world.volumes.get(pair.sourceVolumeId);
  const group = world.groups.get(pair.groupId);
  const bootable = serversAttachedTo(world, pair.sourceVolumeId).some((server) =>
    server.volumes.some((attached) => attached.id === pair.sourceVolumeId && attached.bootIndex === 0),
  );
  return {
    id: pair.id,
    name: pair.name ?? volume?.name ?? `replication-${pair.id.slice(0, 8)}`,
    description: "",
    status,
    replication_model: "hypermetro",
    // Not a health signal (reference: examples show 0 while replication_status is active).
    progress: status === "protected" ? 100 : 0,
    replication_status: replicationStatus(status),
    fault_level: pair.faultLevel ?? "0",
    failure_detail: status === "error" ? "SDRS.1606" : "",
    volume_ids: `${pair.sourceVolumeId},${pair.drVolumeId}`,
    attachment: pairAttachments(world, pair),
    server_group_id: pair.groupId,
    priority_station: group?.priorityStation ?? "source",
    record_metadata: {
      multiattach: volume?.multiattach ?? false,
      bootable,
      volume_size: pair.sizeGb ?? volume?.size ?? 0,
      volume_type: volume?.volumeType ?? "SSD",
    },
    created_at: sdrsTimestamp(createdAt),
    updated_at: sdrsTimestamp(createdAt),
  };
}

/** Statuses `query_type=status_abnormal` lists (which ones count is undocumented: the simulator's choice). */
function isAbnormal(status: ReplicationPairStatus): boolean {
  return status === "fault" || status === "invalid" || status.startsWith("error");
}

export function listReplications(world: World, query: URLSearchParams, createdAt: number): Answer | ApiError {
  const filters = sdrsIdFilters(query);
  if (isApiError(filters)) return filters;
  const { paging, groupFilter, instanceIds } = filters;
  const instanceId = query.get("protected_instance_id");
  const instanceFilter = instanceIds ?? (instanceId === null || instanceId === "" ? undefined : [instanceId]);
  const status = query.get("status");
  const name = query.get("name");
  const abnormal = query.get("query_type") === "status_abnormal";
  const matching = [...world.replicationPairs.values()]
    .map((pair) => renderReplicationPair(world, pair, createdAt))
    .filter(
      (pair) =>
        (groupFilter === undefined || groupFilter.includes(pair.server_group_id)) &&
        (instanceFilter === undefined ||
          (pair.attachment ?? []).some((attached) => instanceFilter.includes(attached.protected_instance))) &&
        (status === null || status === "" || pair.status === status) &&
        (name === null || name === "" || (pair.name ?? "").includes(name)) &&
        (!abnormal || isAbnormal(pair.status as ReplicationPairStatus)),
    );
  return ok({ replications: matching.slice(paging.offset, paging.offset + paging.limit), count: matching.length });
}

export function showReplication(world: World, pairId: string, createdAt: number): Answer | ApiError {
  const pair = pairOfPath(world, pairId);
  if (isApiError(pair)) return pair;
  return ok({ replication: renderReplicationPair(world, pair, createdAt) });
}

// ---------------------------------------------------------------------------------------------
// Disks on servers
// ---------------------------------------------------------------------------------------------

/** `/dev/vdc` → 2; the other spelling (`/dev/sdc`, `/dev/xvdc`) names the same slot (SDRS rewrites it). */
function deviceSlot(device: string): number {
  const letter = /([a-z])$/.exec(device)?.[1] ?? "a";
  return letter.charCodeAt(0) - "a".charCodeAt(0);
}

/** Puts a data disk on a server at the slot of `device` (the system disk stays first), or last. */
function putVolume(world: World, server: SimServer, volumeId: string, device: string | undefined): void {
  attachVolume(world, server, { id: volumeId, bootIndex: -1 }, device === undefined ? undefined : deviceSlot(device));
}

function deviceInUse(world: World, server: SimServer, device: string): boolean {
  const slot = deviceSlot(device);
  return renderServer(world, server)["os-extended-volumes:volumes_attached"].some(
    (attached) => deviceSlot(attached.device ?? "") === slot,
  );
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

export function createReplication(project: ProjectForReplication, raw: unknown, now: number): Answer | ApiError {
  const world = project.world;
  const parsed = createReplicationRequest.safeParse(raw);
  if (!parsed.success) return bodyError(parsed.error.issues);
  const body = parsed.data.replication;
  const group = world.groups.get(body.server_group_id);
  if (group === undefined)
    return sdrsError("SDRS.0207", `server_group_id: protection group ${body.server_group_id} does not exist`);
  if (group.status !== "available" && group.status !== "protected") {
    return sdrsError(
      "SDRS.1017",
      `protection group ${group.id} is ${group.status}: replication pairs can be created only when it is available or protected`,
    );
  }
  if (group.priorityStation === "target") {
    return sdrsError("SDRS.1809", `protection group ${group.id} runs on its DR site: perform a failback first`);
  }
  const volume = world.volumes.get(body.volume_id);
  if (volume === undefined) return sdrsError("SDRS.0211", `volume_id: disk ${body.volume_id} does not exist`);
  if (world.replicationPairs.has(volume.id))
    return sdrsError("SDRS.1811", `volume_id: disk ${volume.id} is already used by a replication pair`);
  if (serversAttachedTo(world, volume.id).length > 0) {
    return sdrsError(
      "SDRS.1801",
      `volume_id: disk ${volume.id} is in-use: a replication pair can be created only from an available (detached) disk`,
    );
  }
  if (volume.encrypted) return sdrsError("SDRS.1802", `volume_id: disk ${volume.id} is encrypted`);
  if (volume.frozen) return sdrsError("SDRS.0225", `volume_id: disk ${volume.id} is frozen`);
  const productionAz = groupProductionAz(group);
  if (volume.az !== undefined && volume.az !== productionAz) {
    return sdrsError(
      "SDRS.1810",
      `volume_id: disk ${volume.id} is in ${volume.az}, the group's production site is ${productionAz}`,
    );
  }
  const unattached = [...world.replicationPairs.values()].filter((pair) => pair.attachedTo === null).length;
  if (unattached >= MAX_UNATTACHED_PAIRS) {
    return sdrsError(
      "SDRS.1826",
      `${unattached} replication pairs are not attached to a protected instance: attach or delete one first (limit ${MAX_UNATTACHED_PAIRS})`,
    );
  }
  const pair: SimReplicationPair = {
    id: project.newId(),
    groupId: group.id,
    sourceVolumeId: volume.id,
    drVolumeId: "",
    name: body.name,
    status: "creating",
    attachedTo: null,
  };
  addReplicationPair(world, pair);
  const job = project.startEffectJob("createReplication", group.id, [], now, () => {
    const drVolume: SimVolume = {
      ...structuredClone(volume),
      id: project.newId(),
      az: drSiteAvailabilityZone(group),
      encrypted: false,
      frozen: false,
      tags: {},
      dssPoolId: undefined,
    };
    addVolume(world, drVolume);
    pair.drVolumeId = drVolume.id;
    pair.status = undefined;
    job.entities = { replication_pair_id: pair.id, volume_ids: `${pair.sourceVolumeId},${pair.drVolumeId}` };
    return undefined;
  });
  return accepted(job.id);
}

const deleteReplicationBody = z.looseObject({
  server_group_id: z.optional(z.string()),
  delete_target_volume: z.optional(z.boolean()),
});

export function deleteReplication(
  project: ProjectForReplication,
  pairId: string,
  raw: unknown,
  now: number,
): Answer | ApiError {
  const world = project.world;
  const pair = pairOfPath(world, pairId);
  if (isApiError(pair)) return pair;
  const parsed = deleteReplicationBody.safeParse(raw ?? {});
  if (!parsed.success) return bodyError(parsed.error.issues);
  if (pairAttachments(world, pair).length > 0)
    return sdrsError("SDRS.1605", `replication pair ${pair.id} is attached: detach it first`);
  const status = pairStatus(world, pair);
  if (status.endsWith("ing") && !status.startsWith("error"))
    return sdrsError("SDRS.0214", `replication pair ${pair.id} is ${status}`);
  pair.status = "deleting";
  const job = project.startEffectJob("deleteReplication", pair.groupId, [], now, () => {
    removeReplicationPair(world, pair);
    if (parsed.data.delete_target_volume === true) removeVolume(world, pair.drVolumeId);
    return undefined;
  });
  return accepted(job.id);
}

export function replicationAction(
  project: ProjectForReplication,
  pairId: string,
  raw: unknown,
  now: number,
): Answer | ApiError {
  const world = project.world;
  const pair = pairOfPath(world, pairId);
  if (isApiError(pair)) return pair;
  const parsed = extendReplicationRequest.safeParse(raw);
  if (!parsed.success)
    return sdrsError(
      "SDRS.0201",
      `(body): the simulator supports only the action {"extend-replication": {"new_size": GB}}`,
    );
  const newSize = parsed.data["extend-replication"].new_size;
  const status = pairStatus(world, pair);
  if (status !== "available" && status !== "protected" && status !== "error-extending") {
    return sdrsError(
      "SDRS.0214",
      `replication pair ${pair.id} is ${status}: it can be expanded only when available, protected or error-extending`,
    );
  }
  const volume = world.volumes.get(pair.sourceVolumeId);
  const recorded = pair.sizeGb ?? volume?.size ?? 0;
  if (newSize <= recorded)
    return sdrsError(
      "SDRS.0201",
      `extend-replication.new_size: ${newSize} GB must be larger than the current ${recorded} GB`,
    );
  if (volume !== undefined && newSize < volume.size) {
    return sdrsError(
      "SDRS.1814",
      `extend-replication.new_size: ${newSize} GB is smaller than the production disk (${volume.size} GB)`,
    );
  }
  if (volume?.multiattach === true && serversAttachedTo(world, volume.id).length > 0) {
    return sdrsError("SDRS.1818", `replication pair ${pair.id}: a shared disk can be expanded only while available`);
  }
  pair.status = "extending";
  const job = project.startEffectJob("expandReplication", pair.groupId, [], now, () => {
    for (const id of [pair.sourceVolumeId, pair.drVolumeId]) {
      const disk = world.volumes.get(id);
      if (disk !== undefined) disk.size = newSize;
    }
    pair.sizeGb = undefined;
    pair.status = undefined;
    return undefined;
  });
  job.entities = { replication_pair_id: pair.id };
  return accepted(job.id);
}

/** KVM servers use /dev/vdX, Xen /dev/sdX; the simulator's servers are KVM, so /dev/sdX is rewritten. */
function kvmDevice(device: string): string {
  return device.replace(/^\/dev\/(sd|xvd)/, "/dev/vd");
}

export function attachReplication(
  project: ProjectForReplication,
  instanceId: string,
  raw: unknown,
  now: number,
): Answer | ApiError {
  const world = project.world;
  const instance = world.instances.get(instanceId);
  if (instance === undefined)
    return sdrsError("SDRS.0208", `protected instance ${instanceId} does not exist`, "itemNotFound");
  const parsed = attachReplicationRequest.safeParse(raw);
  if (!parsed.success) return bodyError(parsed.error.issues);
  const { replication_id: pairId } = parsed.data.replicationAttachment;
  const device = kvmDevice(parsed.data.replicationAttachment.device);
  const pair = findPair(world, pairId);
  if (pair === undefined)
    return sdrsError("SDRS.1608", `replicationAttachment.replication_id: replication pair ${pairId} does not exist`);
  if (pair.groupId !== instance.groupId)
    return sdrsError("SDRS.1611", `replication pair ${pair.id} is not in protection group ${instance.groupId}`);
  const group = world.groups.get(instance.groupId);
  const healthy = (status: string | undefined) => status === "available" || status === "protected";
  if (!healthy(group?.status) || !healthy(instance.status)) {
    return sdrsError(
      "SDRS.1017",
      `protection group ${instance.groupId} (${group?.status}) and protected instance ${instance.id} (${instance.status}) must be available or protected`,
    );
  }
  if (!healthy(pairStatus(world, pair)))
    return sdrsError("SDRS.1601", `replication pair ${pair.id} is ${pairStatus(world, pair)}, not available`);
  const volume = world.volumes.get(pair.sourceVolumeId);
  if (pairAttachments(world, pair).length > 0 && volume?.multiattach !== true) {
    return sdrsError("SDRS.1603", `replication pair ${pair.id} is already attached`);
  }
  const source = world.servers.get(instance.sourceServerId);
  // Servers are never deleted, and an instance is created only for an existing server.
  if (source === undefined)
    throw new Error(
      `simulator invariant: the production server ${instance.sourceServerId} of ${instance.id} is missing`,
    );
  if (deviceInUse(world, source, device)) {
    return sdrsError(
      "SDRS.1603",
      `replicationAttachment.device: ${device} is already used on protected instance ${instance.id}`,
    );
  }
  pair.status = "attaching";
  const job = project.startEffectJob("attachReplication", instance.groupId, [source.id], now, () => {
    putVolume(world, source, pair.sourceVolumeId, device);
    const target = instance.targetServerId === undefined ? undefined : world.servers.get(instance.targetServerId);
    if (target !== undefined && pair.drVolumeId !== "" && world.volumes.has(pair.drVolumeId))
      putVolume(world, target, pair.drVolumeId, device);
    pair.attachedTo = instance.id;
    pair.status = undefined;
    return undefined;
  });
  job.entities = { protected_instance_id: instance.id, replication_pair_id: pair.id };
  return accepted(job.id);
}

export function detachReplication(
  project: ProjectForReplication,
  instanceId: string,
  pairId: string,
  now: number,
): Answer | ApiError {
  const world = project.world;
  const instance = world.instances.get(instanceId);
  if (instance === undefined)
    return sdrsError("SDRS.0208", `protected instance ${instanceId} does not exist`, "itemNotFound");
  const pair = findPair(world, pairId);
  if (pair === undefined) return sdrsError("SDRS.0213", `replication pair ${pairId} does not exist`);
  if (!pairAttachments(world, pair).some((attached) => attached.protected_instance === instance.id)) {
    return sdrsError("SDRS.1604", `replication pair ${pair.id} is not attached to protected instance ${instance.id}`);
  }
  const source = world.servers.get(instance.sourceServerId);
  const system =
    source?.volumes.some((attached) => attached.id === pair.sourceVolumeId && attached.bootIndex === 0) === true;
  if (system && source?.status === "ACTIVE") {
    return sdrsError(
      "SDRS.1822",
      `replication pair ${pair.id} holds the system disk: stop server ${source.id} before detaching it`,
    );
  }
  pair.status = "detaching";
  const job = project.startEffectJob("detachReplication", instance.groupId, [instance.sourceServerId], now, () => {
    if (source !== undefined) detachVolume(world, source, pair.sourceVolumeId);
    const target = instance.targetServerId === undefined ? undefined : world.servers.get(instance.targetServerId);
    if (target !== undefined) detachVolume(world, target, pair.drVolumeId);
    pair.attachedTo = null;
    pair.status = undefined;
    return undefined;
  });
  job.entities = { protected_instance_id: instance.id, replication_pair_id: pair.id };
  return accepted(job.id);
}

const ecsNotFound = (serverId: string) => serviceError(404, "Ecs.0114", `Instance[${serverId}] could not be found.`);

/** ECS attachvolume (codes other than Ecs.0114 are the simulator's choice). */
export function attachServerVolume(
  project: ProjectForReplication,
  serverId: string,
  raw: unknown,
  now: number,
): Answer | ApiError {
  const world = project.world;
  const server = world.servers.get(serverId);
  if (server === undefined) return ecsNotFound(serverId);
  const parsed = attachServerVolumeRequest.safeParse(raw);
  if (!parsed.success) return serviceError(400, "Ecs.0005", describeIssue(parsed.error.issues[0] as z.core.$ZodIssue));
  const { volumeId, device } = parsed.data.volumeAttachment;
  const volume = world.volumes.get(volumeId);
  if (volume === undefined)
    return serviceError(404, "Ecs.0005", `volumeAttachment.volumeId: volume ${volumeId} does not exist`);
  if (server.volumes.some((attached) => attached.id === volumeId))
    return serviceError(400, "Ecs.0005", `volume ${volumeId} is already attached to ${serverId}`);
  if (serversAttachedTo(world, volumeId).length > 0 && !volume.multiattach) {
    return serviceError(400, "Ecs.0005", `volume ${volumeId} is in-use on another server and is not shareable`);
  }
  if (device !== undefined && deviceInUse(world, server, device))
    return serviceError(400, "Ecs.0005", `volumeAttachment.device: ${device} is in use on ${serverId}`);
  const job = project.startEffectJob("attachServerVolume", "", [server.id], now, () => {
    putVolume(world, server, volumeId, device);
    return undefined;
  });
  job.entities = { server_id: server.id, volume_id: volumeId };
  return accepted(job.id);
}

export function detachServerVolume(
  project: ProjectForReplication,
  serverId: string,
  volumeId: string,
  now: number,
): Answer | ApiError {
  const world = project.world;
  const server = world.servers.get(serverId);
  if (server === undefined) return ecsNotFound(serverId);
  const attached = server.volumes.find((entry) => entry.id === volumeId);
  if (attached === undefined) return serviceError(404, "Ecs.0005", `volume ${volumeId} is not attached to ${serverId}`);
  if (attached.bootIndex === 0 && server.status === "ACTIVE") {
    return serviceError(400, "Ecs.0005", `volume ${volumeId} is the system disk: stop server ${serverId} first`);
  }
  const job = project.startEffectJob("detachServerVolume", "", [server.id], now, (): JobFailure | undefined => {
    detachVolume(world, server, volumeId);
    return undefined;
  });
  job.entities = { server_id: server.id, volume_id: volumeId };
  return accepted(job.id);
}

// ---------------------------------------------------------------------------------------------
// Drift: the estate's replicationPairs section and the /__sim/drift switches
// ---------------------------------------------------------------------------------------------

export const driftRequest = z.discriminatedUnion("action", [
  /** A disk attached through ECS (created first, available, in the server's AZ, when it does not exist). */
  z.strictObject({
    action: z.literal("attach-volume"),
    serverId: z.string().check(z.minLength(1)),
    volumeId: z.string().check(z.minLength(1)),
    sizeGb: z._default(z.int().check(z.positive()), 40),
    name: z.optional(z.string()),
  }),
  z.strictObject({
    action: z.literal("pair-fault"),
    volumeId: z.string().check(z.minLength(1)),
    faultLevel: z.enum(["2", "5"]),
  }),
  z.strictObject({ action: z.literal("pair-heal"), volumeId: z.string().check(z.minLength(1)) }),
  z.strictObject({ action: z.literal("delete-dr-disk"), volumeId: z.string().check(z.minLength(1)) }),
  /** The disk grown through EVS, outside SDRS: the pair keeps its recorded size. */
  z.strictObject({
    action: z.literal("extend-volume"),
    volumeId: z.string().check(z.minLength(1)),
    sizeGb: z.int().check(z.positive()),
  }),
]);
export type DriftRequest = z.infer<typeof driftRequest>;

function deleteDrDisk(world: World, pair: SimReplicationPair): void {
  removeVolume(world, pair.drVolumeId);
  pair.status = "invalid";
}

/** Applies one drift switch; returns an error message naming the field when it cannot. */
export function applyDrift(world: World, drift: DriftRequest): string | undefined {
  if (drift.action === "attach-volume") {
    const server = world.servers.get(drift.serverId);
    if (server === undefined) return `serverId: server ${drift.serverId} does not exist`;
    if (!world.volumes.has(drift.volumeId)) {
      // The estate's defaults for everything the drift does not say.
      addVolume(world, estateVolume.parse({ id: drift.volumeId, name: drift.name, size: drift.sizeGb, az: server.az }));
    } else if (serversAttachedTo(world, drift.volumeId).length > 0) {
      return `volumeId: volume ${drift.volumeId} is already attached`;
    }
    putVolume(world, server, drift.volumeId, undefined);
    return undefined;
  }
  const pair = world.replicationPairs.get(drift.volumeId);
  if (drift.action === "extend-volume") {
    const volume = world.volumes.get(drift.volumeId);
    if (volume === undefined) return `volumeId: volume ${drift.volumeId} does not exist`;
    if (drift.sizeGb <= volume.size) return `sizeGb: ${drift.sizeGb} must be larger than the disk's ${volume.size} GB`;
    if (pair !== undefined) pair.sizeGb ??= volume.size;
    volume.size = drift.sizeGb;
    return undefined;
  }
  if (pair === undefined) return `volumeId: disk ${drift.volumeId} is in no replication pair`;
  if (drift.action === "pair-fault") {
    pair.status = "fault";
    pair.faultLevel = drift.faultLevel;
  } else if (drift.action === "pair-heal") {
    pair.status = undefined;
    pair.faultLevel = undefined;
  } else {
    deleteDrDisk(world, pair);
  }
  return undefined;
}

/** The estate's `replicationPairs` entries, over the pairs derived for the protected instances. */
export function applyEstatePairs(world: World, estate: Estate): void {
  const estateVolumeIds = new Set(estate.volumes.map((volume) => volume.id));
  for (const entry of estate.replicationPairs) {
    const pair = world.replicationPairs.get(entry.volumeId);
    if (pair === undefined) continue;
    if (!entry.replicated) {
      // The disk came after protection: no pair, and no DR-site disk unless the estate defines one.
      removeReplicationPair(world, pair);
      if (estateVolumeIds.has(pair.drVolumeId)) {
        for (const server of [...serversAttachedTo(world, pair.drVolumeId)])
          if (server.drSiteOf !== undefined) detachVolume(world, server, pair.drVolumeId);
      } else {
        removeVolume(world, pair.drVolumeId);
      }
      continue;
    }
    if (entry.drDiskDeleted) deleteDrDisk(world, pair);
    if (entry.status !== undefined) pair.status = entry.status;
    if (entry.faultLevel !== undefined) pair.faultLevel = entry.faultLevel;
    if (entry.sizeGb !== undefined) pair.sizeGb = entry.sizeGb;
  }
}
