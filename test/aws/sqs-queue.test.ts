import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type QueueUrls, queueUrlsFromEnv, SqsQueue } from "../../lib/aws/sqs-queue.ts";
import { QUEUE_NAMES, type QueueName, toSqsEvent } from "../../lib/queue/queue.ts";
import { describeQueueContract } from "../queue/queue-contract.ts";
import { startLocalSqs } from "./peers.ts";

let sqs: Awaited<ReturnType<typeof startLocalSqs>>;
let sets = 0;

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

interface QueueSet {
  urls: QueueUrls;
  deadLetterUrls: QueueUrls;
  arns: QueueUrls;
}

/** Fresh queues per test (name prefix), each with its DLQ wired by a redrive policy, as serverless.yml does. */
async function createQueueSet(client: SQSClient, maxReceiveCount: number): Promise<QueueSet> {
  sets += 1;
  const set = { urls: {}, deadLetterUrls: {}, arns: {} } as QueueSet;
  for (const name of QUEUE_NAMES) {
    const prefix = `t${sets}-${name}`;
    const deadLetter = await client.send(new CreateQueueCommand({ QueueName: `${prefix}-dlq` }));
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: deadLetter.QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    const created = await client.send(
      new CreateQueueCommand({
        QueueName: prefix,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount }) },
      }),
    );
    const arn = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    set.urls[name] = created.QueueUrl ?? "";
    set.deadLetterUrls[name] = deadLetter.QueueUrl ?? "";
    set.arns[name] = arn.Attributes?.QueueArn ?? "";
  }
  return set;
}

async function bodiesIn(client: SQSClient, url: string): Promise<string[]> {
  const { Messages } = await client.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
  );
  return (Messages ?? []).map((message) => message.Body ?? "");
}

describeQueueContract("SQS (local-aws-sqs)", async () => {
  const maxReceiveCount = 3;
  const set = await createQueueSet(sqs.client, maxReceiveCount);
  return {
    queue: new SqsQueue({ client: sqs.client, queueUrls: set.urls }),
    otherReceiver: new SqsQueue({ client: sqs.client, queueUrls: set.urls }),
    maxReceiveCount,
    deadLetterBodies: (name: QueueName) => bodiesIn(sqs.client, set.deadLetterUrls[name]),
    queueArn: (name: QueueName) => set.arns[name],
    changeVisibilityCountsAsReceive: true,
    close: async () => {},
  };
});

describe("SqsQueue", () => {
  it("computes md5OfBody and md5OfMessageAttributes in toSqsEvent exactly as SQS reports them", async () => {
    const set = await createQueueSet(sqs.client, 5);
    const queue = new SqsQueue({ client: sqs.client, queueUrls: set.urls });
    await queue.send("notify", { outcome: "protected", serverId: "srv-ü" }, { deduplicationId: "srv-1:protected" });
    const [message] = await queue.receive("notify", { maxMessages: 1, visibilityTimeoutSeconds: 0 });
    const raw = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: set.urls.notify,
        MessageAttributeNames: ["All"],
        VisibilityTimeout: 30,
        WaitTimeSeconds: 0,
      }),
    );
    const [record] = toSqsEvent(set.arns.notify, message === undefined ? [] : [message]).Records;
    expect(raw.Messages?.[0]?.MessageId).toBe(message?.messageId);
    expect(record?.md5OfBody).toBe(raw.Messages?.[0]?.MD5OfBody);
    expect(record?.md5OfMessageAttributes).toBe(raw.Messages?.[0]?.MD5OfMessageAttributes);
  });

  it("reads the three queue URLs from the environment and names a missing one", () => {
    expect(
      queueUrlsFromEnv({
        ONBOARDING_QUEUE_URL: "https://sqs.eu-de.example/1/onboarding",
        JOB_STATUS_QUEUE_URL: "https://sqs.eu-de.example/1/job-status",
        NOTIFY_QUEUE_URL: "https://sqs.eu-de.example/1/notify",
      }),
    ).toEqual({
      onboarding: "https://sqs.eu-de.example/1/onboarding",
      "job-status": "https://sqs.eu-de.example/1/job-status",
      notify: "https://sqs.eu-de.example/1/notify",
    });
    expect(() => queueUrlsFromEnv({ ONBOARDING_QUEUE_URL: "https://sqs.eu-de.example/1/onboarding" })).toThrow(
      /JOB_STATUS_QUEUE_URL, NOTIFY_QUEUE_URL/,
    );
  });

  it("rejects a delay over 900 seconds before calling SQS", async () => {
    const queue = new SqsQueue({
      client: sqs.client,
      queueUrls: {
        onboarding: "http://127.0.0.1:9/none",
        "job-status": "http://127.0.0.1:9/none",
        notify: "http://127.0.0.1:9/none",
      },
    });
    await expect(queue.send("job-status", { jobId: "job-1" }, { delaySeconds: 1800 })).rejects.toThrow(
      "delaySeconds for queue job-status must be an integer from 0 to 900 (the SQS maximum, 15 minutes); got 1800. Cap the delay and re-enqueue the remainder.",
    );
  });
});
