/**
 * The read endpoints: query parameters checked as the services check them, records rendered as the
 * real API shapes. Pure over the world and `now`.
 */
import { MAX_IDS_PER_LIST_FILTER } from "../sdrs/schemas.ts";
import { type ApiError, isApiError, sdrsError, serviceError } from "./api-error.ts";
import { instancesOfGroup, serversAttachedTo } from "./indexes.ts";
import type { SimProtectedInstance, SimServer, SimVolume, World } from "./model.ts";
import {
  renderActiveDomain,
  renderJob,
  renderMissingServer,
  renderProtectedInstance,
  renderProtectionGroup,
  renderServer,
  renderVolume,
  volumeAvailabilityZone,
  volumeName,
  volumeStatus,
} from "./render.ts";
import { flavorId, groupProductionAz } from "./rules.ts";

export interface Answer {
  status: number;
  body: unknown;
}

const ok = (body: unknown): Answer => ({ status: 200, body });

/** An integer query parameter; `undefined` when absent, `null` when present but not an integer. */
function integerParam(query: URLSearchParams, name: string): number | undefined | null {
  const text = query.get(name);
  if (text === null || text === "") return undefined;
  return /^-?\d+$/.test(text) ? Number(text) : null;
}

/** The filter parameters a list reads, by their query names; each null when absent (as URLSearchParams.get). */
function filterParams<const N extends string>(query: URLSearchParams, ...names: N[]): Record<N, string | null> {
  return Object.fromEntries(names.map((name) => [name, query.get(name)])) as Record<N, string | null>;
}

/** The resources with these ids, in the order the list shows them; ids that do not exist are skipped. */
function inListOrder<T>(ids: Iterable<string>, byId: ReadonlyMap<string, T>, positionOf: (item: T) => number): T[] {
  return [...ids].flatMap((id) => byId.get(id) ?? []).sort((a, b) => positionOf(a) - positionOf(b));
}

/** SDRS list paging: limit 0–1000 (default 1000, SDRS.0221), offset ≥ 0 (default 0, SDRS.0222). */
export function sdrsPaging(query: URLSearchParams): { limit: number; offset: number } | ApiError {
  const limit = integerParam(query, "limit");
  if (limit === null || (limit !== undefined && (limit < 0 || limit > 1000))) {
    return sdrsError("SDRS.0221", `limit: ${query.get("limit")} is invalid: must be an integer from 0 to 1000`);
  }
  const offset = integerParam(query, "offset");
  if (offset === null || (offset !== undefined && offset < 0)) {
    return sdrsError("SDRS.0222", `offset: ${query.get("offset")} is invalid: must be a non-negative integer`);
  }
  return { limit: limit ?? 1000, offset: offset ?? 0 };
}

/**
 * `server_group_ids` / `protected_instance_ids`: a URL-encoded array literal, `["a","b"]` in the
 * official example, `['a','b']` in the text; both are accepted. At most 30 ids (SDRS.0226).
 */
export function idListParam(query: URLSearchParams, name: string): string[] | undefined | ApiError {
  const text = query.get(name);
  if (text === null || text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/'/g, '"'));
  } catch {
    return sdrsError("SDRS.0201", `${name}: ${text} is not an array literal such as ["id1","id2"]`);
  }
  if (!Array.isArray(value) || !value.every((id) => typeof id === "string")) {
    return sdrsError("SDRS.0201", `${name}: must be an array of id strings such as ["id1","id2"]`);
  }
  if (value.length > MAX_IDS_PER_LIST_FILTER) {
    return sdrsError("SDRS.0226", `${name}: ${value.length} ids given: at most ${MAX_IDS_PER_LIST_FILTER} are allowed`);
  }
  return value;
}

export function showJob(world: World, jobId: string, now: number): Answer | ApiError {
  const job = world.jobs.get(jobId);
  // SDRS's error table: 500 SDRS.0408 "Null job" (no job with that id).
  if (job === undefined) return sdrsError("SDRS.0408", `job ${jobId} does not exist`);
  return ok(renderJob(job, now));
}

