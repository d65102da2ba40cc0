/**
 * Queue messages of the pipeline. One protect intent per server (so a partial batch failure returns
 * exactly the servers that hit a transient error) and one job-status message per SDRS job.
 */

import { type JobKind, jobKind, type RequestSource, requestSource } from "../state/statuses.ts";
import * as z from "../zod.ts";

/** Where an intent came from: the request sources. */
export const intentSource = requestSource;
export type IntentSource = RequestSource;

/** Onboarding queue: "protect this server for this target". */
export const protectIntent = z.strictObject({
  type: z.literal("protect"),
  serverId: z.string().check(z.minLength(1)),
  /** A configured target name, or a protection group id (the protect tag's value). */
  target: z.string().check(z.minLength(1)),
  /** Present for onboarding requests (API, CLI); events and reconcile carry none. */
  requestId: z.optional(z.string().check(z.minLength(1))),
  /** The inventory event that asked (source `event`): each event is new input, its redeliveries are not. */
  eventId: z.optional(z.string().check(z.minLength(1))),
  flavorRef: z.optional(z.string().check(z.minLength(1))),
  source: intentSource,
  /** Plan this server alone (with its shared-disk peers): a failed batch retried server by server. */
  isolate: z.optional(z.boolean()),
  /** How often the server was deferred (transient group or server state) so far. */
  deferrals: z._default(z.int().check(z.nonnegative()), 0),
  /** Transient failures (throttled or failed cloud calls) this intent was backed off for so far. */
  retries: z.optional(z.int().check(z.nonnegative())),
  /**
   * The target is what an event claimed the protect tag says: the onboard step checks it against the tags
   * its batch read lists (one ECS list for the whole batch, not one tag read per event) before acting.
   */
  verifyTag: z.optional(z.boolean()),
});
export type ProtectIntent = z.infer<typeof protectIntent>;
export type ProtectIntentInput = z.input<typeof protectIntent>;

export { type JobKind, jobKind } from "../state/statuses.ts";

/** Where a job-status message looks: the target and its protection group. */
const checkedGroup = {
  target: z.string().check(z.minLength(1)),
  groupId: z.string().check(z.minLength(1)),
};

/** How far a job-status message has come: its checks, and the hops and retries of the current one. */
const checkProgress = {
  checks: z.int().check(z.nonnegative()),
  /** Epoch ms before which the check is early: a wait longer than SQS's 900 s hops until then. */
  notBefore: z.optional(z.number()),
  /** Hops made towards `notBefore`: each hop is a new message, not a copy of the one before (see checkKey). */
  hops: z.optional(z.int().check(z.nonnegative())),
  /** Transient read failures this check was backed off for (the same check, sent again in seconds). */
  retries: z.optional(z.int().check(z.nonnegative())),
};

/** Job-status queue: check this SDRS job (delayed). */
export const jobCheck = z.strictObject({
  type: z.literal("job"),
  jobId: z.string().check(z.minLength(1)),
  kind: jobKind,
  ...checkedGroup,
  serverIds: z.array(z.string().check(z.minLength(1))),
  /** Epoch ms when the create call returned the job id. */
  submittedAt: z.number(),
  ...checkProgress,
});
export type JobCheck = z.infer<typeof jobCheck>;

/** Job-status queue: a create whose outcome is unknown; look for the servers in the group before retrying. */
export const ambiguousCheck = z.strictObject({
  type: z.literal("ambiguous"),
  ...checkedGroup,
  serverIds: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  createdAt: z.number(),
  ...checkProgress,
});
export type AmbiguousCheck = z.infer<typeof ambiguousCheck>;

export const jobStatusMessage = z.discriminatedUnion("type", [jobCheck, ambiguousCheck]);
export type JobStatusMessage = z.infer<typeof jobStatusMessage>;

/** SQS: DelaySeconds is at most 900. */
export const MAX_DELAY_SECONDS = 900;

// ---------------------------------------------------------------------------------------------
// Factories: every job-status message is built here, so its defaults and rules live in one place.
// ---------------------------------------------------------------------------------------------

export interface SubmittedJob {
  jobId: string;
  kind: JobKind;
  target: string;
  groupId: string;
  serverIds: readonly string[];
  /** Epoch ms when the create call returned the job id. */
  submittedAt: number;
  /** Checks already made of it (a recovered job carries its count on). */
  checks?: number;
}

/** The first check of a job a create call (or a recovery) returned. */
export function newJobCheck(job: SubmittedJob): JobCheck {
  return jobCheck.parse({ type: "job", ...job, serverIds: [...job.serverIds], checks: job.checks ?? 0 });
}

/** A job check recorded in the store (its record), to be followed again. */
export function jobCheckOfRecord(record: Omit<SubmittedJob, "submittedAt"> & { submittedAt: string }): JobCheck {
  return newJobCheck({ ...record, submittedAt: Date.parse(record.submittedAt) });
}

/** The progress of the next check: one more, its hops and retries started afresh. */
function nextProgress(checks: number) {
  return { checks: checks + 1, notBefore: undefined, hops: undefined, retries: undefined };
}

/** The next check of a job still running: one more check, its hops and retries started afresh. */
export function nextJobCheck(check: JobCheck): JobCheck {
  return jobCheck.parse({ ...check, ...nextProgress(check.checks) });
}

/** A create whose outcome is unknown: look for `serverIds` in the group before any retry. */
export function newAmbiguousCheck(fields: {
  target: string;
  groupId: string;
  serverIds: readonly string[];
  createdAt: number;
}): AmbiguousCheck {
  return ambiguousCheck.parse({ type: "ambiguous", ...fields, serverIds: [...fields.serverIds], checks: 0 });
}

/** The next look at an ambiguous create, for the servers still not seen. */
export function nextAmbiguousCheck(check: AmbiguousCheck, waiting: readonly string[]): AmbiguousCheck {
  return ambiguousCheck.parse({ ...check, serverIds: [...waiting], ...nextProgress(check.checks) });
}
