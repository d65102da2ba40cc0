/**
 * SQS batches → pipeline steps (notifications: sqs-notify.ts, so only the notify function bundles the
 * webhook sender), shared by the Lambda handlers and the local runtime (which builds the
 * same SQSEvent shape from its sqlite queue). A message that can never be processed (not JSON, not a
 * valid message) and a notification whose webhook attempts are all spent go to the queue's dead-letter
 * queue through `deps.deadLetter`, with the reason, and are then acknowledged: retrying them cannot help.
 * A transient failure is reported in batchItemFailures and comes back after the visibility timeout; so is
 * a message the dead-letter sink could not take, so no message is ever dropped.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { QueueName } from "../queue/queue.ts";
import { describeIssue } from "../sdrs/schemas.ts";
import type * as z from "../zod.ts";
import { DeadlineReachedError, outOfTime } from "./deadline.ts";
import { metricsOf, type PipelineDeps } from "./deps.ts";
import { processJobStatus } from "./job-status.ts";
import { jobStatusMessage, type ProtectIntent, protectIntent } from "./messages.ts";
import { processIntents } from "./onboard.ts";

/** A reason names at most this many invalid fields; the rest are counted. */
const MAX_ISSUES_IN_REASON = 5;

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The message in `body` per `schema`, or why it can never be processed (the field and the rule). */
export function parseMessage<T>(body: string, schema: z.ZodMiniType<T>): Parsed<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: `(body): must be JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const { issues } = parsed.error;
  const more = issues.length > MAX_ISSUES_IN_REASON ? `; and ${issues.length - MAX_ISSUES_IN_REASON} more` : "";
  return { ok: false, reason: `${issues.slice(0, MAX_ISSUES_IN_REASON).map(describeIssue).join("; ")}${more}` };
}

/** The message, or undefined once an unprocessable one is in the dead-letter queue (throws if the sink fails). */
export async function parseOrDeadLetter<T>(
  queue: QueueName,
  record: SQSRecord,
  schema: z.ZodMiniType<T>,
  deps: PipelineDeps,
): Promise<T | undefined> {
  const parsed = parseMessage(record.body, schema);
  if (parsed.ok) return parsed.value;
  await deps.deadLetter(queue, record.body, parsed.reason);
  metricsOf(deps).count("DeadLetteredMessages", { queue });
  deps.log.error("unprocessable message: sent to the dead-letter queue", {
    queue,
    messageId: record.messageId,
    reason: parsed.reason,
  });
  return undefined;
}

export async function processSqsIntents(event: SQSEvent, deps: PipelineDeps): Promise<SQSBatchResponse> {
  const intents: ProtectIntent[] = [];
  const messageIds: string[] = [];
  const failed = new Set<string>();
  for (const record of event.Records) {
    try {
      const intent = await parseOrDeadLetter("onboarding", record, protectIntent, deps);
      if (!intent) continue;
      intents.push(intent);
      messageIds.push(record.messageId);
    } catch (error) {
      deps.log.error("dead-lettering failed; the message returns to the queue", {
        queue: "onboarding",
        messageId: record.messageId,
        error: error instanceof Error ? error.message : String(error),
      });
      failed.add(record.messageId);
    }
  }
  const { retry, unstarted } = await processIntents(intents, deps);
  for (const index of retry) {
    const messageId = messageIds[index];
    if (messageId !== undefined) failed.add(messageId);
  }
  reportDeadlineStop("onboarding", unstarted.length, deps);
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

/** Logs and counts the messages a step left to the next invocation because its deadline was near. */
function reportDeadlineStop(queue: QueueName, unstarted: number, deps: PipelineDeps): void {
  if (unstarted === 0) return;
  metricsOf(deps).count("DeadlineStops", { queue }, unstarted);
  deps.log.warn("deadline near: messages not started return to the queue", {
    queue,
    unstarted,
    remainingMs: deps.deadline?.remainingMs(),
    marginMs: deps.deadline?.marginMs,
  });
}

/**
 * One message at a time (Powertools BatchProcessor, partial batch response); once the deadline is near,
 * every message not yet started fails without being touched, and returns to its queue.
 */
export async function processSequentially(
  queue: QueueName,
  event: SQSEvent,
  deps: PipelineDeps,
  step: (record: SQSRecord) => Promise<void>,
): Promise<SQSBatchResponse> {
  let unstarted = 0;
  const processor = new BatchProcessor(EventType.SQS);
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      if (outOfTime(deps)) {
        unstarted += 1;
        throw new DeadlineReachedError(deps.deadline?.remainingMs() ?? 0);
      }
      await step(record);
    },
    processor,
    { processInParallel: false, throwOnFullBatchFailure: false },
  );
  reportDeadlineStop(queue, unstarted, deps);
  return response;
}

export async function processSqsJobChecks(event: SQSEvent, deps: PipelineDeps): Promise<SQSBatchResponse> {
  return processSequentially("job-status", event, deps, async (record) => {
    const message = await parseOrDeadLetter("job-status", record, jobStatusMessage, deps);
    if (message) await processJobStatus(message, deps);
  });
}
