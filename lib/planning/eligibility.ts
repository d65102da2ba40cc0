/**
 * Eligibility: for each server of a request, whether SDRS can protect it in the target protection group
 * now (eligible), later by itself (deferred, with a retry-after) or not until someone acts (ineligible),
 * with every reason and warning that applies. Pure: the facts come in, verdicts go out.
 */

import { ipInCidr } from "../net/ipv4.ts";
import {
  type EcsServer,
  type EvsVolume,
  isSharedVolume,
  type ProtectedInstance,
  type ProtectionGroup,
  productionAvailabilityZone,
} from "../sdrs/schemas.ts";
import { batchCompatibilityKey, creationOptionsFor, differingBatchFields, drFlavorFor } from "./creation-options.ts";
import { unsupportedFlavorKind } from "./flavors.ts";
import { type RuleOutcome, reasonFor, ruleFor, sortReasons } from "./rules.ts";
import { type SharedDiskCluster, sharedDiskClusters } from "./shared-disks.ts";
import type { PlanInput, Reason, ServerFacts, Verdict } from "./types.ts";

/** Create protected instance: "status of the protection group must be available or protected". */
const READY_GROUP_STATUSES = new Set(["available", "protected"]);
/** Statuses of an operation in progress: they end by themselves (in a ready or an error-* status). */
const BUSY_GROUP_STATUSES = new Set([
  "creating",
  "starting",
  "stopping",
  "reprotecting",
  "reversing",
  "failing-over",
  "deleting",
]);
/** SDRS.1333: the server's status must be ACTIVE or SHUTOFF. */
const READY_SERVER_STATUSES = new Set(["ACTIVE", "SHUTOFF"]);
/** Transitions that end by themselves; VERIFY_RESIZE is confirmed (or auto-confirmed) by the cloud. */
const BUSY_SERVER_STATUSES = new Set([
  "BUILD",
  "REBOOT",
  "HARD_REBOOT",
  "RESIZE",
  "VERIFY_RESIZE",
  "REVERT_RESIZE",
  "MIGRATING",
  "REBUILD",
]);

interface Assessment {
  facts: ServerFacts;
  reasons: Reason[];
  warnings: Reason[];
  /** The longest retry-after of deferred shared-disk peers. */
  peerRetryAfterSeconds?: number;
}

/** Verdicts for every server of the request, in input order. */
export function evaluateEligibility(input: PlanInput): Verdict[] {
  const clusters = sharedDiskClusters(input.servers);
  const groupLevel = groupReasons(input);
  const instances = indexProtectedInstances(input.protectedInstances);
  const assessments = input.servers.map((facts) =>
    assessServer(facts, input, groupLevel, instances, clusters.get(facts.serverId)),
  );
  const individual = new Map(
    assessments.map((assessment) => [assessment.facts.serverId, toVerdict(assessment, clusters)]),
  );
  if (input.sharedDiskPolicy === "block") return [...individual.values()];
  return assessments.map((assessment) => {
    const cluster = clusters.get(assessment.facts.serverId);
    if (cluster === undefined) return individual.get(assessment.facts.serverId) ?? toVerdict(assessment, clusters);
    const { reasons, peerRetryAfterSeconds } = sharedDiskClusterReasons(assessment.facts, cluster, individual, input);
    return toVerdict({ ...assessment, reasons: [...assessment.reasons, ...reasons], peerRetryAfterSeconds }, clusters);
  });
}

function toVerdict(assessment: Assessment, clusters: Map<string, SharedDiskCluster>): Verdict {
  const { facts } = assessment;
  const reasons = sortReasons(assessment.reasons);
  const outcomes = reasons.map((reason) => outcomeOf(reason));
  const kind = outcomes.includes("ineligible") ? "ineligible" : outcomes.includes("deferred") ? "deferred" : "eligible";
  const retryAfterSeconds =
    kind === "deferred"
      ? Math.max(assessment.peerRetryAfterSeconds ?? 0, ...reasons.map((reason) => retryOf(reason.code)))
      : undefined;
  const cluster = clusters.get(facts.serverId);
  return {
    serverId: facts.serverId,
    ...(facts.server === undefined ? {} : { serverName: facts.server.name }),
    verdict: kind,
    reasons,
    warnings: sortReasons(assessment.warnings),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(cluster === undefined ? {} : { sharedDiskCluster: cluster.members }),
  };
}

