/**
 * The queue contract, run against the sqlite queue and SQS (local-aws-sqs): at-least-once delivery
 * with delays, visibility timeouts, receive counts and a dead-letter queue.
 *
 * Time: the sqlite queue reads a ManualClock, so its harness can `advance` time; local-aws-sqs runs on
 * real timers, and the tests do not sleep. Where a test needs time to pass, the SQS harness has no
 * `advance` and the test uses what SQS offers instead (a 0-second visibility timeout) or checks only the
 * part that needs no waiting (a delayed message is not delivered early); the sqlite tests check the rest.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  QueueArgumentError,
  type QueueName,
  type QueueReceiver,
  type QueueSender,
  type ReceivedMessage,
  type ReceiveOptions,
  toSqsEvent,
} from "../../lib/queue/queue.ts";

export interface QueueHarness {
  queue: QueueSender & QueueReceiver;
  /** A second receiver on the same queues (another connection / client). */
  otherReceiver: QueueReceiver;
  /** The dead-lettering threshold the harness configured on `onboarding`. */
  maxReceiveCount: number;
  /** Moves queue time forward; absent when the queue runs on real time. */
  advance?: (seconds: number) => void;
  /** Bodies now in the dead-letter queue of `queue`. */
  deadLetterBodies(queue: QueueName): Promise<string[]>;
  /** The ARN to put in toSqsEvent for `queue`. */
  queueArn(queue: QueueName): string;
  /**
   * local-aws-sqs 2.0.2 runs ChangeMessageVisibility through its receive path, so the call itself adds
   * one to ApproximateReceiveCount (real SQS does not). The tests allow for that one extra count.
   */
  changeVisibilityCountsAsReceive?: boolean;
  close(): Promise<void>;
}

/**
 * Receives until at least one message arrives, bounded. On real-time queues a message made visible
 * again by a 0-second timeout is visible a timer tick later; each receive is a round trip that lets
 * that tick pass. This waits on the condition, not on a duration.
 */
export async function receiveEventually(
  receiver: QueueReceiver,
  queue: QueueName,
  options: ReceiveOptions,
  rounds = 50,
): Promise<ReceivedMessage[]> {
  for (let round = 0; round < rounds; round += 1) {
    const messages = await receiver.receive(queue, options);
    if (messages.length > 0) return messages;
  }
  return [];
}

