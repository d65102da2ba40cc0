/**
 * The statuses SDRS gives protected instances and replication pairs (reference facts §3.3, OTC
 * appendix "protected instance status" and "replication pair status"). Both walk the same lifecycle
 * and the same protection cycle (start, failover, reprotect, stop); each adds its own operations.
 */
import * as z from "../zod.ts";

/** Created, usable, and deleted: every SDRS resource. */
const LIFECYCLE_STATUSES = ["creating", "available", "deleting", "error-deleting", "error"] as const;

/** Starting protection, failing over, reprotecting and stopping, with the error each may end in. */
const PROTECTION_CYCLE_STATUSES = [
  "starting",
  "error-starting",
  "protected",
  "reversing",
  "failing-over",
  "failed-over",
  "reprotecting",
  "stopping",
  "error-stopping",
  "error-reversing",
  "error-failing-over",
  "error-reprotecting",
] as const;

/** A resource SDRS can no longer use (`invalid`) or whose replication broke (`fault`). */
const BROKEN_STATUSES = ["invalid", "fault"] as const;

export const protectedInstanceStatus = z.enum([
  ...LIFECYCLE_STATUSES,
  "nic-creating",
  "nic-deleting",
  ...PROTECTION_CYCLE_STATUSES,
  "resizing",
  "error-resizing",
  ...BROKEN_STATUSES,
]);
export type ProtectedInstanceStatus = z.infer<typeof protectedInstanceStatus>;

export const replicationPairStatus = z.enum([
  ...LIFECYCLE_STATUSES,
  "extending",
  "error-extending",
  ...PROTECTION_CYCLE_STATUSES,
  ...BROKEN_STATUSES,
  "attaching",
  "detaching",
  "error-attaching",
  "error-detaching",
]);
export type ReplicationPairStatus = z.infer<typeof replicationPairStatus>;
