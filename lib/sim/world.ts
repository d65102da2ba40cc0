/**
 * The simulated project: records built from the estate, the create calls that change them, and the
 * jobs that finish them. Jobs have no timers: their progress is computed from the clock whenever the
 * world is looked at (`settle(now)`), so a ManualClock drives them deterministically in tests.
 */

import {
  batchCreateRequest,
  createProtectedInstanceRequest,
  createProtectionGroupRequest,
  DEFAULT_BATCH_LIMIT,
  describeIssue,
  sdrsCodeForIssue,
  startServerGroupRequest,
} from "../sdrs/schemas.ts";
import type * as z from "../zod.ts";
import { type ApiError, isApiError, sdrsError } from "./api-error.ts";
import { SIMULATOR_DEFAULTS } from "./defaults.ts";
import { derivedHex } from "./derived.ts";
import type { Estate } from "./estate.ts";
import type { Faults } from "./faults.ts";
import {
  addInstance,
  addReplicationPair,
  addServer,
  addVolume,
  attachVolume,
  emptyIndexes,
  instancesOfGroup,
  releaseIp,
  removeInstance,
  reserveIp,
  setInstanceTarget,
  setServerTags,
} from "./indexes.ts";
import type {
  JobFailure,
  JobTask,
  ProjectForReplication,
  ReplicationJobKind,
  SimJob,
  SimJobKind,
  SimProtectedInstance,
  SimProtectionGroup,
  SimServer,
  World,
} from "./model.ts";
import type { Random } from "./random.ts";
import { applyEstatePairs, REPLICATION_JOB_DURATIONS, REPLICATION_JOB_TYPES } from "./replication.ts";
import { addVpcDefaults, serverRecord } from "./resources.ts";
import {
  checkDrFlavor,
  checkDrPlacement,
  checkGroupAcceptsInstances,
  checkGroupCapacity,
  checkServerForCreate,
  drSiteAvailabilityZone,
  jobFailureFor,
} from "./rules.ts";

export type JobDurationKind = SimJobKind;
export type JobDurations = Record<JobDurationKind, { minMs: number; maxMs: number }>;

/** Realistic defaults: the Terraform provider's acceptance run (group + instance) took ~6.5 min. */
export const DEFAULT_JOB_DURATIONS: JobDurations = {
  createProtectedInstance: { minMs: 60_000, maxMs: 180_000 },
  batchCreateProtectedInstances: { minMs: 90_000, maxMs: 300_000 },
  createProtectionGroup: { minMs: 20_000, maxMs: 40_000 },
  enableProtection: { minMs: 30_000, maxMs: 90_000 },
  ...REPLICATION_JOB_DURATIONS,
};

/** A job reports INIT for its first tenth, at most 5 s, then RUNNING. */
const MAX_INIT_MS = 5_000;

const JOB_TYPES: Record<SimJobKind, string> = {
  createProtectedInstance: "createProtectedInstanceNoCG",
  // No job_type is documented for batch create (reference §1.2); this name is the simulator's choice.
  batchCreateProtectedInstances: "batchCreateProtectedInstancesNoCG",
  createProtectionGroup: "createProtectionGroupNoCG",
  enableProtection: "startProtectionGroupNoCG",
  ...REPLICATION_JOB_TYPES,
};

export interface WorldOptions {
  /** The IAM project the estate belongs to (ECS tenant_id); default the simulator's project. */
  projectId?: string;
  /** The IAM user name the resources were created by (its id is derived). */
  userName?: string;
  random: { ids: Random; durations: Random };
  faults: Faults;
  jobDurations: JobDurations;
  batchLimit: number;
  now: number;
}

function issueError(issues: readonly z.core.$ZodIssue[]): ApiError {
  const issue = issues[0];
  if (issue === undefined) return sdrsError("SDRS.0201", "(body): invalid request");
  return sdrsError(sdrsCodeForIssue(issue), describeIssue(issue));
}

function parseTime(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const parsed = Date.parse(text.includes("T") ? text : `${text.replace(" ", "T")}Z`);
  return Number.isNaN(parsed) ? fallback : parsed;
}

