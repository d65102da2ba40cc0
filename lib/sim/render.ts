/**
 * Records → the real API shapes (lib/sdrs/schemas.ts, reference facts §1–§6). Pure: `now` is given.
 */
import { createHash } from "node:crypto";
import type { ActiveDomain, EcsServer, EvsVolume, Job, ProtectedInstance, ProtectionGroup, SubJob } from "../sdrs/schemas.ts";
import type { JobRecord, JobTask, ProtectedInstanceRecord, ProtectionGroupRecord, ServerRecord, VolumeRecord, World } from "./model.ts";
import { flavorId } from "./rules.ts";
import { pairAttachedTo } from "./replication-attachment.ts";

/** SDRS resources: `yyyy-MM-dd HH:mm:ss.SSS` (OTC docs, e.g. `2019-05-22 08:16:54.413`). */
export function sdrsTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace("T", " ").replace("Z", "");
}

/** Jobs: `2018-04-19T01:55:30.443Z`. */
export function jobTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** ECS: `2018-05-25T03:40:34Z`. */
function ecsTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const SIZE_VCPUS: Record<string, number> = {
  small: 1,
  medium: 1,
  large: 2,
  xlarge: 4,
};

/** vCPUs and RAM (MB) from a Huawei flavor name `family.size.ratio` (s6.xlarge.2 → 4 vCPU, 8 GB). */
function flavorSize(flavor: string): { vcpus: string; ram: string } {
  const [, size = "", ratio = ""] = flavor.split(".");
  const multiple = /^(\d+)xlarge$/.exec(size)?.[1];
  const vcpus = multiple !== undefined ? Number(multiple) * 4 : SIZE_VCPUS[size];
  const memoryRatio = Number(ratio);
  if (vcpus === undefined || !Number.isFinite(memoryRatio) || memoryRatio <= 0) return { vcpus: "", ram: "" };
  const ramMb = size === "small" ? 1024 * memoryRatio : vcpus * memoryRatio * 1024;
  return { vcpus: String(vcpus), ram: String(Math.round(ramMb)) };
}

function deviceName(index: number): string {
  return `/dev/vd${String.fromCharCode("a".charCodeAt(0) + Math.min(index, 25))}`;
}

/** Volumes in device order: the system disk first. */
function orderedVolumes(server: ServerRecord) {
  return [...server.volumes].sort((a, b) => (a.bootIndex === 0 ? -1 : b.bootIndex === 0 ? 1 : 0));
}

/** The estate's ip, else one derived from the server id (stable across runs). */
function serverIp(server: ServerRecord): string {
  if (server.ip !== undefined) return server.ip;
  const digest = createHash("sha256").update(server.id).digest();
  return `192.168.${(digest[0] ?? 0) % 250 + 1}.${(digest[1] ?? 0) % 250 + 4}`;
}

export function renderServer(_world: World, server: ServerRecord): EcsServer {
  const flavor = flavorId(server);
  const flavorName = typeof server.flavor === "string" ? server.flavor : (server.flavor.name ?? server.flavor.id);
  const hints: Record<string, string[]> = {};
  if (server.ecsGroupId !== undefined) hints.group = [server.ecsGroupId];
  if (server.tenancy !== undefined) hints.tenancy = [server.tenancy];
  if (server.dedicatedHostId !== undefined) hints.dedicated_host_id = [server.dedicatedHostId];
  const metadata: Record<string, string> = {
    vpc_id: server.vpcId,
    os_type: server.osType,
    os_bit: "64",
    charging_mode: "0",
    image_name: server.imageName ?? (server.osType === "Windows" ? "Windows Server 2019 Standard 64bit" : "Ubuntu 22.04 server 64bit"),
    "metering.resourcespeccode": flavor,
  };
  if (server.frozen) metadata.EcmResStatus = "freeze";
  if (server.lockSource !== undefined) metadata.lockSource = server.lockSource;
  const enterpriseProject = server.enterpriseProjectId ?? "0";
  const running = server.status === "ACTIVE";
  return {
    id: server.id,
    name: server.name,
    status: server.status,
    locked: server.locked,
    key_name: server.keyName ?? "",
    enterprise_project_id: enterpriseProject,
    tags: Object.entries(server.tags).map(([key, value]) => `${key}=${value}`),
    flavor: { id: flavor, name: flavorName, ...flavorSize(flavor), disk: "0" },
    metadata,
    "OS-EXT-AZ:availability_zone": server.az,
    "os-extended-volumes:volumes_attached": orderedVolumes(server).map((volume, index) => ({
      id: volume.id,
      bootIndex: volume.bootIndex === 0 ? "0" : "-1",
      device: deviceName(index),
      delete_on_termination: volume.bootIndex === 0 ? "true" : "false",
    })),
    "os:scheduler_hints": hints,
    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
    "OS-EXT-STS:vm_state": running ? "active" : server.status.toLowerCase(),
    "OS-EXT-STS:power_state": running ? 1 : 4,
    addresses: {
      [server.vpcId]: [{ version: 4, addr: serverIp(server), "OS-EXT-IPS:type": "fixed" }],
    },
    sys_tags: [{ key: "_sys_enterprise_project_id", value: enterpriseProject }],
    created: ecsTimestamp(server.createdAt),
    updated: ecsTimestamp(server.createdAt),
  };
}

