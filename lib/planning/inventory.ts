/**
 * Inventory reading: the facts eligibility needs, read with list calls where the API allows instead of
 * one call per server. The only impure file of the planning module; it talks to the cloud through the
 * narrow InventoryReader port, which lib/sdrs/client.ts's CloudClient satisfies.
 *
 * Calls for a request of k servers (k > perServerReadsUpTo):
 *   protection group 1 · protected instances: one list, all pages · servers: one ECS list, all pages,
 *   filtered here · volumes: one EVS list of the project, all pages, filtered here · key pairs: one list,
 *   only when a Windows server logs in with a key pair · Auto Scaling: one group list plus one instance
 *   list per group (the AS API has no lookup by instance).
 * For a few servers (k ≤ perServerReadsUpTo, default 3) a GET per server and an EVS list per server are
 * cheaper than listing the whole project, so those are used instead.
 */
import { CloudApiError } from "../sdrs/errors.ts";
import type { EcsServer, EvsVolume, ProtectedInstance, ProtectionGroup } from "../sdrs/schemas.ts";
import type { ServerFacts } from "./types.ts";

/** The cloud reads inventory needs: a subset of CloudClient, so tests pass the real client. */
export interface InventoryReader {
  getProtectionGroup(serverGroupId: string): Promise<ProtectionGroup>;
  listProtectedInstances(filter?: Record<string, never>): Promise<ProtectedInstance[]>;
  getServer(serverId: string): Promise<EcsServer>;
  listServers(filter?: { tags?: string }): Promise<EcsServer[]>;
  listVolumes(filter?: { serverId?: string; multiattach?: boolean }): Promise<EvsVolume[]>;
  listKeypairs(): Promise<{ name: string }[]>;
  listScalingGroups(): Promise<{ scaling_group_id: string }[]>;
  listScalingGroupInstances(scalingGroupId: string): Promise<{ instance_id: string }[]>;
}

export interface InventoryRequest {
  /** The target protection group; undefined when the target has none yet. */
  protectionGroupId?: string;
  serverIds: readonly string[];
}

export interface InventoryOptions {
  /** Up to this many servers, read them one by one (GET + EVS list per server); above, list the project. */
  perServerReadsUpTo?: number;
}

export interface Inventory {
  /** undefined: no group id given, or the group was not found. */
  protectionGroup: ProtectionGroup | undefined;
  /** One entry per requested server (duplicates removed), in request order; `server` undefined when not found. */
  servers: ServerFacts[];
  /** Every protected instance of the project. */
  protectedInstances: ProtectedInstance[];
  /**
   * Advisory reads (key pairs, Auto Scaling) that failed for a reason retrying will not fix (e.g. no
   * permission, no AS endpoint): the facts they would give are left unknown, e.g. keypairExists is
   * undefined (a warning) instead of blocking protection. Operation and error code only.
   */
  advisoryFailures: { operation: string; code: string }[];
}

const DEFAULT_PER_SERVER_READS_UP_TO = 3;

/** ECS answers 404 Ecs.0114 for a missing server; SDRS 400 SDRS.1013 (or SDRS.0207) for a missing group. */
const NOT_FOUND_CODES = new Set(["Ecs.0114", "SDRS.1013", "SDRS.0207"]);

function isNotFound(error: unknown): boolean {
  return error instanceof CloudApiError && (error.status === 404 || NOT_FOUND_CODES.has(error.code));
}

async function orUndefinedWhenNotFound<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A retryable failure (throttling, 5xx, network) propagates so the caller retries; any other leaves the fact unknown. */
async function advisory<T>(operation: string, read: () => Promise<T>, failures: Inventory["advisoryFailures"]): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof CloudApiError && error.retryable) throw error;
    const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "ERROR";
    failures.push({ operation, code });
    return undefined;
  }
}