export function describeQueueContract(adapter: string, open: () => Promise<QueueHarness>): void {
  describe(`queue contract: ${adapter}`, () => {
    let harness: QueueHarness;
    let queue: QueueSender & QueueReceiver;

    beforeEach(async () => {
      harness = await open();
      queue = harness.queue;
    });
    afterEach(async () => {
      await harness.close();
    });

    it("delivers a sent body as JSON text with receive count 1, and delete removes it for good", async () => {
      await queue.send("onboarding", { serverId: "srv-1", requestId: "req-1" });
      const [message, ...rest] = await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 30 });
      expect(rest).toEqual([]);
      expect(message?.body).toBe('{"serverId":"srv-1","requestId":"req-1"}');
      expect(message?.receiveCount).toBe(1);
      expect(message?.attributes.ApproximateReceiveCount).toBe("1");
      expect(Number(message?.attributes.SentTimestamp)).toBe(message?.sentAt);
      await queue.delete("onboarding", message?.receiptHandle ?? "");
      harness.advance?.(30);
      expect(await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
    });

    it("keeps queues apart", async () => {
      await queue.send("notify", { outcome: "protected" });
      expect(await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
      expect(await queue.receive("job-status", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
      expect(await queue.receive("notify", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toHaveLength(1);
    });

    it("hides a received message during its visibility timeout and redelivers it afterwards with receive count 2", async () => {
      await queue.send("job-status", { jobId: "job-1" });
      let first: ReceivedMessage | undefined;
      if (harness.advance) {
        [first] = await queue.receive("job-status", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
        harness.advance(29);
        expect(await queue.receive("job-status", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
        harness.advance(1);
      } else {
        [first] = await queue.receive("job-status", { maxMessages: 1, visibilityTimeoutSeconds: 0 });
      }
      const [again] = await receiveEventually(queue, "job-status", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
      expect(again?.messageId).toBe(first?.messageId);
      expect(again?.receiveCount).toBe(2);
      expect(again?.receiptHandle).not.toBe(first?.receiptHandle);
      expect(again?.attributes.ApproximateFirstReceiveTimestamp).toBe(
        first?.attributes.ApproximateFirstReceiveTimestamp,
      );
    });

    it("hides a message from other receivers until changeVisibility makes it visible again", async () => {
      await queue.send("notify", { n: 1 });
      const [first] = await queue.receive("notify", { maxMessages: 1, visibilityTimeoutSeconds: 300 });
      expect(await harness.otherReceiver.receive("notify", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual(
        [],
      );
      await queue.changeVisibility("notify", first?.receiptHandle ?? "", 0);
      const [again] = await receiveEventually(harness.otherReceiver, "notify", {
        maxMessages: 1,
        visibilityTimeoutSeconds: 30,
      });
      expect(again?.messageId).toBe(first?.messageId);
      expect(again?.receiveCount).toBe(harness.changeVisibilityCountsAsReceive ? 3 : 2);
    });

    it("does not deliver a delayed message before its delay", async () => {
      await queue.send("job-status", { jobId: "job-2" }, { delaySeconds: 60 });
      expect(await queue.receive("job-status", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
      if (!harness.advance) return; // Real-time SQS: waiting a minute is not worth it; the sqlite run checks delivery.
      harness.advance(59);
      expect(await queue.receive("job-status", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
      harness.advance(1);
      const [due] = await queue.receive("job-status", { maxMessages: 10, visibilityTimeoutSeconds: 30 });
      expect(due?.body).toBe('{"jobId":"job-2"}');
      expect(due?.receiveCount).toBe(1);
    });

    it("moves a message received maxReceiveCount times to the dead-letter queue instead of delivering it again", async () => {
      await queue.send("onboarding", { serverId: "srv-poison" });
      // Each receive models a failed handler: the message is not deleted and its visibility timeout runs out.
      const visibilityTimeoutSeconds = harness.advance ? 30 : 0;
      for (let receive = 1; receive <= harness.maxReceiveCount; receive += 1) {
        const [message] = await receiveEventually(queue, "onboarding", { maxMessages: 1, visibilityTimeoutSeconds });
        expect(message?.receiveCount).toBe(receive);
        harness.advance?.(visibilityTimeoutSeconds);
      }
      let deadLetters: string[] = [];
      for (let round = 0; round < 50 && deadLetters.length === 0; round += 1) {
        expect(await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
        deadLetters = await harness.deadLetterBodies("onboarding");
      }
      expect(deadLetters).toEqual(['{"serverId":"srv-poison"}']);
    });

    it("deletes 13 received messages with one deleteBatch (SQS: two calls of at most 10), none delivered again", async () => {
      await queue.sendBatch(
        "notify",
        Array.from({ length: 13 }, (_, index) => ({ body: { index } })),
      );
      const received: ReceivedMessage[] = [];
      for (let round = 0; round < 10 && received.length < 13; round += 1) {
        received.push(
          ...(await queue.receive("notify", { maxMessages: 10, visibilityTimeoutSeconds: harness.advance ? 30 : 1 })),
        );
      }
      expect(received).toHaveLength(13);
      await queue.deleteBatch(
        "notify",
        received.map((message) => message.receiptHandle),
      );
      if (harness.advance) harness.advance(30);
      else await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await queue.receive("notify", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
    });

    it("sends a batch of more than 10 entries, each delivered once", async () => {
      const entries = Array.from({ length: 23 }, (_, index) => ({ body: { index } }));
      await queue.sendBatch("onboarding", entries);
      const bodies: string[] = [];
      for (let round = 0; round < 10 && bodies.length < entries.length; round += 1) {
        const messages = await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 300 });
        expect(messages.length).toBeLessThanOrEqual(10);
        bodies.push(...messages.map((message) => message.body));
      }
      expect(bodies.sort()).toEqual(entries.map((entry) => JSON.stringify(entry.body)).sort());
    });

    it("never hands one message to two concurrent receivers", async () => {
      await queue.sendBatch(
        "onboarding",
        Array.from({ length: 12 }, (_, index) => ({ body: { index } })),
      );
      const [mine, theirs] = await Promise.all([
        queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 300 }),
        harness.otherReceiver.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 300 }),
      ]);
      const ids = [...mine, ...theirs].map((message) => message.messageId);
      expect(ids.length).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("rejects a delay over 900 seconds, naming the field and the cap, and sends nothing of a batch with one bad entry", async () => {
      const error = await queue.send("job-status", {}, { delaySeconds: 901 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(QueueArgumentError);
      expect(error).toMatchObject({ code: "QUEUE_INVALID_ARGUMENT", field: "delaySeconds" });
      expect((error as Error).message).toContain("from 0 to 900");
      await expect(
        queue.sendBatch("job-status", [{ body: { ok: true } }, { body: { ok: false }, delaySeconds: -1 }]),
      ).rejects.toMatchObject({ field: "delaySeconds" });
      await expect(
        queue.receive("job-status", { maxMessages: 11, visibilityTimeoutSeconds: 30 }),
      ).rejects.toMatchObject({
        field: "maxMessages",
      });
      expect(await queue.receive("job-status", { maxMessages: 10, visibilityTimeoutSeconds: 30 })).toEqual([]);
    });

    it("carries a deduplicationId to the receiver as the DeduplicationId message attribute", async () => {
      await queue.send("notify", { outcome: "protected" }, { deduplicationId: "srv-1:protected" });
      const [message] = await queue.receive("notify", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
      expect(message?.messageAttributes).toEqual({ DeduplicationId: "srv-1:protected" });
    });

    it("builds the SQS Lambda event from received messages", async () => {
      await queue.send("onboarding", { serverId: "srv-1" }, { deduplicationId: "d-1" });
      const messages = await queue.receive("onboarding", { maxMessages: 1, visibilityTimeoutSeconds: 30 });
      const arn = harness.queueArn("onboarding");
      const event = toSqsEvent(arn, messages);
      const message = messages[0];
      expect(event.Records).toHaveLength(1);
      expect(event.Records[0]).toMatchObject({
        messageId: message?.messageId,
        receiptHandle: message?.receiptHandle,
        body: '{"serverId":"srv-1"}',
        md5OfBody: "0c2260568769d2dce6712cbc8e081b21",
        eventSource: "aws:sqs",
        eventSourceARN: arn,
        awsRegion: arn.split(":")[3],
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(message?.sentAt),
          ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
          SenderId: expect.any(String),
        },
        messageAttributes: {
          DeduplicationId: { stringValue: "d-1", stringListValues: [], binaryListValues: [], dataType: "String" },
        },
      });
    });
  });
}
