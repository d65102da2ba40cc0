/**
 * The queue port on SQS standard queues (AWS SDK v3). Delays, visibility, receive counts and the
 * dead-letter queue are SQS's own (the redrive policy is configured on the queue in serverless.yml);
 * this adapter validates arguments the same way the sqlite queue does and sends batches in calls of 10,
 * retrying the entries SQS reports as failed for a server-side reason.
 */
import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from "@aws-sdk/client-sqs";
import {
  type BatchEntry,
  checkQueueName,
  checkReceiveOptions,
  checkSendOptions,
  checkVisibility,
  DEDUPLICATION_ATTRIBUTE,
  messageBody,
  type QueueName,
  type QueueReceiver,
  type QueueSender,
  type ReceivedMessage,
  type ReceiveOptions,
  SEND_BATCH_LIMIT,
  type SendOptions,
} from "../queue/queue.ts";
import * as z from "../zod.ts";
import { type BatchRetry, batchRetryOf, waitBeforeRetry } from "./batch-retry.ts";
import { sqsSdk } from "./sdk.ts";

export type QueueUrls = Record<QueueName, string>;

export const queueUrlsFromEnv = (env: Record<string, string | undefined>): QueueUrls => {
  const parsed = z
    .object({
      ONBOARDING_QUEUE_URL: z.url(),
      JOB_STATUS_QUEUE_URL: z.url(),
      NOTIFY_QUEUE_URL: z.url(),
    })
    .safeParse(env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((issue) => issue.path.join(".")).join(", ");
    throw new SqsQueueConfigError(`queue URLs must be set as URLs in the environment: check ${missing}`);
  }
  return {
    onboarding: parsed.data.ONBOARDING_QUEUE_URL,
    "job-status": parsed.data.JOB_STATUS_QUEUE_URL,
    notify: parsed.data.NOTIFY_QUEUE_URL,
  };
};

export class SqsQueueConfigError extends Error {
  readonly code = "SQS_QUEUE_CONFIG";

  constructor(message: string) {
    super(message);
    this.name = "SqsQueueConfigError";
  }
}

/** SQS refused some batch entries for good (sender fault) or kept failing them after every retry. */
export class SqsSendError extends Error {
  readonly code = "SQS_SEND_FAILED";
  readonly queue: QueueName;
  readonly failures: { index: number; code: string; message: string }[];

  constructor(queue: QueueName, failures: { index: number; code: string; message: string }[]) {
    super(
      `SQS did not accept ${failures.length} message(s) for queue ${queue}: ${failures
        .slice(0, 3)
        .map((failure) => `entry ${failure.index}: ${failure.code} ${failure.message}`)
        .join("; ")}`,
    );
    this.name = "SqsSendError";
    this.queue = queue;
    this.failures = failures;
  }
}

export interface SqsQueueOptions {
  client: SQSClient;
  queueUrls: QueueUrls;
  /** Failed batch entries are retried with exponential backoff from this delay (default 100 ms)… */
  retryBaseDelayMs?: number;
  /** …at most this many times (default 5). */
  maxRetries?: number;
  /** ReceiveMessage long-poll wait, 0–20 s (default 0: return at once). */
  waitTimeSeconds?: number;
}

export class SqsQueue implements QueueSender, QueueReceiver {
  readonly #client: SQSClient;
  readonly #queueUrls: QueueUrls;
  readonly #retry: BatchRetry;
  readonly #waitTimeSeconds: number;