export async function readInventory(reader: InventoryReader, request: InventoryRequest, options: InventoryOptions = {}): Promise<Inventory> {
  const serverIds = [...new Set(request.serverIds)];
  const oneByOne = serverIds.length <= (options.perServerReadsUpTo ?? DEFAULT_PER_SERVER_READS_UP_TO);
  const advisoryFailures: Inventory["advisoryFailures"] = [];

  const [protectionGroup, protectedInstances, servers] = await Promise.all([
    request.protectionGroupId === undefined ? undefined : orUndefinedWhenNotFound(reader.getProtectionGroup(request.protectionGroupId)),
    serverIds.length === 0 ? [] : reader.listProtectedInstances({}),
    readServers(reader, serverIds, oneByOne),
  ]);
  const found = [...servers.values()];
  const [volumesByServer, keypairNames, scalingGroupOf] = await Promise.all([
    readVolumes(reader, found, oneByOne),
    found.some(needsKeypair) ? advisory("listKeypairs", () => reader.listKeypairs(), advisoryFailures) : undefined,
    found.length === 0 ? new Map<string, string>() : advisory("listScalingGroups", () => readScalingGroupMembers(reader), advisoryFailures),
  ]);
  const keypairs = keypairNames === undefined ? undefined : new Set(keypairNames.map((keypair) => keypair.name));

  return {
    protectionGroup,
    protectedInstances,
    servers: serverIds.map((serverId): ServerFacts => {
      const server = servers.get(serverId);
      if (server === undefined) return { serverId, volumes: [] };
      const keyName = server.key_name;
      const autoScalingGroupId = scalingGroupOf?.get(serverId);
      return {
        serverId,
        server,
        volumes: volumesByServer.get(serverId) ?? [],
        ...(needsKeypair(server) && keyName && keypairs !== undefined ? { keypairExists: keypairs.has(keyName) } : {}),
        ...(autoScalingGroupId === undefined ? {} : { autoScalingGroupId }),
      };
    }),
    advisoryFailures,
  };
}

/** Only Windows key-pair servers depend on their key pair (DR-server creation fails without it). */
function needsKeypair(server: EcsServer): boolean {
  return server.metadata.os_type?.toLowerCase() === "windows" && Boolean(server.key_name);
}

async function readServers(reader: InventoryReader, serverIds: readonly string[], oneByOne: boolean): Promise<Map<string, EcsServer>> {
  if (serverIds.length === 0) return new Map();
  if (oneByOne) {
    const servers = await Promise.all(serverIds.map((serverId) => orUndefinedWhenNotFound(reader.getServer(serverId))));
    return new Map(servers.flatMap((server) => (server === undefined ? [] : [[server.id, server] as const])));
  }
  const wanted = new Set(serverIds);
  return new Map((await reader.listServers()).filter((server) => wanted.has(server.id)).map((server) => [server.id, server] as const));
}

/** Each server's attached volumes, with their attachments (a shared volume names every server it is attached to). */
async function readVolumes(reader: InventoryReader, servers: readonly EcsServer[], oneByOne: boolean): Promise<Map<string, EvsVolume[]>> {
  if (servers.length === 0) return new Map();
  if (oneByOne) {
    return new Map(await Promise.all(servers.map(async (server) => [server.id, await reader.listVolumes({ serverId: server.id })] as const)));
  }
  const all = await reader.listVolumes();
  const byServer = new Map<string, EvsVolume[]>(servers.map((server) => [server.id, []]));
  // A volume belongs to a server its attachments name, or that lists it among its attached volumes.
  const listedBy = new Map<string, string[]>();
  for (const server of servers) {
    for (const { id } of server["os-extended-volumes:volumes_attached"]) listedBy.set(id, [...(listedBy.get(id) ?? []), server.id]);
  }
  for (const volume of all) {
    const owners = new Set([...volume.attachments.map((attachment) => attachment.server_id), ...(listedBy.get(volume.id) ?? [])]);
    for (const serverId of owners) byServer.get(serverId)?.push(volume);
  }
  return byServer;
}

/** Server id → Auto Scaling group id. */
async function readScalingGroupMembers(reader: InventoryReader): Promise<Map<string, string>> {
  const members = new Map<string, string>();
  for (const group of await reader.listScalingGroups()) {
    for (const instance of await reader.listScalingGroupInstances(group.scaling_group_id)) members.set(instance.instance_id, group.scaling_group_id);
  }
  return members;
}
