/**
 * The simulator's in-memory resources (`Sim*`, not to be confused with the pipeline's records in
 * lib/state). They start as the estate and change as requests are served; render.ts turns them into
 * the real API shapes.
 */
import type { ResourceTag } from "../sdrs/schemas.ts";
import type { ProtectedInstanceStatus, ReplicationPairStatus } from "../sdrs/statuses.ts";
import type {
  EstateActiveDomain,
  EstateDedicatedHost,
  EstateDssPool,
  EstateFlavor,
  EstateImage,
  EstateKeyPair,
  EstateProtectionGroup,
  EstateScalingGroup,
  EstateSecurityGroup,
  EstateServer,
  EstateSubnet,
  EstateVolume,
} from "./estate.ts";

export interface SimServer extends EstateServer {
  /** Epoch ms. */
  createdAt: number;
  /** Resolved when the server is added: the estate's values, or the defaults derived from its VPC. */
  ip: string;
  subnetId: string;
  imageId: string;
  securityGroupIds: string[];
  /** Set on DR-site servers created by a protected instance. */
  drSiteOf?: string;
}

export type SimVolume = EstateVolume;
export type SimKeyPair = EstateKeyPair;
export type SimScalingGroup = EstateScalingGroup;
export type SimActiveDomain = EstateActiveDomain;

export interface SimProtectionGroup extends Omit<EstateProtectionGroup, "createdAt" | "_note"> {
  createdAt: number;
  updatedAt: number;
}

export interface SimReplicationPair {
  id: string;
  groupId: string;
  sourceVolumeId: string;
  drVolumeId: string;
  /** Pairs created through the replications API; derived pairs are named after their disk. */
  name?: string | undefined;
  /** Set when it is not what the group implies (fault, invalid, an operation under way); see replication.ts. */
  status?: ReplicationPairStatus | undefined;
  /** "0" no fault, "2" production disk not writable, "5" replication link broken. */
  faultLevel?: string | undefined;
  /**
   * undefined: attached to the protected instance of every server holding the disk (pairs made with the
   * instance); a protected-instance id: attached there through attachreplication; null: not attached.
   */
  attachedTo?: string | null | undefined;
  /** `record_metadata.volume_size` when it differs from the disk's size (the disk grew outside SDRS). */
  sizeGb?: number | undefined;
}

export interface SimProtectedInstance {
  id: string;
  name: string;
  description?: string | undefined;
  groupId: string;
  sourceServerId: string;
  targetServerId?: string | undefined;
  status: ProtectedInstanceStatus;
  tags: ResourceTag[];
  createdAt: number;
  updatedAt: number;
  /** The job creating it, while it is `creating` (progress is derived from it). */
  creatingJobId?: string | undefined;
}

export type SimJobKind =
  | "createProtectedInstance"
  | "batchCreateProtectedInstances"
  | "createProtectionGroup"
  | "enableProtection"
  | ReplicationJobKind;

/** Jobs of replication pairs and ECS volume calls: an effect applied when the job ends (lib/sim/replication.ts). */
export type ReplicationJobKind =
  | "createReplication"
  | "deleteReplication"
  | "expandReplication"
  | "attachReplication"
  | "detachReplication"
  | "attachServerVolume"
  | "detachServerVolume";

export interface JobFailure {
  errorCode: string;
  failReason: string;
}

/** One server's part of a protected-instance create job (a sub-job in a batch). */
export interface JobTask {
  subJobId: string;
  serverId: string;
  instanceId: string;
  /** Epoch ms the task is scheduled to end. */
  endAt: number;
  /** Decided when the job is created: intrinsic failures (encrypted disk, missing key pair) or injected ones. */
  failure?: JobFailure | undefined;
  /** DR-site flavor requested (flavorRef), else the production flavor. */
  flavorRef?: string | undefined;
  /** The DR-site NIC requested (primary_subnet_id, primary_ip_address), else the production server's subnet. */
  subnetId?: string | undefined;
  ip?: string | undefined;
  outcome?: "SUCCESS" | "FAIL" | undefined;
  /** Epoch ms the task ended; later than endAt when a fault held it. */
  endedAt?: number | undefined;
  /** The DR-site server created on success. */
  nativeServerId?: string | undefined;
  heldByFault?: boolean;
}

