/**
 * Coverage of the whole estate in one pass: reads scoped and batched (servers, groups, protected
 * instances and volumes one listing each; replication pairs one listing per 30 groups, never a call per
 * server), then the pure verdict per server and the counts per target.
 */
import type { TargetsConfig } from "../config/targets.ts";
import type { ProtectedInstanceFilter, ReplicationFilter, ServerFilter, VolumeFilter } from "../sdrs/client.ts";
import type { ReplicationPair } from "../sdrs/replication-schemas.ts";
import type { EcsServer, EvsVolume, ProtectedInstance, ProtectionGroup } from "../sdrs/schemas.ts";
import { type CoverageGap, coverageOf, type ServerCoverage } from "./verdict.ts";

/** The reads coverage needs; CloudClient satisfies it. Nothing here changes the cloud. */
export interface CoverageReader {
  listServers(filter?: ServerFilter): Promise<EcsServer[]>;
  listProtectionGroups(): Promise<ProtectionGroup[]>;
  listProtectedInstances(filter?: ProtectedInstanceFilter): Promise<ProtectedInstance[]>;
  listReplications(filter: ReplicationFilter): Promise<ReplicationPair[]>;
  listVolumes(filter?: VolumeFilter): Promise<EvsVolume[]>;
}

export interface TargetCoverage {
  /** The protect tag value; null for protected servers without one. */
  target: string | null;
  protectionGroupId: string | undefined;
  servers: number;
  fully: number;
  partially: number;
  not: number;
  disksAttached: number;
  disksReplicated: number;
}

export interface CoverageReport {
  protectTagKey: string;
  targets: TargetCoverage[];
  totals: Omit<TargetCoverage, "target" | "protectionGroupId">;
  servers: ServerCoverage[];
  /** Every gap with its server, in server order. */
  gaps: (CoverageGap & { serverId: string; serverName: string; target: string | null })[];
}

/** The group a protect tag value means: a configured target's group (by id or name), or a group id itself. */
export function expectedGroupOf(
  target: string,
  config: TargetsConfig,
  groups: readonly ProtectionGroup[],
): string | undefined {
  const ref = config.targets[target]?.protectionGroup;
  if (ref !== undefined) return "id" in ref ? ref.id : groups.find((group) => group.name === ref.name)?.id;
  return groups.some((group) => group.id === target) ? target : undefined;
}

function tagValue(server: EcsServer, key: string): string | undefined {
  const prefix = `${key}=`;
  return (server.tags ?? []).find((tag) => tag.startsWith(prefix))?.slice(prefix.length) || undefined;
}

export function summarize(
  servers: readonly ServerCoverage[],
  expectedGroup: (target: string) => string | undefined,
): Pick<CoverageReport, "targets" | "totals" | "gaps"> {
  const byTarget = new Map<string | null, TargetCoverage>();
  const totals = { servers: 0, fully: 0, partially: 0, not: 0, disksAttached: 0, disksReplicated: 0 };
  for (const server of servers) {
    let entry = byTarget.get(server.target);
    if (entry === undefined) {
      entry = {
        target: server.target,
        protectionGroupId: server.target === null ? undefined : expectedGroup(server.target),
        servers: 0,
        fully: 0,
        partially: 0,
        not: 0,
        disksAttached: 0,
        disksReplicated: 0,
      };
      byTarget.set(server.target, entry);
    }
    for (const counts of [entry, totals]) {
      counts.servers += 1;
      counts[server.state] += 1;
      counts.disksAttached += server.disksAttached;
      counts.disksReplicated += server.disksReplicated;
    }
  }
  // Drift first: servers that are not (yet) protected instances are the onboarding pipeline's to report.
  const onboarding = (code: string) => code === "COVERAGE_NOT_PROTECTED" || code === "COVERAGE_PROTECTION_IN_PROGRESS";
  const gaps = servers
    .flatMap((server) =>
      server.gaps.map((gap) => ({
        serverId: server.serverId,
        serverName: server.serverName,
        target: server.target,
        ...gap,
      })),
    )
    .sort((a, b) => Number(onboarding(a.code)) - Number(onboarding(b.code)));
  const targets = [...byTarget.values()].sort((a, b) => (a.target ?? "\uffff").localeCompare(b.target ?? "\uffff"));
  return { targets, totals, gaps };
}

/** What an event is about: the servers it names, or those holding these disks, instances or pairs. */
export interface CoverageScope {
  serverIds?: readonly string[] | undefined;
  volumeIds?: readonly string[] | undefined;
  protectedInstanceIds?: readonly string[] | undefined;
  replicationPairIds?: readonly string[] | undefined;
}

