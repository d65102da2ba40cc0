/**
 * The create constraints SDRS enforces, as pure functions over the simulator's records: the synchronous
 * 400s of the create calls (reference facts §3.4 and §4, the seed pages) and the failures that only show
 * up later in the job (encrypted disk, missing key pair). No clock, no I/O.
 */

import { ipInCidr } from "../net/ipv4.ts";
import { productionAvailabilityZone } from "../sdrs/schemas.ts";
import { type ApiError, sdrsError } from "./api-error.ts";
import { instancesOfGroup, ipUser, serversAttachedTo } from "./indexes.ts";
import type { JobFailure, SimProtectionGroup, SimServer, World } from "./model.ts";

/** "Only protection groups in available or protected state accept new protected instances." (seeds) */
export const GROUP_STATUSES_ACCEPTING_INSTANCES: ReadonlySet<string> = new Set(["available", "protected"]);
/** SDRS.1333: "the server status must be ACTIVE or SHUTOFF". */
export const SERVER_STATUSES_ELIGIBLE: ReadonlySet<string> = new Set(["ACTIVE", "SHUTOFF"]);

/**
 * Server types SDRS cannot protect (OTC UMN constraints, reference §3.4): GPU, FPGA, C6, C9, S9, I9, M9,
 * Kunpeng (Arm), large-memory, disk-intensive (local disks) and bare metal. Matched on the flavor family,
 * the part of the flavor id before the first dot (`g6.xlarge.4` → `g6`).
 */
const UNSUPPORTED_FLAVOR_FAMILIES: readonly [RegExp, string][] = [
  [/^(g|p|pi)\d/, "GPU-accelerated"],
  [/^fp\d/, "FPGA-accelerated"],
  [/^(c6|c9|s9|i9|m9)$/, "C6/C9/S9/I9/M9"],
  [/^k/, "Kunpeng (Arm)"],
  [/^e\d/, "large-memory"],
  [/^(d\d|i3)/, "disk-intensive (local disks)"],
  [/^physical$/, "bare metal (BMS)"],
];

export function flavorId(server: Pick<SimServer, "flavor">): string {
  return typeof server.flavor === "string" ? server.flavor : server.flavor.id;
}

/** The reason a flavor cannot be protected, or undefined when it can. */
export function unsupportedFlavorReason(flavor: string): string | undefined {
  const family = flavor.split(".")[0] ?? flavor;
  return UNSUPPORTED_FLAVOR_FAMILIES.find(([pattern]) => pattern.test(family))?.[1];
}

/** The AZ where DR-site servers of a group are created: the one that is not production now. */
export function drSiteAvailabilityZone(group: SimProtectionGroup): string {
  return group.priorityStation === "target" ? group.sourceAz : group.targetAz;
}

export function groupProductionAz(group: SimProtectionGroup): string {
  return productionAvailabilityZone({
    priority_station: group.priorityStation,
    source_availability_zone: group.sourceAz,
    target_availability_zone: group.targetAz,
  });
}

export function describeServer(server: Pick<SimServer, "id" | "name">): string {
  return `server ${server.id} (${server.name})`;
}

/** The protected instance using a server as its production or DR-site server, if any. */
export function instanceUsingServer(world: World, serverId: string) {
  return world.indexes.instanceByServer.get(serverId);
}

export function sharedVolumeIds(world: World, server: SimServer): string[] {
  return server.volumes
    .filter((volume) => world.volumes.get(volume.id)?.multiattach === true)
    .map((volume) => volume.id);
}

export function checkGroupAcceptsInstances(group: SimProtectionGroup): ApiError | undefined {
  if (GROUP_STATUSES_ACCEPTING_INSTANCES.has(group.status)) return undefined;
  return sdrsError(
    "SDRS.1323",
    `protection group ${group.id} (${group.name}) is ${group.status}: protected instances can be created only in a group that is available or protected`,
  );
}

export interface ServerCheckContext {
  /** All servers of the create call (one for a single create). */
  requestServerIds: ReadonlySet<string>;
  single: boolean;
  /** `tenancy` of the request (where the DR-site server is placed). */
  tenancy?: string | undefined;
}

/**
 * The synchronous checks for one server of a create call, in the order the simulator applies them.
 * Returns the first broken rule as the SDRS error the API answers with.
 */
