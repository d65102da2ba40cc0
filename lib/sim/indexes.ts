/**
 * Lookups the simulator keeps beside its records so that a request costs what its answer costs, not
 * what the estate costs: at 10,000 servers a list page, a create rule or a protection-group read
 * must not walk every server, volume or protected instance. Built once from the estate and kept up
 * to date by the only writers of the world (world.ts), through the functions below.
 */
import type { ProtectedInstanceRecord, ReplicationPairRecord, ServerRecord, VolumeRecord, World } from "./model.ts";

export interface WorldIndexes {
  /** Servers in the order ECS lists them (estate order, then creation order); `marker` resumes after one. */
  serverOrder: ServerRecord[];
  serverPosition: Map<string, number>;
  /** Volumes in the order EVS lists them; `marker` resumes after one. */
  volumeOrder: VolumeRecord[];
  volumePosition: Map<string, number>;
  /** Volume id → the servers it is attached to, in server order. */
  attachedServers: Map<string, ServerRecord[]>;
  /** Server id → the protected instance using it as production or DR-site server. */
  instanceByServer: Map<string, ProtectedInstanceRecord>;
  /** Protection group id → its protected instances. */
  instancesByGroup: Map<string, Set<ProtectedInstanceRecord>>;
  /** Protection group id → the number of its replication pairs. */
  pairCountByGroup: Map<string, number>;
  /** ECS `tags` filter term (`key=value` or `key`) → ids of the servers carrying it. */
  serversByTagTerm: Map<string, Set<string>>;
  /** `vpcId/ip` → who uses the private IP: a server, or a protected instance whose DR-site server will. */
  ipUsers: Map<string, string>;
}

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

function indexTags(world: World, server: ServerRecord): void {
  for (const term of tagTerms(server.tags)) setOf(world.indexes.serversByTagTerm, term).add(server.id);
}

export function addServer(world: World, server: ServerRecord): void {
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

function indexAttachment(world: World, server: ServerRecord, volumeId: string): void {
  const servers = world.indexes.attachedServers.get(volumeId);
  if (servers === undefined) world.indexes.attachedServers.set(volumeId, [server]);
  else servers.push(server);
}

/** Attaches a volume to a server (DR-site disks of a new DR-site server). */
export function attachVolume(world: World, server: ServerRecord, attached: ServerRecord["volumes"][number]): void {
  server.volumes.push(attached);
  indexAttachment(world, server, attached.id);
}

export function addVolume(world: World, volume: VolumeRecord): void {
  world.volumes.set(volume.id, volume);
  world.indexes.volumePosition.set(volume.id, world.indexes.volumeOrder.length);
  world.indexes.volumeOrder.push(volume);
}

export function setServerTags(world: World, server: ServerRecord, tags: Record<string, string>): void {
  for (const term of tagTerms(server.tags)) world.indexes.serversByTagTerm.get(term)?.delete(server.id);
  server.tags = { ...tags };
  indexTags(world, server);
}

export function addInstance(world: World, instance: ProtectedInstanceRecord): void {
  world.instances.set(instance.id, instance);
  setOf(world.indexes.instancesByGroup, instance.groupId).add(instance);
  world.indexes.instanceByServer.set(instance.sourceServerId, instance);
  if (instance.targetServerId !== undefined) world.indexes.instanceByServer.set(instance.targetServerId, instance);
}

export function setInstanceTarget(world: World, instance: ProtectedInstanceRecord, targetServerId: string): void {
  instance.targetServerId = targetServerId;
  world.indexes.instanceByServer.set(targetServerId, instance);
}

export function removeInstance(world: World, instance: ProtectedInstanceRecord): void {
  world.instances.delete(instance.id);
  world.indexes.instancesByGroup.get(instance.groupId)?.delete(instance);
  for (const serverId of [instance.sourceServerId, instance.targetServerId]) {
    if (serverId !== undefined && world.indexes.instanceByServer.get(serverId) === instance) world.indexes.instanceByServer.delete(serverId);
  }
}

export function addReplicationPair(world: World, pair: ReplicationPairRecord): void {
  world.replicationPairs.set(pair.sourceVolumeId, pair);
  world.indexes.pairCountByGroup.set(pair.groupId, (world.indexes.pairCountByGroup.get(pair.groupId) ?? 0) + 1);
}

export function instancesOfGroup(world: World, groupId: string): ReadonlySet<ProtectedInstanceRecord> {
  return world.indexes.instancesByGroup.get(groupId) ?? new Set();
}

export function serversAttachedTo(world: World, volumeId: string): readonly ServerRecord[] {
  return world.indexes.attachedServers.get(volumeId) ?? [];
}