function outcomeOf(reason: Reason): RuleOutcome {
  return ruleFor(reason.code)?.outcome ?? "ineligible";
}

function retryOf(code: string): number {
  return ruleFor(code)?.retryAfterSeconds ?? 0;
}

function label(facts: ServerFacts): string {
  return facts.server === undefined ? facts.serverId : `${facts.server.name} (${facts.serverId})`;
}

function list(ids: readonly string[]): string {
  return ids.join(", ");
}

// ---------------------------------------------------------------------------------------------
// The target protection group: the same reasons for every server
// ---------------------------------------------------------------------------------------------

function groupReasons(input: PlanInput): Reason[] {
  const group = input.protectionGroup;
  if (group === undefined) {
    return [
      reasonFor("INELIGIBLE_GROUP_NOT_FOUND", `protection group ${input.protectionGroupId} was not found`, {
        protectionGroupId: input.protectionGroupId,
      }),
    ];
  }
  if (READY_GROUP_STATUSES.has(group.status)) return [];
  const message = `protection group ${group.name} (${group.id}) is ${group.status}; protected instances can be created only when it is available or protected`;
  const details = { protectionGroupId: group.id, status: group.status };
  return [
    reasonFor(
      BUSY_GROUP_STATUSES.has(group.status) ? "DEFERRED_GROUP_BUSY" : "INELIGIBLE_GROUP_STATUS",
      message,
      details,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// One server on its own
// ---------------------------------------------------------------------------------------------

function assessServer(
  facts: ServerFacts,
  input: PlanInput,
  groupLevel: readonly Reason[],
  instances: ProtectedInstanceIndex,
  cluster: SharedDiskCluster | undefined,
): Assessment {
  const { server } = facts;
  if (server === undefined) {
    return {
      facts,
      reasons: [
        ...groupLevel,
        reasonFor("INELIGIBLE_SERVER_NOT_FOUND", `server ${facts.serverId} was not found`, {
          serverId: facts.serverId,
        }),
      ],
      warnings: [],
    };
  }
  const reasons = [
    ...groupLevel,
    ...serverStateReasons(facts, server),
    ...alreadyProtectedReasons(facts, input, instances),
    ...(input.protectionGroup === undefined ? [] : placementReasons(server, input.protectionGroup)),
    ...hostReasons(facts, server, input),
    ...flavorReasons(facts, server, input),
    ...primaryIpReasons(facts, input),
    ...diskReasons(facts, server),
    ...keypairReasons(facts, server).filter((reason) => outcomeOf(reason) !== "warning"),
    ...(input.sharedDiskPolicy === "block" ? blockedSharedDiskReasons(facts) : []),
  ];
  return { facts, reasons, warnings: warningsFor(facts, server, input, cluster) };
}

function serverStateReasons(facts: ServerFacts, server: EcsServer): Reason[] {
  const reasons: Reason[] = [];
  const status = server.status.toUpperCase();
  if (!READY_SERVER_STATUSES.has(status)) {
    const message = `server ${label(facts)} is ${server.status}; it must be ACTIVE or SHUTOFF`;
    reasons.push(
      reasonFor(BUSY_SERVER_STATUSES.has(status) ? "DEFERRED_SERVER_BUSY" : "INELIGIBLE_SERVER_STATUS", message, {
        status: server.status,
      }),
    );
  }
  const lockSource = server.metadata.lockSource;
  if (server.locked === true || (lockSource !== undefined && lockSource !== "")) {
    const how = [
      server.locked === true ? "locked=true" : undefined,
      lockSource ? `metadata.lockSource=${lockSource}` : undefined,
    ].filter((part): part is string => part !== undefined);
    // SDRS.1359: locked by another service (lockSource names it, e.g. ORDER); SDRS.1357: locked by the system.
    const sdrsCode = lockSource ? "SDRS.1359" : "SDRS.1357";
    reasons.push(
      reasonFor(
        "INELIGIBLE_SERVER_LOCKED",
        `server ${label(facts)} is locked (${how.join(", ")})`,
        undefined,
        sdrsCode,
      ),
    );
  }
  if (server.metadata.EcmResStatus === "freeze") {
    reasons.push(
      reasonFor("INELIGIBLE_SERVER_FROZEN", `server ${label(facts)} is frozen (metadata.EcmResStatus=freeze)`),
    );
  }
  return reasons;
}

/** "One server can be used to create only one protected instance" (SDRS.1305); a DR-site server is taken too. */
function alreadyProtectedReasons(facts: ServerFacts, input: PlanInput, instances: ProtectedInstanceIndex): Reason[] {
  const describe = (instance: ProtectedInstance) => ({
    where: `protected instance ${instance.name} (${instance.id}) in protection group ${instance.server_group_id}${
      instance.server_group_id === input.protectionGroupId ? " (the target group)" : ""
    }, status ${instance.status}`,
    details: { protectedInstanceId: instance.id, protectionGroupId: instance.server_group_id, status: instance.status },
  });
  return [
    ...(instances.bySource.get(facts.serverId) ?? []).map((instance) => {
      const { where, details } = describe(instance);
      return reasonFor(
        "INELIGIBLE_ALREADY_PROTECTED",
        `server ${label(facts)} is already the production server of ${where}`,
        details,
      );
    }),
    ...(instances.byTarget.get(facts.serverId) ?? []).map((instance) => {
      const { where, details } = describe(instance);
      return reasonFor(
        "INELIGIBLE_DR_SITE_SERVER",
        `server ${label(facts)} is the DR-site server of ${where}`,
        details,
      );
    }),
  ];
}

interface ProtectedInstanceIndex {
  bySource: Map<string, ProtectedInstance[]>;
  byTarget: Map<string, ProtectedInstance[]>;
}

function indexProtectedInstances(instances: readonly ProtectedInstance[]): ProtectedInstanceIndex {
  const bySource = new Map<string, ProtectedInstance[]>();
  const byTarget = new Map<string, ProtectedInstance[]>();
  const add = (index: Map<string, ProtectedInstance[]>, serverId: string, instance: ProtectedInstance) => {
    const list = index.get(serverId) ?? [];
    list.push(instance);
    index.set(serverId, list);
  };
  for (const instance of instances) {
    add(bySource, instance.source_server, instance);
    if (instance.target_server) add(byTarget, instance.target_server, instance);
  }
  return { bySource, byTarget };
}

function placementReasons(server: EcsServer, group: ProtectionGroup): Reason[] {
  const reasons: Reason[] = [];
  const vpcId = server.metadata.vpc_id;
  if (vpcId !== group.source_vpc_id) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_VPC_MISMATCH",
        `server vpc ${vpcId ?? "(none)"} ≠ protection group vpc ${group.source_vpc_id}`,
        {
          serverVpcId: vpcId ?? "",
          protectionGroupVpcId: group.source_vpc_id,
        },
      ),
    );
  }
  const serverAz = server["OS-EXT-AZ:availability_zone"];
  const productionAz = productionAvailabilityZone(group);
  if (serverAz !== productionAz) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_AZ_MISMATCH",
        `server AZ ${serverAz} ≠ protection group production AZ ${productionAz} (priority_station ${group.priority_station})`,
        { serverAvailabilityZone: serverAz, productionAvailabilityZone: productionAz },
      ),
    );
  }
  return reasons;
}

