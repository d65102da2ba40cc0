/**
 * Batch planning: the fewest SDRS create calls that protect the eligible servers. A lone server gets a
 * single create (its protected instance named after it, optionally with a primary IP); 2..limit servers
 * — or a lone server with a disk shared with no one else, which the single create refuses — share a
 * batch create. Shared-disk clusters are never split, and servers whose batch-level options differ
 * (creation-options.ts `batchCompatibilityKey`) never share a call.
 */
import { type BatchCreateRequest, type CreateProtectedInstanceRequest, DEFAULT_BATCH_LIMIT } from "../sdrs/schemas.ts";
import { batchCompatibilityKey, type CreationOptions } from "./creation-options.ts";
import { PlanningError } from "./errors.ts";
import { derivedNamePrefix, protectedInstanceName } from "./names.ts";
import { packIntoBins } from "./packing.ts";
import type { PlannedCall } from "./types.ts";

export interface PlannableServer {
  serverId: string;
  /** The production server's name: the single create names the protected instance after it. */
  serverName: string;
  options: CreationOptions;
  /** The DR server's flavor (flavorRef); undefined keeps the production flavor. */
  drFlavorId?: string;
  /** Only for a server with a shared disk: its shared-disk cluster, itself included. */
  sharedDiskCluster?: readonly string[];
}

export interface CallPlanRequest {
  protectionGroupId: string;
  /** The default name prefix is derived from this (the target's name, else the group's). */
  namePrefixSource?: string;
  /** Eligible servers only; every member of a shared-disk cluster must be among them. */
  servers: readonly PlannableServer[];
  batchLimit?: number;
}

interface Unit {
  servers: PlannableServer[];
  /** A shared disk rules out the single create. */
  needsBatch: boolean;
  /** Lone servers with a primary IP need the single create: only it carries primary_ip_address. */
  needsSingle: boolean;
  firstServerId: string;
}

export function planCalls(request: CallPlanRequest): PlannedCall[] {
  const limit = request.batchLimit ?? DEFAULT_BATCH_LIMIT;
  const units = toUnits(request.servers, limit);
  const calls: PlannedCall[] = [];
  const packable = new Map<string, Unit[]>();
  for (const unit of units) {
    const [server] = unit.servers;
    if (server === undefined) continue;
    if (unit.needsSingle) {
      calls.push(singleCall(server, request.protectionGroupId));
      continue;
    }
    const key = batchCompatibilityKey(server.options);
    const group = packable.get(key) ?? [];
    group.push(unit);
    packable.set(key, group);
  }
  for (const group of packable.values()) {
    for (const bin of packIntoBins(group, (unit) => unit.servers.length, limit)) {
      const servers = bin.flatMap((unit) => unit.servers).sort((a, b) => compareIds(a.serverId, b.serverId));
      const [first] = servers;
      if (first === undefined) continue;
      const needsBatch = servers.length > 1 || bin.some((unit) => unit.needsBatch);
      calls.push(needsBatch ? batchCall(servers, request) : singleCall(first, request.protectionGroupId));
    }
  }
  return calls.sort((a, b) => compareIds(a.serverIds[0] ?? "", b.serverIds[0] ?? ""));
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Shared-disk clusters and lone servers, ordered by their smallest server id (permutation-independent). */
function toUnits(servers: readonly PlannableServer[], limit: number): Unit[] {
  const byCluster = new Map<string, PlannableServer[]>();
  for (const server of servers) {
    const key =
      server.sharedDiskCluster === undefined
        ? `server:${server.serverId}`
        : `cluster:${[...server.sharedDiskCluster].sort().join(",")}`;
    const members = byCluster.get(key) ?? [];
    members.push(server);
    byCluster.set(key, members);
  }
  const units = [...byCluster.values()].map((members): Unit => {
    const sorted = [...members].sort((a, b) => compareIds(a.serverId, b.serverId));
    const [first] = sorted;
    const needsBatch = sorted.some((server) => server.sharedDiskCluster !== undefined);
    if (sorted.length > limit) {
      throw new PlanningError(
        "PLAN_CLUSTER_EXCEEDS_LIMIT",
        `shared-disk cluster ${sorted.map((server) => server.serverId).join(", ")} has ${sorted.length} servers; a batch create call takes at most ${limit}`,
      );
    }
    const keys = new Set(sorted.map((server) => batchCompatibilityKey(server.options)));
    if (keys.size > 1) {
      throw new PlanningError(
        "PLAN_CLUSTER_OPTIONS_DIFFER",
        `shared-disk cluster ${sorted.map((server) => server.serverId).join(", ")}: creation options differ, but the cluster needs one batch call`,
      );
    }
    const needsSingle =
      !needsBatch && first !== undefined && first.options.primaryIpAddresses?.[first.serverId] !== undefined;
    return { servers: sorted, needsBatch, needsSingle, firstServerId: first?.serverId ?? "" };
  });
  return units.sort((a, b) => compareIds(a.firstServerId, b.firstServerId));
}

/** Copies only the defined fields, so requests hold no `undefined` keys. */
function definedFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function singleCall(server: PlannableServer, protectionGroupId: string): PlannedCall {
  const { options } = server;
  const primaryIpAddress =
    options.primarySubnetId === undefined ? undefined : options.primaryIpAddresses?.[server.serverId];
  const request: CreateProtectedInstanceRequest = {
    protected_instance: {
      server_group_id: protectionGroupId,
      server_id: server.serverId,
      name: protectedInstanceName(server.serverName, server.serverId),
      ...definedFields({
        description: options.description,
        cluster_id: options.clusterId,
        primary_subnet_id: options.primarySubnetId,
        primary_ip_address: primaryIpAddress,
        flavorRef: server.drFlavorId,
        tenancy: options.tenancy,
        dedicated_host_id: options.dedicatedHostId,
        tags: options.tags,
      }),
    },
  };
  return { kind: "single", serverIds: [server.serverId], request };
}

function batchCall(servers: readonly PlannableServer[], request: CallPlanRequest): PlannedCall {
  const [first] = servers;
  const options = first?.options ?? {};
  const body: BatchCreateRequest = {
    protected_instances: {
      name_prefix: options.namePrefix ?? derivedNamePrefix(request.namePrefixSource),
      server_group_id: request.protectionGroupId,
      servers: servers.map((server) => ({
        server_id: server.serverId,
        ...definedFields({ flavorRef: server.drFlavorId }),
      })),
      ...definedFields({
        description: options.description,
        cluster_id: options.clusterId,
        primary_subnet_id: options.primarySubnetId,
        tenancy: options.tenancy,
        dedicated_host_id: options.dedicatedHostId,
        tags: options.tags,
      }),
    },
  };
  return { kind: "batch", serverIds: servers.map((server) => server.serverId), request: body };
}
