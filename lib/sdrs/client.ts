/**
 * The typed cloud client: SDRS, ECS, EVS, Auto Scaling and IAM over fetch. Every request body is
 * validated with the zod schemas of lib/sdrs/schemas.ts before it is sent (a broken rule is refused
 * with the SDRS code the API would answer) and every answer is parsed with them.
 *
 * Reads are retried on 429, 5xx, timeouts and network errors (exponential backoff, full jitter,
 * Retry-After, bounded budget). Creates are never retried: an answer that does not say whether the
 * create was applied (timeout, 5xx, connection dropped after sending) is an AmbiguousCreateError.
 */
import type * as z from "zod";
import { type Clock, systemClock } from "../clock.ts";
import { type IssuedToken, signedHeaders, TokenCache, tokenRequestBody, tokenResponseBody } from "./auth.ts";
import { Secret } from "../secret.ts";
import {
  type CloudConfig,
  CloudConfigError,
  type CloudService,
  ENDPOINT_VARIABLES,
  type RetryPolicy,
} from "./config.ts";
import {
  type AmbiguityReason,
  AmbiguousCreateError,
  CLIENT_ERROR_CODES,
  CloudApiError,
  cloudApiErrorFromResponse,
  RequestValidationError,
} from "./errors.ts";
import { expandPath, OPERATIONS, type OperationName } from "./operations.ts";
import { parseRetryAfter } from "../http/retry-after.ts";
import { nextRetry } from "./retry.ts";
import {
  activeDomainList,
  type ActiveDomain,
  type BatchCreateBody,
  batchCreateRequest,
  type CreateProtectedInstanceBody,
  createProtectedInstanceRequest,
  type CreateProtectionGroupBody,
  createProtectionGroupRequest,
  ecsServerList,
  ecsServerListById,
  ecsServerResponse,
  ecsServerTags,
  type EcsServer,
  evsVolumeList,
  type EvsVolume,
  type Job,
  job,
  jobAccepted,
  keypairList,
  MAX_IDS_PER_LIST_FILTER,
  type ProtectedInstance,
  protectedInstanceList,
  protectedInstanceResponse,
  type ProtectionGroup,
  protectionGroupList,
  protectionGroupResponse,
  type ResourceTag,
  scalingGroupInstanceList,
  scalingGroupList,
  startServerGroupRequest,
} from "./schemas.ts";
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

/** One line per HTTP attempt, for logs and metrics; never headers, bodies or secrets. */
export interface RequestLogEntry {
  operation: OperationName;
  /** The API the operation belongs to (sdrs, ecs, evs, as, iam). */
  service: CloudService;
  /** The SDRS job the call reads (showJob) or that a create answered with. */
  jobId?: string;
  method: string;
  /** Undefined when no answer arrived (timeout, network error). */
  status: number | undefined;
  /** 1 for the first attempt of a request. */
  attempt: number;
  durationMs: number;
  requestId: string | undefined;
  /** The error code of a failed attempt (SDRS.xxxx, APIGW.xxxx, NETWORK_ERROR, TIMEOUT …). */
  errorCode?: string;
}

export interface CloudClientOptions {
  /** Dates the AK/SK signature (X-Sdk-Date) and ages the IAM token; default the system clock. */
  clock?: Clock;
  /** Overrides config.retry, field by field. */
  retry?: Partial<RetryPolicy>;
  /** Overrides config.timeoutMs. */
  timeoutMs?: number;
  /** Items per page of list calls: at most 1000 (SDRS, ECS, EVS) or 100 (Auto Scaling). Default 1000. */
  pageSize?: number;
  /** Waits between retries; tests inject an instant one. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for the backoff jitter. */
  random?: () => number;
  logger?: (entry: RequestLogEntry) => void;
  /** Told before each wait for a retry: which try comes next and when (the CLI shows an outage with it). */
  onRetry?: (retry: RetryNotice) => void;
}

export interface RetryNotice {
  operation: OperationName;
  /** The attempt about to be made after the wait (2 for the first retry). */
  attempt: number;
  delayMs: number;
  /** The code of the attempt that failed (NETWORK_ERROR, TIMEOUT, APIGW.0308, SDRS.xxxx …). */
  errorCode: string;
}

