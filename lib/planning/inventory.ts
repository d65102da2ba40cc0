/**
 * Inventory reading: the facts eligibility needs, read with list calls where the API allows instead of
 * one call per server. The only impure file of the planning module; it talks to the cloud through the
 * narrow InventoryReader port, which lib/sdrs/client.ts's CloudClient satisfies.
 *
 * Reads are scoped to the servers asked for, never the whole project. Calls for k servers (k > perServerReadsUpTo):
 *   protection group 1 · protected instances: one list of the project, all pages (or the caller's shared
 *   view, `protectedInstances`) · servers: ECS list with `server_id=…`, ⌈k/100⌉ calls · volumes: EVS list
 *   with `ids=[…]` of the volumes those servers list as attached, ⌈volumes/60⌉ calls · shared-disk peers
 *   (`withSharedDiskPeers`): the same two reads once more for the peers the volumes' attachments name ·
 *   key pairs: one list, only when a Windows server logs in with a key pair · Auto Scaling: one group list
 *   plus one instance list per group (the AS API has no lookup by instance).
 * For a few servers (k ≤ perServerReadsUpTo, default 3) a GET per server and an EVS list per server
 * (`server_id`) are used instead.
 */
import { CloudApiError } from "../sdrs/errors.ts";
import type { EcsServer, EvsVolume, ProtectedInstance, ProtectionGroup } from "../sdrs/schemas.ts";
import type { ServerFacts } from "./types.ts";

/** The cloud reads inventory needs: a subset of CloudClient, so tests pass the real client. */
export interface InventoryReader {
  getProtectionGroup(serverGroupId: string): Promise<ProtectionGroup>;
  listProtectedInstances(filter?: Record<string, never>): Promise<ProtectedInstance[]>;
  getServer(serverId: string): Promise<EcsServer>;
  listServers(filter?: { tags?: string; serverIds?: readonly string[] }): Promise<EcsServer[]>;
  listVolumes(filter?: { serverId?: string; multiattach?: boolean; ids?: readonly string[] }): Promise<EvsVolume[]>;
  listKeypairs(): Promise<{ name: string }[]>;
  listScalingGroups(): Promise<{ scaling_group_id: string }[]>;
  listScalingGroupInstances(scalingGroupId: string): Promise<{ instance_id: string }[]>;
}

export interface InventoryRequest {
  /** The target protection group; undefined when the target has none yet. */
  protectionGroupId?: string;
  serverIds: readonly string[];
  /** Also read the servers that share a disk with a requested one; their facts are in `peers`. */
  withSharedDiskPeers?: boolean;
}

export interface InventoryOptions {
  /** Up to this many servers, read them one by one (GET + EVS list per server); above, list them by id. */
  perServerReadsUpTo?: number;
  /** Where the project's protected instances come from; default one list call (all pages). */
  protectedInstances?: () => Promise<ProtectedInstance[]>;
  /** Where Auto Scaling membership (server id → group id) comes from; default the AS lists. */
  scalingGroupMembers?: () => Promise<Map<string, string>>;
}

export interface Inventory {
  /** undefined: no group id given, or the group was not found. */
  protectionGroup: ProtectionGroup | undefined;
  /** One entry per requested server (duplicates removed), in request order; `server` undefined when not found. */
  servers: ServerFacts[];
  /** Shared-disk peers of the requested servers that were not requested themselves (`withSharedDiskPeers`). */
  peers: ServerFacts[];
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
async function advisory<T>(
  operation: string,
  read: () => Promise<T>,
  failures: Inventory["advisoryFailures"],
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof CloudApiError && error.retryable) throw error;
    const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "ERROR";
    failures.push({ operation, code });
    return undefined;
  }
}