export interface SimJob {
  id: string;
  kind: SimJobKind;
  jobType: string;
  groupId: string;
  beginAt: number;
  /** INIT until this instant, RUNNING after. */
  initUntil: number;
  endAt: number;
  /** Servers the job is about (for fault matching): created servers, or a group's servers for enable. */
  serverIds: string[];
  tasks: JobTask[];
  /** A failure of the job itself (group create / enable), decided when the job is created. */
  failure?: JobFailure | undefined;
  outcome?: "SUCCESS" | "FAIL" | undefined;
  errorCode?: string | undefined;
  failReason?: string | undefined;
  endedAt?: number | undefined;
  heldByFault?: boolean;
  /** Replication and volume jobs: applied when the job ends; a returned failure makes the job FAIL. */
  effect?: ((at: number) => JobFailure | undefined) | undefined;
  /** Replication and volume jobs: the job's `entities` (e.g. replication_pair_id once it succeeded). */
  entities?: Record<string, string> | undefined;
}

export interface World {
  region: string;
  /** The IAM project (ECS `tenant_id`, EVS `os-vol-tenant-attr:tenant_id`) and the user that created the resources. */
  projectId: string;
  userId: string;
  vpcIds: Set<string>;
  images: Map<string, EstateImage>;
  securityGroups: Map<string, EstateSecurityGroup>;
  /** The estate's subnets, plus a derived 192.168.0.0/16 subnet for each VPC that has none. */
  subnets: Map<string, EstateSubnet>;
  /** The flavor catalogue; undefined when the estate gives none (every well-formed flavor exists everywhere). */
  flavors: Map<string, EstateFlavor> | undefined;
  dedicatedHosts: Map<string, EstateDedicatedHost>;
  dssPools: Map<string, EstateDssPool>;
  servers: Map<string, SimServer>;
  volumes: Map<string, SimVolume>;
  keyPairs: Map<string, SimKeyPair>;
  scalingGroups: SimScalingGroup[];
  activeDomains: SimActiveDomain[];
  groups: Map<string, SimProtectionGroup>;
  instances: Map<string, SimProtectedInstance>;
  /** Replication pairs by the production volume they replicate (a shared disk has one pair for its cluster). */
  replicationPairs: Map<string, SimReplicationPair>;
  jobs: Map<string, SimJob>;
  /** Kept up to date by world.ts and replication.ts through indexes.ts; never written elsewhere. */
  indexes: WorldIndexes;
}

/** What the replication and volume operations (lib/sim/replication.ts) need of the simulated project. */
export interface ProjectForReplication {
  readonly world: World;
  /** A new resource id, from the seeded id stream. */
  newId(): string;
  /** A job whose effect is applied when it ends. */
  startEffectJob(
    kind: ReplicationJobKind,
    groupId: string,
    serverIds: string[],
    now: number,
    effect: (at: number) => JobFailure | undefined,
  ): SimJob;
}

/** Lookups kept beside the records (maintained by lib/sim/indexes.ts) so that a request costs what its answer costs. */
export interface WorldIndexes {
  /** Servers in the order ECS lists them (estate order, then creation order); `marker` resumes after one. */
  serverOrder: SimServer[];
  serverPosition: Map<string, number>;
  /** Volumes in the order EVS lists them; `marker` resumes after one. */
  volumeOrder: SimVolume[];
  volumePosition: Map<string, number>;
  /** Volume id → the servers it is attached to, in server order. */
  attachedServers: Map<string, SimServer[]>;
  /** Server id → the protected instance using it as production or DR-site server. */
  instanceByServer: Map<string, SimProtectedInstance>;
  /** Protection group id → its protected instances. */
  instancesByGroup: Map<string, Set<SimProtectedInstance>>;
  /** Protection group id → the number of its replication pairs. */
  pairCountByGroup: Map<string, number>;
  /** Replication pair id → the pair (world.replicationPairs is keyed by the production disk). */
  pairById: Map<string, SimReplicationPair>;
  /** ECS `tags` filter term (`key=value` or `key`) → ids of the servers carrying it. */
  serversByTagTerm: Map<string, Set<string>>;
  /** `vpcId/ip` → who uses the private IP: a server, or a protected instance whose DR-site server will. */
  ipUsers: Map<string, string>;
}
