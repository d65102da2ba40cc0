/**
 * The typed cloud client: SDRS, ECS, EVS, Auto Scaling and IAM operations, read as a table over the
 * transport of lib/sdrs/transport.ts (signing, retries, timeouts, request log). Every request body is
 * validated with the zod schemas of lib/sdrs/schemas.ts before it is sent (a broken rule is refused
 * with the SDRS code the API would answer) and every answer is parsed with them.
 *
 * Reads are retried by the transport; creates never are (an answer that does not say whether the
 * create was applied is an AmbiguousCreateError).
 */
import type * as z from "../zod.ts";
import type { CloudConfig } from "./config.ts";
import { RequestValidationError } from "./errors.ts";
import type { OperationName } from "./operations.ts";
import { allPages, type ListCall } from "./paging.ts";
import {
  attachReplicationRequest,
  attachServerVolumeRequest,
  type CreateReplicationBody,
  createReplicationRequest,
  extendReplicationRequest,
  type ReplicationPair,
  replicationPairList,
  replicationPairResponse,
} from "./replication-schemas.ts";
import {
  type ActiveDomain,
  activeDomainList,
  type BatchCreateBody,
  batchCreateRequest,
  type CreateProtectedInstanceBody,
  type CreateProtectionGroupBody,
  createProtectedInstanceRequest,
  createProtectionGroupRequest,
  type EcsServer,
  type EvsVolume,
  ecsServerList,
  ecsServerListById,
  ecsServerResponse,
  ecsServerTags,
  evsVolumeList,
  type Job,
  job,
  jobAccepted,
  type Keypair,
  keypairList,
  MAX_IDS_PER_LIST_FILTER,
  type ProtectedInstance,
  type ProtectionGroup,
  protectedInstanceList,
  protectedInstanceResponse,
  protectionGroupList,
  protectionGroupResponse,
  type ResourceTag,
  type ScalingGroup,
  type ScalingGroupInstance,
  scalingGroupInstanceList,
  scalingGroupList,
  startServerGroupRequest,
} from "./schemas.ts";
import { CloudTransport, type Query, type TransportOptions } from "./transport.ts";

export type { Keypair, ScalingGroup, ScalingGroupInstance } from "./schemas.ts";
// The names importers have always taken from the client module.
export type { RequestLogEntry, RetryNotice } from "./transport.ts";

export interface CloudClientOptions extends TransportOptions {
  /** Items per page of list calls: at most 1000 (SDRS, ECS, EVS) or 100 (Auto Scaling). Default 1000. */
  pageSize?: number;
}

/** SDRS, ECS and EVS list calls take at most 1000 items per page. */
const MAX_PAGE_SIZE = 1000;
/** Auto Scaling list calls take at most 100 per page. */
const MAX_AS_PAGE_SIZE = 100;

export interface ProtectionGroupFilter {
  status?: string;
  /** Fuzzy match. */
  name?: string;
  /** Current production AZ of the group. */
  availabilityZone?: string;
  queryType?: "status_abnormal" | "stop_protected" | "period_no_dr_drill";
}

export interface ProtectedInstanceFilter {
  serverGroupId?: string;
  /** Any number of ids; sent 30 per request (SDRS.0226). */
  serverGroupIds?: readonly string[];
  /** Any number of ids; sent 30 per request (SDRS.0226). */
  protectedInstanceIds?: readonly string[];
  status?: string;
  name?: string;
  availabilityZone?: string;
}

export interface ReplicationFilter {
  /** Any number of groups; sent 30 per request (SDRS.0226). */
  serverGroupIds?: readonly string[];
  protectedInstanceId?: string;
  queryType?: "status_abnormal";
}

export interface ServerFilter {
  /** ECS `tags` filter, passed as given (e.g. `sdrs_protect=group-1`). */
  tags?: string;
  /**
   * Only these servers: ECS `server_id=id1,id2` (exact match), sent MAX_SERVER_IDS_PER_LIST ids per request.
   * An empty list lists nothing.
   */
  serverIds?: readonly string[];
  /** Servers per page, at most 1000 (default: the client's page size). */
  limit?: number;
}