export function showProtectionGroup(world: World, groupId: string): Answer | ApiError {
  const group = world.groups.get(groupId);
  if (group === undefined) return sdrsError("SDRS.1013", `protection group ${groupId} does not exist`);
  return ok({ server_group: renderProtectionGroup(world, group) });
}

export function listProtectionGroups(world: World, query: URLSearchParams): Answer | ApiError {
  const paging = sdrsPaging(query);
  if (isApiError(paging)) return paging;
  const { status, name, availability_zone: az } = filterParams(query, "status", "name", "availability_zone");
  const matching = [...world.groups.values()].filter(
    (group) =>
      (status === null || status === "" || group.status === status) &&
      (name === null || name === "" || group.name.includes(name)) &&
      (az === null || az === "" || groupProductionAz(group) === az),
  );
  return ok({
    server_groups: matching
      .slice(paging.offset, paging.offset + paging.limit)
      .map((group) => renderProtectionGroup(world, group)),
    count: matching.length,
  });
}

export function showProtectedInstance(world: World, instanceId: string, now: number): Answer | ApiError {
  const instance = world.instances.get(instanceId);
  if (instance === undefined) {
    return sdrsError("SDRS.0208", `protected instance ${instanceId} does not exist`, "itemNotFound");
  }
  return ok({ protected_instance: renderProtectedInstance(world, instance, now) });
}

/** The paging and id filters SDRS lists share: `server_group_ids` wins over `server_group_id`. */
export function sdrsIdFilters(
  query: URLSearchParams,
): { paging: { offset: number; limit: number }; groupFilter?: string[]; instanceIds?: string[] } | ApiError {
  const paging = sdrsPaging(query);
  if (isApiError(paging)) return paging;
  const groupIds = idListParam(query, "server_group_ids");
  if (isApiError(groupIds)) return groupIds;
  const instanceIds = idListParam(query, "protected_instance_ids");
  if (isApiError(instanceIds)) return instanceIds;
  const groupId = query.get("server_group_id");
  const groupFilter = groupIds ?? (groupId === null || groupId === "" ? undefined : [groupId]);
  return { paging, ...(groupFilter ? { groupFilter } : {}), ...(instanceIds ? { instanceIds } : {}) };
}

export function listProtectedInstances(world: World, query: URLSearchParams, now: number): Answer | ApiError {
  const filters = sdrsIdFilters(query);
  if (isApiError(filters)) return filters;
  // Precedence (reference §3.1): server_group_ids over server_group_id; instance ids only without either.
  const { paging, groupFilter, instanceIds } = filters;
  const instanceFilter = groupFilter === undefined ? instanceIds : undefined;
  const { status, name, availability_zone: az } = filterParams(query, "status", "name", "availability_zone");
  // The id filters start from the indexes; the rest are predicates over the records.
  const candidates: Iterable<SimProtectedInstance> =
    groupFilter !== undefined
      ? groupFilter.flatMap((id) => [...instancesOfGroup(world, id)])
      : instanceFilter !== undefined
        ? [...new Set(instanceFilter)].flatMap((id) => world.instances.get(id) ?? [])
        : world.instances.values();
  const matching = [...candidates].filter((instance) => {
    const group = world.groups.get(instance.groupId);
    return (
      (status === null || status === "" || instance.status === status) &&
      (name === null || name === "" || instance.name.includes(name)) &&
      (az === null || az === "" || (group !== undefined && groupProductionAz(group) === az))
    );
  });
  return ok({
    protected_instances: matching
      .slice(paging.offset, paging.offset + paging.limit)
      .map((instance) => renderProtectedInstance(world, instance, now)),
    count: matching.length,
  });
}

export function listActiveDomains(world: World): Answer {
  return ok({ domains: world.activeDomains.map(renderActiveDomain) });
}

function serverNotFound(serverId: string): ApiError {
  return serviceError(404, "Ecs.0114", `Instance[${serverId}] could not be found.`);
}

export function showServer(world: World, serverId: string): Answer | ApiError {
  const server = world.servers.get(serverId);
  if (server === undefined) return serverNotFound(serverId);
  return ok({ server: renderServer(world, server) });
}

