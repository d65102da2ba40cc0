/** Whether a replication pair is attached to a protected instance (see ReplicationPairRecord.attachedTo). */
import type { ReplicationPairRecord } from "./model.ts";

export function pairAttachedTo(pair: ReplicationPairRecord, instanceId: string): boolean {
  return pair.attachedTo === undefined || pair.attachedTo === instanceId;
}