  constructor(options: SqsQueueOptions) {
    this.#client = options.client;
    this.#queueUrls = options.queueUrls;
    this.#retry = batchRetryOf(options, { baseDelayMs: 100, maxRetries: 5 });
    this.#waitTimeSeconds = options.waitTimeSeconds ?? 0;
    if (!(Number.isInteger(this.#waitTimeSeconds) && this.#waitTimeSeconds >= 0 && this.#waitTimeSeconds <= 20)) {
      throw new SqsQueueConfigError(`waitTimeSeconds must be an integer from 0 to 20; got ${this.#waitTimeSeconds}`);
    }
  }

  async send(queue: QueueName, body: unknown, options: SendOptions = {}): Promise<void> {
    checkQueueName(queue);
    checkSendOptions(queue, options);
    const { SendMessageCommand } = await sqsSdk();
    await this.#client.send(
      new SendMessageCommand({
        QueueUrl: this.#url(queue),
        MessageBody: messageBody(queue, body),
        DelaySeconds: options.delaySeconds,
        MessageAttributes: deduplicationAttribute(options.deduplicationId),
      }),
    );
  }

  async sendBatch(queue: QueueName, entries: BatchEntry[]): Promise<void> {
    checkQueueName(queue);
    const requestEntries: SendMessageBatchRequestEntry[] = entries.map((entry, index) => {
      checkSendOptions(queue, entry);
      return {
        Id: String(index),
        MessageBody: messageBody(queue, entry.body),
        DelaySeconds: entry.delaySeconds,
        MessageAttributes: deduplicationAttribute(entry.deduplicationId),
      };
    });
    const url = this.#url(queue);
    const chunks: SendMessageBatchRequestEntry[][] = [];
    for (let start = 0; start < requestEntries.length; start += SEND_BATCH_LIMIT) {
      chunks.push(requestEntries.slice(start, start + SEND_BATCH_LIMIT));
    }
    for (const chunk of chunks) await this.#sendChunk(queue, url, chunk);
  }

  async receive(queue: QueueName, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    checkQueueName(queue);
    checkReceiveOptions(queue, options);
    const { ReceiveMessageCommand } = await sqsSdk();
    const { Messages } = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#url(queue),
        MaxNumberOfMessages: options.maxMessages,
        VisibilityTimeout: options.visibilityTimeoutSeconds,
        WaitTimeSeconds: this.#waitTimeSeconds,
        MessageSystemAttributeNames: ["All"],
        // The older spelling, still honoured by SQS and the only one some emulators read.
        AttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    return (Messages ?? []).map((message) => {
      const attributes: Record<string, string> = { ...(message.Attributes ?? {}) };
      const received: ReceivedMessage = {
        messageId: message.MessageId ?? "",
        body: message.Body ?? "",
        receiptHandle: message.ReceiptHandle ?? "",
        receiveCount: Number(attributes.ApproximateReceiveCount ?? "1"),
        sentAt: Number(attributes.SentTimestamp ?? "0"),
        attributes,
      };
      const messageAttributes: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
        if (value.StringValue !== undefined) messageAttributes[name] = value.StringValue;
      }
      if (Object.keys(messageAttributes).length > 0) received.messageAttributes = messageAttributes;
      return received;
    });
  }

  async delete(queue: QueueName, receiptHandle: string): Promise<void> {
    checkQueueName(queue);
    const { DeleteMessageCommand } = await sqsSdk();
    await this.#client.send(new DeleteMessageCommand({ QueueUrl: this.#url(queue), ReceiptHandle: receiptHandle }));
  }

  /** DeleteMessageBatch, 10 entries per call (the SQS maximum); an entry SQS reports failed throws. */
  async deleteBatch(queue: QueueName, receiptHandles: readonly string[]): Promise<void> {
    checkQueueName(queue);
    const { DeleteMessageBatchCommand } = await sqsSdk();
    const url = this.#url(queue);
    for (let start = 0; start < receiptHandles.length; start += SEND_BATCH_LIMIT) {
      const entries = receiptHandles
        .slice(start, start + SEND_BATCH_LIMIT)
        .map((receiptHandle, index) => ({ Id: String(start + index), ReceiptHandle: receiptHandle }));
      const { Failed } = await this.#client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: entries }));
      if (Failed && Failed.length > 0) {
        throw new Error(
          `SQS DeleteMessageBatch on ${queue}: ${Failed.length} of ${entries.length} failed (${Failed[0]?.Code ?? "unknown"}: ${Failed[0]?.Message ?? ""})`,
        );
      }
    }
  }

  async changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
    checkQueueName(queue);
    checkVisibility(queue, seconds);
    const { ChangeMessageVisibilityCommand } = await sqsSdk();
    await this.#client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.#url(queue),
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  #url(queue: QueueName): string {
    const url = this.#queueUrls[queue];
    if (url === undefined || url.length === 0)
      throw new SqsQueueConfigError(`no SQS queue URL configured for queue ${queue}`);
    return url;
  }

  async #sendChunk(queue: QueueName, url: string, chunk: SendMessageBatchRequestEntry[]): Promise<void> {
    const { SendMessageBatchCommand } = await sqsSdk();
    let pending = chunk;
    for (let attempt = 0; ; attempt += 1) {
      const { Failed } = await this.#client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
      const failed = Failed ?? [];
      if (failed.length === 0) return;
      const failures = failed.map((entry) => ({
        index: Number(entry.Id),
        code: entry.Code ?? "Unknown",
        message: entry.Message ?? "",
        senderFault: entry.SenderFault === true,
      }));
      // A sender fault (bad entry) fails the same way again; only the service's own failures are retried.
      const permanent = failures.filter((failure) => failure.senderFault);
      if (permanent.length > 0 || attempt >= this.#retry.maxRetries) {
        throw new SqsSendError(
          queue,
          (permanent.length > 0 ? permanent : failures).map(({ senderFault: _, ...failure }) => failure),
        );
      }
      const failedIds = new Set(failed.map((entry) => entry.Id));
      pending = pending.filter((entry) => failedIds.has(entry.Id));
      await waitBeforeRetry(this.#retry, attempt);
    }
  }
}

function deduplicationAttribute(
  deduplicationId: string | undefined,
): Record<string, MessageAttributeValue> | undefined {
  return deduplicationId === undefined
    ? undefined
    : { [DEDUPLICATION_ATTRIBUTE]: { DataType: "String", StringValue: deduplicationId } };
}