/** volume id → the servers it is attached to (attachments are derived from the servers' volume lists). */
export function attachmentIndex(world: World): Map<string, ServerRecord[]> {
  const index = new Map<string, ServerRecord[]>();
  for (const server of world.servers.values()) {
    for (const attached of server.volumes) index.set(attached.id, [...(index.get(attached.id) ?? []), server]);
  }
  return index;
}

export function renderVolume(volume: VolumeRecord, attachedServers: readonly ServerRecord[], createdAt: number): EvsVolume {
  const servers = attachedServers;
  const attachments = servers.map((server) => {
    const index = orderedVolumes(server).findIndex((attached) => attached.id === volume.id);
    return {
      server_id: server.id,
      attachment_id: `${volume.id.slice(0, 8)}-${server.id.slice(0, 8)}`,
      attached_at: jobTimestamp(createdAt).replace("Z", ""),
      device: deviceName(index),
      host_name: null,
      id: volume.id,
      volume_id: volume.id,
    };
  });
  const bootable = servers.some((server) => server.volumes.some((attached) => attached.id === volume.id && attached.bootIndex === 0));
  const metadata: Record<string, string> = {};
  if (volume.encrypted) metadata.__system__encrypted = "1";
  if (volume.frozen) metadata.__system__frozen = "true";
  return {
    id: volume.id,
    name: volume.name ?? `volume-${volume.id.slice(0, 8)}`,
    status: attachments.length > 0 ? "in-use" : "available",
    size: volume.size,
    availability_zone: volume.az ?? servers[0]?.az ?? null,
    multiattach: volume.multiattach,
    shareable: volume.multiattach ? "true" : "false",
    bootable: bootable ? "true" : "false",
    volume_type: volume.volumeType,
    service_type: volume.serviceType,
    attachments,
    metadata,
    encrypted: volume.encrypted,
  };
}

export function renderProtectionGroup(world: World, group: ProtectionGroupRecord): ProtectionGroup {
  const instances = [...world.instances.values()].filter((instance) => instance.groupId === group.id);
  const pairs = [...world.replicationPairs.values()].filter((pair) => pair.groupId === group.id);
  const domain = world.activeDomains.find((candidate) => candidate.id === group.domainId);
  return {
    id: group.id,
    name: group.name,
    description: group.description ?? null,
    status: group.status,
    progress: group.status === "protected" ? 100 : 0,
    source_availability_zone: group.sourceAz,
    target_availability_zone: group.targetAz,
    domain_id: group.domainId,
    domain_name: domain?.name ?? null,
    priority_station: group.priorityStation,
    protected_instance_num: instances.length,
    replication_num: pairs.length,
    disaster_recovery_drill_num: 0,
    protected_status: null,
    replication_status: null,
    health_status: null,
    source_vpc_id: group.vpcId,
    target_vpc_id: group.vpcId,
    test_vpc_id: null,
    dr_type: "migration",
    created_at: sdrsTimestamp(group.createdAt),
    updated_at: sdrsTimestamp(group.updatedAt),
    protection_type: "replication-pair",
    replication_model: null,
    server_type: "ECS",
  };
}

