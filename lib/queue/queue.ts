/**
 * The queue port. Three standard (at-least-once) queues carry the pipeline: `onboarding` (servers to
 * check and protect), `job-status` (delayed checks of SDRS jobs) and `notify` (outcomes to deliver).
 * Every consumer must tolerate a message twice; a message that keeps failing ends in `<queue>-dlq`.
 *
 * Adapters: lib/queue/sqlite-queue.ts (node:sqlite, local runs and tests) and lib/aws/sqs-queue.ts
 * (SQS). In AWS, Lambda's event source mapping receives; locally the runtime polls with QueueReceiver
 * and hands the handlers `toSqsEvent(...)`, the shape SQS delivers to Lambda.
 */
import { createHash } from "node:crypto";
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import * as z from "../zod.ts";

export const queueName = z.enum(["onboarding", "job-status", "notify"]);
export type QueueName = z.infer<typeof queueName>;
export const QUEUE_NAMES: readonly QueueName[] = queueName.options;

/** SQS message timers: "DelaySeconds … 0 to 900 (15 minutes)". Longer waits are capped and re-enqueued. */
export const MAX_DELAY_SECONDS = 900;
/** SQS ReceiveMessage: MaxNumberOfMessages 1–10. */
export const MAX_RECEIVE_MESSAGES = 10;
/** SQS visibility timeout: 0 s to 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** SQS SendMessageBatch: at most 10 entries per call. */
export const SEND_BATCH_LIMIT = 10;
/** SQS redrive policy default used here: AWS advises at least 5 receives before dead-lettering. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
/** Message attribute carrying a send's deduplicationId (standard queues keep it for consumers to see). */
export const DEDUPLICATION_ATTRIBUTE = "DeduplicationId";
/** The message attribute that says why a message was dead-lettered. */
export const DEAD_LETTER_REASON_ATTRIBUTE = "reason";

export interface SendOptions {
  /** 0–900 seconds before the message becomes visible. */
  delaySeconds?: number;
  /**
   * Drops a repeat of the same id on the same queue. Best effort: the sqlite queue drops a repeat sent
   * within 5 minutes (SQS FIFO's window); standard SQS queues cannot dedupe, so there it only travels as
   * the `DeduplicationId` message attribute. Consumers must stay idempotent either way.
   */
  deduplicationId?: string;
}

export interface BatchEntry extends SendOptions {
  body: unknown;
}

export interface QueueSender {
  /** Sends `body` as JSON text. */
  send(queue: QueueName, body: unknown, options?: SendOptions): Promise<void>;
  /** Sends every entry (SQS: in calls of 10, retrying failed entries); validates all before sending any. */
  sendBatch(queue: QueueName, entries: BatchEntry[]): Promise<void>;
}

export interface ReceivedMessage {
  messageId: string;
  /** The JSON text that was sent. */
  body: string;
  /** Changes with every receive; only the latest one deletes the message. */
  receiptHandle: string;
  /** 1 on the first delivery. */
  receiveCount: number;
  /** Epoch milliseconds of the send. */
  sentAt: number;
  /** SQS system attributes as strings: ApproximateReceiveCount, SentTimestamp, ApproximateFirstReceiveTimestamp, SenderId. */
  attributes: Record<string, string>;
  /** String message attributes (e.g. DeduplicationId). */
  messageAttributes?: Record<string, string>;
}

export interface ReceiveOptions {
  /** 1–10. */
  maxMessages: number;
  /** 0–43200: how long the received messages stay hidden from other receivers. */
  visibilityTimeoutSeconds: number;
}

/** The local runtime and tests poll with this; in AWS, Lambda's event source mapping does it. */
export interface QueueReceiver {
  receive(queue: QueueName, options: ReceiveOptions): Promise<ReceivedMessage[]>;
  /** Deletes the message; a receipt handle superseded by a later receive deletes nothing. */
  delete(queue: QueueName, receiptHandle: string): Promise<void>;
  /** Deletes many received messages at once (sqlite: one transaction; SQS: DeleteMessageBatch, 10 per call). */
  deleteBatch(queue: QueueName, receiptHandles: readonly string[]): Promise<void>;
  /** Sets the remaining invisibility of a received message (0 = visible again now). */
  changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void>;
}

/** A caller passed something the queue contract rejects; `field` names it. */
export class QueueArgumentError extends Error {
  readonly code = "QUEUE_INVALID_ARGUMENT";
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = "QueueArgumentError";
    this.field = field;
  }
}

const deduplicationId = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(128),
    z.regex(/^[\x21-\x7e]+$/, { error: "must be 1–128 printable ASCII characters without spaces" }),
  );

export function checkQueueName(queue: QueueName): void {
  if (!queueName.safeParse(queue).success) {
    throw new QueueArgumentError(
      "queue",
      `queue must be one of ${QUEUE_NAMES.join(", ")}; got ${JSON.stringify(queue)}`,
    );
  }
}

