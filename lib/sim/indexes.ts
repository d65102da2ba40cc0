/**
 * Lookups the simulator keeps beside its records so that a request costs what its answer costs, not
 * what the estate costs: at 10,000 servers a list page, a create rule or a protection-group read
 * must not walk every server, volume or protected instance. Built once from the estate and kept up
 * to date by the only writers of the world (world.ts, replication.ts), through the functions below.
 */
import type { SimProtectedInstance, SimReplicationPair, SimServer, SimVolume, World, WorldIndexes } from "./model.ts";

export function emptyIndexes(): WorldIndexes {
  return {
    serverOrder: [],
    serverPosition: new Map(),
    volumeOrder: [],
    volumePosition: new Map(),
    attachedServers: new Map(),
    instanceByServer: new Map(),
    instancesByGroup: new Map(),
    pairCountByGroup: new Map(),
    pairById: new Map(),
    serversByTagTerm: new Map(),
    ipUsers: new Map(),
  };
}

/** The ECS `tags` filter matches a server with a tag whose `key=value` or whose key equals the term. */
function tagTerms(tags: Record<string, string>): string[] {
  return Object.entries(tags).flatMap(([key, value]) => [`${key}=${value}`, key]);
}

/** The set under `key`, created empty when missing. */
function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  const existing = map.get(key);
  if (existing !== undefined) return existing;
  const created = new Set<V>();
  map.set(key, created);
  return created;
}

function indexTags(world: World, server: SimServer): void {
  for (const term of tagTerms(server.tags)) setOf(world.indexes.serversByTagTerm, term).add(server.id);
}

export function addServer(world: World, server: SimServer): void {
  world.servers.set(server.id, server);
  world.indexes.serverPosition.set(server.id, world.indexes.serverOrder.length);
  world.indexes.serverOrder.push(server);
  for (const attached of server.volumes) indexAttachment(world, server, attached.id);
  indexTags(world, server);
  world.indexes.ipUsers.set(ipKey(server.vpcId, server.ip), `server ${server.id}`);
}

export function ipKey(vpcId: string, ip: string): string {
  return `${vpcId}/${ip}`;
}

/** Who uses a private IP of a VPC, if anyone. */
export function ipUser(world: World, vpcId: string, ip: string): string | undefined {
  return world.indexes.ipUsers.get(ipKey(vpcId, ip));
}

/** Holds an IP for the DR-site server a create job will make (released if the job fails). */
export function reserveIp(world: World, vpcId: string, ip: string, user: string): void {
  world.indexes.ipUsers.set(ipKey(vpcId, ip), user);
}

export function releaseIp(world: World, vpcId: string, ip: string, user: string): void {
  if (world.indexes.ipUsers.get(ipKey(vpcId, ip)) === user) world.indexes.ipUsers.delete(ipKey(vpcId, ip));
}

/** Keeps a volume's servers in server order, whenever the attachment is made. */
function indexAttachment(world: World, server: SimServer, volumeId: string): void {
  const servers = world.indexes.attachedServers.get(volumeId);
  if (servers === undefined) {
    world.indexes.attachedServers.set(volumeId, [server]);
    return;
  }
  const position = (candidate: SimServer) => world.indexes.serverPosition.get(candidate.id) ?? Number.MAX_SAFE_INTEGER;
  const after = servers.findIndex((candidate) => position(candidate) > position(server));
  servers.splice(after === -1 ? servers.length : after, 0, server);
}

/**
 * Attaches a volume to a server, last or at position `slot` of its disks (the system disk stays
 * first). Attaching a volume the server already has changes nothing.
 */
export function attachVolume(
  world: World,
  server: SimServer,
  attached: SimServer["volumes"][number],
  slot?: number,
): void {
  if (server.volumes.some((existing) => existing.id === attached.id)) return;
  const at = slot === undefined ? server.volumes.length : Math.max(1, Math.min(slot, server.volumes.length));
  server.volumes.splice(at, 0, attached);
  indexAttachment(world, server, attached.id);
}