/** Creates change the cloud; they are never retried by the client (see AmbiguousCreateError). */
const CREATE_OPERATIONS: ReadonlySet<OperationName> = new Set<OperationName>([
  "createProtectedInstance",
  "batchCreateProtectedInstances",
  "createProtectionGroup",
  "protectionGroupAction",
  "createReplication",
  "deleteReplication",
  "replicationAction",
  "attachReplication",
  "detachReplication",
  "attachServerVolume",
  "detachServerVolume",
]);

const SERVICE_OF_OPERATION: Record<OperationName, CloudService> = {
  createProtectedInstance: "sdrs",
  batchCreateProtectedInstances: "sdrs",
  listProtectedInstances: "sdrs",
  showProtectedInstance: "sdrs",
  createProtectionGroup: "sdrs",
  listProtectionGroups: "sdrs",
  showProtectionGroup: "sdrs",
  protectionGroupAction: "sdrs",
  showJob: "sdrs",
  listActiveDomains: "sdrs",
  showServer: "ecs",
  listServersDetails: "ecs",
  showServerTags: "ecs",
  listKeypairs: "ecs",
  listVolumes: "evs",
  listScalingGroups: "as",
  listScalingGroupInstances: "as",
  createToken: "iam",
  createReplication: "sdrs",
  listReplications: "sdrs",
  showReplication: "sdrs",
  deleteReplication: "sdrs",
  replicationAction: "sdrs",
  attachReplication: "sdrs",
  detachReplication: "sdrs",
  attachServerVolume: "ecs",
  detachServerVolume: "ecs",
};

/** SDRS, ECS and EVS list calls take at most 1000 items per page. */
const MAX_PAGE_SIZE = 1000;
/** Auto Scaling list calls take at most 100 per page. */
const MAX_AS_PAGE_SIZE = 100;

/**
 * Connection errors raised before any byte of the request left: a create that fails with one of
 * these was certainly not applied. Anything else after connecting may have reached the server.
 */
const NOT_SENT_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The job id of a create's answer (`{"job_id": …}`), for the request log; undefined when there is none. */
function answeredJobId(answerText: string): string | undefined {
  try {
    const answer: unknown = JSON.parse(answerText);
    return answer !== null && typeof answer === "object" && "job_id" in answer && typeof answer.job_id === "string" ? answer.job_id : undefined;
  } catch {
    return undefined;
  }
}

type QueryValue = string | number | boolean | undefined;
type Query = Record<string, QueryValue>;

interface CallSpec<T> {
  operation: OperationName;
  path?: Record<string, string>;
  query?: Query;
  /** Already validated; serialized once, and those exact bytes are signed and sent. */
  body?: unknown;
  response: z.ZodType<T>;
}

interface CallResult<T> {
  data: T;
  headers: Headers;
}

type AttemptOutcome =
  | { kind: "answer"; status: number; headers: Headers; bodyText: string; requestId: string | undefined }
  | { kind: "error"; status: number; headers: Headers; error: CloudApiError }
  | { kind: "timeout"; cause: unknown }
  | { kind: "network"; sent: boolean; cause: unknown };

/**
 * How a list call pages, as each service documents it: SDRS `offset` counts items, Auto Scaling
 * `start_number` counts items, ECS and EVS resume after `marker`, the id of the last item of the
 * previous page (ECS deprecates its page-number `offset` for it; EVS says a partial page carries a
 * `volumes_links` "next" link).
 */
type Paging<P, T> =
  | { style: "offset" | "startNumber"; limit: number }
  | { style: "marker"; limit: number; idOf: (item: T) => string; hasNextPage?: (page: P) => boolean };

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

export interface Keypair {
  name: string;
  fingerprint?: string | null | undefined;
}

export interface ScalingGroup {
  scaling_group_id: string;
  scaling_group_name?: string | null | undefined;
}

export interface ScalingGroupInstance {
  instance_id: string;
  life_cycle_state?: string | null | undefined;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return "";
  const pairs = Object.entries(query)
    .filter((pair): pair is [string, string | number | boolean] => pair[1] !== undefined)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

function errorCodesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if ("code" in current && typeof current.code === "string") codes.push(current.code);
    current = "cause" in current ? current.cause : undefined;
  }
  return codes;
}