export class SimulatedProject implements ProjectForReplication {
  readonly world: World;
  readonly #ids: Random;
  readonly #durations: Random;
  readonly #faults: Faults;
  readonly #jobDurations: JobDurations;
  readonly #batchLimit: number;
  /** Jobs not yet SUCCESS/FAIL: the only ones settle() needs to look at. */
  readonly #unfinished = new Set<SimJob>();
  /**
   * The earliest instant a job step can be due; settle() before it has nothing to do, so a request
   * does not walk thousands of jobs in flight. -Infinity while a fault holds a step (re-checked each time).
   */
  #nextDueAt = Number.POSITIVE_INFINITY;

  /** Every id handed out or loaded from the estate: a new one never repeats one (seeded ids may). */
  readonly #usedIds = new Set<string>();

  /** A drawn id no server, volume, group, instance or job of the world has: the estate's ids are taken too. */
  #freshId(draw: () => string): string {
    if (this.#usedIds.size === 0) {
      for (const server of this.world.servers.keys()) this.#usedIds.add(server);
      for (const volume of this.world.volumes.keys()) this.#usedIds.add(volume);
      for (const group of this.world.groups.keys()) this.#usedIds.add(group);
    }
    for (;;) {
      const id = draw();
      if (this.#usedIds.has(id)) continue;
      this.#usedIds.add(id);
      return id;
    }
  }

  constructor(estate: Estate, options: WorldOptions) {
    this.#ids = options.random.ids;
    this.#durations = options.random.durations;
    this.#faults = options.faults;
    this.#jobDurations = options.jobDurations;
    this.#batchLimit = options.batchLimit ?? DEFAULT_BATCH_LIMIT;
    const day = 86_400_000;
    const serverCreatedAt = options.now - 60 * day;
    const vpcIds = new Set([
      ...estate.vpcs.map((vpc) => vpc.id),
      ...estate.servers.map((server) => server.vpcId),
      ...estate.protectionGroups.map((group) => group.vpcId),
    ]);
    this.world = {
      region: estate.region,
      projectId: options.projectId ?? SIMULATOR_DEFAULTS.projectId,
      userId: derivedHex(32, "user", options.userName ?? SIMULATOR_DEFAULTS.userName),
      vpcIds: new Set(estate.vpcs.map((vpc) => vpc.id)),
      images: new Map(estate.images.map((image) => [image.id, structuredClone(image)])),
      securityGroups: new Map(estate.securityGroups.map((group) => [group.id, structuredClone(group)])),
      subnets: new Map(estate.subnets.map((subnet) => [subnet.id, structuredClone(subnet)])),
      flavors:
        estate.flavors.length === 0
          ? undefined
          : new Map(estate.flavors.map((flavor) => [flavor.id, structuredClone(flavor)])),
      dedicatedHosts: new Map(estate.dedicatedHosts.map((host) => [host.id, structuredClone(host)])),
      dssPools: new Map(estate.dssPools.map((pool) => [pool.id, structuredClone(pool)])),
      scalingGroups: structuredClone(estate.scalingGroups),
      activeDomains: structuredClone(estate.activeDomains),
      groups: new Map(
        estate.protectionGroups.map((group) => {
          const { _note, createdAt, ...fields } = group;
          const created = parseTime(createdAt, options.now - 30 * day);
          return [group.id, { ...structuredClone(fields), createdAt: created, updatedAt: created }];
        }),
      ),
      servers: new Map(),
      volumes: new Map(),
      keyPairs: new Map(estate.keyPairs.map((keyPair) => [keyPair.name, structuredClone(keyPair)])),
      instances: new Map(),
      replicationPairs: new Map(),
      jobs: new Map(),
      indexes: emptyIndexes(),
    };
    for (const vpcId of vpcIds) addVpcDefaults(this.world, vpcId);
    // Addresses the estate spells out are taken before any is derived, so a derived one never collides.
    for (const server of estate.servers) {
      if (server.ip !== undefined) reserveIp(this.world, server.vpcId, server.ip, `server ${server.id}`);
    }
    for (const server of estate.servers)
      addServer(this.world, serverRecord(this.world, structuredClone(server), serverCreatedAt));
    for (const volume of estate.volumes) addVolume(this.world, structuredClone(volume));
    for (const instance of estate.protectedInstances) {
      const created = parseTime(instance.createdAt, options.now - 20 * day);
      addInstance(this.world, {
        id: instance.id,
        name: instance.name,
        description: instance.description,
        groupId: instance.groupId,
        sourceServerId: instance.sourceServerId,
        targetServerId: instance.targetServerId,
        status: instance.status,
        tags: [],
        createdAt: created,
        updatedAt: created,
      });
      if (instance.targetServerId !== undefined) {
        const target = this.world.servers.get(instance.targetServerId);
        if (target !== undefined) target.drSiteOf = instance.id;
        this.#pairVolumes(instance.groupId, instance.sourceServerId, target);
      }
    }
    applyEstatePairs(this.world, estate);
  }