export function renderProtectedInstance(world: World, instance: ProtectedInstanceRecord, now: number): ProtectedInstance {
  const group = world.groups.get(instance.groupId);
  const source = world.servers.get(instance.sourceServerId);
  let progress = instance.status === "creating" ? 0 : 100;
  const job = instance.creatingJobId === undefined ? undefined : world.jobs.get(instance.creatingJobId);
  if (instance.status === "creating" && job !== undefined) {
    const task = job.tasks.find((candidate) => candidate.instanceId === instance.id);
    const end = task?.endAt ?? job.endAt;
    progress = Math.max(0, Math.min(99, Math.floor(((now - job.beginAt) / Math.max(1, end - job.beginAt)) * 100)));
  }
  return {
    id: instance.id,
    name: instance.name,
    description: instance.description ?? null,
    server_group_id: instance.groupId,
    status: instance.status,
    progress,
    source_server: instance.sourceServerId,
    target_server: instance.targetServerId ?? null,
    created_at: sdrsTimestamp(instance.createdAt),
    updated_at: sdrsTimestamp(instance.updatedAt),
    priority_station: group?.priorityStation ?? "source",
    attachment: source === undefined ? [] : orderedVolumes(source).flatMap((volume, index) => {
      const pair = world.replicationPairs.get(volume.id);
      return pair === undefined || pair.groupId !== instance.groupId || !pairAttachedTo(pair, instance.id)
        ? []
        : [{ replication: pair.id, device: deviceName(index) }];
    }),
    tags: instance.tags,
    metadata: {},
  };
}

export function renderActiveDomain(domain: World["activeDomains"][number]): ActiveDomain {
  return {
    id: domain.id,
    name: domain.name,
    description: domain.description ?? "",
    sold_out: domain.soldOut,
    local_replication_cluster: { availability_zone: domain.localAz },
    remote_replication_cluster: { availability_zone: domain.remoteAz },
  };
}

type JobStatusValue = "INIT" | "RUNNING" | "SUCCESS" | "FAIL";

function pendingStatus(job: JobRecord, now: number): JobStatusValue {
  return now < job.initUntil ? "INIT" : "RUNNING";
}

function renderSubJob(job: JobRecord, task: JobTask, now: number): SubJob {
  const status: JobStatusValue = task.outcome ?? pendingStatus(job, now);
  return {
    status,
    entities: {
      server_id: task.serverId,
      ...(task.outcome === "SUCCESS" ? { protected_instance_id: task.instanceId, native_server_id: task.nativeServerId } : {}),
    },
    job_id: task.subJobId,
    job_type: "createProtectedInstanceNoCG",
    begin_time: jobTimestamp(job.beginAt),
    end_time: task.endedAt === undefined ? null : jobTimestamp(task.endedAt),
    error_code: task.outcome === "FAIL" ? (task.failure?.errorCode ?? null) : null,
    fail_reason: task.outcome === "FAIL" ? (task.failure?.failReason ?? null) : null,
  };
}

export function renderJob(job: JobRecord, now: number): Job {
  const status: JobStatusValue = job.outcome ?? pendingStatus(job, now);
  let entities: NonNullable<Job["entities"]>;
  switch (job.kind) {
    case "createProtectedInstance": {
      const task = job.tasks[0];
      entities = {
        server_group_id: job.groupId,
        ...(task === undefined ? {} : { server_id: task.serverId }),
        ...(task?.outcome === "SUCCESS" ? { protected_instance_id: task.instanceId, native_server_id: task.nativeServerId } : {}),
        sub_jobs: [],
      };
      break;
    }
    case "batchCreateProtectedInstances":
      entities = { server_group_id: job.groupId, sub_jobs: job.tasks.map((task) => renderSubJob(job, task, now)) };
      break;
    case "createProtectionGroup":
    case "enableProtection":
      entities = { server_group_id: job.groupId, sub_jobs: [] };
      break;
    default:
      entities = { ...(job.groupId === "" ? {} : { server_group_id: job.groupId }), ...job.entities };
  }
  return {
    status,
    entities,
    job_id: job.id,
    job_type: job.jobType,
    begin_time: jobTimestamp(job.beginAt),
    end_time: job.endedAt === undefined ? null : jobTimestamp(job.endedAt),
    error_code: job.outcome === "FAIL" ? (job.errorCode ?? null) : null,
    fail_reason: job.outcome === "FAIL" ? (job.failReason ?? null) : null,
  };
}
