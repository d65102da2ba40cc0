/**
 * Server claims, the pure transition: which record a claim may take over and the record it writes.
 * `claimServer` (`servers.claim`, lib/state/repositories.ts) writes it conditionally on the version it read,
 * the guard behind "never create two protected instances for one server": of any number of concurrent
 * claims on one server exactly one wins.
 */
import type { ServerRecord } from "./records.ts";
import type { Versioned } from "./repository.ts";
import { isReclaimableStatus, type ServerRecordStatus } from "./statuses.ts";

export interface ServerClaim {
  target: string;
  requestId: string;
  groupId?: string;
  /**
   * A `claimed` record last written before this instant (ISO) is taken over: its claimer died before
   * submitting a create call. Only `claimed` qualifies — `creating` may have reached SDRS.
   */
  staleClaimBefore?: string;
  /** Create attempts a round may make: a claim past them loses (the caller settles the server failed). */
  maxAttempts?: number;
  /**
   * A new round may start from a final failed/unknown record already attached to `requestId` (reconcile
   * retrying a server long after it failed). Without it, such a claim is a duplicate intent and loses.
   */
  newRound?: boolean;
}

/** Final outcomes a claim of the same request may not reopen: the request was told, once. */
const SETTLED_FOR_REQUEST: readonly ServerRecordStatus[] = ["failed", "unknown"];

function isStaleClaim(server: ServerRecord, claim: Pick<ServerClaim, "staleClaimBefore">): boolean {
  return (
    server.status === "claimed" &&
    claim.staleClaimBefore !== undefined &&
    Date.parse(server.updatedAt) < Date.parse(claim.staleClaimBefore)
  );
}

/** A claim that starts a new round of attempts: from a final state, by a new request or a new round. */
function startsNewRound(server: ServerRecord, claim: Pick<ServerClaim, "requestId" | "newRound">): boolean {
  return (
    SETTLED_FOR_REQUEST.includes(server.status) &&
    (claim.newRound === true || !server.requestIds.includes(claim.requestId))
  );
}

export function isReclaimable(
  server: ServerRecord,
  claim: Pick<ServerClaim, "staleClaimBefore" | "requestId" | "maxAttempts" | "newRound">,
): boolean {
  if (SETTLED_FOR_REQUEST.includes(server.status)) return startsNewRound(server, claim);
  if (!isReclaimableStatus(server.status) && !isStaleClaim(server, claim)) return false;
  // A stale claim made no create call: taking it over does not add an attempt, so it is not refused for one.
  return isStaleClaim(server, claim) || claim.maxAttempts === undefined || server.attempts < claim.maxAttempts;
}

/**
 * The server record after `claim` wins, or undefined when the current record may not be claimed.
 * A reclaim clears what belonged to the previous attempt (reasons, job, notified outcome) and keeps the
 * history (createdAt, requestIds); it counts the attempt it starts (a new round counts from zero).
 */
export function claimedServer(
  current: ServerRecord | undefined,
  serverId: string,
  claim: ServerClaim,
  now: string,
): ServerRecord | undefined {
  if (current === undefined) {
    const created: ServerRecord = {
      serverId,
      target: claim.target,
      status: "claimed",
      requestIds: [claim.requestId],
      reasons: [],
      warnings: [],
      attempts: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (claim.groupId !== undefined) created.groupId = claim.groupId;
    return created;
  }
  if (!isReclaimable(current, claim)) return undefined;
  const { jobId: _jobId, notified: _notified, notifiedEventId: _eventId, groupId: _groupId, ...kept } = current;
  // The attempt counter is part of the conditional write: of two redeliveries, one claims and counts.
  const attemptsBefore = startsNewRound(current, claim) ? 0 : current.attempts;
  const reclaimed: ServerRecord = {
    ...kept,
    attempts: isStaleClaim(current, claim) ? Math.max(1, attemptsBefore) : attemptsBefore + 1,
    target: claim.target,
    status: "claimed",
    requestIds: current.requestIds.includes(claim.requestId)
      ? current.requestIds
      : [...current.requestIds, claim.requestId],
    reasons: [],
    warnings: [],
    updatedAt: now,
  };
  if (claim.groupId !== undefined) reclaimed.groupId = claim.groupId;
  return reclaimed;
}

export type ClaimResult =
  | { won: true; server: Versioned<ServerRecord> }
  | { won: false; server: Versioned<ServerRecord> };