export function checkSendOptions(queue: QueueName, options: SendOptions): void {
  const { delaySeconds } = options;
  if (
    delaySeconds !== undefined &&
    !(Number.isInteger(delaySeconds) && delaySeconds >= 0 && delaySeconds <= MAX_DELAY_SECONDS)
  ) {
    throw new QueueArgumentError(
      "delaySeconds",
      `delaySeconds for queue ${queue} must be an integer from 0 to ${MAX_DELAY_SECONDS} (the SQS maximum, 15 minutes); got ${delaySeconds}. Cap the delay and re-enqueue the remainder.`,
    );
  }
  if (options.deduplicationId !== undefined && !deduplicationId.safeParse(options.deduplicationId).success) {
    throw new QueueArgumentError(
      "deduplicationId",
      `deduplicationId for queue ${queue} must be 1–128 printable ASCII characters without spaces`,
    );
  }
}

export function checkReceiveOptions(queue: QueueName, options: ReceiveOptions): void {
  const { maxMessages, visibilityTimeoutSeconds } = options;
  if (!(Number.isInteger(maxMessages) && maxMessages >= 1 && maxMessages <= MAX_RECEIVE_MESSAGES)) {
    throw new QueueArgumentError(
      "maxMessages",
      `maxMessages for queue ${queue} must be an integer from 1 to ${MAX_RECEIVE_MESSAGES}; got ${maxMessages}`,
    );
  }
  checkVisibility(queue, visibilityTimeoutSeconds, "visibilityTimeoutSeconds");
}

export function checkVisibility(queue: QueueName, seconds: number, field = "seconds"): void {
  if (!(Number.isInteger(seconds) && seconds >= 0 && seconds <= MAX_VISIBILITY_TIMEOUT_SECONDS)) {
    throw new QueueArgumentError(
      field,
      `${field} for queue ${queue} must be an integer from 0 to ${MAX_VISIBILITY_TIMEOUT_SECONDS} (12 hours); got ${seconds}`,
    );
  }
}

/** The JSON text of a message body; refuses what JSON cannot carry. */
export function messageBody(queue: QueueName, body: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new QueueArgumentError(
      "body",
      `message body for queue ${queue} is not JSON-serialisable: ${(error as Error).message}`,
    );
  }
  if (text === undefined)
    throw new QueueArgumentError("body", `message body for queue ${queue} is not JSON-serialisable`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// The SQS → Lambda event shape
// ---------------------------------------------------------------------------------------------

/** SenderId the local queue reports, where SQS reports the sending principal's id. */
export const LOCAL_SENDER_ID = "sdrs-autoprotect-local";

const queueArn = z
  .string()
  .check(
    z.regex(/^arn:[^:]+:sqs:[^:]*:[^:]*:[^:]+$/, { error: "must look like arn:aws:sqs:<region>:<account>:<queue>" }),
  );

function md5Hex(data: string | Buffer): string {
  return createHash("md5").update(data).digest("hex");
}

/**
 * MD5 of string message attributes as SQS computes it: for each attribute sorted by name, the
 * 4-byte big-endian length and UTF-8 bytes of the name and of the data type, the transport byte 1
 * (string), then length and bytes of the value.
 */
export function md5OfMessageAttributes(attributes: Record<string, string>): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (text: string) => {
    const bytes = Buffer.from(text, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    lengthPrefixed(name);
    lengthPrefixed("String");
    parts.push(Buffer.from([1]));
    lengthPrefixed(attributes[name] ?? "");
  }
  return md5Hex(Buffer.concat(parts));
}

/** The SQSEvent Lambda would receive for these messages from the queue `queueArn`. */
export function toSqsEvent(queueArnText: string, messages: ReceivedMessage[]): SQSEvent {
  const parsedArn = queueArn.safeParse(queueArnText);
  if (!parsedArn.success)
    throw new QueueArgumentError(
      "queueArn",
      `queue ARN ${JSON.stringify(queueArnText)} must look like arn:aws:sqs:<region>:<account>:<queue>`,
    );
  const awsRegion = queueArnText.split(":")[3] ?? "";
  return {
    Records: messages.map((message): SQSRecord => {
      const attributes = message.attributes;
      const messageAttributes: SQSMessageAttributes = {};
      for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
        messageAttributes[name] = {
          stringValue: value,
          stringListValues: [],
          binaryListValues: [],
          dataType: "String",
        };
      }
      const record: SQSRecord = {
        messageId: message.messageId,
        receiptHandle: message.receiptHandle,
        body: message.body,
        attributes: {
          ...attributes,
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          SenderId: attributes.SenderId ?? LOCAL_SENDER_ID,
          ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(message.sentAt),
        },
        messageAttributes,
        md5OfBody: md5Hex(message.body),
        eventSource: "aws:sqs",
        eventSourceARN: queueArnText,
        awsRegion,
      };
      if (Object.keys(messageAttributes).length > 0) {
        record.md5OfMessageAttributes = md5OfMessageAttributes(message.messageAttributes ?? {});
      }
      return record;
    }),
  };
}