function hostReasons(facts: ServerFacts, server: EcsServer, input: PlanInput): Reason[] {
  const reasons: Reason[] = [];
  const hints = server["os:scheduler_hints"];
  // Tenancy values: Huawei documents shared|dedicated, OTC share|dedicate.
  const tenancy = (hints?.tenancy ?? []).filter((value) => /^dedicated?$/i.test(value));
  const hostIds = (hints?.dedicated_host_id ?? []).filter((value) => value !== "");
  if (tenancy.length > 0 || hostIds.length > 0) {
    const how = [
      ...tenancy.map((value) => `tenancy=${value}`),
      ...hostIds.map((hostId) => `dedicated_host_id=${hostId}`),
    ];
    reasons.push(
      reasonFor(
        "INELIGIBLE_DEDICATED_HOST",
        `server ${label(facts)} runs on a dedicated host (os:scheduler_hints ${how.join(", ")})`,
      ),
    );
  }
  const ecsGroups = (hints?.group ?? []).filter((value) => value !== "");
  if (ecsGroups.length > 0 && creationOptionsFor(input, facts.serverId).tenancy === "dedicated") {
    reasons.push(
      reasonFor(
        "INELIGIBLE_ECS_GROUP_DEDICATED_TENANCY",
        `server ${label(facts)} is in ECS group ${list(ecsGroups)} and the creation options ask for tenancy dedicated`,
        { ecsGroupIds: ecsGroups },
      ),
    );
  }
  return reasons;
}