  /** A new resource id, from the seeded id stream. */
  newId(): string {
    return this.#freshId(() => this.#ids.uuid());
  }

  /** A replication or volume job whose effect is applied when it ends (lib/sim/replication.ts). */
  startEffectJob(
    kind: ReplicationJobKind,
    groupId: string,
    serverIds: string[],
    now: number,
    effect: (at: number) => JobFailure | undefined,
  ): SimJob {
    const job = this.#newJob(kind, groupId, serverIds, now);
    job.effect = effect;
    job.entities = {};
    const injected = this.#faults.jobFailure(serverIds);
    if (injected !== undefined) job.failure = { errorCode: injected.errorCode, failReason: injected.failReason };
    return job;
  }

  // -------------------------------------------------------------------------------------------
  // Jobs
  // -------------------------------------------------------------------------------------------

  #duration(kind: SimJobKind): number {
    const { minMs, maxMs } = this.#jobDurations[kind];
    return this.#durations.between(Math.min(minMs, maxMs), Math.max(minMs, maxMs));
  }

  #newJob(kind: SimJobKind, groupId: string, serverIds: string[], now: number): SimJob {
    const duration = this.#duration(kind);
    const job: SimJob = {
      id: this.#freshId(() => this.#ids.hex(32)),
      kind,
      jobType: JOB_TYPES[kind],
      groupId,
      beginAt: now,
      initUntil: now + Math.min(MAX_INIT_MS, Math.floor(duration / 10)),
      endAt: now + duration,
      serverIds,
      tasks: [],
    };
    this.world.jobs.set(job.id, job);
    this.#unfinished.add(job);
    this.#dueNoLaterThan(job.endAt);
    return job;
  }

  #dueNoLaterThan(at: number): void {
    this.#nextDueAt = Math.min(this.#nextDueAt, at);
  }

  /** Applies every job step that is due at `now`, in time order. */
  settle(now: number): void {
    if (now < this.#nextDueAt) return;
    let nextDueAt = Number.POSITIVE_INFINITY;
    const due: { at: number; apply: (at: number) => void }[] = [];
    for (const job of this.#unfinished) {
      if (job.tasks.length === 0) {
        if (job.endAt > now) {
          nextDueAt = Math.min(nextDueAt, job.endAt);
          continue;
        }
        if (this.#faults.holds(job.serverIds)) {
          job.heldByFault = true;
          nextDueAt = Number.NEGATIVE_INFINITY;
          continue;
        }
        due.push({ at: job.heldByFault === true ? now : job.endAt, apply: (at) => this.#finishJob(job, at) });
        continue;
      }
      for (const task of job.tasks) {
        if (task.outcome !== undefined) continue;
        if (task.endAt > now) {
          nextDueAt = Math.min(nextDueAt, task.endAt);
          continue;
        }
        if (this.#faults.holds([task.serverId])) {
          task.heldByFault = true;
          nextDueAt = Number.NEGATIVE_INFINITY;
          continue;
        }
        due.push({ at: task.heldByFault === true ? now : task.endAt, apply: (at) => this.#finishTask(job, task, at) });
      }
    }
    this.#nextDueAt = nextDueAt;
    due.sort((a, b) => a.at - b.at);
    for (const step of due) step.apply(step.at);
    for (const job of this.#unfinished) {
      if (job.tasks.length > 0 && job.tasks.every((task) => task.outcome !== undefined)) this.#finishInstanceJob(job);
      if (job.outcome !== undefined) this.#unfinished.delete(job);
    }
  }

  #finishTask(job: SimJob, task: JobTask, at: number): void {
    task.endedAt = at;
    const instance = this.world.instances.get(task.instanceId);
    const group = this.world.groups.get(job.groupId);
    const source = this.world.servers.get(task.serverId);
    if (task.failure !== undefined || instance === undefined || group === undefined || source === undefined) {
      task.outcome = "FAIL";
      task.failure ??= {
        errorCode: "SDRS.1350",
        failReason: `protected instance ${task.instanceId} disappeared while being created`,
      };
      // Rollback: the failed instance is removed so that a later create for the same server can succeed.
      if (instance !== undefined) removeInstance(this.world, instance);
      if (task.ip !== undefined && group !== undefined)
        releaseIp(this.world, group.vpcId, task.ip, `protected instance ${task.instanceId}`);
      return;
    }
    const drServer = this.#createDrServer(
      source,
      group,
      task.flavorRef,
      { subnetId: task.subnetId, ip: task.ip },
      instance.id,
      at,
    );
    setInstanceTarget(this.world, instance, drServer.id);
    instance.status = group.status === "protected" ? "protected" : "available";
    instance.updatedAt = at;
    instance.creatingJobId = undefined;
    task.nativeServerId = drServer.id;
    task.outcome = "SUCCESS";
  }

  #createDrServer(
    source: SimServer,
    group: SimProtectionGroup,
    flavorRef: string | undefined,
    nic: { subnetId?: string | undefined; ip?: string | undefined },
    instanceId: string,
    at: number,
  ): SimServer {
    const drServer = serverRecord(
      this.world,
      {
        id: this.#freshId(() => this.#ids.uuid()),
        name: source.name,
        status: "SHUTOFF",
        az: drSiteAvailabilityZone(group),
        vpcId: group.vpcId,
        flavor: flavorRef ?? source.flavor,
        osType: source.osType,
        imageName: source.imageName,
        imageId: source.imageId,
        keyName: source.keyName,
        securityGroupIds: source.securityGroupIds,
        subnetId: nic.subnetId ?? source.subnetId,
        ip: nic.ip,
        locked: false,
        frozen: false,
        tags: {},
        volumes: [],
      },
      at,
    );
    drServer.drSiteOf = instanceId;
    addServer(this.world, drServer);
    this.#pairVolumes(group.id, source.id, drServer);
    return drServer;
  }

  /** Replication pairs and DR-site disks; a shared disk gets one pair and one DR disk for its whole cluster. */
  #pairVolumes(groupId: string, sourceServerId: string, drServer: SimServer | undefined): void {
    const source = this.world.servers.get(sourceServerId);
    if (source === undefined) return;
    source.volumes.forEach((attached, index) => {
      let pair = this.world.replicationPairs.get(attached.id);
      if (pair === undefined) {
        const sourceVolume = this.world.volumes.get(attached.id);
        const existingDrDisk = drServer?.volumes[index]?.id;
        let drVolumeId = existingDrDisk ?? this.#freshId(() => this.#ids.uuid());
        if (existingDrDisk === undefined && sourceVolume !== undefined && drServer !== undefined) {
          addVolume(this.world, {
            id: drVolumeId,
            name: sourceVolume.name,
            size: sourceVolume.size,
            multiattach: sourceVolume.multiattach,
            encrypted: false,
            frozen: false,
            serviceType: sourceVolume.serviceType,
            volumeType: sourceVolume.volumeType,
            az: drServer.az,
            tags: {},
          });
        } else if (existingDrDisk === undefined) {
          drVolumeId = "";
        }
        pair = { id: this.#freshId(() => this.#ids.uuid()), groupId, sourceVolumeId: attached.id, drVolumeId };
        addReplicationPair(this.world, pair);
      }
      if (
        drServer !== undefined &&
        pair.drVolumeId !== "" &&
        !drServer.volumes.some((volume) => volume.id === pair.drVolumeId)
      ) {
        attachVolume(this.world, drServer, { id: pair.drVolumeId, bootIndex: attached.bootIndex });
      }
    });
  }

  #finishInstanceJob(job: SimJob): void {
    const failed = job.tasks.filter((task) => task.outcome === "FAIL");
    job.endedAt = Math.max(...job.tasks.map((task) => task.endedAt ?? job.endAt));
    if (failed.length === 0) {
      job.outcome = "SUCCESS";
      return;
    }
    job.outcome = "FAIL";
    const first = failed[0]?.failure;
    job.errorCode = first?.errorCode ?? "SDRS.1350";
    job.failReason =
      job.kind === "createProtectedInstance"
        ? first?.failReason
        : `${failed.length} of ${job.tasks.length} sub-jobs failed: ${failed.map((task) => `${task.serverId}: ${task.failure?.errorCode ?? ""} ${task.failure?.failReason ?? ""}`.trim()).join("; ")}`;
  }

  #finishJob(job: SimJob, at: number): void {
    job.endedAt = at;
    if (job.effect !== undefined) {
      const failure = job.failure ?? job.effect(at);
      job.outcome = failure === undefined ? "SUCCESS" : "FAIL";
      job.errorCode = failure?.errorCode;
      job.failReason = failure?.failReason;
      return;
    }
    const group = this.world.groups.get(job.groupId);
    if (job.failure !== undefined || group === undefined) {
      job.outcome = "FAIL";
      job.errorCode = job.failure?.errorCode ?? "SDRS.1013";
      job.failReason = job.failure?.failReason ?? `protection group ${job.groupId} disappeared`;
      if (group !== undefined) {
        group.status = job.kind === "createProtectionGroup" ? "error" : "error-starting";
        group.updatedAt = at;
      }
      return;
    }
    job.outcome = "SUCCESS";
    group.updatedAt = at;
    if (job.kind === "createProtectionGroup") {
      group.status = "available";
      return;
    }
    group.status = "protected";
    for (const instance of instancesOfGroup(this.world, group.id)) {
      if (instance.status === "available") {
        instance.status = "protected";
        instance.updatedAt = at;
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Creates (the request body is unknown JSON; every rule is checked here, in the documented order)
  // -------------------------------------------------------------------------------------------

  #groupForCreate(groupId: string): SimProtectionGroup | ApiError {
    const group = this.world.groups.get(groupId);
    if (group === undefined) {
      return sdrsError("SDRS.0207", `server_group_id: protection group ${groupId} does not exist`);
    }
    return checkGroupAcceptsInstances(group) ?? group;
  }

  #startInstanceJob(
    kind: "createProtectedInstance" | "batchCreateProtectedInstances",
    group: SimProtectionGroup,
    entries: { server: SimServer; name: string; flavorRef?: string | undefined }[],
    common: {
      description?: string | undefined;
      tags?: { key: string; value: string }[] | undefined;
      /** The DR-site NIC: primary_subnet_id (single and batch), primary_ip_address (single only). */
      subnetId?: string | undefined;
      ip?: string | undefined;
    },
    now: number,
  ): { jobId: string } {
    const serverIds = entries.map((entry) => entry.server.id);
    const job = this.#newJob(kind, group.id, serverIds, now);
    const injected = this.#faults.jobFailure(serverIds);
    const lastIndex = this.#durations.between(0, entries.length - 1);
    entries.forEach((entry, index) => {
      const instanceId = this.#freshId(() => this.#ids.uuid());
      const intrinsic: JobFailure | undefined = jobFailureFor(this.world, entry.server);
      const failure =
        intrinsic ??
        (injected?.failing.has(entry.server.id) === true
          ? { errorCode: injected.errorCode, failReason: injected.failReason }
          : undefined);
      const duration = job.endAt - job.beginAt;
      const floor = Math.min(this.#jobDurations[kind].minMs, duration);
      job.tasks.push({
        subJobId: kind === "createProtectedInstance" ? job.id : this.#freshId(() => this.#ids.hex(32)),
        serverId: entry.server.id,
        instanceId,
        endAt: index === lastIndex ? job.endAt : job.beginAt + this.#durations.between(floor, duration),
        failure,
        flavorRef: entry.flavorRef,
        subnetId: common.subnetId,
        ip: common.ip,
      });
      if (common.ip !== undefined) reserveIp(this.world, group.vpcId, common.ip, `protected instance ${instanceId}`);
      this.#dueNoLaterThan(job.tasks[job.tasks.length - 1]?.endAt ?? job.beginAt);
      const instance: SimProtectedInstance = {
        id: instanceId,
        name: entry.name,
        description: common.description,
        groupId: group.id,
        sourceServerId: entry.server.id,
        status: "creating",
        tags: common.tags ?? [],
        createdAt: now,
        updatedAt: now,
        creatingJobId: job.id,
      };
      addInstance(this.world, instance);
    });
    return { jobId: job.id };
  }

  createProtectedInstance(raw: unknown, now: number): { jobId: string } | ApiError {
    const parsed = createProtectedInstanceRequest.safeParse(raw);
    if (!parsed.success) return issueError(parsed.error.issues);
    const body = parsed.data.protected_instance;
    const group = this.#groupForCreate(body.server_group_id);
    if (isApiError(group)) return group;
    const drSite = checkDrFlavor(this.world, group, body.flavorRef) ?? checkDrPlacement(this.world, group, body);
    if (drSite !== undefined) return drSite;
    const server = this.world.servers.get(body.server_id);
    if (server === undefined) return sdrsError("SDRS.1326", `server_id: server ${body.server_id} does not exist`);
    const broken =
      checkServerForCreate(this.world, group, server, {
        single: true,
        requestServerIds: new Set([server.id]),
        tenancy: body.tenancy,
      }) ?? checkGroupCapacity(this.world, group, 1);
    if (broken !== undefined) return broken;
    return this.#startInstanceJob(
      "createProtectedInstance",
      group,
      [{ server, name: body.name, flavorRef: body.flavorRef }],
      { description: body.description, tags: body.tags, subnetId: body.primary_subnet_id, ip: body.primary_ip_address },
      now,
    );
  }

  batchCreateProtectedInstances(raw: unknown, now: number): { jobId: string } | ApiError {
    const parsed = batchCreateRequest(this.#batchLimit).safeParse(raw);
    if (!parsed.success) return issueError(parsed.error.issues);
    const body = parsed.data.protected_instances;
    const group = this.#groupForCreate(body.server_group_id);
    if (isApiError(group)) return group;
    const placement = checkDrPlacement(this.world, group, body);
    if (placement !== undefined) return placement;
    const requestServerIds = new Set(body.servers.map((entry) => entry.server_id));
    const entries: { server: SimServer; name: string; flavorRef?: string | undefined }[] = [];
    for (const [index, entry] of body.servers.entries()) {
      const drFlavor = checkDrFlavor(this.world, group, entry.flavorRef);
      if (drFlavor !== undefined) return drFlavor;
      const server = this.world.servers.get(entry.server_id);
      if (server === undefined) {
        return sdrsError("SDRS.1360", `servers.${index}.server_id: server ${entry.server_id} does not exist`);
      }
      const broken = checkServerForCreate(this.world, group, server, {
        single: false,
        requestServerIds,
        tenancy: body.tenancy,
      });
      if (broken !== undefined) return broken;
      // The service appends "-0001"-style suffixes to name_prefix (seed: batch create).
      entries.push({
        server,
        name: `${body.name_prefix}-${String(index + 1).padStart(4, "0")}`,
        flavorRef: entry.flavorRef,
      });
    }
    const full = checkGroupCapacity(this.world, group, entries.length);
    if (full !== undefined) return full;
    return this.#startInstanceJob(
      "batchCreateProtectedInstances",
      group,
      entries,
      { description: body.description, tags: body.tags, subnetId: body.primary_subnet_id },
      now,
    );
  }

  createProtectionGroup(raw: unknown, now: number): { jobId: string } | ApiError {
    const parsed = createProtectionGroupRequest.safeParse(raw);
    if (!parsed.success) return issueError(parsed.error.issues);
    const body = parsed.data.server_group;
    const domain = this.world.activeDomains.find((candidate) => candidate.id === body.domain_id);
    if (domain === undefined)
      return sdrsError("SDRS.0205", `domain_id: active-active domain ${body.domain_id} does not exist`);
    const zones = new Set([domain.localAz, domain.remoteAz]);
    if (
      body.source_availability_zone === body.target_availability_zone ||
      !zones.has(body.source_availability_zone) ||
      !zones.has(body.target_availability_zone)
    ) {
      return sdrsError(
        "SDRS.0203",
        `source_availability_zone ${body.source_availability_zone} and target_availability_zone ${body.target_availability_zone} must be the two AZs of active-active domain ${domain.id} (${domain.localAz}, ${domain.remoteAz})`,
      );
    }
    if (this.world.vpcIds.size > 0 && !this.world.vpcIds.has(body.source_vpc_id)) {
      return sdrsError("SDRS.0204", `source_vpc_id: VPC ${body.source_vpc_id} does not exist`);
    }
    const group: SimProtectionGroup = {
      id: this.#freshId(() => this.#ids.uuid()),
      name: body.name,
      description: body.description,
      status: "creating",
      sourceAz: body.source_availability_zone,
      targetAz: body.target_availability_zone,
      priorityStation: "source",
      vpcId: body.source_vpc_id,
      domainId: domain.id,
      createdAt: now,
      updatedAt: now,
    };
    this.world.groups.set(group.id, group);
    const job = this.#newJob("createProtectionGroup", group.id, [], now);
    const injected = this.#faults.jobFailure([]);
    if (injected !== undefined) job.failure = { errorCode: injected.errorCode, failReason: injected.failReason };
    return { jobId: job.id };
  }

  /** POST …/server-groups/{id}/action with {"start-server-group": {}} (enable protection). */
  protectionGroupAction(groupId: string, raw: unknown, now: number): { jobId: string } | ApiError {
    const group = this.world.groups.get(groupId);
    if (group === undefined) return sdrsError("SDRS.1013", `protection group ${groupId} does not exist`);
    const parsed = startServerGroupRequest.safeParse(raw);
    if (!parsed.success) {
      return sdrsError(
        "SDRS.0201",
        `(body): the simulator supports only the action {"start-server-group": {}} (enable protection)`,
      );
    }
    if (group.status !== "available" && group.status !== "error-starting") {
      return sdrsError(
        "SDRS.1017",
        `protection group ${group.id} (${group.name}) is ${group.status}: protection can be enabled only when the group is available or error-starting`,
      );
    }
    const members = [...instancesOfGroup(this.world, group.id)];
    if (!members.some((instance) => instance.status === "available")) {
      return sdrsError(
        "SDRS.1002",
        `protection group ${group.id} (${group.name}) has no available protected instance (replication pair): create protected instances first`,
      );
    }
    const serverIds = members.map((instance) => instance.sourceServerId);
    const job = this.#newJob("enableProtection", group.id, serverIds, now);
    const injected = this.#faults.jobFailure(serverIds);
    if (injected !== undefined) job.failure = { errorCode: injected.errorCode, failReason: injected.failReason };
    group.status = "starting";
    group.updatedAt = now;
    return { jobId: job.id };
  }

  /** Test/local control: replace a server's tags (the local runtime "tags" servers this way). */
  setServerTags(serverId: string, tags: Record<string, string>): boolean {
    const server = this.world.servers.get(serverId);
    if (server === undefined) return false;
    setServerTags(this.world, server, tags);
    return true;
  }
}
