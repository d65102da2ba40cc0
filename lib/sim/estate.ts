/**
 * The simulator's estate: the servers, disks, key pairs, Auto Scaling groups, active-active domains,
 * protection groups and protected instances a simulated project starts with.
 *
 * A hand-writable JSON format (camelCase, defaults for the boring fields) validated by `estateSchema`;
 * the simulator renders it as the real API shapes (lib/sdrs/schemas.ts). Volume attachments are not
 * written twice: a volume is attached to every server that lists it. Cross-references are checked and
 * reported with the entity and field that is wrong, e.g.
 * `servers[3] (web-04).volumes[1].id: volume "…" is not defined in volumes`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ipInCidr } from "../net/ipv4.ts";
import { protectionGroupStatus } from "../sdrs/schemas.ts";
import { protectedInstanceStatus } from "../sdrs/statuses.ts";
import * as z from "../zod.ts";
import { checkReplicationPairReferences, estateReplicationPair } from "./replication-estate.ts";

export const SAMPLE_ESTATE_PATH = fileURLToPath(new URL("./sample-estate.json", import.meta.url));

const id = z.string().check(z.minLength(1, { error: "must not be empty" }));
/** A short machine-readable remark (the sample estate says which eligibility case an entry covers). */
const note = z.optional(z.string());

/** What every estate entity starts with: a remark and its id. */
const entity = { _note: note, id };
/** An entity that must have a name. */
const namedEntity = { ...entity, name: z.string().check(z.minLength(1)) };
/** An entity whose name may be left out. */
const maybeNamedEntity = { ...entity, name: z.optional(z.string()) };

/** ECS statuses (reference facts §5.1). */
export const ecsStatus = z.enum([
  "ACTIVE",
  "BUILD",
  "DELETED",
  "ERROR",
  "HARD_REBOOT",
  "MIGRATING",
  "PAUSED",
  "REBOOT",
  "REBUILD",
  "RESIZE",
  "REVERT_RESIZE",
  "SHUTOFF",
  "SHELVED",
  "SHELVED_OFFLOADED",
  "SOFT_DELETED",
  "SUSPENDED",
  "VERIFY_RESIZE",
]);
export type EcsStatus = z.infer<typeof ecsStatus>;

export const estateServer = z.strictObject({
  ...namedEntity,
  status: z._default(ecsStatus, "ACTIVE"),
  /** `OS-EXT-AZ:availability_zone`, e.g. eu-de-01. */
  az: id,
  vpcId: id,
  /** Flavor id, which is also its name on Huawei Cloud / OTC (`s6.large.2`); or both spelled out. */
  flavor: z.union([id, z.strictObject({ id, name: z.optional(z.string()) })]),
  osType: z._default(z.enum(["Linux", "Windows"]), "Linux"),
  imageName: z.optional(z.string()),
  keyName: z.optional(z.string()),
  locked: z._default(z.boolean(), false),
  /** `metadata.lockSource`: set when another service (e.g. ORDER) holds the lock → SDRS.1359. */
  lockSource: z.optional(z.string()),
  /** `metadata.EcmResStatus = freeze`. */
  frozen: z._default(z.boolean(), false),
  /** Tags as {key: value}; rendered by ECS as "key=value" strings. */
  tags: z._default(z.record(z.string(), z.string()), {}),
  enterpriseProjectId: z.optional(z.string()),
  /** `os:scheduler_hints`: ECS group, tenancy and dedicated host of the production server. */
  ecsGroupId: z.optional(z.string()),
  tenancy: z.optional(z.enum(["shared", "dedicated"])),
  dedicatedHostId: z.optional(z.string()),
  /** Private IPv4 of the primary NIC; derived when absent (inside the subnet when one is given). */
  ip: z.optional(z.ipv4()),
  /** `image.id`; an id of `images` when that list is given, else derived from imageName. */
  imageId: z.optional(z.string()),
  /** `security_groups`; ids of `securityGroups`. Default: the VPC's default security group. */
  securityGroupIds: z.optional(z.array(id)),
  /** The primary NIC's subnet; an id of `subnets`. Default: the VPC's first subnet, else a derived one. */
  subnetId: z.optional(z.string()),
  /** Attached disks; bootIndex 0 is the system disk, anything else (default) a data disk. */
  volumes: z._default(z.array(z.strictObject({ id, bootIndex: z._default(z.int(), -1) })), []),
});
export type EstateServer = z.infer<typeof estateServer>;

