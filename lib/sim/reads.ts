/**
 * The read endpoints: query parameters checked as the services check them, records rendered as the
 * real API shapes. Pure over the world and `now`.
 */
import { MAX_IDS_PER_LIST_FILTER } from "../sdrs/schemas.ts";
import { type ApiError, isApiError, sdrsError, serviceError } from "./api-error.ts";
import type { World } from "./model.ts";
import {
  attachmentIndex,
  renderActiveDomain,
  renderJob,
  renderProtectedInstance,
  renderProtectionGroup,
  renderServer,
  renderVolume,
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

/** SDRS list paging: limit 0–1000 (default 1000, SDRS.0221), offset ≥ 0 (default 0, SDRS.0222). */
function sdrsPaging(query: URLSearchParams): { limit: number; offset: number } | ApiError {
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
function idListParam(query: URLSearchParams, name: string): string[] | undefined | ApiError {
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
  // The simulator's choice for an unknown job id (not documented): 404 with SDRS.0401.
  if (job === undefined) return serviceError(404, "SDRS.0401", `job ${jobId} does not exist`);
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
  const status = query.get("status");
  const name = query.get("name");
  const az = query.get("availability_zone");
  const matching = [...world.groups.values()].filter(
    (group) =>
      (status === null || status === "" || group.status === status) &&
      (name === null || name === "" || group.name.includes(name)) &&
      (az === null || az === "" || groupProductionAz(group) === az),
  );
  return ok({
    server_groups: matching.slice(paging.offset, paging.offset + paging.limit).map((group) => renderProtectionGroup(world, group)),
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

export function listProtectedInstances(world: World, query: URLSearchParams, now: number): Answer | ApiError {
  const paging = sdrsPaging(query);
  if (isApiError(paging)) return paging;
  const groupIds = idListParam(query, "server_group_ids");
  if (isApiError(groupIds)) return groupIds;
  const instanceIds = idListParam(query, "protected_instance_ids");
  if (isApiError(instanceIds)) return instanceIds;
  const groupId = query.get("server_group_id");
  // Precedence (reference §3.1): server_group_ids over server_group_id; instance ids only without either.
  const groupFilter = groupIds ?? (groupId === null || groupId === "" ? undefined : [groupId]);
  const instanceFilter = groupFilter === undefined ? instanceIds : undefined;
  const status = query.get("status");
  const name = query.get("name");
  const az = query.get("availability_zone");
  const matching = [...world.instances.values()].filter((instance) => {
    const group = world.groups.get(instance.groupId);
    return (
      (groupFilter === undefined || groupFilter.includes(instance.groupId)) &&
      (instanceFilter === undefined || instanceFilter.includes(instance.id)) &&
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

/**
 * ECS list: `offset` is a 1-based page number (0 behaves like 1), `limit` ≤ 1000 (default 25); the
 * simulator answers a bad value with 400 Ecs.0005 (its choice). `tags=x` matches a server with a tag
 * whose `key=value` equals x or whose key equals x.
 */
export function listServersDetails(world: World, query: URLSearchParams): Answer | ApiError {
  const limit = integerParam(query, "limit");
  if (limit === null || (limit !== undefined && (limit < 1 || limit > 1000))) {
    return serviceError(400, "Ecs.0005", `limit: ${query.get("limit")} is invalid: must be an integer from 1 to 1000`);
  }
  const page = integerParam(query, "offset");
  if (page === null || (page !== undefined && page < 0)) {
    return serviceError(400, "Ecs.0005", `offset: ${query.get("offset")} is invalid: must be a page number (1, 2, …)`);
  }
  const pageSize = limit ?? 25;
  const pageNumber = Math.max(1, page ?? 1);
  const tags = query.get("tags");
  const notTags = query.get("not-tags");
  const name = query.get("name");
  const status = query.get("status");
  const flavor = query.get("flavor");
  const enterpriseProject = query.get("enterprise_project_id");
  // `server_id=id1,id2`: exact ids (HW ListServersDetails).
  const serverIds = query.get("server_id") ? new Set((query.get("server_id") ?? "").split(",")) : undefined;
  const tagMatches = (serverTags: Record<string, string>, wanted: string) =>
    Object.entries(serverTags).some(([key, value]) => `${key}=${value}` === wanted || key === wanted);
  let namePattern: RegExp | undefined;
  if (name !== null && name !== "") {
    try {
      // ECS: "name" is a fuzzy match in which "." stands for any character.
      namePattern = new RegExp(name);
    } catch {
      return serviceError(400, "Ecs.0005", `name: ${name} is not a valid pattern`);
    }
  }
  const candidates = serverIds === undefined ? [...world.servers.values()] : [...serverIds].flatMap((id) => world.servers.get(id) ?? []);
  const matching = candidates.filter(
    (server) =>
      (tags === null || tags === "" || tagMatches(server.tags, tags)) &&
      (notTags === null || notTags === "" || !tagMatches(server.tags, notTags)) &&
      (namePattern === undefined || namePattern.test(server.name)) &&
      (status === null || status === "" || server.status === status) &&
      (flavor === null || flavor === "" || flavorId(server) === flavor) &&
      (enterpriseProject === null || enterpriseProject === "" || (server.enterpriseProjectId ?? "0") === enterpriseProject),
  );
  const start = (pageNumber - 1) * pageSize;
  return ok({ count: matching.length, servers: matching.slice(start, start + pageSize).map((server) => renderServer(world, server)) });
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

/** EVS list: filters server_id, multiattach, status, name; `offset` is an item offset, limit ≤ 1000. */
export function listVolumes(world: World, query: URLSearchParams, volumeCreatedAt: number): Answer | ApiError {
  const limit = integerParam(query, "limit");
  const offset = integerParam(query, "offset");
  if (limit === null || offset === null || (limit !== undefined && (limit < 1 || limit > 1000)) || (offset !== undefined && offset < 0)) {
    return serviceError(400, "EVS.2062", "limit must be 1–1000 and offset a non-negative integer");
  }
  const serverId = query.get("server_id");
  const multiattach = query.get("multiattach");
  const status = query.get("status");
  const name = query.get("name");
  // `ids=['id1','id2']`: at most 60 ids (HW EVS ListVolumes); unknown ids are ignored.
  const ids = query.get("ids") ? [...(query.get("ids") ?? "").matchAll(/'([^']*)'/g)].map((match) => match[1] ?? "") : undefined;
  if (ids !== undefined && ids.length > 60) return serviceError(400, "EVS.2062", "ids: at most 60 ids");
  const attached = attachmentIndex(world);
  const selected = ids === undefined ? [...world.volumes.values()] : ids.flatMap((id) => world.volumes.get(id) ?? []);
  const volumes = selected.map((volume) => renderVolume(volume, attached.get(volume.id) ?? [], volumeCreatedAt));
  const matching = volumes.filter(
    (volume) =>
      (serverId === null || serverId === "" || volume.attachments.some((attachment) => attachment.server_id === serverId)) &&
      (multiattach === null || multiattach === "" || String(volume.multiattach === true) === multiattach) &&
      (status === null || status === "" || volume.status === status) &&
      (name === null || name === "" || (volume.name ?? "").includes(name)),
  );
  const start = offset ?? 0;
  return ok({ count: matching.length, volumes: matching.slice(start, start + (limit ?? 1000)) });
}

/** AS paging: start_number ≥ 0 (default 0), limit 0–100 (default 20). */
function asPaging(query: URLSearchParams): { start: number; limit: number } | ApiError {
  const start = integerParam(query, "start_number");
  const limit = integerParam(query, "limit");
  if (start === null || limit === null || (start !== undefined && start < 0) || (limit !== undefined && (limit < 0 || limit > 100))) {
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

export function listScalingGroupInstances(world: World, scalingGroupId: string, query: URLSearchParams): Answer | ApiError {
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
