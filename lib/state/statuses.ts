/**
 * The pipeline's vocabulary, defined once: a server record's statuses and their groups, where a request
 * or intent came from, and the kinds of SDRS job it follows. Records, queue messages, the CLI's reports
 * and the planner all take them from here.
 */
import * as z from "../zod.ts";

export const serverRecordStatus = z.enum([
  "pending",
  "claimed",
  "creating",
  "ambiguous",
  "in_progress",
  "protected",
  "failed",
  "ineligible",
  "deferred",
  "unknown",
]);
export type ServerRecordStatus = z.infer<typeof serverRecordStatus>;

/** A server's state as reported: "queued" is asked for, with no record written for it (yet). */
export const serverState = z.union([z.literal("queued"), serverRecordStatus]);
export type ServerState = z.infer<typeof serverState>;

/** The outcomes a server's round ends in; each is notified once. */
export const FINAL_STATUSES = [
  "protected",
  "failed",
  "ineligible",
  "unknown",
] as const satisfies readonly ServerRecordStatus[];
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** A create call may be under way, or its outcome is unknown: a second create could duplicate it. */
export const IN_FLIGHT_STATUSES = [
  "claimed",
  "creating",
  "ambiguous",
  "in_progress",
] as const satisfies readonly ServerRecordStatus[];
export type InFlightStatus = (typeof IN_FLIGHT_STATUSES)[number];

/**
 * States a new claim may take a server from: not in flight (a second create could duplicate the first),
 * not `protected` (it is done).
 */
export const RECLAIMABLE_STATUSES = [
  "pending",
  "failed",
  "ineligible",
  "deferred",
  "unknown",
] as const satisfies readonly ServerRecordStatus[];

export function isFinal(status: string): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export function isInFlight(status: string): status is InFlightStatus {
  return (IN_FLIGHT_STATUSES as readonly string[]).includes(status);
}

export function isReclaimableStatus(status: string): boolean {
  return (RECLAIMABLE_STATUSES as readonly string[]).includes(status);
}

/** Where a request, or a protect intent, came from. */
export const requestSource = z.enum(["api", "event", "reconcile", "cli"]);
export type RequestSource = z.infer<typeof requestSource>;

/** The SDRS jobs the pipeline follows: a single or batch create, a group create, enabling protection. */
export const jobKind = z.enum(["single", "batch", "group", "enable"]);
export type JobKind = z.infer<typeof jobKind>;

/** The kinds of record the versioned store keeps. */
export const recordKind = z.enum(["server", "request", "job", "event", "idempotency", "endpoint", "stats", "coverage"]);
export type RecordKind = z.infer<typeof recordKind>;