export const estateVolume = z.strictObject({
  ...maybeNamedEntity,
  /** GB. */
  size: z._default(z.int().check(z.positive()), 40),
  /** The shared-disk flag (EVS `multiattach`). */
  multiattach: z._default(z.boolean(), false),
  /** Rendered as `metadata.__system__encrypted: "1"`. */
  encrypted: z._default(z.boolean(), false),
  /** Rendered as `metadata.__system__frozen: "true"`. */
  frozen: z._default(z.boolean(), false),
  serviceType: z._default(z.enum(["EVS", "DSS", "DESS"]), "EVS"),
  volumeType: z._default(z.string(), "SSD"),
  /** Defaults to the AZ of the first server it is attached to. */
  az: z.optional(z.string()),
  /** EVS tags as {key: value}. */
  tags: z._default(z.record(z.string(), z.string()), {}),
  /** The DSS storage pool holding the disk (`dedicated_storage_id`); an id of `dssPools`. */
  dssPoolId: z.optional(z.string()),
});
export type EstateVolume = z.infer<typeof estateVolume>;

export const estateKeyPair = z.strictObject({ _note: note, name: id, fingerprint: z.optional(z.string()) });
export type EstateKeyPair = z.infer<typeof estateKeyPair>;

export const estateScalingGroup = z.strictObject({
  ...namedEntity,
  serverIds: z._default(z.array(id), []),
});
export type EstateScalingGroup = z.infer<typeof estateScalingGroup>;

export const estateActiveDomain = z.strictObject({
  ...namedEntity,
  description: z.optional(z.string()),
  soldOut: z._default(z.boolean(), false),
  /** `local_replication_cluster.availability_zone` */
  localAz: id,
  /** `remote_replication_cluster.availability_zone` */
  remoteAz: id,
});
export type EstateActiveDomain = z.infer<typeof estateActiveDomain>;

export const estateVpc = z.strictObject(maybeNamedEntity);

/** An IMS image servers boot from (`image.id`, `metadata.image_name`). */
export const estateImage = z.strictObject({ ...namedEntity, osType: z.optional(z.enum(["Linux", "Windows"])) });
export type EstateImage = z.infer<typeof estateImage>;

export const estateSecurityGroup = z.strictObject({ ...namedEntity, vpcId: z.optional(id) });
export type EstateSecurityGroup = z.infer<typeof estateSecurityGroup>;

/** A VPC subnet; DR-site NICs (`primary_subnet_id`, `primary_ip_address`) must be inside one of the group's VPC. */
export const estateSubnet = z.strictObject({
  ...maybeNamedEntity,
  vpcId: id,
  /** IPv4 CIDR, e.g. 192.168.0.0/24. */
  cidr: z.cidrv4(),
  /** The AZ the subnet is limited to; any AZ when absent. */
  az: z.optional(z.string()),
});
export type EstateSubnet = z.infer<typeof estateSubnet>;

/**
 * An ECS flavor and the AZs that offer it. When `flavors` is given it is the whole catalogue (a DR
 * flavorRef outside it, or not offered in the DR AZ, is refused); when absent every well-formed flavor
 * name exists in every AZ and its size is read from the name (s6.xlarge.2 → 4 vCPUs, 8 GB).
 */
export const estateFlavor = z.strictObject({
  ...entity,
  vcpus: z.optional(z.int().check(z.positive())),
  /** MB. */
  ramMb: z.optional(z.int().check(z.positive())),
  /** AZs offering the flavor; every AZ when absent. */
  azs: z.optional(z.array(id)),
});
export type EstateFlavor = z.infer<typeof estateFlavor>;

/** A dedicated host (DeH) a DR-site server can be placed on (`dedicated_host_id`). */
export const estateDedicatedHost = z.strictObject({ ...maybeNamedEntity, az: id });
export type EstateDedicatedHost = z.infer<typeof estateDedicatedHost>;

/** A DSS storage pool DR-site disks can be created in (`dedicated_storage_id`). */
export const estateDssPool = z.strictObject({ ...maybeNamedEntity, az: id });
export type EstateDssPool = z.infer<typeof estateDssPool>;

export const estateProtectionGroup = z.strictObject({
  ...namedEntity,
  description: z.optional(z.string()),
  status: z._default(protectionGroupStatus, "available"),
  sourceAz: id,
  targetAz: id,
  /** `source`: production runs in sourceAz; `target`: in targetAz (after a failover and re-protection). */
  priorityStation: z._default(z.enum(["source", "target"]), "source"),
  vpcId: id,
  domainId: id,
  /** The per-group protected-instance limit (SDRS.1358); unlimited when absent. */
  maxInstances: z.optional(z.int().check(z.positive())),
  createdAt: z.optional(z.string()),
});
export type EstateProtectionGroup = z.infer<typeof estateProtectionGroup>;