export function detachVolume(world: World, server: SimServer, volumeId: string): void {
  if (!server.volumes.some((attached) => attached.id === volumeId)) return;
  server.volumes = server.volumes.filter((attached) => attached.id !== volumeId);
  const servers = world.indexes.attachedServers.get(volumeId)?.filter((candidate) => candidate !== server) ?? [];
  if (servers.length === 0) world.indexes.attachedServers.delete(volumeId);
  else world.indexes.attachedServers.set(volumeId, servers);
}

export function addVolume(world: World, volume: SimVolume): void {
  world.volumes.set(volume.id, volume);
  world.indexes.volumePosition.set(volume.id, world.indexes.volumeOrder.length);
  world.indexes.volumeOrder.push(volume);
}

/** Deletes a volume, detaching it from every server first (deletes are rare: the positions after it are renumbered). */
export function removeVolume(world: World, volumeId: string): void {
  for (const server of [...serversAttachedTo(world, volumeId)]) detachVolume(world, server, volumeId);
  const position = world.indexes.volumePosition.get(volumeId);
  world.volumes.delete(volumeId);
  if (position === undefined) return;
  world.indexes.volumePosition.delete(volumeId);
  world.indexes.volumeOrder.splice(position, 1);
  for (let index = position; index < world.indexes.volumeOrder.length; index++) {
    world.indexes.volumePosition.set((world.indexes.volumeOrder[index] as SimVolume).id, index);
  }
}

export function setServerTags(world: World, server: SimServer, tags: Record<string, string>): void {
  for (const term of tagTerms(server.tags)) world.indexes.serversByTagTerm.get(term)?.delete(server.id);
  server.tags = { ...tags };
  indexTags(world, server);
}

export function addInstance(world: World, instance: SimProtectedInstance): void {
  world.instances.set(instance.id, instance);
  setOf(world.indexes.instancesByGroup, instance.groupId).add(instance);
  world.indexes.instanceByServer.set(instance.sourceServerId, instance);
  if (instance.targetServerId !== undefined) world.indexes.instanceByServer.set(instance.targetServerId, instance);
}

export function setInstanceTarget(world: World, instance: SimProtectedInstance, targetServerId: string): void {
  instance.targetServerId = targetServerId;
  world.indexes.instanceByServer.set(targetServerId, instance);
}

export function removeInstance(world: World, instance: SimProtectedInstance): void {
  world.instances.delete(instance.id);
  world.indexes.instancesByGroup.get(instance.groupId)?.delete(instance);
  for (const serverId of [instance.sourceServerId, instance.targetServerId]) {
    if (serverId !== undefined && world.indexes.instanceByServer.get(serverId) === instance)
      world.indexes.instanceByServer.delete(serverId);
  }
}

export function addReplicationPair(world: World, pair: SimReplicationPair): void {
  world.replicationPairs.set(pair.sourceVolumeId, pair);
  world.indexes.pairById.set(pair.id, pair);
  world.indexes.pairCountByGroup.set(pair.groupId, (world.indexes.pairCountByGroup.get(pair.groupId) ?? 0) + 1);
}

export function removeReplicationPair(world: World, pair: SimReplicationPair): void {
  if (world.replicationPairs.get(pair.sourceVolumeId) !== pair) return;
  world.replicationPairs.delete(pair.sourceVolumeId);
  world.indexes.pairById.delete(pair.id);
  const count = (world.indexes.pairCountByGroup.get(pair.groupId) ?? 1) - 1;
  if (count > 0) world.indexes.pairCountByGroup.set(pair.groupId, count);
  else world.indexes.pairCountByGroup.delete(pair.groupId);
}

export function pairById(world: World, pairId: string): SimReplicationPair | undefined {
  return world.indexes.pairById.get(pairId);
}

export function instancesOfGroup(world: World, groupId: string): ReadonlySet<SimProtectedInstance> {
  return world.indexes.instancesByGroup.get(groupId) ?? new Set();
}

export function serversAttachedTo(world: World, volumeId: string): readonly SimServer[] {
  return world.indexes.attachedServers.get(volumeId) ?? [];
}