export function showServerTags(world: World, serverId: string): Answer | ApiError {
  const server = world.servers.get(serverId);
  if (server === undefined) return serverNotFound(serverId);
  return ok({ tags: Object.entries(server.tags).map(([key, value]) => ({ key, value })) });
}

/** ECS answers a bad list parameter with 400 Ecs.0005 (the simulator's choice of code). */
function ecsParamError(name: string, value: string | null, rule: string): ApiError {
  return serviceError(400, "Ecs.0005", `${name}: ${value} is invalid: ${rule}`);
}

/** The first index of `sorted` (ascending positions) whose position is greater than `position`. */
function firstAfter<T>(sorted: readonly T[], positionOf: (item: T) => number, position: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (positionOf(sorted[middle] as T) <= position) low = middle + 1;
    else high = middle;
  }
  return low;
}

const nonEmpty = (value: string | null): value is string => value !== null && value !== "";

/**
 * ECS list (ListServersDetails): `limit` 1–1000 (default 25); `offset` is a 1-based page number (0
 * behaves like 1); `marker` is the id of the last server of the previous page and, when given,
 * replaces `offset`. `server_id=id1,id2` lists those servers and ignores every other filter; an id
 * that does not exist answers an entry with only `id` and `fault` set (the documented behaviour).
 * `tags=x` matches a server with a tag whose `key=value` or whose key equals x; `not-tags` the
 * opposite. `count` is the number matching, independent of paging. Only the page is rendered.
 */
export function listServersDetails(world: World, query: URLSearchParams): Answer | ApiError {
  const limit = integerParam(query, "limit");
  if (limit === null || (limit !== undefined && (limit < 1 || limit > 1000))) {
    return ecsParamError("limit", query.get("limit"), "must be an integer from 1 to 1000");
  }
  const page = integerParam(query, "offset");
  if (page === null || (page !== undefined && page < 0)) {
    return ecsParamError("offset", query.get("offset"), "must be a page number (1, 2, …)");
  }
  const pageSize = limit ?? 25;
  const marker = query.get("marker");
  const serverIdFilter = query.get("server_id");
  if (nonEmpty(serverIdFilter)) {
    const ids = [
      ...new Set(
        serverIdFilter
          .split(",")
          .map((serverId) => serverId.trim())
          .filter((serverId) => serverId !== ""),
      ),
    ];
    let start = (Math.max(1, page ?? 1) - 1) * pageSize;
    if (nonEmpty(marker)) {
      const at = ids.indexOf(marker);
      if (at < 0) return ecsParamError("marker", marker, "must be the id of a server of the previous page");
      start = at + 1;
    }
    const servers = ids.slice(start, start + pageSize).map((serverId) => {
      const server = world.servers.get(serverId);
      return server === undefined ? renderMissingServer(world, serverId) : renderServer(world, server);
    });
    return ok({ count: ids.length, servers });
  }

  const {
    tags,
    "not-tags": notTags,
    name,
    status,
    flavor,
    enterprise_project_id: enterpriseProject,
  } = filterParams(query, "tags", "not-tags", "name", "status", "flavor", "enterprise_project_id");
  let namePattern: RegExp | undefined;
  if (nonEmpty(name)) {
    try {
      // ECS: "name" is a fuzzy match in which "." stands for any character.
      namePattern = new RegExp(name);
    } catch {
      return ecsParamError("name", name, "not a valid pattern");
    }
  }
  const { indexes } = world;
  const positionOf = (server: SimServer) => indexes.serverPosition.get(server.id) ?? -1;
  // The tags filter starts from the tag index; every other filter is a predicate over the records.
  let candidates: readonly SimServer[] = indexes.serverOrder;
  if (nonEmpty(tags)) {
    candidates = inListOrder(indexes.serversByTagTerm.get(tags) ?? [], world.servers, positionOf);
  }
  const excluded = nonEmpty(notTags) ? indexes.serversByTagTerm.get(notTags) : undefined;
  const filtered =
    excluded !== undefined ||
    namePattern !== undefined ||
    nonEmpty(status) ||
    nonEmpty(flavor) ||
    nonEmpty(enterpriseProject);
  const matching = !filtered
    ? candidates
    : candidates.filter(
        (server) =>
          (excluded === undefined || !excluded.has(server.id)) &&
          (namePattern === undefined || namePattern.test(server.name)) &&
          (!nonEmpty(status) || server.status === status) &&
          (!nonEmpty(flavor) || flavorId(server) === flavor) &&
          (!nonEmpty(enterpriseProject) || (server.enterpriseProjectId ?? "0") === enterpriseProject),
      );
  let start = (Math.max(1, page ?? 1) - 1) * pageSize;
  if (nonEmpty(marker)) {
    const markerPosition = indexes.serverPosition.get(marker);
    if (markerPosition === undefined)
      return ecsParamError("marker", marker, "must be the id of a server of the previous page");
    start = firstAfter(matching, positionOf, markerPosition);
  }
  return ok({
    count: matching.length,
    servers: matching.slice(start, start + pageSize).map((server) => renderServer(world, server)),
  });
}

