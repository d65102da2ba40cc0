/**
 * The DeadLetterSink the Lambdas use (lib/runtime/aws.ts), against local-aws-sqs on 127.0.0.1: the message
 * text goes to the queue's dead-letter queue with a `reason` message attribute, the URL comes from the
 * environment, and a sink without its URL refuses, so the step leaves the message in its queue.
 */
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { processSqsIntents } from "../../lib/pipeline/sqs.ts";
import { QUEUE_NAMES, toSqsEvent } from "../../lib/queue/queue.ts";
import { sqsDeadLetterSink } from "../../lib/runtime/aws.ts";
import { type LocalRuntime, startLocalRuntime } from "../../lib/runtime/local.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { startLocalSqs } from "../aws/peers.ts";
import { targetsFor } from "./harness.ts";

let sqs: Awaited<ReturnType<typeof startLocalSqs>>;

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

async function createQueue(name: string): Promise<string> {
  const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`local-aws-sqs returned no URL for ${name}`);
  return QueueUrl;
}

describe("sqsDeadLetterSink", () => {
  it("sends the message text to the queue's own dead-letter queue (ONBOARDING_DLQ_URL, JOB_STATUS_DLQ_URL, NOTIFY_DLQ_URL) with the reason as the attribute `reason`", async () => {
    const urls = {
      onboarding: await createQueue("onboarding-dlq"),
      "job-status": await createQueue("job-status-dlq"),
      notify: await createQueue("notify-dlq"),
    };
    const sink = sqsDeadLetterSink(sqs.client, {
      ONBOARDING_DLQ_URL: urls.onboarding,
      JOB_STATUS_DLQ_URL: urls["job-status"],
      NOTIFY_DLQ_URL: urls.notify,
    });
    for (const queue of QUEUE_NAMES) await sink(queue, `{"from":"${queue}"}`, `${queue}: Invalid input`);
    for (const queue of QUEUE_NAMES) {
      const { Messages } = await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: urls[queue], MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
      );
      expect(
        (Messages ?? []).map((message) => ({ body: message.Body, reason: message.MessageAttributes?.reason })),
      ).toEqual([
        { body: `{"from":"${queue}"}`, reason: { DataType: "String", StringValue: `${queue}: Invalid input` } },
      ]);
    }
  });

  it("refuses with DEAD_LETTER_QUEUE_NOT_CONFIGURED naming the variable when the URL is not set", async () => {
    const sink = sqsDeadLetterSink(sqs.client, {});
    await expect(sink("notify", "{}", "dead")).rejects.toMatchObject({
      code: "DEAD_LETTER_QUEUE_NOT_CONFIGURED",
      queue: "notify",
      message: expect.stringContaining("NOTIFY_DLQ_URL"),
    });
  });

  describe("in the onboard step", () => {
    let runtime: LocalRuntime;
    beforeAll(async () => {
      runtime = await startLocalRuntime({
        database: ":memory:",
        cloudConfig: simulatorCloudConfig("http://127.0.0.1:9"),
        targets: targetsFor("http://127.0.0.1:9/unused", { webhooks: [] }),
        clock: new ManualClock(Date.UTC(2026, 0, 1)),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
    });
    afterAll(async () => {
      await runtime.close();
    });

    it("returns an unprocessable message to its queue (batchItemFailures) when the sink cannot take it, instead of dropping it", async () => {
      const event = toSqsEvent("arn:aws:sqs:eu-de:000000000000:onboarding", [
        {
          messageId: "m-1",
          body: '{"type":"protect"}',
          receiptHandle: "r-1",
          receiveCount: 1,
          sentAt: Date.UTC(2026, 0, 1),
          attributes: {},
        },
      ]);
      const deps = { ...runtime.deps, deadLetter: sqsDeadLetterSink(new SQSClient({ region: "eu-de" }), {}) };
      expect(await processSqsIntents(event, deps)).toEqual({ batchItemFailures: [{ itemIdentifier: "m-1" }] });
    });

    it("acknowledges it once the dead-letter queue has it", async () => {
      const url = await createQueue("onboard-step-dlq");
      const event = toSqsEvent("arn:aws:sqs:eu-de:000000000000:onboarding", [
        {
          messageId: "m-2",
          body: '{"type":"protect"}',
          receiptHandle: "r-2",
          receiveCount: 1,
          sentAt: Date.UTC(2026, 0, 1),
          attributes: {},
        },
      ]);
      const deps = { ...runtime.deps, deadLetter: sqsDeadLetterSink(sqs.client, { ONBOARDING_DLQ_URL: url }) };
      expect(await processSqsIntents(event, deps)).toEqual({ batchItemFailures: [] });
      const { Messages } = await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
      );
      expect((Messages ?? []).map((message) => [message.Body, message.MessageAttributes?.reason?.StringValue])).toEqual(
        [['{"type":"protect"}', expect.stringContaining("serverId: Invalid input")]],
      );
    });
  });
});
