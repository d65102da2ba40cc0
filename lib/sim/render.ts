/**
 * Records → the real API shapes (lib/sdrs/schemas.ts, reference facts §1–§6). Pure: `now` is given.
 */
import type {
  ActiveDomain,
  EcsServer,
  EvsVolume,
  Job,
  ProtectedInstance,
  ProtectionGroup,
  SubJob,
} from "../sdrs/schemas.ts";
import { derivedHex, derivedMac, derivedUuid } from "./derived.ts";
import { instancesOfGroup } from "./indexes.ts";
import type {
  JobTask,
  SimJob,
  SimProtectedInstance,
  SimProtectionGroup,
  SimServer,
  SimVolume,
  World,
} from "./model.ts";
import { pairAttachedTo } from "./replication-attachment.ts";
import { imageNameOf } from "./resources.ts";
import { flavorId } from "./rules.ts";

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
function flavorSizeFromName(flavor: string): { vcpus: string; ram: string } {
  const [, size = "", ratio = ""] = flavor.split(".");
  const multiple = /^(\d+)xlarge$/.exec(size)?.[1];
  const vcpus = multiple !== undefined ? Number(multiple) * 4 : SIZE_VCPUS[size];
  const memoryRatio = Number(ratio);
  if (vcpus === undefined || !Number.isFinite(memoryRatio) || memoryRatio <= 0) return { vcpus: "", ram: "" };
  const ramMb = size === "small" ? 1024 * memoryRatio : vcpus * memoryRatio * 1024;
  return { vcpus: String(vcpus), ram: String(Math.round(ramMb)) };
}

/** The catalogue's size when the estate lists the flavor, else the size read from its name. */
function flavorSize(world: World, flavor: string): { vcpus: string; ram: string } {
  const listed = world.flavors?.get(flavor);
  const named = flavorSizeFromName(flavor);
  return {
    vcpus: listed?.vcpus === undefined ? named.vcpus : String(listed.vcpus),
    ram: listed?.ramMb === undefined ? named.ram : String(listed.ramMb),
  };
}

function deviceName(index: number): string {
  return `/dev/vd${String.fromCharCode("a".charCodeAt(0) + Math.min(index, 25))}`;
}

/** Volumes in device order: the system disk first. */
function orderedVolumes(server: SimServer) {
  return [...server.volumes].sort((a, b) => (a.bootIndex === 0 ? -1 : b.bootIndex === 0 ? 1 : 0));
}

/** The compute node a server runs on (`OS-EXT-SRV-ATTR:host`, EVS `attachments[].host_name`), e.g. pod03.eu-de-01. */
export function computeHostOf(server: Pick<SimServer, "id" | "az">): string {
  return `pod${String((Number.parseInt(derivedHex(4, "pod", server.id), 16) % 8) + 1).padStart(2, "0")}.${server.az}`;
}

/** ECS `OS-SRV-USG:launched_at`: `2018-08-15T14:21:22.000000` (no zone, microseconds). */
function launchTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/Z$/, "000");
}

/** OpenStack vm_state for an ECS status (SHUTOFF is "stopped"). */
const VM_STATES: Partial<Record<SimServer["status"], string>> = {
  ACTIVE: "active",
  SHUTOFF: "stopped",
  BUILD: "building",
  ERROR: "error",
};

