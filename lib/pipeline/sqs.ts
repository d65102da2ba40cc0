/**
 * SQS batches → pipeline steps, shared by the Lambda handlers and the local runtime (which builds the
 * same SQSEvent shape from its sqlite queue). A message that can never be processed (not JSON, not a
 * valid message) is logged with its reason and acknowledged, so it is not retried forever; a transient
 * failure is reported in batchItemFailures and comes back after the visibility timeout.
 */
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { z } from "zod";
import { type DispatcherDeps, deliverNotification } from "../notify/dispatcher.ts";
import { notificationMessage } from "../notify/events.ts";
import type { PipelineDeps } from "./deps.ts";
import { processJobStatus } from "./job-status.ts";
import { jobStatusMessage, type ProtectIntent, protectIntent } from "./messages.ts";
import { processIntents } from "./onboard.ts";

/** Where a message goes that exhausted its retries (SQS: the DLQ; local: the sqlite dead-letter queue). */
export type DeadLetterSink = (queue: "notify", body: unknown, reason: string) => Promise<void>;

function parseBody<T>(record: SQSRecord, schema: z.ZodType<T>, deps: Pick<PipelineDeps, "log">): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(record.body);
  } catch (error) {
    deps.log.error("unprocessable message: body is not JSON; dropped", { messageId: record.messageId, reason: (error as Error).message });
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(body)"}: ${issue.message}`).join("; ");
    deps.log.error("unprocessable message: invalid; dropped", { messageId: record.messageId, reason });
    return undefined;
  }
  return parsed.data;
}

export async function processSqsIntents(event: SQSEvent, deps: PipelineDeps): Promise<SQSBatchResponse> {
  const intents: ProtectIntent[] = [];
  const messageIds: string[] = [];
  for (const record of event.Records) {
    const intent = parseBody(record, protectIntent, deps);
    if (!intent) continue;
    intents.push(intent);
    messageIds.push(record.messageId);
  }
  const { retry } = await processIntents(intents, deps);
  const failed = [...new Set(retry.map((index) => messageIds[index]).filter((id): id is string => id !== undefined))];
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

export async function processSqsJobChecks(event: SQSEvent, deps: PipelineDeps): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const message = parseBody(record, jobStatusMessage, deps);
      if (message) await processJobStatus(message, deps);
    },
    processor,
    { processInParallel: false, throwOnFullBatchFailure: false },
  );
}

export async function processSqsNotifications(
  event: SQSEvent,
  deps: PipelineDeps,
  dispatcher: DispatcherDeps,
  deadLetter?: DeadLetterSink,
): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const message = parseBody(record, notificationMessage, deps);
      if (!message) return;
      const outcome = await deliverNotification(message, dispatcher);
      if (outcome.status === "dead") {
        deps.log.error("webhook delivery gave up", { eventId: outcome.eventId, endpointId: outcome.endpointId, attempts: outcome.attempts });
        if (!deadLetter) throw new Error(`webhook ${outcome.eventId} to ${outcome.endpointId} dead after ${outcome.attempts} attempts`);
        await deadLetter("notify", outcome.message, outcome.lastFailure.message);
      }
    },
    processor,
    { processInParallel: false, throwOnFullBatchFailure: false },
  );
}