export const estateProtectedInstance = z.strictObject({
  ...namedEntity,
  description: z.optional(z.string()),
  groupId: id,
  sourceServerId: id,
  /** The DR-site server; must be a server of the estate when given. */
  targetServerId: z.optional(id),
  status: z._default(protectedInstanceStatus, "available"),
  createdAt: z.optional(z.string()),
});
export type EstateProtectedInstance = z.infer<typeof estateProtectedInstance>;

const estateObject = z.strictObject({
  _note: note,
  /** Region name, which is also the default IAM project name (e.g. eu-de). */
  region: z._default(z.string(), "eu-de"),
  /** Optional list of known VPCs: when given, group creation and servers must use one of them. */
  vpcs: z._default(z.array(estateVpc), []),
  images: z._default(z.array(estateImage), []),
  securityGroups: z._default(z.array(estateSecurityGroup), []),
  subnets: z._default(z.array(estateSubnet), []),
  flavors: z._default(z.array(estateFlavor), []),
  dedicatedHosts: z._default(z.array(estateDedicatedHost), []),
  dssPools: z._default(z.array(estateDssPool), []),
  servers: z._default(z.array(estateServer), []),
  volumes: z._default(z.array(estateVolume), []),
  keyPairs: z._default(z.array(estateKeyPair), []),
  scalingGroups: z._default(z.array(estateScalingGroup), []),
  activeDomains: z._default(z.array(estateActiveDomain), []),
  protectionGroups: z._default(z.array(estateProtectionGroup), []),
  protectedInstances: z._default(z.array(estateProtectedInstance), []),
  /** Pairs that drifted from the default (one healthy pair per disk of a protected server): replication-estate.ts. */
  replicationPairs: z._default(z.array(estateReplicationPair), []),
});

type EstateShape = z.infer<typeof estateObject>;

/** "servers[3] (web-04)": where an entity sits and what it is called. */
function label(collection: string, index: number, entity: { name?: string | undefined; id?: string }): string {
  const name = entity.name ?? entity.id;
  return `${collection}[${index}]${name === undefined ? "" : ` (${name})`}`;
}