export function renderServer(world: World, server: SimServer): EcsServer {
  const flavor = flavorId(server);
  const flavorName = typeof server.flavor === "string" ? server.flavor : (server.flavor.name ?? server.flavor.id);
  const hints: Record<string, string[]> = {};
  if (server.ecsGroupId !== undefined) hints.group = [server.ecsGroupId];
  if (server.tenancy !== undefined) hints.tenancy = [server.tenancy];
  if (server.dedicatedHostId !== undefined) hints.dedicated_host_id = [server.dedicatedHostId];
  const imageName = imageNameOf(world, server);
  const metadata: Record<string, string> = {
    vpc_id: server.vpcId,
    os_type: server.osType,
    os_bit: "64",
    charging_mode: "0",
    image_name: imageName,
    "metering.image_id": server.imageId,
    "metering.imagetype": "gold",
    "metering.resourcespeccode": flavor,
    "metering.resourcetype": "1",
    "metering.cloudServiceType": "hws.service.type.ec2",
  };
  if (server.frozen) metadata.EcmResStatus = "freeze";
  if (server.lockSource !== undefined) metadata.lockSource = server.lockSource;
  const enterpriseProject = server.enterpriseProjectId ?? "0";
  const running = server.status === "ACTIVE";
  const host = computeHostOf(server);
  const portId = derivedUuid("port", server.id);
  const updated = ecsTimestamp(server.createdAt);
  return {
    id: server.id,
    name: server.name,
    description: "",
    status: server.status,
    progress: 0,
    locked: server.locked,
    key_name: server.keyName ?? "",
    user_id: world.userId,
    tenant_id: world.projectId,
    enterprise_project_id: enterpriseProject,
    image: { id: server.imageId },
    flavor: { id: flavor, name: flavorName, ...flavorSize(world, flavor), disk: "0", gpus: [], asic_accelerators: [] },
    security_groups: server.securityGroupIds.map((id) => ({ id, name: world.securityGroups.get(id)?.name ?? id })),
    tags: Object.entries(server.tags).map(([key, value]) => `${key}=${value}`),
    sys_tags: [{ key: "_sys_enterprise_project_id", value: enterpriseProject }],
    metadata,
    addresses: {
      [server.vpcId]: [
        {
          version: "4",
          addr: server.ip,
          primary: true,
          "OS-EXT-IPS:type": "fixed",
          "OS-EXT-IPS-MAC:mac_addr": derivedMac("port", server.id),
          "OS-EXT-IPS:port_id": portId,
        },
      ],
    },
    network_interfaces: [
      { port_id: portId, primary: true, ip_addresses: [server.ip], ipv6_addresses: [], subnet_id: server.subnetId },
    ],
    accessIPv4: "",
    accessIPv6: "",
    config_drive: "",
    hostId: derivedHex(56, "host-id", world.projectId, host),
    host_status: server.status === "ERROR" ? "UNKNOWN" : "UP",
    "OS-EXT-AZ:availability_zone": server.az,
    "OS-EXT-SRV-ATTR:host": host,
    "OS-EXT-SRV-ATTR:hypervisor_hostname": `nova${derivedHex(3, "nova", host)}@${host.slice(3, 5)}`,
    "OS-EXT-SRV-ATTR:instance_name": `instance-${derivedHex(8, "instance", server.id)}`,
    "OS-EXT-SRV-ATTR:hostname": server.name.toLowerCase().replace(/[^a-z0-9-]+/g, "-"),
    "OS-EXT-SRV-ATTR:reservation_id": `r-${derivedHex(8, "reservation", server.id)}`,
    "OS-EXT-SRV-ATTR:launch_index": 0,
    "OS-EXT-SRV-ATTR:kernel_id": "",
    "OS-EXT-SRV-ATTR:ramdisk_id": "",
    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
    "OS-EXT-STS:task_state": "",
    "OS-EXT-STS:vm_state": VM_STATES[server.status] ?? server.status.toLowerCase(),
    "OS-EXT-STS:power_state": running ? 1 : 4,
    "OS-SRV-USG:launched_at": launchTimestamp(server.createdAt),
    "OS-SRV-USG:terminated_at": "",
    "OS-DCF:diskConfig": "MANUAL",
    auto_terminate_time: "",
    "os-extended-volumes:volumes_attached": orderedVolumes(server).map((volume, index) => ({
      id: volume.id,
      bootIndex: volume.bootIndex === 0 ? "0" : "-1",
      device: deviceName(index),
      delete_on_termination: volume.bootIndex === 0 ? "true" : "false",
    })),
    "os:scheduler_hints": hints,
    security_options: { secure_boot_enabled: false, tpm_enabled: false },
    hypervisor: { hypervisor_type: "kvm", csd_hypervisor: "" },
    ...(server.status === "ERROR"
      ? { fault: { code: 500, created: updated, message: "the server is in ERROR state", details: "" } }
      : {}),
    created: ecsTimestamp(server.createdAt),
    updated,
  };
}

