/**
 * The network and compute resources around the servers: images, security groups, subnets, flavors.
 * The estate may list them; what it leaves out is derived per VPC (a default security group, a
 * 192.168.0.0/16 subnet) so older estates keep loading and still answer with every field.
 */

import { derivedIpInCidr, derivedUuid } from "./derived.ts";
import type { EstateServer, EstateSubnet } from "./estate.ts";
import { ipUser } from "./indexes.ts";
import type { SimServer, World } from "./model.ts";

/** The subnet a VPC without any in the estate gets (the address range servers' derived IPs fall in). */
export const DEFAULT_SUBNET_CIDR = "192.168.0.0/16";

/** A default security group and, when the estate gives none, a subnet for the VPC. */
export function addVpcDefaults(world: World, vpcId: string): void {
  if (![...world.subnets.values()].some((subnet) => subnet.vpcId === vpcId)) {
    const id = derivedUuid("subnet", vpcId);
    world.subnets.set(id, { id, name: "subnet-default", vpcId, cidr: DEFAULT_SUBNET_CIDR });
  }
  if (![...world.securityGroups.values()].some((group) => group.vpcId === vpcId && group.name === "default")) {
    const id = derivedUuid("security-group", vpcId);
    world.securityGroups.set(id, { id, name: "default", vpcId });
  }
}

export function subnetsOfVpc(world: World, vpcId: string): EstateSubnet[] {
  return [...world.subnets.values()].filter((subnet) => subnet.vpcId === vpcId);
}

function defaultSecurityGroupId(world: World, vpcId: string): string {
  const found = [...world.securityGroups.values()].find((group) => group.vpcId === vpcId && group.name === "default");
  return found?.id ?? derivedUuid("security-group", vpcId);
}

export function defaultImageName(osType: EstateServer["osType"]): string {
  return osType === "Windows" ? "Windows Server 2019 Standard 64bit" : "Ubuntu 22.04 server 64bit";
}

/** `metadata.image_name`: the image's name when the estate lists it, else imageName, else a default for the OS. */
export function imageNameOf(world: World, server: SimServer): string {
  return world.images.get(server.imageId)?.name ?? server.imageName ?? defaultImageName(server.osType);
}

/** A derived host address of the subnet no server of the VPC uses yet (probing past used ones). */
function freeDerivedIp(world: World, vpcId: string, cidr: string, serverId: string): string {
  const size = 2 ** (32 - Number(cidr.split("/")[1] ?? "32"));
  for (let attempt = 0; attempt < size; attempt++) {
    const ip = derivedIpInCidr(cidr, serverId, String(attempt));
    if (ipUser(world, vpcId, ip) === undefined) return ip;
  }
  return derivedIpInCidr(cidr, serverId);
}

/** An estate server (or a new DR-site server) with its subnet, IP, image and security groups resolved. */
export function serverRecord(
  world: World,
  server: Omit<EstateServer, "ip" | "subnetId" | "imageId" | "securityGroupIds"> & {
    ip?: string | undefined;
    subnetId?: string | undefined;
    imageId?: string | undefined;
    securityGroupIds?: string[] | undefined;
  },
  createdAt: number,
): SimServer {
  const subnet =
    (server.subnetId === undefined ? undefined : world.subnets.get(server.subnetId)) ??
    subnetsOfVpc(world, server.vpcId).find((candidate) => candidate.az === undefined || candidate.az === server.az) ??
    subnetsOfVpc(world, server.vpcId)[0];
  const cidr = subnet?.cidr ?? DEFAULT_SUBNET_CIDR;
  const imageName = server.imageName ?? defaultImageName(server.osType);
  const namedImage = [...world.images.values()].find((image) => image.name === imageName);
  return {
    ...server,
    createdAt,
    subnetId: subnet?.id ?? derivedUuid("subnet", server.vpcId),
    ip: server.ip ?? freeDerivedIp(world, server.vpcId, cidr, server.id),
    imageId: server.imageId ?? namedImage?.id ?? derivedUuid("image", imageName),
    securityGroupIds: server.securityGroupIds ?? [defaultSecurityGroupId(world, server.vpcId)],
  };
}