export interface VolumeFilter {
  serverId?: string;
  multiattach?: boolean;
  /** Only these volumes: EVS `ids=['id1','id2']`, at most 60 per request (HW ListVolumes); an empty list lists nothing. */
  ids?: readonly string[];
}

/**
 * ECS documents `server_id=id1,id2` without a maximum; 100 ids keep the URL near 4 KB, far below any
 * gateway's limit.
 */
export const MAX_SERVER_IDS_PER_LIST = 100;
/** EVS ListVolumes: "details of at most 60 disks can be queried" with `ids`. */
export const MAX_VOLUME_IDS_PER_LIST = 60;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

export class CloudClient {
  readonly #config: CloudConfig;
  readonly #transport: CloudTransport;
  readonly #pageSize: number;

  constructor(config: CloudConfig, options: CloudClientOptions = {}) {
    this.#config = config;
    this.#transport = new CloudTransport(config, options);
    this.#pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? MAX_PAGE_SIZE)));
  }

  /** The per-call server limit batch creates are validated against. */
  get batchLimit(): number {
    return this.#config.batchLimit;
  }

  /** HTTP requests sent so far (every attempt), by operation name. */
  counts(): Record<string, number> {
    return this.#transport.counts();
  }

  resetCounts(): void {
    this.#transport.resetCounts();
  }

  // -------------------------------------------------------------------------------------------
  // SDRS creates: validated, never retried, answered with a job id
  // -------------------------------------------------------------------------------------------