export function volumeStatus(attachedServers: readonly SimServer[]): "in-use" | "available" {
  return attachedServers.length > 0 ? "in-use" : "available";
}

export function volumeName(volume: SimVolume): string {
  return volume.name ?? `volume-${volume.id.slice(0, 8)}`;
}

/** The estate's AZ, else the AZ of the first server it is attached to. */
export function volumeAvailabilityZone(volume: SimVolume, attachedServers: readonly SimServer[]): string | null {
  return volume.az ?? attachedServers[0]?.az ?? null;
}

/**
 * ECS list by `server_id` for an id that does not exist: "every field except id and fault is null"
 * (ListServersDetails, server_id). The fields are those of a rendered server.
 */
export function renderMissingServer(world: World, serverId: string): Record<string, unknown> {
  const placeholder: SimServer = {
    id: serverId,
    name: "",
    status: "ERROR",
    az: "",
    vpcId: "",
    flavor: "",
    osType: "Linux",
    locked: false,
    frozen: false,
    tags: {},
    volumes: [],
    createdAt: 0,
    ip: "",
    subnetId: "",
    imageId: "",
    securityGroupIds: [],
  };
  const fields = Object.fromEntries(Object.keys(renderServer(world, placeholder)).map((field) => [field, null]));
  return {
    ...fields,
    id: serverId,
    fault: { code: 404, created: null, details: null, message: `Instance[${serverId}] could not be found.` },
  };
}

/** EVS `created_at` / `updated_at`: `2016-05-25T02:42:10.856332` (no zone, microseconds). */
function evsTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/Z$/, "000");
}

/**
 * An EVS volume (VolumeDetail). `origin` is the endpoint the request was sent to, for `links`.
 * Optional fields a plain EVS disk does not have (iops, throughput, serial_number, wwn of a VBD
 * disk) are left out as EVS leaves them out.
 */
export function renderVolume(
  world: World,
  volume: SimVolume,
  attachedServers: readonly SimServer[],
  createdAt: number,
  origin: string,
): EvsVolume {
  const servers = attachedServers;
  const attachments = servers.map((server) => {
    const index = orderedVolumes(server).findIndex((attached) => attached.id === volume.id);
    return {
      server_id: server.id,
      attachment_id: derivedUuid("attachment", volume.id, server.id),
      attached_at: evsTimestamp(createdAt),
      device: deviceName(index),
      host_name: computeHostOf(server),
      id: volume.id,
      volume_id: volume.id,
    };
  });
  const bootServer = servers.find((server) =>
    server.volumes.some((attached) => attached.id === volume.id && attached.bootIndex === 0),
  );
  const metadata: Record<string, string> = {};
  if (volume.encrypted) metadata.__system__encrypted = "1";
  if (volume.frozen) metadata.__system__frozen = "true";
  const az = volumeAvailabilityZone(volume, servers) ?? `${world.region}-01`;
  const pool = volume.dssPoolId === undefined ? undefined : world.dssPools.get(volume.dssPoolId);
  const timestamp = evsTimestamp(createdAt);
  return {
    id: volume.id,
    links: [
      { href: `${origin}/v2/${world.projectId}/os-vendor-volumes/${volume.id}`, rel: "self" },
      { href: `${origin}/${world.projectId}/os-vendor-volumes/${volume.id}`, rel: "bookmark" },
    ],
    name: volumeName(volume),
    description: "",
    status: volumeStatus(servers),
    size: volume.size,
    availability_zone: az,
    "os-vol-host-attr:host": `${servers[0] === undefined ? `pod01.${az}` : computeHostOf(servers[0])}#${volume.volumeType}`,
    "os-vol-tenant-attr:tenant_id": world.projectId,
    user_id: world.userId,
    enterprise_project_id: "0",
    source_volid: null,
    snapshot_id: "",
    consistencygroup_id: null,
    volume_image_metadata:
      bootServer === undefined ? {} : { image_id: bootServer.imageId, image_name: imageNameOf(world, bootServer) },
    multiattach: volume.multiattach,
    shareable: volume.multiattach ? "true" : "false",
    bootable: bootServer === undefined ? "false" : "true",
    volume_type: volume.volumeType,
    service_type: volume.serviceType,
    ...(pool === undefined ? {} : { dedicated_storage_id: pool.id, dedicated_storage_name: pool.name ?? pool.id }),
    attachments,
    metadata,
    encrypted: volume.encrypted,
    replication_status: "disabled",
    "os-volume-replication:extended_status": "",
    "os-vol-mig-status-attr:migstat": "",
    "os-vol-mig-status-attr:name_id": "",
    tags: { ...volume.tags },
    wwn: `688860300000${derivedHex(20, "wwn", volume.id)}`,
    created_at: timestamp,
    updated_at: timestamp,
  };
}