function flavorReasons(facts: ServerFacts, server: EcsServer, input: PlanInput): Reason[] {
  const reasons: Reason[] = [];
  const { flavor } = server;
  const kind = unsupportedFlavorKind(flavor.id) ?? (flavor.name ? unsupportedFlavorKind(flavor.name) : undefined);
  if (kind !== undefined) {
    const named = flavor.name && flavor.name !== flavor.id ? `${flavor.id} (${flavor.name})` : flavor.id;
    reasons.push(
      reasonFor(
        "INELIGIBLE_FLAVOR_UNSUPPORTED",
        `flavor ${named} of server ${label(facts)} is ${kind}, which SDRS does not support`,
        { flavorId: flavor.id },
      ),
    );
  }
  const drFlavor = drFlavorFor(input, facts.serverId, flavor.id);
  const drKind = drFlavor === undefined ? undefined : unsupportedFlavorKind(drFlavor);
  if (drFlavor !== undefined && drKind !== undefined) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_DR_FLAVOR_UNSUPPORTED",
        `DR flavor ${drFlavor} chosen for server ${label(facts)} (production flavor ${flavor.id}) is ${drKind}, which SDRS does not support`,
        {
          drFlavorId: drFlavor,
        },
      ),
    );
  }
  const offered = input.drSite.flavorIds;
  if (drFlavor !== undefined && offered !== undefined && !offered.includes(drFlavor)) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_DR_FLAVOR_NOT_OFFERED",
        `DR flavor ${drFlavor} chosen for server ${label(facts)} is not offered in the DR-site AZ of the protection group`,
        {
          drFlavorId: drFlavor,
        },
      ),
    );
  }
  return reasons;
}

/** SDRS.0219: the configured primary IP of the DR server must be inside primarySubnetId's CIDR (when it is known). */
function primaryIpReasons(facts: ServerFacts, input: PlanInput): Reason[] {
  const options = creationOptionsFor(input, facts.serverId);
  const ip = options.primaryIpAddresses?.[facts.serverId];
  const cidr = options.primarySubnetId === undefined ? undefined : input.drSite.subnetCidrs?.[options.primarySubnetId];
  if (ip === undefined || cidr === undefined || ipInCidr(ip, cidr)) return [];
  return [
    reasonFor(
      "INELIGIBLE_PRIMARY_IP_OUTSIDE_SUBNET",
      `primary IP ${ip} configured for server ${label(facts)} is not inside subnet ${options.primarySubnetId} (${cidr})`,
      { primaryIpAddress: ip, cidr },
    ),
  ];
}

function hasSystemDisk(server: EcsServer, volumes: readonly EvsVolume[]): boolean {
  const attached = server["os-extended-volumes:volumes_attached"];
  // bootIndex "0" marks the system disk; when the API reports bootIndex, it is the whole answer.
  if (attached.some((volume) => volume.bootIndex !== undefined && volume.bootIndex !== null)) {
    return attached.some((volume) => volume.bootIndex === "0");
  }
  // Without bootIndex (older API versions), the disk on the root device is the system disk.
  const rootDevice = server["OS-EXT-SRV-ATTR:root_device_name"];
  if (rootDevice === undefined || rootDevice === null) return false;
  return (
    attached.some((volume) => volume.device === rootDevice) ||
    volumes.some((volume) =>
      volume.attachments.some((attachment) => attachment.server_id === server.id && attachment.device === rootDevice),
    )
  );
}

