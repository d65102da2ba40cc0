/**
 * What the pipeline needs from the outside world, as ports. Lambda handlers and the local runtime build
 * one of these (lib/runtime/), tests too; the pipeline itself never reads the environment.
 */
import type { Clock } from "../clock.ts";
import type { TargetsConfig } from "../config/targets.ts";
import { type Metrics, noMetrics } from "../metrics.ts";
import type { QueueName, QueueSender } from "../queue/queue.ts";
import type { CloudClient } from "../sdrs/client.ts";
import type { Repositories } from "../state/repositories.ts";
import type { Deadline } from "./deadline.ts";
import type { ProtectedInstanceView, SharedReads } from "./instance-view.ts";
import type { RejectionLog } from "./rejections.ts";
import { DEFAULT_SCHEDULE, type ScheduleSettings } from "./schedule.ts";

/**
 * Where a message goes that retrying cannot help: one that can never be processed (not JSON, not a valid
 * message) or a notification whose webhook attempts are all spent. `body` is the message text, `reason`
 * names the field and the rule (or the last delivery failure). Adapters: the sqlite queue's `deadLetter`
 * (`<queue>-dlq`) and the SQS dead-letter queues (lib/runtime/aws.ts); both keep `reason` as a message
 * attribute. A sink that cannot take the message throws, and the message stays in its queue.
 */
export type DeadLetterSink = (queue: QueueName, body: string, reason: string) => Promise<void>;

export interface PipelineLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface PipelineSettings {
  schedule: ScheduleSettings;
  /** A server deferred this often (group or server in a transient state) is reported ineligible. */
  maxDeferrals: number;
  /** Create attempts per server before it is reported failed. */
  maxAttempts: number;
  /** Wait before looking for the servers of an ambiguous create in the group. */
  ambiguousCheckDelaySeconds: number;
  /** Looks before an ambiguous create that never showed up is retried. */
  ambiguousMaxChecks: number;
  /** A `claimed` record untouched this long belongs to a worker that died before its create call. */
  staleClaimSeconds: number;
  /** Reconcile re-tries failed / ineligible / unknown servers after this long. */
  reconcileRetryAfterSeconds: number;
  /** Inventory events are deduplicated for this long. */
  eventDedupeTtlSeconds: number;
  /** Wait while a target's protection group is being created. */
  groupPendingRetrySeconds: number;
}

export const DEFAULT_PIPELINE_SETTINGS: PipelineSettings = {
  schedule: DEFAULT_SCHEDULE,
  maxDeferrals: 12,
  maxAttempts: 3,
  ambiguousCheckDelaySeconds: 20,
  ambiguousMaxChecks: 6,
  staleClaimSeconds: 900,
  reconcileRetryAfterSeconds: 24 * 3600,
  eventDedupeTtlSeconds: 7 * 24 * 3600,
  groupPendingRetrySeconds: 30,
};

export interface PipelineDeps {
  cloud: CloudClient;
  repos: Repositories;
  queue: QueueSender;
  config: TargetsConfig;
  clock: Clock;
  log: PipelineLogger;
  settings: PipelineSettings;
  deadLetter: DeadLetterSink;
  /** Inventory events that were rejected, kept for status tooling. */
  rejections: RejectionLog;
  /** [0, 1): jitter; Math.random by default. */
  random?: () => number;
  /** The invocation's deadline (Lambda); none in the local runtime. */
  deadline?: Deadline;
  /** Where the pipeline's figures go (lib/metrics.ts); none by default. */
  metrics?: Metrics;
  /** The project's protected instances, one read shared for a few seconds (lib/pipeline/instance-view.ts); absent: list on every use. */
  instances?: ProtectedInstanceView;
  /** The instances still `creating`, one read shared by the job checks for a few seconds; absent: list on every use. */
  creatingInstances?: ProtectedInstanceView;
  /** Rarely changing reads (a target's group, Auto Scaling membership) shared for a few seconds; absent: read every time. */
  reads?: SharedReads;
}

export function metricsOf(deps: Pick<PipelineDeps, "metrics">): Metrics {
  return deps.metrics ?? noMetrics;
}

export function nowIso(deps: Pick<PipelineDeps, "clock">): string {
  return new Date(deps.clock.now()).toISOString();
}

/** Intents from events and reconcile belong to no onboarding request; their records carry this marker. */
export function automaticRequestId(source: string): string {
  return `auto:${source}`;
}

export function isOnboardingRequestId(requestId: string): boolean {
  return !requestId.startsWith("auto:");
}
