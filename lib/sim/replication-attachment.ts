/** Whether a replication pair is attached to a protected instance (see SimReplicationPair.attachedTo). */
import type { SimReplicationPair } from "./model.ts";

export function pairAttachedTo(pair: SimReplicationPair, instanceId: string): boolean {
  return pair.attachedTo === undefined || pair.attachedTo === instanceId;
}