export interface CoverageRequest {
  config: TargetsConfig;
  /** Only the servers tagged for this target or protected in its group. */
  target?: string | undefined;
  /** Only the servers in scope (a re-check after an event). */
  scope?: CoverageScope | undefined;
}

/** The servers a scope names, directly or through their disks, protected instances and pairs. */
function serversInScope(
  scope: CoverageScope,
  servers: readonly EcsServer[],
  instances: readonly ProtectedInstance[],
  pairs: readonly ReplicationPair[],
): Set<string> {
  const ids = new Set(scope.serverIds ?? []);
  const volumes = new Set(scope.volumeIds ?? []);
  for (const server of servers) {
    if (server["os-extended-volumes:volumes_attached"].some((volume) => volumes.has(volume.id))) ids.add(server.id);
  }
  const instanceIds = new Set(scope.protectedInstanceIds ?? []);
  const pairIds = new Set(scope.replicationPairIds ?? []);
  for (const pair of pairs) {
    if (!pairIds.has(pair.id)) continue;
    for (const attached of pair.attachment ?? []) instanceIds.add(attached.protected_instance);
    for (const id of pair.volume_ids.split(",")) volumes.add(id.trim());
  }
  for (const instance of instances) if (instanceIds.has(instance.id)) ids.add(instance.source_server);
  for (const server of servers) {
    if (server["os-extended-volumes:volumes_attached"].some((volume) => volumes.has(volume.id))) ids.add(server.id);
  }
  return ids;
}

export async function readCoverage(reader: CoverageReader, request: CoverageRequest): Promise<CoverageReport> {
  const { config } = request;
  const [servers, groups, instances] = await Promise.all([
    reader.listServers(),
    reader.listProtectionGroups(),
    reader.listProtectedInstances(),
  ]);
  const groupsById = new Map(groups.map((group) => [group.id, group]));
  const instanceOf = new Map(instances.map((instance) => [instance.source_server, instance]));
  const drServers = new Set(instances.flatMap((instance) => (instance.target_server ? [instance.target_server] : [])));
  const expectedGroup = (target: string) => expectedGroupOf(target, config, groups);
  // Pair ids in scope are resolved through the pairs of every group with members (one listing per 30 groups).
  const scopePairs =
    (request.scope?.replicationPairIds?.length ?? 0) > 0
      ? await reader.listReplications({
          serverGroupIds: [...new Set(instances.map((instance) => instance.server_group_id))],
        })
      : [];
  const wanted =
    request.scope === undefined ? undefined : serversInScope(request.scope, servers, instances, scopePairs);
  const targetGroup = request.target === undefined ? undefined : expectedGroup(request.target);

  const considered = servers
    .filter((server) => !drServers.has(server.id) && (wanted === undefined || wanted.has(server.id)))
    .map((server) => ({ server, target: tagValue(server, config.protectTagKey), instance: instanceOf.get(server.id) }))
    .filter(({ target, instance }) => target !== undefined || instance !== undefined)
    .filter(
      ({ target, instance }) =>
        request.target === undefined ||
        target === request.target ||
        (targetGroup !== undefined && instance?.server_group_id === targetGroup),
    );

  const groupIds = [
    ...new Set(considered.flatMap(({ instance }) => (instance ? [instance.server_group_id] : []))),
  ].sort();
  const [pairs, volumes] = await Promise.all([
    groupIds.length === 0 ? Promise.resolve([]) : reader.listReplications({ serverGroupIds: groupIds }),
    reader.listVolumes(),
  ]);
  const pairsByGroup = new Map<string, ReplicationPair[]>();
  for (const pair of pairs)
    pairsByGroup.set(pair.server_group_id, [...(pairsByGroup.get(pair.server_group_id) ?? []), pair]);
  const volumeSizes = new Map(
    volumes.flatMap((volume) => (typeof volume.size === "number" ? [[volume.id, volume.size] as const] : [])),
  );

  const coverage = considered.map(({ server, target, instance }) =>
    coverageOf({
      server,
      target,
      expectedGroupId: target === undefined ? undefined : expectedGroup(target),
      instance,
      group: instance === undefined ? undefined : groupsById.get(instance.server_group_id),
      groupPairs: instance === undefined ? [] : (pairsByGroup.get(instance.server_group_id) ?? []),
      volumeSizes,
    }),
  );
  return { protectTagKey: config.protectTagKey, servers: coverage, ...summarize(coverage, expectedGroup) };
}
