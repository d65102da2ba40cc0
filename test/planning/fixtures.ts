/** Builders for planning inputs: a healthy server in the group's VPC and production AZ, changed per test. */

import type { PlanInputArg, ServerFactsInput } from "../../lib/planning/types.ts";
import type { EcsServer, EvsVolume, ProtectedInstance, ProtectionGroup } from "../../lib/sdrs/schemas.ts";

export const GROUP_ID = "pg-web";
export const PROD_VPC = "vpc-prod";
export const SOURCE_AZ = "eu-de-01";
export const TARGET_AZ = "eu-de-02";

export function protectionGroup(overrides: Partial<ProtectionGroup> = {}): ProtectionGroup {
  return {
    id: GROUP_ID,
    name: "web",
    status: "available",
    source_availability_zone: SOURCE_AZ,
    target_availability_zone: TARGET_AZ,
    priority_station: "source",
    source_vpc_id: PROD_VPC,
    ...overrides,
  };
}

type ServerOverrides = Partial<Omit<EcsServer, "metadata">> & { metadata?: Partial<EcsServer["metadata"]> };

export function ecsServer(serverId: string, overrides: ServerOverrides = {}): EcsServer {
  const { metadata, ...rest } = overrides;
  return {
    id: serverId,
    name: `srv-${serverId}`,
    status: "ACTIVE",
    flavor: { id: "s6.large.2", name: "s6.large.2" },
    "OS-EXT-AZ:availability_zone": SOURCE_AZ,
    "os-extended-volumes:volumes_attached": [{ id: `${serverId}-sys`, bootIndex: "0", device: "/dev/vda" }],
    ...rest,
    metadata: { vpc_id: PROD_VPC, os_type: "Linux", ...metadata },
  };
}

export function volume(volumeId: string, attachedTo: readonly string[], overrides: Partial<EvsVolume> = {}): EvsVolume {
  return {
    id: volumeId,
    status: "in-use",
    multiattach: false,
    attachments: attachedTo.map((serverId) => ({ server_id: serverId, device: "/dev/vdb" })),
    ...overrides,
  };
}

export function sharedVolume(volumeId: string, attachedTo: readonly string[]): EvsVolume {
  return volume(volumeId, attachedTo, { multiattach: true });
}

export function systemVolume(serverId: string): EvsVolume {
  return volume(`${serverId}-sys`, [serverId], {
    bootable: "true",
    attachments: [{ server_id: serverId, device: "/dev/vda" }],
  });
}

/** A found server with its system disk, plus the given volumes; `server` overrides merge into the ECS record. */
export function facts(
  serverId: string,
  options: {
    server?: ServerOverrides;
    volumes?: EvsVolume[];
    keypairExists?: boolean;
    autoScalingGroupId?: string;
  } = {},
): ServerFactsInput {
  return {
    serverId,
    server: ecsServer(serverId, options.server),
    volumes: [systemVolume(serverId), ...(options.volumes ?? [])],
    ...(options.keypairExists === undefined ? {} : { keypairExists: options.keypairExists }),
    ...(options.autoScalingGroupId === undefined ? {} : { autoScalingGroupId: options.autoScalingGroupId }),
  };
}

export function notFound(serverId: string): ServerFactsInput {
  return { serverId, volumes: [] };
}

export function protectedInstance(
  overrides: Partial<ProtectedInstance> & Pick<ProtectedInstance, "source_server">,
): ProtectedInstance {
  return { id: "pi-0001", name: "pi-existing", server_group_id: "pg-other", status: "protected", ...overrides };
}

export function planInputFor(servers: ServerFactsInput[], overrides: Partial<PlanInputArg> = {}): PlanInputArg {
  return { protectionGroupId: GROUP_ID, protectionGroup: protectionGroup(), targetName: "web", servers, ...overrides };
}

/**
 * One server of each kind (a DR flavor override, an Auto Scaling member, another VPC, a busy server, a
 * shared disk) with target creation options: a plan with a batch call, a deferral and an ineligible server.
 */
export function mixedPlanInput(): PlanInputArg {
  return planInputFor(
    [
      facts("a"),
      facts("b", { autoScalingGroupId: "as-1" }),
      facts("c", { server: { metadata: { vpc_id: "vpc-other" } } }),
      facts("d", { server: { status: "REBOOT" } }),
      facts("e", { volumes: [sharedVolume("shared-1", ["e"])] }),
    ],
    {
      flavorOverrides: { a: "c7.large.2" },
      creationOptions: { description: "web tier", tags: [{ key: "env", value: "prod" }] },
    },
  );
}