export async function readInventory(
  reader: InventoryReader,
  request: InventoryRequest,
  options: InventoryOptions = {},
): Promise<Inventory> {
  const serverIds = [...new Set(request.serverIds)];
  const perServerReadsUpTo = options.perServerReadsUpTo ?? DEFAULT_PER_SERVER_READS_UP_TO;
  const advisoryFailures: Inventory["advisoryFailures"] = [];

  const [protectionGroup, protectedInstances, servers] = await Promise.all([
    request.protectionGroupId === undefined
      ? undefined
      : orUndefinedWhenNotFound(reader.getProtectionGroup(request.protectionGroupId)),
    serverIds.length === 0 ? [] : (options.protectedInstances?.() ?? reader.listProtectedInstances({})),
    readServers(reader, serverIds, serverIds.length <= perServerReadsUpTo),
  ]);
  const volumesByServer = await readVolumes(reader, [...servers.values()], serverIds.length <= perServerReadsUpTo);
  const peerIds = request.withSharedDiskPeers ? sharedDiskPeerIds(volumesByServer, servers) : [];
  if (peerIds.length > 0) {
    const peers = await readServers(reader, peerIds, peerIds.length <= perServerReadsUpTo);
    const known = new Map([...volumesByServer.values()].flat().map((volume) => [volume.id, volume]));
    for (const [serverId, volumes] of await readVolumes(
      reader,
      [...peers.values()],
      peerIds.length <= perServerReadsUpTo,
      known,
    ))
      volumesByServer.set(serverId, volumes);
    for (const [serverId, server] of peers) servers.set(serverId, server);
  }
  const found = [...servers.values()];
  const [keypairNames, scalingGroupOf] = await Promise.all([
    found.some(needsKeypair) ? advisory("listKeypairs", () => reader.listKeypairs(), advisoryFailures) : undefined,
    found.length === 0
      ? new Map<string, string>()
      : advisory(
          "listScalingGroups",
          () => options.scalingGroupMembers?.() ?? readScalingGroupMembers(reader),
          advisoryFailures,
        ),
  ]);
  const keypairs = keypairNames === undefined ? undefined : new Set(keypairNames.map((keypair) => keypair.name));

  const factsOf = (serverId: string): ServerFacts => {
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
  };
  return {
    protectionGroup,
    protectedInstances,
    servers: serverIds.map(factsOf),
    peers: peerIds.filter((serverId) => servers.has(serverId)).map(factsOf),
    advisoryFailures,
  };
}

/** Servers a shared volume of `volumesByServer` is attached to that are not among `servers`. */
function sharedDiskPeerIds(
  volumesByServer: ReadonlyMap<string, EvsVolume[]>,
  servers: ReadonlyMap<string, EcsServer>,
): string[] {
  const peers = new Set<string>();
  for (const volumes of volumesByServer.values()) {
    for (const volume of volumes) {
      if (volume.multiattach !== true) continue;
      for (const { server_id: serverId } of volume.attachments) if (!servers.has(serverId)) peers.add(serverId);
    }
  }
  return [...peers];
}

/** Only Windows key-pair servers depend on their key pair (DR-server creation fails without it). */
function needsKeypair(server: EcsServer): boolean {
  return server.metadata.os_type?.toLowerCase() === "windows" && Boolean(server.key_name);
}

async function readServers(
  reader: InventoryReader,
  serverIds: readonly string[],
  oneByOne: boolean,
): Promise<Map<string, EcsServer>> {
  if (serverIds.length === 0) return new Map();
  if (oneByOne) {
    const servers = await Promise.all(serverIds.map((serverId) => orUndefinedWhenNotFound(reader.getServer(serverId))));
    return new Map(servers.flatMap((server) => (server === undefined ? [] : [[server.id, server] as const])));
  }
  // The ECS filter is exact, but a gateway that ignored it would answer with the whole project: keep only the asked.
  const wanted = new Set(serverIds);
  return new Map(
    (await reader.listServers({ serverIds }))
      .filter((server) => wanted.has(server.id))
      .map((server) => [server.id, server] as const),
  );
}

/** Each server's attached volumes, with their attachments (a shared volume names every server it is attached to). */
async function readVolumes(
  reader: InventoryReader,
  servers: readonly EcsServer[],
  oneByOne: boolean,
  known: ReadonlyMap<string, EvsVolume> = new Map(),
): Promise<Map<string, EvsVolume[]>> {
  if (servers.length === 0) return new Map();
  if (oneByOne) {
    return new Map(
      await Promise.all(
        servers.map(async (server) => [server.id, await reader.listVolumes({ serverId: server.id })] as const),
      ),
    );
  }
  const attachedIds = [
    ...new Set(servers.flatMap((server) => server["os-extended-volumes:volumes_attached"].map(({ id }) => id))),
  ];
  const unread = attachedIds.filter((id) => !known.has(id));
  const all = [
    ...attachedIds.flatMap((id) => known.get(id) ?? []),
    ...(unread.length === 0 ? [] : await reader.listVolumes({ ids: unread })),
  ];
  const byServer = new Map<string, EvsVolume[]>(servers.map((server) => [server.id, []]));
  // A volume belongs to a server its attachments name, or that lists it among its attached volumes.
  const listedBy = new Map<string, string[]>();
  for (const server of servers) {
    for (const { id } of server["os-extended-volumes:volumes_attached"])
      listedBy.set(id, [...(listedBy.get(id) ?? []), server.id]);
  }
  for (const volume of all) {
    const owners = new Set([
      ...volume.attachments.map((attachment) => attachment.server_id),
      ...(listedBy.get(volume.id) ?? []),
    ]);
    for (const serverId of owners) byServer.get(serverId)?.push(volume);
  }
  return byServer;
}

/** Server id → Auto Scaling group id. */
export async function readScalingGroupMembers(reader: InventoryReader): Promise<Map<string, string>> {
  const members = new Map<string, string>();
  for (const group of await reader.listScalingGroups()) {
    for (const instance of await reader.listScalingGroupInstances(group.scaling_group_id))
      members.set(instance.instance_id, group.scaling_group_id);
  }
  return members;
}