function checkCrossReferences(estate: EstateShape, ctx: z.core.$RefinementCtx): void {
  const fail = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });

  const uniqueIds = (
    collection: keyof EstateShape,
    entries: { id?: string; name?: string }[],
    key: "id" | "name" = "id",
  ) => {
    const seen = new Set<string>();
    entries.forEach((entry, index) => {
      const value = entry[key];
      if (value === undefined) return;
      if (seen.has(value))
        fail([collection, index, key], `${label(collection, index, entry)}.${key}: duplicate ${key} "${value}"`);
      seen.add(value);
    });
    return seen;
  };

  const serverIds = uniqueIds("servers", estate.servers);
  const volumeIds = uniqueIds("volumes", estate.volumes);
  uniqueIds("keyPairs", estate.keyPairs, "name");
  uniqueIds("scalingGroups", estate.scalingGroups);
  const domainIds = uniqueIds("activeDomains", estate.activeDomains);
  const groupIds = uniqueIds("protectionGroups", estate.protectionGroups);
  uniqueIds("protectedInstances", estate.protectedInstances);
  const vpcIds = uniqueIds("vpcs", estate.vpcs);
  const imageIds = uniqueIds("images", estate.images);
  const securityGroupIds = uniqueIds("securityGroups", estate.securityGroups);
  uniqueIds("subnets", estate.subnets);
  uniqueIds("flavors", estate.flavors);
  uniqueIds("dedicatedHosts", estate.dedicatedHosts);
  const dssPoolIds = uniqueIds("dssPools", estate.dssPools);
  const subnets = new Map(estate.subnets.map((subnet) => [subnet.id, subnet]));
  const volumes = new Map(estate.volumes.map((volume) => [volume.id, volume]));

  estate.subnets.forEach((subnet, index) => {
    if (vpcIds.size > 0 && !vpcIds.has(subnet.vpcId)) {
      fail(
        ["subnets", index, "vpcId"],
        `${label("subnets", index, subnet)}.vpcId: VPC "${subnet.vpcId}" is not defined in vpcs`,
      );
    }
  });
  estate.securityGroups.forEach((group, index) => {
    if (group.vpcId !== undefined && vpcIds.size > 0 && !vpcIds.has(group.vpcId)) {
      fail(
        ["securityGroups", index, "vpcId"],
        `${label("securityGroups", index, group)}.vpcId: VPC "${group.vpcId}" is not defined in vpcs`,
      );
    }
  });

  const attachedTo = new Map<string, string[]>();
  const ipUsers = new Map<string, string>();
  estate.servers.forEach((server, index) => {
    const where = label("servers", index, server);
    if (server.imageId !== undefined && estate.images.length > 0 && !imageIds.has(server.imageId)) {
      fail(["servers", index, "imageId"], `${where}.imageId: image "${server.imageId}" is not defined in images`);
    }
    (server.securityGroupIds ?? []).forEach((groupId, groupIndex) => {
      if (!securityGroupIds.has(groupId)) {
        fail(
          ["servers", index, "securityGroupIds", groupIndex],
          `${where}.securityGroupIds[${groupIndex}]: security group "${groupId}" is not defined in securityGroups`,
        );
      }
    });
    const subnet = server.subnetId === undefined ? undefined : subnets.get(server.subnetId);
    if (server.subnetId !== undefined && subnet === undefined) {
      fail(["servers", index, "subnetId"], `${where}.subnetId: subnet "${server.subnetId}" is not defined in subnets`);
    }
    if (subnet !== undefined && subnet.vpcId !== server.vpcId) {
      fail(
        ["servers", index, "subnetId"],
        `${where}.subnetId: subnet "${subnet.id}" is in VPC "${subnet.vpcId}", the server in VPC "${server.vpcId}"`,
      );
    }
    if (subnet !== undefined && server.ip !== undefined && !ipInCidr(server.ip, subnet.cidr)) {
      fail(["servers", index, "ip"], `${where}.ip: ${server.ip} is not inside subnet "${subnet.id}" (${subnet.cidr})`);
    }
    if (server.ip !== undefined) {
      const key = `${server.vpcId}/${server.ip}`;
      const other = ipUsers.get(key);
      if (other !== undefined)
        fail(
          ["servers", index, "ip"],
          `${where}.ip: ${server.ip} is already the IP of server ${other} in VPC "${server.vpcId}"`,
        );
      ipUsers.set(key, server.id);
    }
    if (vpcIds.size > 0 && !vpcIds.has(server.vpcId)) {
      fail(["servers", index, "vpcId"], `${where}.vpcId: VPC "${server.vpcId}" is not defined in vpcs`);
    }
    const listed = new Set<string>();
    server.volumes.forEach((volume, volumeIndex) => {
      if (!volumeIds.has(volume.id)) {
        fail(
          ["servers", index, "volumes", volumeIndex, "id"],
          `${where}.volumes[${volumeIndex}].id: volume "${volume.id}" is not defined in volumes`,
        );
      }
      if (listed.has(volume.id)) {
        fail(
          ["servers", index, "volumes", volumeIndex, "id"],
          `${where}.volumes[${volumeIndex}].id: volume "${volume.id}" is listed twice`,
        );
      }
      listed.add(volume.id);
      attachedTo.set(volume.id, [...(attachedTo.get(volume.id) ?? []), server.id]);
      const defined = volumes.get(volume.id);
      if (defined?.az !== undefined && defined.az !== server.az) {
        fail(
          ["servers", index, "volumes", volumeIndex, "id"],
          `${where}.volumes[${volumeIndex}].id: volume "${volume.id}" is in AZ ${defined.az}, the server in AZ ${server.az}: EVS attaches a disk only to servers in its AZ`,
        );
      }
    });
    if (server.volumes.filter((volume) => volume.bootIndex === 0).length > 1) {
      fail(
        ["servers", index, "volumes"],
        `${where}.volumes: at most one volume may have bootIndex 0 (the system disk)`,
      );
    }
    if (server.dedicatedHostId !== undefined && server.tenancy !== "dedicated") {
      fail(
        ["servers", index, "dedicatedHostId"],
        `${where}.dedicatedHostId: is allowed only when tenancy is dedicated`,
      );
    }
  });

  const serverAz = new Map(estate.servers.map((server) => [server.id, server.az]));
  estate.volumes.forEach((volume, index) => {
    const servers = attachedTo.get(volume.id) ?? [];
    const zones = [...new Set(servers.map((serverId) => serverAz.get(serverId)))];
    if (volume.az === undefined && zones.length > 1) {
      fail(
        ["volumes", index],
        `${label("volumes", index, volume)}: attached to servers in different AZs (${servers.map((serverId) => `${serverId} in ${serverAz.get(serverId)}`).join(", ")}): EVS attaches a disk only to servers in its AZ`,
      );
    }
    if (volume.dssPoolId !== undefined && !dssPoolIds.has(volume.dssPoolId)) {
      fail(
        ["volumes", index, "dssPoolId"],
        `${label("volumes", index, volume)}.dssPoolId: DSS pool "${volume.dssPoolId}" is not defined in dssPools`,
      );
    }
    if (servers.length > 1 && !volume.multiattach) {
      fail(
        ["volumes", index, "multiattach"],
        `${label("volumes", index, volume)}.multiattach: attached to ${servers.length} servers (${servers.join(", ")}) but multiattach is false`,
      );
    }
  });

  estate.scalingGroups.forEach((group, index) => {
    group.serverIds.forEach((serverId, serverIndex) => {
      if (!serverIds.has(serverId)) {
        fail(
          ["scalingGroups", index, "serverIds", serverIndex],
          `${label("scalingGroups", index, group)}.serverIds[${serverIndex}]: server "${serverId}" is not defined in servers`,
        );
      }
    });
  });

  estate.activeDomains.forEach((domain, index) => {
    if (domain.localAz === domain.remoteAz) {
      fail(
        ["activeDomains", index, "remoteAz"],
        `${label("activeDomains", index, domain)}.remoteAz: must differ from localAz ("${domain.localAz}")`,
      );
    }
  });

  estate.protectionGroups.forEach((group, index) => {
    const where = label("protectionGroups", index, group);
    if (!domainIds.has(group.domainId)) {
      fail(
        ["protectionGroups", index, "domainId"],
        `${where}.domainId: active-active domain "${group.domainId}" is not defined in activeDomains`,
      );
    }
    if (group.sourceAz === group.targetAz) {
      fail(
        ["protectionGroups", index, "targetAz"],
        `${where}.targetAz: must differ from sourceAz ("${group.sourceAz}")`,
      );
    }
    if (vpcIds.size > 0 && !vpcIds.has(group.vpcId)) {
      fail(["protectionGroups", index, "vpcId"], `${where}.vpcId: VPC "${group.vpcId}" is not defined in vpcs`);
    }
  });

  const usedServers = new Map<string, string>();
  estate.protectedInstances.forEach((instance, index) => {
    const where = label("protectedInstances", index, instance);
    if (!groupIds.has(instance.groupId)) {
      fail(
        ["protectedInstances", index, "groupId"],
        `${where}.groupId: protection group "${instance.groupId}" is not defined in protectionGroups`,
      );
    }
    const references: ["sourceServerId" | "targetServerId", string | undefined][] = [
      ["sourceServerId", instance.sourceServerId],
      ["targetServerId", instance.targetServerId],
    ];
    for (const [field, serverId] of references) {
      if (serverId === undefined) continue;
      if (!serverIds.has(serverId)) {
        fail(["protectedInstances", index, field], `${where}.${field}: server "${serverId}" is not defined in servers`);
      }
      const other = usedServers.get(serverId);
      if (other !== undefined) {
        fail(
          ["protectedInstances", index, field],
          `${where}.${field}: server "${serverId}" is already used by protected instance ${other}`,
        );
      }
      usedServers.set(serverId, instance.id);
    }
  });
  checkReplicationPairReferences(estate, fail);
}

