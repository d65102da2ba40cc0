/**
 * Shared-disk clusters: servers linked, directly or through each other, by shared (multi-attach)
 * volumes. SDRS creates the protected instances of such servers only together, in one batch call
 * (SDRS.1408 when a server the disk is attached to is missing from the batch).
 */
import { isSharedVolume } from "../sdrs/schemas.ts";
import type { ServerFacts } from "./types.ts";

export interface SharedDiskCluster {
  /** Every server in the cluster, in the request or not, sorted. */
  members: string[];
  /** The shared volumes linking them, sorted. */
  sharedVolumeIds: string[];
}

/** The cluster of every request server that touches a shared volume, keyed by server id. */
export function sharedDiskClusters(servers: readonly ServerFacts[]): Map<string, SharedDiskCluster> {
  const parent = new Map<string, string>();
  const find = (serverId: string): string => {
    let root = serverId;
    for (let next = parent.get(root); next !== undefined && next !== root; next = parent.get(root)) root = next;
    parent.set(serverId, root);
    return root;
  };
  const union = (a: string, b: string) => {
    const rootA = find(a);
    const rootB = find(b);
    // The smaller id is the root, so the result does not depend on input order.
    if (rootA < rootB) parent.set(rootB, rootA);
    else if (rootB < rootA) parent.set(rootA, rootB);
  };
  const volumesByServer = new Map<string, Set<string>>();
  for (const facts of servers) {
    for (const volume of facts.volumes) {
      if (!isSharedVolume(volume)) continue;
      const attached = new Set([facts.serverId, ...volume.attachments.map((attachment) => attachment.server_id)]);
      for (const serverId of attached) {
        find(serverId);
        union(facts.serverId, serverId);
        const volumes = volumesByServer.get(serverId) ?? new Set<string>();
        volumes.add(volume.id);
        volumesByServer.set(serverId, volumes);
      }
    }
  }
  const membersByRoot = new Map<string, string[]>();
  const volumesByRoot = new Map<string, Set<string>>();
  for (const serverId of parent.keys()) {
    const root = find(serverId);
    const members = membersByRoot.get(root) ?? [];
    members.push(serverId);
    membersByRoot.set(root, members);
    const volumes = volumesByRoot.get(root) ?? new Set<string>();
    for (const volumeId of volumesByServer.get(serverId) ?? []) volumes.add(volumeId);
    volumesByRoot.set(root, volumes);
  }
  const clusters = new Map<string, SharedDiskCluster>();
  for (const facts of servers) {
    if (!parent.has(facts.serverId)) continue;
    const root = find(facts.serverId);
    clusters.set(facts.serverId, {
      members: [...(membersByRoot.get(root) ?? [])].sort(),
      sharedVolumeIds: [...(volumesByRoot.get(root) ?? [])].sort(),
    });
  }
  return clusters;
}