export function listKeypairs(world: World): Answer {
  return ok({
    keypairs: [...world.keyPairs.values()].map((keyPair) => ({
      keypair: {
        name: keyPair.name,
        fingerprint: keyPair.fingerprint ?? `SHA256:${Buffer.from(keyPair.name).toString("base64").replace(/=+$/, "")}`,
        public_key: `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ${Buffer.from(keyPair.name).toString("base64")} ${keyPair.name}`,
        type: "ssh",
      },
    })),
  });
}

/**
 * EVS list (ListVolumes): `limit` 1–1000 (default 1000); `marker` is the id of the last volume of the
 * previous page; `offset` skips that many volumes (after the marker when both are given). Filters
 * `server_id`, `multiattach`, `status`, `name` (fuzzy), `availability_zone`, `service_type`. A page
 * that is not the last one carries `volumes_links` with the `next` URL (marker = its last volume);
 * `count` is the number matching, independent of paging. Only the page is rendered.
 */
export function listVolumes(world: World, url: URL, volumeCreatedAt: number): Answer | ApiError {
  const query = url.searchParams;
  const limit = integerParam(query, "limit");
  const offset = integerParam(query, "offset");
  if (
    limit === null ||
    offset === null ||
    (limit !== undefined && (limit < 1 || limit > 1000)) ||
    (offset !== undefined && offset < 0)
  ) {
    return serviceError(400, "EVS.2062", "limit must be 1–1000 and offset a non-negative integer");
  }
  const pageSize = limit ?? 1000;
  const {
    server_id: serverId,
    multiattach,
    status,
    name,
    availability_zone: az,
    service_type: serviceType,
    marker,
  } = filterParams(query, "server_id", "multiattach", "status", "name", "availability_zone", "service_type", "marker");
  const { indexes } = world;
  const positionOf = (volume: SimVolume) => indexes.volumePosition.get(volume.id) ?? -1;
  const attachedTo = (volume: SimVolume) => serversAttachedTo(world, volume.id);
  let candidates: readonly SimVolume[] = indexes.volumeOrder;
  // `ids=['id1','id2']`: at most 60 (HW EVS ListVolumes); ids that do not exist are ignored.
  const ids = query.get("ids");
  if (nonEmpty(ids)) {
    const wanted = [...ids.matchAll(/'([^']*)'/g)].map((match) => match[1] ?? "");
    if (wanted.length > 60)
      return serviceError(400, "EVS.2062", `ids: ${wanted.length} ids given: at most 60 are allowed`);
    candidates = inListOrder(new Set(wanted), world.volumes, positionOf);
  }
  if (nonEmpty(serverId) && nonEmpty(ids)) {
    const ofServer = new Set((world.servers.get(serverId)?.volumes ?? []).map((attached) => attached.id));
    candidates = candidates.filter((volume) => ofServer.has(volume.id));
  } else if (nonEmpty(serverId)) {
    candidates = inListOrder(
      (world.servers.get(serverId)?.volumes ?? []).map((attached) => attached.id),
      world.volumes,
      positionOf,
    );
  }
  const filtered = [multiattach, status, name, az, serviceType].some(nonEmpty);
  const matching = !filtered
    ? candidates
    : candidates.filter(
        (volume) =>
          (!nonEmpty(multiattach) || String(volume.multiattach) === multiattach) &&
          (!nonEmpty(status) || volumeStatus(attachedTo(volume)) === status) &&
          (!nonEmpty(name) || volumeName(volume).includes(name)) &&
          (!nonEmpty(az) || volumeAvailabilityZone(volume, attachedTo(volume)) === az) &&
          (!nonEmpty(serviceType) || volume.serviceType === serviceType),
      );
  let start = offset ?? 0;
  if (nonEmpty(marker)) {
    const markerPosition = indexes.volumePosition.get(marker);
    if (markerPosition === undefined) return serviceError(400, "EVS.2062", `marker: volume ${marker} does not exist`);
    start += firstAfter(matching, positionOf, markerPosition);
  }
  const pageVolumes = matching.slice(start, start + pageSize);
  const body: Record<string, unknown> = {
    count: matching.length,
    volumes: pageVolumes.map((volume) => renderVolume(world, volume, attachedTo(volume), volumeCreatedAt, url.origin)),
  };
  const last = pageVolumes.at(-1);
  if (last !== undefined && start + pageVolumes.length < matching.length) {
    const next = new URL(url.href);
    next.searchParams.delete("offset");
    next.searchParams.set("limit", String(pageSize));
    next.searchParams.set("marker", last.id);
    body.volumes_links = [{ href: next.href, rel: "next" }];
  }
  return ok(body);
}