export function checkServerForCreate(
  world: World,
  group: SimProtectionGroup,
  server: SimServer,
  context: ServerCheckContext,
): ApiError | undefined {
  const who = describeServer(server);

  const user = instanceUsingServer(world, server.id);
  if (user !== undefined) {
    const role = user.sourceServerId === server.id ? "production" : "DR-site";
    return sdrsError(
      "SDRS.1305",
      `${who} is already the ${role} server of protected instance ${user.id} (${user.status}): one server can be used by only one protected instance`,
    );
  }
  if (!SERVER_STATUSES_ELIGIBLE.has(server.status)) {
    return sdrsError("SDRS.1333", `${who} is ${server.status}: the server status must be ACTIVE or SHUTOFF`);
  }
  // A frozen server (metadata.EcmResStatus=freeze, e.g. in arrears) is treated as a bad server state.
  if (server.frozen) {
    return sdrsError(
      "SDRS.1333",
      `${who} is frozen (metadata.EcmResStatus=freeze): the server must be ACTIVE or SHUTOFF and not frozen`,
    );
  }
  if (server.locked) {
    return server.lockSource !== undefined
      ? sdrsError("SDRS.1359", `${who} is locked by another service (lockSource=${server.lockSource}): unlock it first`)
      : sdrsError("SDRS.1357", `${who} is locked by the system (locked=true): unlock it first`);
  }
  if (server.vpcId !== group.vpcId) {
    return sdrsError(
      "SDRS.1304",
      `${who} is in VPC ${server.vpcId}, protection group ${group.id} is in VPC ${group.vpcId}: the server must be in the same VPC as the protection group`,
    );
  }
  const productionAz = groupProductionAz(group);
  if (server.az !== productionAz) {
    return sdrsError(
      "SDRS.1303",
      `${who} is in AZ ${server.az}, the production AZ of protection group ${group.id} is ${productionAz} (priority_station=${group.priorityStation}): the server must be in the group's production AZ`,
    );
  }
  const flavor = flavorId(server);
  const unsupported = unsupportedFlavorReason(flavor);
  if (unsupported !== undefined) {
    return sdrsError("SDRS.1356", `${who} has flavor ${flavor}: ${unsupported} servers are not supported by SDRS`);
  }
  if (server.tenancy === "dedicated" || server.dedicatedHostId !== undefined) {
    return sdrsError(
      "SDRS.1366",
      `${who} runs on dedicated host ${server.dedicatedHostId ?? "(auto-assigned)"}: production servers on a DeH are not supported`,
    );
  }
  if (context.tenancy === "dedicated" && server.ecsGroupId !== undefined) {
    return sdrsError(
      "SDRS.1375",
      `${who} is in ECS group ${server.ecsGroupId}: tenancy=dedicated (a DR-site server on a DeH) is not allowed for a server in an ECS group`,
    );
  }
  if (!server.volumes.some((volume) => volume.bootIndex === 0)) {
    return sdrsError("SDRS.1339", `${who} has no system disk (no attached volume with bootIndex 0)`);
  }
  for (const attached of server.volumes) {
    if (world.volumes.get(attached.id)?.frozen === true) {
      return sdrsError("SDRS.0225", `volume ${attached.id} of ${who} is frozen (metadata.__system__frozen=true)`);
    }
  }
  for (const volumeId of sharedVolumeIds(world, server)) {
    if (context.single) {
      return sdrsError(
        "SDRS.1408",
        `${who} has shared disk ${volumeId} attached: a server with a shared disk can be protected only by a batch create that includes every server the disk is attached to`,
      );
    }
    const missing = serversAttachedTo(world, volumeId)
      .map((peer) => peer.id)
      .filter((peer) => !context.requestServerIds.has(peer));
    if (missing.length > 0) {
      return sdrsError(
        "SDRS.1408",
        `shared disk ${volumeId} of ${who} is also attached to ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not in the batch: all servers sharing a disk must be created in the same batch`,
      );
    }
  }
  return undefined;
}

/** A Huawei flavor name: `family.size.ratio` (s6.large.2, c7n.2xlarge.4, m6.8xlarge.8). */
const FLAVOR_NAME = /^[a-z][a-z0-9]*\.[a-z0-9]+\.[0-9]+$/;

/**
 * SDRS.1353 "DR site server specifications not support protected instance creation": the DR-site
 * flavor (flavorRef) must exist, be offered in the group's DR-site AZ and be a supported type. With
 * no flavor catalogue in the estate, any well-formed flavor name exists in every AZ.
 */
export function checkDrFlavor(
  world: World,
  group: SimProtectionGroup,
  flavorRef: string | undefined,
): ApiError | undefined {
  if (flavorRef === undefined) return undefined;
  const drAz = drSiteAvailabilityZone(group);
  if (world.flavors === undefined ? !FLAVOR_NAME.test(flavorRef) : !world.flavors.has(flavorRef)) {
    return sdrsError("SDRS.1353", `flavorRef ${JSON.stringify(flavorRef)}: no such flavor`);
  }
  const offeredIn = world.flavors?.get(flavorRef)?.azs;
  if (offeredIn !== undefined && !offeredIn.includes(drAz)) {
    return sdrsError(
      "SDRS.1353",
      `flavorRef ${flavorRef} is not offered in the DR-site AZ ${drAz} of protection group ${group.id} (offered in ${offeredIn.join(", ")})`,
    );
  }
  const unsupported = unsupportedFlavorReason(flavorRef);
  if (unsupported === undefined) return undefined;
  return sdrsError("SDRS.1353", `flavorRef ${flavorRef}: ${unsupported} flavors are not supported for DR-site servers`);
}

