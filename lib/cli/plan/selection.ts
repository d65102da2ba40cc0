/**
 * Which servers a dry run plans, and for which target (pure). A server's target is the value of its
 * protect tag: a target name of the targets configuration, or a protection group id. `--servers` names
 * the servers instead of the tag; `--target` narrows to one target (or, with `--servers`, assigns them
 * all to it).
 */
import type { EcsServer } from "../../sdrs/schemas.ts";

/**
 * The protect tag's value from an ECS server's `tags` (rendered "key=value"; a value-less tag is just
 * "key", reference facts §5.1), or undefined when the server does not carry it.
 */
export function protectTagValue(server: Pick<EcsServer, "tags">, tagKey: string): string | undefined {
  for (const tag of server.tags ?? []) {
    if (tag === tagKey) return "";
    if (tag.startsWith(`${tagKey}=`)) return tag.slice(tagKey.length + 1);
  }
  return undefined;
}

export interface SelectionRequest {
  /** Every server of the project (one ECS list). */
  servers: readonly Pick<EcsServer, "id" | "name" | "tags">[];
  tagKey: string;
  /** Only this target. */
  target?: string | undefined;
  /** These servers instead of the tagged ones. */
  serverIds?: readonly string[] | undefined;
}

export interface Selection {
  /** Target → server ids, targets in order of first appearance, servers in listing (or --servers) order. */
  byTarget: Map<string, string[]>;
  /** --servers without --target: servers without the protect tag (or not found), so without a target. */
  untargeted: string[];
}

function add(byTarget: Map<string, string[]>, target: string, serverId: string): void {
  const servers = byTarget.get(target) ?? [];
  servers.push(serverId);
  byTarget.set(target, servers);
}

export function selectServers(request: SelectionRequest): Selection {
  const byTarget = new Map<string, string[]>();
  const untargeted: string[] = [];
  if (request.serverIds !== undefined) {
    const byId = new Map(request.servers.map((server) => [server.id, server]));
    for (const serverId of new Set(request.serverIds)) {
      const server = byId.get(serverId);
      const target = request.target ?? (server === undefined ? undefined : protectTagValue(server, request.tagKey));
      if (target === undefined) untargeted.push(serverId);
      else add(byTarget, target, serverId);
    }
    return { byTarget, untargeted };
  }
  if (request.target !== undefined) byTarget.set(request.target, []);
  for (const server of request.servers) {
    const target = protectTagValue(server, request.tagKey);
    if (target === undefined || (request.target !== undefined && target !== request.target)) continue;
    add(byTarget, target, server.id);
  }
  return { byTarget, untargeted };
}