function diskReasons(facts: ServerFacts, server: EcsServer): Reason[] {
  const reasons: Reason[] = [];
  if (!hasSystemDisk(server, facts.volumes)) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_NO_SYSTEM_DISK",
        `server ${label(facts)} has no system disk: no attached volume has bootIndex 0`,
      ),
    );
  }
  const encrypted = facts.volumes
    .filter((volume) => volume.metadata?.__system__encrypted === "1")
    .map((volume) => volume.id);
  if (encrypted.length > 0) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_DISK_ENCRYPTED",
        `disk ${list(encrypted)} of server ${label(facts)} is encrypted (metadata.__system__encrypted=1)`,
        {
          volumeIds: encrypted,
        },
      ),
    );
  }
  const frozen = facts.volumes
    .filter((volume) => volume.metadata?.__system__frozen === "true" || volume.status === "frozen")
    .map((volume) => volume.id);
  if (frozen.length > 0) {
    reasons.push(
      reasonFor("INELIGIBLE_DISK_FROZEN", `disk ${list(frozen)} of server ${label(facts)} is frozen`, {
        volumeIds: frozen,
      }),
    );
  }
  return reasons;
}

/** Windows with key-pair login: the key pair must exist, or the DR server fails to create. */
function keypairReasons(facts: ServerFacts, server: EcsServer): Reason[] {
  const keyName = server.key_name;
  if (server.metadata.os_type?.toLowerCase() !== "windows" || !keyName) return [];
  if (facts.keypairExists === false) {
    return [
      reasonFor(
        "INELIGIBLE_KEYPAIR_MISSING",
        `Windows server ${label(facts)} logs in with key pair ${keyName}, which does not exist`,
        { keyName },
      ),
    ];
  }
  if (facts.keypairExists === undefined) {
    return [
      reasonFor(
        "WARN_KEYPAIR_UNVERIFIED",
        `Windows server ${label(facts)} logs in with key pair ${keyName}, whose existence was not checked`,
        { keyName },
      ),
    ];
  }
  return [];
}

function sharedVolumeIds(facts: ServerFacts): string[] {
  return facts.volumes.filter((volume) => isSharedVolume(volume)).map((volume) => volume.id);
}

function blockedSharedDiskReasons(facts: ServerFacts): Reason[] {
  const shared = sharedVolumeIds(facts);
  if (shared.length === 0) return [];
  return [
    reasonFor(
      "INELIGIBLE_SHARED_DISK_BLOCKED",
      `server ${label(facts)} has shared disk ${list(shared)} and the shared-disk policy is block`,
      {
        volumeIds: shared,
      },
    ),
  ];
}

function warningsFor(
  facts: ServerFacts,
  server: EcsServer,
  input: PlanInput,
  cluster: SharedDiskCluster | undefined,
): Reason[] {
  const warnings = keypairReasons(facts, server).filter((reason) => outcomeOf(reason) === "warning");
  if (facts.autoScalingGroupId !== undefined) {
    warnings.push(
      reasonFor(
        "WARN_AUTO_SCALING_MEMBER",
        `server ${label(facts)} is a member of Auto Scaling group ${facts.autoScalingGroupId}; once protected, scale-in cannot delete it`,
        { autoScalingGroupId: facts.autoScalingGroupId },
      ),
    );
  }
  const enterpriseProject =
    server.enterprise_project_id ??
    server.sys_tags?.find((tag) => tag.key === "_sys_enterprise_project_id")?.value ??
    undefined;
  // "0" is the default enterprise project.
  if (enterpriseProject !== undefined && enterpriseProject !== "" && enterpriseProject !== "0") {
    warnings.push(
      reasonFor(
        "WARN_ENTERPRISE_PROJECT_NOT_CARRIED",
        `server ${label(facts)} is in enterprise project ${enterpriseProject}; its DR server will not be put into it`,
        { enterpriseProjectId: enterpriseProject },
      ),
    );
  }
  const primaryIp = creationOptionsFor(input, facts.serverId).primaryIpAddresses?.[facts.serverId];
  if (primaryIp !== undefined && cluster !== undefined && input.sharedDiskPolicy === "batch-together") {
    warnings.push(
      reasonFor(
        "WARN_PRIMARY_IP_NOT_APPLIED",
        `primary IP ${primaryIp} configured for server ${label(facts)} is not applied: with shared disk ${list(cluster.sharedVolumeIds)} it goes in a batch create, which takes no IP`,
        { primaryIpAddress: primaryIp },
      ),
    );
  }
  warnings.push(
    reasonFor(
      "WARN_CHANGES_NOT_SYNCED",
      `later changes to the hostname, name, security groups, agency, ECS group, tags or auto recovery of server ${label(facts)} are not synced to its DR server`,
    ),
  );
  return warnings;
}