export const estateSchema = estateObject.check(z.superRefine(checkCrossReferences));
export type Estate = z.infer<typeof estateSchema>;
/** What a person writes: defaults may be left out. */
export type EstateInput = z.input<typeof estateSchema>;

export class EstateError extends Error {
  override readonly name = "EstateError";
  readonly code = "ESTATE_INVALID";
  readonly issues: string[];

  constructor(source: string, issues: string[]) {
    super(`estate ${source} is invalid:\n  ${issues.join("\n  ")}`);
    this.issues = issues;
  }
}

function describeEstateIssue(issue: z.core.$ZodIssue): string {
  // Cross-reference messages already name the entity and field; schema issues get the path prefixed.
  if (issue.code === "custom") return issue.message;
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(estate)";
  return `${field}: ${issue.message}`;
}

/** Validates an estate value (already parsed JSON); throws EstateError listing every problem. */
export function parseEstate(value: unknown, source = "(value)"): Estate {
  const result = estateSchema.safeParse(value);
  if (!result.success) throw new EstateError(source, result.error.issues.map(describeEstateIssue));
  return result.data;
}

export function loadEstate(path: string): Estate {
  const text = readFileSync(path, "utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new EstateError(path, [`not valid JSON: ${error instanceof Error ? error.message : String(error)}`]);
  }
  return parseEstate(value, path);
}