/** AS paging: start_number ≥ 0 (default 0), limit 0–100 (default 20). */
function asPaging(query: URLSearchParams): { start: number; limit: number } | ApiError {
  const start = integerParam(query, "start_number");
  const limit = integerParam(query, "limit");
  if (
    start === null ||
    limit === null ||
    (start !== undefined && start < 0) ||
    (limit !== undefined && (limit < 0 || limit > 100))
  ) {
    return serviceError(400, "AS.2019", "start_number must be ≥ 0 and limit 0–100");
  }
  return { start: start ?? 0, limit: limit ?? 20 };
}

export function listScalingGroups(world: World, query: URLSearchParams): Answer | ApiError {
  const paging = asPaging(query);
  if (isApiError(paging)) return paging;
  const groups = world.scalingGroups.map((group) => ({
    scaling_group_id: group.id,
    scaling_group_name: group.name,
    scaling_group_status: "INSERVICE",
    current_instance_number: group.serverIds.length,
    desire_instance_number: group.serverIds.length,
    min_instance_number: 0,
    max_instance_number: Math.max(10, group.serverIds.length),
  }));
  return ok({
    scaling_groups: groups.slice(paging.start, paging.start + paging.limit),
    total_number: groups.length,
    start_number: paging.start,
    limit: paging.limit,
  });
}

export function listScalingGroupInstances(
  world: World,
  scalingGroupId: string,
  query: URLSearchParams,
): Answer | ApiError {
  const group = world.scalingGroups.find((candidate) => candidate.id === scalingGroupId);
  if (group === undefined) return serviceError(404, "AS.2007", `The AS group ${scalingGroupId} does not exist.`);
  const paging = asPaging(query);
  if (isApiError(paging)) return paging;
  const instances = group.serverIds.map((serverId) => ({
    instance_id: serverId,
    instance_name: world.servers.get(serverId)?.name ?? serverId,
    scaling_group_id: group.id,
    scaling_group_name: group.name,
    life_cycle_state: "INSERVICE",
    health_status: "NORMAL",
    protect_from_scaling_down: false,
  }));
  return ok({
    scaling_group_instances: instances.slice(paging.start, paging.start + paging.limit),
    total_number: instances.length,
    start_number: paging.start,
    limit: paging.limit,
  });
}