export function renderProtectionGroup(world: World, group: SimProtectionGroup): ProtectionGroup {
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
    protected_instance_num: instancesOfGroup(world, group.id).size,
    replication_num: world.indexes.pairCountByGroup.get(group.id) ?? 0,
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

export function renderProtectedInstance(world: World, instance: SimProtectedInstance, now: number): ProtectedInstance {
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
    attachment:
      source === undefined
        ? []
        : orderedVolumes(source).flatMap((volume, index) => {
            const pair = world.replicationPairs.get(volume.id);
            return pair === undefined || pair.groupId !== instance.groupId || !pairAttachedTo(pair, instance.id)
              ? []
              : [{ replication: pair.id, device: deviceName(index) }];
          }),
    tags: instance.tags,
    // "__system__frozen": whether the protected instance is frozen (e.g. in arrears); the simulator does not freeze them.
    metadata: { __system__frozen: "false" },
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

function pendingStatus(job: SimJob, now: number): JobStatusValue {
  return now < job.initUntil ? "INIT" : "RUNNING";
}

function renderSubJob(job: SimJob, task: JobTask, now: number): SubJob {
  const status: JobStatusValue = task.outcome ?? pendingStatus(job, now);
  return {
    status,
    entities: {
      server_id: task.serverId,
      ...(task.outcome === "SUCCESS"
        ? { protected_instance_id: task.instanceId, native_server_id: task.nativeServerId }
        : {}),
    },
    job_id: task.subJobId,
    job_type: "createProtectedInstanceNoCG",
    begin_time: jobTimestamp(job.beginAt),
    end_time: task.endedAt === undefined ? null : jobTimestamp(task.endedAt),
    error_code: task.outcome === "FAIL" ? (task.failure?.errorCode ?? null) : null,
    fail_reason: task.outcome === "FAIL" ? (task.failure?.failReason ?? null) : null,
  };
}

export function renderJob(job: SimJob, now: number): Job {
  const status: JobStatusValue = job.outcome ?? pendingStatus(job, now);
  let entities: NonNullable<Job["entities"]>;
  switch (job.kind) {
    case "createProtectedInstance": {
      const task = job.tasks[0];
      entities = {
        server_group_id: job.groupId,
        ...(task === undefined ? {} : { server_id: task.serverId }),
        ...(task?.outcome === "SUCCESS"
          ? { protected_instance_id: task.instanceId, native_server_id: task.nativeServerId }
          : {}),
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