/** The resources a create names for the DR site: subnet and IP, dedicated host, DSS pool. */
export interface DrPlacement {
  primary_subnet_id?: string | undefined;
  primary_ip_address?: string | undefined;
  tenancy?: string | undefined;
  dedicated_host_id?: string | undefined;
  cluster_id?: string | undefined;
}

/**
 * The referenced resources exist and fit the group's DR site: the subnet is in the group's VPC
 * (SDRS.1335), the IP inside it (SDRS.0219) and free (SDRS.1334), the dedicated host exists
 * (SDRS.1372) in the DR-site AZ (SDRS.1373), the DSS pool exists (SDRS.1381) in the DR-site AZ (SDRS.1383).
 */
export function checkDrPlacement(
  world: World,
  group: SimProtectionGroup,
  placement: DrPlacement,
): ApiError | undefined {
  const drAz = drSiteAvailabilityZone(group);
  if (placement.primary_subnet_id !== undefined) {
    const subnet = world.subnets.get(placement.primary_subnet_id);
    if (subnet === undefined || subnet.vpcId !== group.vpcId) {
      return sdrsError(
        "SDRS.1335",
        `primary_subnet_id: subnet ${placement.primary_subnet_id} ${subnet === undefined ? "does not exist" : `is in VPC ${subnet.vpcId}`}: it must be a subnet of the DR-site VPC ${group.vpcId} of protection group ${group.id}`,
      );
    }
    const ip = placement.primary_ip_address;
    if (ip !== undefined && !ipInCidr(ip, subnet.cidr)) {
      return sdrsError("SDRS.0219", `primary_ip_address: ${ip} is not inside subnet ${subnet.id} (${subnet.cidr})`);
    }
    const user = ip === undefined ? undefined : ipUser(world, group.vpcId, ip);
    if (ip !== undefined && user !== undefined) {
      return sdrsError("SDRS.1334", `primary_ip_address: ${ip} of subnet ${subnet.id} is in use by ${user}`);
    }
  }
  if (placement.dedicated_host_id !== undefined) {
    const host = world.dedicatedHosts.get(placement.dedicated_host_id);
    if (host === undefined)
      return sdrsError("SDRS.1372", `dedicated_host_id: dedicated host ${placement.dedicated_host_id} does not exist`);
    if (host.az !== drAz) {
      return sdrsError(
        "SDRS.1373",
        `dedicated_host_id: dedicated host ${host.id} is in AZ ${host.az}, the DR-site AZ of protection group ${group.id} is ${drAz}`,
      );
    }
  }
  if (placement.cluster_id !== undefined) {
    const pool = world.dssPools.get(placement.cluster_id);
    if (pool === undefined)
      return sdrsError("SDRS.1381", `cluster_id: DSS storage pool ${placement.cluster_id} does not exist`);
    if (pool.az !== drAz) {
      return sdrsError(
        "SDRS.1383",
        `cluster_id: DSS storage pool ${pool.id} is in AZ ${pool.az}, the DR-site AZ of protection group ${group.id} is ${drAz}`,
      );
    }
  }
  return undefined;
}

/** SDRS.1358: the per-group protected-instance limit. */
export function checkGroupCapacity(world: World, group: SimProtectionGroup, adding: number): ApiError | undefined {
  if (group.maxInstances === undefined) return undefined;
  const current = instancesOfGroup(world, group.id).size;
  if (current + adding <= group.maxInstances) return undefined;
  return sdrsError(
    "SDRS.1358",
    `protection group ${group.id} (${group.name}) has ${current} of at most ${group.maxInstances} protected instances: cannot add ${adding} more`,
  );
}

/**
 * Failures that the create call accepts but the job reports: an encrypted disk cannot form a
 * replication pair (SDRS.1802); a Windows server using key-pair login whose key pair is gone makes the
 * DR-site server creation fail (SDRS.1306, seed: "the server at the DR site may fail to create").
 */
export function jobFailureFor(world: World, server: SimServer): JobFailure | undefined {
  for (const attached of server.volumes) {
    if (world.volumes.get(attached.id)?.encrypted === true) {
      return {
        errorCode: "SDRS.1802",
        failReason: `volume ${attached.id} of ${describeServer(server)} is encrypted: an encrypted disk cannot form a replication pair`,
      };
    }
  }
  if (server.osType === "Windows" && server.keyName !== undefined && !world.keyPairs.has(server.keyName)) {
    return {
      errorCode: "SDRS.1306",
      failReason: `failed to create the DR site server for ${describeServer(server)}: key pair ${server.keyName} of the Windows server does not exist`,
    };
  }
  return undefined;
}