// ---------------------------------------------------------------------------------------------
// Shared-disk clusters: created together in one batch, or not at all
// ---------------------------------------------------------------------------------------------

function sharedDiskClusterReasons(
  facts: ServerFacts,
  cluster: SharedDiskCluster,
  individual: Map<string, Verdict>,
  input: PlanInput,
): { reasons: Reason[]; peerRetryAfterSeconds?: number } {
  const reasons: Reason[] = [];
  const peers = cluster.members.filter((serverId) => serverId !== facts.serverId);
  const missing = peers.filter((serverId) => !individual.has(serverId));
  if (missing.length > 0) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_SHARED_DISK_PEER_MISSING",
        `shared disk ${list(cluster.sharedVolumeIds)} of server ${label(facts)} is also attached to ${list(missing)}, not in this request`,
        { missingServerIds: missing, volumeIds: cluster.sharedVolumeIds },
      ),
    );
  }
  if (cluster.members.length > input.batchLimit) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
        `shared-disk cluster ${list(cluster.members)} has ${cluster.members.length} servers; a batch create call takes at most ${input.batchLimit}`,
        { clusterServerIds: cluster.members },
      ),
    );
  }
  const ownOptions = creationOptionsFor(input, facts.serverId);
  const ownKey = batchCompatibilityKey(ownOptions);
  const conflicting = peers
    .filter(
      (serverId) => individual.has(serverId) && batchCompatibilityKey(creationOptionsFor(input, serverId)) !== ownKey,
    )
    .map(
      (serverId) => `${serverId} (${differingBatchFields(ownOptions, creationOptionsFor(input, serverId)).join(", ")})`,
    );
  if (conflicting.length > 0) {
    reasons.push(
      reasonFor(
        "INELIGIBLE_SHARED_DISK_OPTIONS_CONFLICT",
        `shared-disk peer ${list(conflicting)} has creation options different from server ${label(facts)}'s; a shared-disk cluster needs one batch call`,
        { clusterServerIds: cluster.members },
      ),
    );
  }
  const ineligiblePeers = peers.flatMap((serverId) => {
    const peer = individual.get(serverId);
    return peer?.verdict === "ineligible" ? [peer] : [];
  });
  if (ineligiblePeers.length > 0) {
    const named = ineligiblePeers.map(
      (peer) =>
        `${peer.serverId} (${peer.reasons
          .filter((reason) => outcomeOf(reason) === "ineligible")
          .map((reason) => reason.code)
          .join(", ")})`,
    );
    reasons.push(
      reasonFor(
        "INELIGIBLE_SHARED_DISK_PEER_INELIGIBLE",
        `shared-disk peer ${list(named)} is ineligible, so the cluster cannot be created in one batch`,
        {
          ineligibleServerIds: ineligiblePeers.map((peer) => peer.serverId),
        },
      ),
    );
  }
  const deferredPeers = peers.flatMap((serverId) => {
    const peer = individual.get(serverId);
    return peer?.verdict === "deferred" ? [peer] : [];
  });
  if (deferredPeers.length === 0) return { reasons };
  reasons.push(
    reasonFor(
      "DEFERRED_SHARED_DISK_PEER_DEFERRED",
      `shared-disk peer ${list(deferredPeers.map((peer) => peer.serverId))} is deferred; the cluster is created together`,
      {
        deferredServerIds: deferredPeers.map((peer) => peer.serverId),
      },
    ),
  );
  return { reasons, peerRetryAfterSeconds: Math.max(...deferredPeers.map((peer) => peer.retryAfterSeconds ?? 0)) };
}