  /** POST /v1/{project_id}/protected-instances */
  async createProtectedInstance(body: CreateProtectedInstanceBody): Promise<{ jobId: string }> {
    const request = this.#validate("createProtectedInstance", createProtectedInstanceRequest, {
      protected_instance: body,
    });
    return this.#create("createProtectedInstance", {}, request);
  }

  /** POST /v1/{project_id}/protected-instances/batch; at most `batchLimit` servers (5 by default). */
  async batchCreateProtectedInstances(body: BatchCreateBody): Promise<{ jobId: string }> {
    const request = this.#validate("batchCreateProtectedInstances", batchCreateRequest(this.#config.batchLimit), {
      protected_instances: body,
    });
    return this.#create("batchCreateProtectedInstances", {}, request);
  }

  /** POST /v1/{project_id}/server-groups */
  async createProtectionGroup(body: CreateProtectionGroupBody): Promise<{ jobId: string }> {
    const request = this.#validate("createProtectionGroup", createProtectionGroupRequest, { server_group: body });
    return this.#create("createProtectionGroup", {}, request);
  }

  /** POST /v1/{project_id}/server-groups/{id}/action with {"start-server-group":{}} (enable protection). */
  async enableProtection(serverGroupId: string): Promise<{ jobId: string }> {
    const request = startServerGroupRequest.parse({ "start-server-group": {} });
    return this.#create("protectionGroupAction", { server_group_id: serverGroupId }, request);
  }

  // -------------------------------------------------------------------------------------------
  // SDRS reads
  // -------------------------------------------------------------------------------------------

  async getJob(jobId: string): Promise<Job> {
    return this.#read("showJob", { job_id: jobId }, job, (answer) => answer);
  }

  async getProtectionGroup(serverGroupId: string): Promise<ProtectionGroup> {
    return this.#read(
      "showProtectionGroup",
      { server_group_id: serverGroupId },
      protectionGroupResponse,
      (answer) => answer.server_group,
    );
  }

  /** Every protection group matching the filter, all pages. */
  async listProtectionGroups(filter: ProtectionGroupFilter = {}): Promise<ProtectionGroup[]> {
    return this.#allPages({
      operation: "listProtectionGroups",
      filter: {
        status: filter.status,
        name: filter.name,
        availability_zone: filter.availabilityZone,
        query_type: filter.queryType,
      },
      response: protectionGroupList,
      itemsOf: (page) => page.server_groups,
      paging: { style: "offset", limit: this.#pageSize },
    });
  }

  async getProtectedInstance(protectedInstanceId: string): Promise<ProtectedInstance> {
    return this.#read(
      "showProtectedInstance",
      { protected_instance_id: protectedInstanceId },
      protectedInstanceResponse,
      (answer) => answer.protected_instance,
    );
  }

  /**
   * Every protected instance matching the filter, all pages. ID lists are sent as JSON arrays
   * (`["a","b"]`, URL-encoded), 30 ids per request; give at most one of the three id filters
   * (SDRS silently ignores the others).
   */
  async listProtectedInstances(filter: ProtectedInstanceFilter = {}): Promise<ProtectedInstance[]> {
    const given = (["serverGroupId", "serverGroupIds", "protectedInstanceIds"] as const).filter(
      (key) => filter[key] !== undefined,
    );
    if (given.length > 1) {
      throw new RequestValidationError("listProtectedInstances", [
        {
          field: given.join(", "),
          rule: "give at most one of serverGroupId, serverGroupIds, protectedInstanceIds (SDRS ignores all but one)",
          code: "SDRS.0201",
        },
      ]);
    }
    const common = { status: filter.status, name: filter.name, availability_zone: filter.availabilityZone };
    const listBy = (query: Query) =>
      this.#allPages({
        operation: "listProtectedInstances",
        filter: { ...common, ...query },
        response: protectedInstanceList,
        itemsOf: (page) => page.protected_instances,
        paging: { style: "offset", limit: this.#pageSize },
      });

    const idFilter = filter.serverGroupIds
      ? { name: "server_group_ids", ids: filter.serverGroupIds }
      : filter.protectedInstanceIds
        ? { name: "protected_instance_ids", ids: filter.protectedInstanceIds }
        : undefined;
    if (idFilter === undefined) return listBy({ server_group_id: filter.serverGroupId });
    // An empty list filter would list everything; an empty id list means nothing to list.
    const ids = [...new Set(idFilter.ids)];
    const instances: ProtectedInstance[] = [];
    for (const ids30 of chunk(ids, MAX_IDS_PER_LIST_FILTER)) {
      instances.push(...(await listBy({ [idFilter.name]: JSON.stringify(ids30) })));
    }
    return instances;
  }

  async listActiveDomains(): Promise<ActiveDomain[]> {
    return this.#read("listActiveDomains", {}, activeDomainList, (answer) => answer.domains);
  }

  // -------------------------------------------------------------------------------------------
  // ECS, EVS, Auto Scaling
  // -------------------------------------------------------------------------------------------

  async getServer(serverId: string): Promise<EcsServer> {
    return this.#read("showServer", { server_id: serverId }, ecsServerResponse, (answer) => answer.server);
  }

  /** Every server (matching `tags`), all pages, paged by `marker`. */
  async listServers(filter: ServerFilter = {}): Promise<EcsServer[]> {
    const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(filter.limit ?? this.#pageSize)));
    if (filter.serverIds === undefined) {
      return this.#allPages({
        operation: "listServersDetails",
        filter: { tags: filter.tags },
        response: ecsServerList,
        itemsOf: (page) => page.servers,
        paging: { style: "marker", limit, idOf: (server) => server.id },
      });
    }
    const servers: EcsServer[] = [];
    for (const ids of chunk([...new Set(filter.serverIds)], MAX_SERVER_IDS_PER_LIST)) {
      const entries = await this.#allPages({
        operation: "listServersDetails",
        filter: { tags: filter.tags, server_id: ids.join(",") },
        response: ecsServerListById,
        itemsOf: (page) => page.servers,
        paging: { style: "marker", limit, idOf: (entry) => entry.id },
      });
      // Filtered after paging, so a page holding a missing id still counts as a full page. A server in ERROR
      // carries a `fault` too: a missing one is the entry whose fields (name, status, …) are null.
      servers.push(
        ...entries.filter(
          (entry): entry is EcsServer => typeof entry.name === "string" && typeof entry.status === "string",
        ),
      );
    }
    return servers;
  }

  /** GET /v1/{project_id}/cloudservers/{id}/tags → [{key, value}] */
  async getServerTags(serverId: string): Promise<ResourceTag[]> {
    return this.#read("showServerTags", { server_id: serverId }, ecsServerTags, (answer) =>
      answer.tags.map(({ key, value }) => ({ key, value })),
    );
  }

  async listKeypairs(): Promise<Keypair[]> {
    return this.#read("listKeypairs", {}, keypairList, (answer) => answer.keypairs.map(({ keypair }) => keypair));
  }

  /** Every volume (of a server, shared only, …), all pages. */
  async listVolumes(filter: VolumeFilter = {}): Promise<EvsVolume[]> {
    const listBy = (query: Query) =>
      this.#allPages({
        operation: "listVolumes",
        filter: { server_id: filter.serverId, multiattach: filter.multiattach, ...query },
        response: evsVolumeList,
        itemsOf: (page) => page.volumes,
        paging: {
          style: "marker",
          limit: this.#pageSize,
          idOf: (volume) => volume.id,
          hasNextPage: (page) => page.volumes_links?.some((link) => link.rel === "next") === true,
        },
      });
    if (filter.ids === undefined) return listBy({});
    const volumes: EvsVolume[] = [];
    for (const ids of chunk([...new Set(filter.ids)], MAX_VOLUME_IDS_PER_LIST)) {
      volumes.push(...(await listBy({ ids: `[${ids.map((id) => `'${id}'`).join(",")}]` })));
    }
    return volumes;
  }

  async listScalingGroups(): Promise<ScalingGroup[]> {
    return this.#allAutoScalingPages("listScalingGroups", {}, scalingGroupList, (page) => page.scaling_groups);
  }

  async listScalingGroupInstances(scalingGroupId: string): Promise<ScalingGroupInstance[]> {
    return this.#allAutoScalingPages(
      "listScalingGroupInstances",
      { scaling_group_id: scalingGroupId },
      scalingGroupInstanceList,
      (page) => page.scaling_group_instances,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Replication pairs, and ECS volume attach/detach (docs/coverage.md)
  // -------------------------------------------------------------------------------------------

  /** Every replication pair of the groups (one listing per 30 groups, all pages) or of one protected instance. */
  async listReplications(filter: ReplicationFilter): Promise<ReplicationPair[]> {
    const listBy = (query: Query) =>
      this.#allPages({
        operation: "listReplications",
        filter: { query_type: filter.queryType, ...query },
        response: replicationPairList,
        itemsOf: (page) => page.replications,
        paging: { style: "offset", limit: this.#pageSize },
      });
    if (filter.protectedInstanceId !== undefined) return listBy({ protected_instance_id: filter.protectedInstanceId });
    const pairs: ReplicationPair[] = [];
    for (const ids30 of chunk([...new Set(filter.serverGroupIds ?? [])], MAX_IDS_PER_LIST_FILTER)) {
      pairs.push(
        ...(await listBy(
          ids30.length === 1 ? { server_group_id: ids30[0] } : { server_group_ids: JSON.stringify(ids30) },
        )),
      );
    }
    return pairs;
  }

  async getReplication(replicationId: string): Promise<ReplicationPair> {
    return this.#read(
      "showReplication",
      { replication_id: replicationId },
      replicationPairResponse,
      (answer) => answer.replication,
    );
  }

  /** POST /v1/{project_id}/replications: the disk must be `available`; the DR disk is created by SDRS. */
  async createReplication(body: CreateReplicationBody): Promise<{ jobId: string }> {
    const request = this.#validate("createReplication", createReplicationRequest, { replication: body });
    return this.#create("createReplication", {}, request);
  }

  /** DELETE …/replications/{id} (with a body): the pair must be detached; the DR disk is kept unless asked. */
  async deleteReplication(
    replicationId: string,
    options: { deleteTargetVolume?: boolean } = {},
  ): Promise<{ jobId: string }> {
    return this.#create(
      "deleteReplication",
      { replication_id: replicationId },
      { delete_target_volume: options.deleteTargetVolume ?? false },
    );
  }

  /** POST …/replications/{id}/action {"extend-replication": {new_size}}: grows both disks. */
  async expandReplication(replicationId: string, newSizeGb: number): Promise<{ jobId: string }> {
    const request = this.#validate("replicationAction", extendReplicationRequest, {
      "extend-replication": { new_size: newSizeGb },
    });
    return this.#create("replicationAction", { replication_id: replicationId }, request);
  }

  /** POST …/protected-instances/{id}/attachreplication: attaches the production disk and its DR twin. */
  async attachReplication(
    protectedInstanceId: string,
    replicationId: string,
    device: string,
  ): Promise<{ jobId: string }> {
    const request = this.#validate("attachReplication", attachReplicationRequest, {
      replicationAttachment: { replication_id: replicationId, device },
    });
    return this.#create("attachReplication", { protected_instance_id: protectedInstanceId }, request);
  }

  async detachReplication(protectedInstanceId: string, replicationId: string): Promise<{ jobId: string }> {
    return this.#create(
      "detachReplication",
      { protected_instance_id: protectedInstanceId, replication_id: replicationId },
      undefined,
    );
  }

  /** ECS POST …/cloudservers/{id}/attachvolume */
  async attachServerVolume(serverId: string, volumeId: string, device?: string): Promise<{ jobId: string }> {
    const request = this.#validate("attachServerVolume", attachServerVolumeRequest, {
      volumeAttachment: { volumeId, ...(device === undefined ? {} : { device }) },
    });
    return this.#create("attachServerVolume", { server_id: serverId }, request);
  }

  /** ECS DELETE …/cloudservers/{id}/detachvolume/{volume_id}: the guest must have unmounted the disk. */
  async detachServerVolume(serverId: string, volumeId: string): Promise<{ jobId: string }> {
    return this.#create("detachServerVolume", { server_id: serverId, volume_id: volumeId }, undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Building blocks of the operations
  // -------------------------------------------------------------------------------------------

  #validate<T>(operation: OperationName, schema: z.ZodMiniType<T>, request: unknown): T {
    const parsed = schema.safeParse(request);
    if (!parsed.success) throw RequestValidationError.fromZod(operation, parsed.error);
    return parsed.data;
  }

  async #create(operation: OperationName, path: Record<string, string>, body: unknown): Promise<{ jobId: string }> {
    const { data } = await this.#transport.call({ operation, path, body, response: jobAccepted });
    return { jobId: data.job_id };
  }

  /** A single read: the answer parsed with `response`, and the part of it the caller wants. */
  async #read<P, T>(
    operation: OperationName,
    path: Record<string, string>,
    response: z.ZodMiniType<P>,
    pick: (answer: P) => T,
  ): Promise<T> {
    const { data } = await this.#transport.call({ operation, path, response });
    return pick(data);
  }

  #allPages<P, T>(list: ListCall<P, T>): Promise<T[]> {
    return allPages(this.#transport, list);
  }

  /** Auto Scaling lists page by `start_number`, at most 100 per page. */
  #allAutoScalingPages<P, T>(
    operation: OperationName,
    path: Record<string, string>,
    response: z.ZodMiniType<P>,
    itemsOf: (page: P) => T[],
  ): Promise<T[]> {
    return this.#allPages({
      operation,
      filter: {},
      response,
      itemsOf,
      paging: { style: "startNumber", limit: Math.min(MAX_AS_PAGE_SIZE, this.#pageSize) },
      path,
    });
  }
}