function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    parts.push(current.message);
    current = current.cause;
  }
  return parts.join(": ") || "network error";
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

export class CloudClient {
  readonly #config: CloudConfig;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #pageSize: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #logger: ((entry: RequestLogEntry) => void) | undefined;
  readonly #onRetry: ((retry: RetryNotice) => void) | undefined;
  readonly #tokens: TokenCache | undefined;
  readonly #counts = new Map<OperationName, number>();

  constructor(config: CloudConfig, options: CloudClientOptions = {}) {
    this.#config = config;
    this.#clock = options.clock ?? systemClock;
    this.#retry = { ...config.retry, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? config.timeoutMs;
    this.#pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? MAX_PAGE_SIZE)));
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
    this.#onRetry = options.onRetry;
    if (config.auth.kind === "token") {
      if (config.endpoints.iam === undefined) {
        throw new CloudConfigError([{ variable: "IAM_ENDPOINT", rule: "required for token auth" }]);
      }
      this.#tokens = new TokenCache(() => this.#issueToken(), this.#clock);
    }
  }

  /** The per-call server limit batch creates are validated against. */
  get batchLimit(): number {
    return this.#config.batchLimit;
  }

  /** HTTP requests sent so far (every attempt), by operation name. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  // -------------------------------------------------------------------------------------------
  // SDRS creates: validated, never retried, answered with a job id
  // -------------------------------------------------------------------------------------------

  /** POST /v1/{project_id}/protected-instances */
  async createProtectedInstance(body: CreateProtectedInstanceBody): Promise<{ jobId: string }> {
    const request = this.#validate("createProtectedInstance", createProtectedInstanceRequest, { protected_instance: body });
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
    return (await this.#call({ operation: "showJob", path: { job_id: jobId }, response: job })).data;
  }

  async getProtectionGroup(serverGroupId: string): Promise<ProtectionGroup> {
    const { data } = await this.#call({
      operation: "showProtectionGroup",
      path: { server_group_id: serverGroupId },
      response: protectionGroupResponse,
    });
    return data.server_group;
  }

  /** Every protection group matching the filter, all pages. */
  async listProtectionGroups(filter: ProtectionGroupFilter = {}): Promise<ProtectionGroup[]> {
    return this.#allPages(
      "listProtectionGroups",
      { status: filter.status, name: filter.name, availability_zone: filter.availabilityZone, query_type: filter.queryType },
      protectionGroupList,
      (page) => page.server_groups,
      { style: "offset", limit: this.#pageSize },
    );
  }

  async getProtectedInstance(protectedInstanceId: string): Promise<ProtectedInstance> {
    const { data } = await this.#call({
      operation: "showProtectedInstance",
      path: { protected_instance_id: protectedInstanceId },
      response: protectedInstanceResponse,
    });
    return data.protected_instance;
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
      this.#allPages("listProtectedInstances", { ...common, ...query }, protectedInstanceList, (page) => page.protected_instances, {
        style: "offset",
        limit: this.#pageSize,
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
    return (await this.#call({ operation: "listActiveDomains", response: activeDomainList })).data.domains;
  }

  // -------------------------------------------------------------------------------------------
  // ECS, EVS, Auto Scaling
  // -------------------------------------------------------------------------------------------

  async getServer(serverId: string): Promise<EcsServer> {
    const { data } = await this.#call({ operation: "showServer", path: { server_id: serverId }, response: ecsServerResponse });
    return data.server;
  }

  /** Every server (matching `tags`), all pages, paged by `marker`. */
  async listServers(filter: ServerFilter = {}): Promise<EcsServer[]> {
    const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(filter.limit ?? this.#pageSize)));
    if (filter.serverIds === undefined) {
      return this.#allPages("listServersDetails", { tags: filter.tags }, ecsServerList, (page) => page.servers, { style: "marker", limit, idOf: (server) => server.id });
    }
    const servers: EcsServer[] = [];
    for (const ids of chunk([...new Set(filter.serverIds)], MAX_SERVER_IDS_PER_LIST)) {
      const entries = await this.#allPages("listServersDetails", { tags: filter.tags, server_id: ids.join(",") }, ecsServerListById, (page) => page.servers, {
        style: "marker",
        limit,
        idOf: (entry) => entry.id,
      });
      // Filtered after paging, so a page holding a missing id still counts as a full page. A server in ERROR
      // carries a `fault` too: a missing one is the entry whose fields (name, status, …) are null.
      servers.push(...entries.filter((entry): entry is EcsServer => typeof entry.name === "string" && typeof entry.status === "string"));
    }
    return servers;
  }

  /** GET /v1/{project_id}/cloudservers/{id}/tags → [{key, value}] */
  async getServerTags(serverId: string): Promise<ResourceTag[]> {
    const { data } = await this.#call({ operation: "showServerTags", path: { server_id: serverId }, response: ecsServerTags });
    return data.tags.map(({ key, value }) => ({ key, value }));
  }

  async listKeypairs(): Promise<Keypair[]> {
    const { data } = await this.#call({ operation: "listKeypairs", response: keypairList });
    return data.keypairs.map(({ keypair }) => keypair);
  }

  /** Every volume (of a server, shared only, …), all pages. */
  async listVolumes(filter: VolumeFilter = {}): Promise<EvsVolume[]> {
    const listBy = (query: Query) =>
      this.#allPages("listVolumes", { server_id: filter.serverId, multiattach: filter.multiattach, ...query }, evsVolumeList, (page) => page.volumes, {
        style: "marker",
        limit: this.#pageSize,
        idOf: (volume) => volume.id,
        hasNextPage: (page) => page.volumes_links?.some((link) => link.rel === "next") === true,
      });
    if (filter.ids === undefined) return listBy({});
    const volumes: EvsVolume[] = [];
    for (const ids of chunk([...new Set(filter.ids)], MAX_VOLUME_IDS_PER_LIST)) {
      volumes.push(...(await listBy({ ids: `[${ids.map((id) => `'${id}'`).join(",")}]` })));
    }
    return volumes;
  }

  async listScalingGroups(): Promise<ScalingGroup[]> {
    return this.#allPages("listScalingGroups", {}, scalingGroupList, (page) => page.scaling_groups, {
      style: "startNumber",
      limit: Math.min(MAX_AS_PAGE_SIZE, this.#pageSize),
    });
  }

  async listScalingGroupInstances(scalingGroupId: string): Promise<ScalingGroupInstance[]> {
    return this.#allPages(
      "listScalingGroupInstances",
      {},
      scalingGroupInstanceList,
      (page) => page.scaling_group_instances,
      { style: "startNumber", limit: Math.min(MAX_AS_PAGE_SIZE, this.#pageSize) },
      { scaling_group_id: scalingGroupId },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Replication pairs, and ECS volume attach/detach (docs/coverage.md)
  // -------------------------------------------------------------------------------------------

  /** Every replication pair of the groups (one listing per 30 groups, all pages) or of one protected instance. */
  async listReplications(filter: ReplicationFilter): Promise<ReplicationPair[]> {
    const listBy = (query: Query) =>
      this.#allPages("listReplications", { query_type: filter.queryType, ...query }, replicationPairList, (page) => page.replications, {
        style: "offset",
        limit: this.#pageSize,
      });
    if (filter.protectedInstanceId !== undefined) return listBy({ protected_instance_id: filter.protectedInstanceId });
    const pairs: ReplicationPair[] = [];
    for (const ids30 of chunk([...new Set(filter.serverGroupIds ?? [])], MAX_IDS_PER_LIST_FILTER)) {
      pairs.push(...(await listBy(ids30.length === 1 ? { server_group_id: ids30[0] } : { server_group_ids: JSON.stringify(ids30) })));
    }
    return pairs;
  }

  async getReplication(replicationId: string): Promise<ReplicationPair> {
    const { data } = await this.#call({ operation: "showReplication", path: { replication_id: replicationId }, response: replicationPairResponse });
    return data.replication;
  }

  /** POST /v1/{project_id}/replications: the disk must be `available`; the DR disk is created by SDRS. */
  async createReplication(body: CreateReplicationBody): Promise<{ jobId: string }> {
    const request = this.#validate("createReplication", createReplicationRequest, { replication: body });
    return this.#create("createReplication", {}, request);
  }

  /** DELETE …/replications/{id} (with a body): the pair must be detached; the DR disk is kept unless asked. */
  async deleteReplication(replicationId: string, options: { deleteTargetVolume?: boolean } = {}): Promise<{ jobId: string }> {
    return this.#create("deleteReplication", { replication_id: replicationId }, { delete_target_volume: options.deleteTargetVolume ?? false });
  }

  /** POST …/replications/{id}/action {"extend-replication": {new_size}}: grows both disks. */
  async expandReplication(replicationId: string, newSizeGb: number): Promise<{ jobId: string }> {
    const request = this.#validate("replicationAction", extendReplicationRequest, { "extend-replication": { new_size: newSizeGb } });
    return this.#create("replicationAction", { replication_id: replicationId }, request);
  }

  /** POST …/protected-instances/{id}/attachreplication: attaches the production disk and its DR twin. */
  async attachReplication(protectedInstanceId: string, replicationId: string, device: string): Promise<{ jobId: string }> {
    const request = this.#validate("attachReplication", attachReplicationRequest, {
      replicationAttachment: { replication_id: replicationId, device },
    });
    return this.#create("attachReplication", { protected_instance_id: protectedInstanceId }, request);
  }

  async detachReplication(protectedInstanceId: string, replicationId: string): Promise<{ jobId: string }> {
    return this.#create("detachReplication", { protected_instance_id: protectedInstanceId, replication_id: replicationId }, undefined);
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
  // The request pipeline
  // -------------------------------------------------------------------------------------------

  #validate<T>(operation: OperationName, schema: z.ZodType<T>, request: unknown): T {
    const parsed = schema.safeParse(request);
    if (!parsed.success) throw RequestValidationError.fromZod(operation, parsed.error);
    return parsed.data;
  }

  async #create(operation: OperationName, path: Record<string, string>, body: unknown): Promise<{ jobId: string }> {
    const { data } = await this.#call({ operation, path, body, response: jobAccepted });
    return { jobId: data.job_id };
  }

  async #allPages<P, T>(
    operation: OperationName,
    filter: Query,
    response: z.ZodType<P>,
    itemsOf: (page: P) => T[],
    paging: Paging<P, T>,
    path: Record<string, string> = {},
  ): Promise<T[]> {
    const { limit } = paging;
    const items: T[] = [];
    let marker: string | undefined;
    for (;;) {
      const position: Query =
        paging.style === "offset"
          ? { limit, offset: items.length }
          : paging.style === "startNumber"
            ? { limit, start_number: items.length }
            : { limit, marker };
      const { data } = await this.#call({ operation, path, query: { ...filter, ...position }, response });
      const pageItems = itemsOf(data);
      items.push(...pageItems);
      // A short page is the last one (`count` is not reliably the total, reference facts §2.2);
      // a page longer than asked means the server ignored paging and sent everything.
      if (pageItems.length !== limit) return items;
      if (paging.style !== "marker") continue;
      if (paging.hasNextPage !== undefined && !paging.hasNextPage(data)) return items;
      const nextMarker = paging.idOf(pageItems[pageItems.length - 1] as T);
      if (nextMarker === marker) {
        // The same page again: the service ignored the marker. Going on would loop for ever.
        throw new CloudApiError({
          status: 200,
          code: CLIENT_ERROR_CODES.invalidResponse,
          message: `paging did not advance: the page after marker ${marker ?? "(none)"} ends with the same item`,
          requestId: undefined,
          operation,
          retryable: false,
        });
      }
      marker = nextMarker;
    }
  }

  #endpoint(operation: OperationName): string {
    const service = SERVICE_OF_OPERATION[operation];
    const endpoint = this.#config.endpoints[service];
    if (endpoint === undefined) {
      throw new CloudConfigError([
        {
          variable: ENDPOINT_VARIABLES[service],
          rule: `required to call ${operation} (set it, or HUAWEICLOUD_REGION to derive it)`,
        },
      ]);
    }
    return endpoint.replace(/\/+$/, "");
  }

  async #call<T>(spec: CallSpec<T>): Promise<CallResult<T>> {
    const method = OPERATIONS[spec.operation].method;
    const url =
      this.#endpoint(spec.operation) +
      expandPath(spec.operation, { project_id: this.#config.projectId, ...spec.path }) +
      queryString(spec.query);
    const bodyText = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const isCreate = CREATE_OPERATIONS.has(spec.operation);
    let attempt = 0;
    let failedAttempts = 0;
    let waitedMs = 0;
    let renewedToken = false;
    const ambiguous = (reason: AmbiguityReason, answer: { status?: number; requestId?: string | undefined; cause: unknown }) =>
      new AmbiguousCreateError({ operation: spec.operation, requestBody: spec.body, reason, ...answer });

    for (;;) {
      attempt++;
      const outcome = await this.#attempt(spec.operation, method, url, bodyText, attempt, spec.path?.job_id);
      let error: CloudApiError;

      if (outcome.kind === "answer") {
        const parsed = this.#parseAnswer(spec, outcome.bodyText, outcome.requestId);
        if (parsed.success) return { data: parsed.data, headers: outcome.headers };
        if (isCreate) {
          throw ambiguous("invalid_response", { status: outcome.status, requestId: outcome.requestId, cause: parsed.error });
        }
        throw parsed.error;
      }
      if (outcome.kind === "error") {
        error = outcome.error;
        // "The token must be updated": fetch a new one and try once more (not applied, so safe for creates).
        if (outcome.status === 401 && error.code === "APIGW.0307" && this.#tokens !== undefined && !renewedToken) {
          renewedToken = true;
          this.#tokens.invalidate();
          continue;
        }
        if (isCreate && outcome.status >= 500) {
          throw ambiguous("server_error", { status: outcome.status, requestId: error.requestId, cause: error });
        }
      } else if (outcome.kind === "timeout") {
        if (isCreate) {
          throw ambiguous("timeout", { cause: outcome.cause });
        }
        error = new CloudApiError({
          status: undefined,
          code: CLIENT_ERROR_CODES.timeout,
          message: `no answer within ${this.#timeoutMs} ms`,
          requestId: undefined,
          operation: spec.operation,
          retryable: true,
          cause: outcome.cause,
        });
      } else {
        if (isCreate && outcome.sent) {
          throw ambiguous("connection_dropped", { cause: outcome.cause });
        }
        error = new CloudApiError({
          status: undefined,
          code: CLIENT_ERROR_CODES.networkError,
          message: this.#redact(describeNetworkError(outcome.cause)),
          requestId: undefined,
          operation: spec.operation,
          retryable: true,
          cause: outcome.cause,
        });
      }

      failedAttempts++;
      // A 429 or 4xx on a create is unambiguous (not applied), but it is the caller's decision to retry.
      if (isCreate || !error.retryable) throw error.withAttempts(attempt);
      const decision = nextRetry({
        attempts: failedAttempts,
        waitedMs,
        retryAfterMs: outcome.kind === "error" ? parseRetryAfter(outcome.headers.get("retry-after"), this.#clock.now()) : undefined,
        random: this.#random(),
        policy: this.#retry,
      });
      if (!decision.retry) throw error.withAttempts(attempt);
      this.#onRetry?.({ operation: spec.operation, attempt: attempt + 1, delayMs: decision.delayMs, errorCode: error.code });
      await this.#sleep(decision.delayMs);
      waitedMs += decision.delayMs;
    }
  }

  #parseAnswer<T>(
    spec: CallSpec<T>,
    bodyText: string,
    requestId: string | undefined,
  ): { success: true; data: T } | { success: false; error: CloudApiError } {
    const invalid = (message: string, cause?: unknown) => ({
      success: false as const,
      error: new CloudApiError({
        status: 200,
        code: CLIENT_ERROR_CODES.invalidResponse,
        message,
        requestId,
        operation: spec.operation,
        retryable: false,
        cause,
      }),
    });
    let json: unknown;
    try {
      json = bodyText === "" ? {} : JSON.parse(bodyText);
    } catch (cause) {
      return invalid("the answer is not JSON", cause);
    }
    const parsed = spec.response.safeParse(json);
    if (parsed.success) return { success: true, data: parsed.data };
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(body)"}: ${issue.message}`)
      .join("; ");
    return invalid(`the answer does not match the documented shape: ${issues}`, parsed.error);
  }

  async #attempt(
    operation: OperationName,
    method: string,
    url: string,
    bodyText: string | undefined,
    attempt: number,
    jobId: string | undefined,
  ): Promise<AttemptOutcome> {
    const headers = await this.#authHeaders(operation, method, url, bodyText);
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const started = performance.now();
    const log = (status: number | undefined, requestId: string | undefined, errorCode?: string, answeredJobId?: string) =>
      this.#logger?.({
        operation,
        service: SERVICE_OF_OPERATION[operation],
        ...((answeredJobId ?? jobId) === undefined ? {} : { jobId: answeredJobId ?? jobId }),
        method,
        status,
        attempt,
        durationMs: Math.round(performance.now() - started),
        requestId,
        ...(errorCode === undefined ? {} : { errorCode }),
      });
    try {
      // Plain fetch: retries, backoff and answer parsing are this client's own (retry.ts, #call), so a
      // wrapper such as ky would add nothing but its size and its load time (it probes Request at import).
      const response = await fetch(url, {
        method,
        headers,
        body: bodyText,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const answerText = await response.text();
      const requestId = response.headers.get("x-request-id") ?? undefined;
      if (response.ok) {
        log(response.status, requestId, undefined, CREATE_OPERATIONS.has(operation) ? answeredJobId(answerText) : undefined);
        return { kind: "answer", status: response.status, headers: response.headers, bodyText: answerText, requestId };
      }
      const error = cloudApiErrorFromResponse({
        operation,
        status: response.status,
        bodyText: this.#redact(answerText),
        headerRequestId: requestId,
      });
      log(response.status, requestId, error.code);
      return { kind: "error", status: response.status, headers: response.headers, error };
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "TimeoutError") {
        log(undefined, undefined, CLIENT_ERROR_CODES.timeout);
        return { kind: "timeout", cause };
      }
      log(undefined, undefined, CLIENT_ERROR_CODES.networkError);
      const sent = !errorCodesOf(cause).some((code) => NOT_SENT_ERROR_CODES.has(code));
      return { kind: "network", sent, cause };
    }
  }

  async #authHeaders(
    operation: OperationName,
    method: string,
    url: string,
    bodyText: string | undefined,
  ): Promise<Record<string, string>> {
    const contentType: Record<string, string> = bodyText === undefined ? {} : { "Content-Type": "application/json" };
    if (operation === "createToken") return contentType;
    const auth = this.#config.auth;
    if (auth.kind === "aksk") {
      return signedHeaders(
        { method, url, body: bodyText },
        { accessKey: auth.accessKey, secretKey: auth.secretKey.reveal(), securityToken: auth.securityToken?.reveal() },
        this.#config.projectId,
        new Date(this.#clock.now()),
      );
    }
    const token = await this.#requireTokens().get();
    return { ...contentType, "X-Project-Id": this.#config.projectId, "X-Auth-Token": token.reveal() };
  }

  #requireTokens(): TokenCache {
    if (this.#tokens === undefined) throw new Error("token auth is not configured");
    return this.#tokens;
  }

  /** POST {IAM}/v3/auth/tokens: 201, token in X-Subject-Token, expiry in the body. */
  async #issueToken(): Promise<IssuedToken> {
    if (this.#config.auth.kind !== "token") throw new Error("token auth is not configured");
    const { data, headers } = await this.#call({
      operation: "createToken",
      body: tokenRequestBody(this.#config.auth, this.#config.projectId),
      response: tokenResponseBody,
    });
    const token = headers.get("x-subject-token");
    if (token === null || token === "") {
      throw new CloudApiError({
        status: 201,
        code: CLIENT_ERROR_CODES.invalidResponse,
        message: "the IAM answer has no X-Subject-Token header",
        requestId: headers.get("x-request-id") ?? undefined,
        operation: "createToken",
        retryable: false,
      });
    }
    return { token: new Secret(token), expiresAt: Date.parse(data.token.expires_at) };
  }

  /** Removes every secret this client knows from text that came from the wire. */
  #redact(text: string): string {
    const auth = this.#config.auth;
    const secrets =
      auth.kind === "aksk"
        ? [auth.secretKey, auth.securityToken]
        : [auth.password, this.#tokens?.current()];
    return secrets.reduce<string>((redacted, secret) => {
      const value = secret?.reveal();
      return value === undefined || value === "" ? redacted : redacted.split(value).join("[redacted]");
    }, text);
  }
}
