import { describe, expect, it } from "vitest";
import { md5OfMessageAttributes, type ReceivedMessage, toSqsEvent } from "../../lib/queue/queue.ts";

const message: ReceivedMessage = {
  messageId: "0b6b4e0c-2c7c-4a57-9a4e-3f1f1f6f0c11",
  body: '{"jobId":"job-1"}',
  receiptHandle: "handle-1",
  receiveCount: 3,
  sentAt: 1_767_225_600_000,
  attributes: { ApproximateFirstReceiveTimestamp: "1767225601000", SenderId: "AIDAEXAMPLE" },
};

describe("toSqsEvent", () => {
  it("shapes each message as the SQS record Lambda receives", () => {
    expect(toSqsEvent("arn:aws:sqs:eu-de:123456789012:job-status", [message])).toEqual({
      Records: [
        {
          messageId: "0b6b4e0c-2c7c-4a57-9a4e-3f1f1f6f0c11",
          receiptHandle: "handle-1",
          body: '{"jobId":"job-1"}',
          attributes: {
            ApproximateReceiveCount: "3",
            SentTimestamp: "1767225600000",
            SenderId: "AIDAEXAMPLE",
            ApproximateFirstReceiveTimestamp: "1767225601000",
          },
          messageAttributes: {},
          md5OfBody: "b9c9c58147c0ed46979a7bd81b1620fc",
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:eu-de:123456789012:job-status",
          awsRegion: "eu-de",
        },
      ],
    });
  });

  it("gives an empty event for no messages", () => {
    expect(toSqsEvent("arn:aws:sqs:local:000000000000:notify", [])).toEqual({ Records: [] });
  });

  it("refuses something that is not an SQS queue ARN", () => {
    expect(() => toSqsEvent("https://sqs.eu-de.example/1/notify", [message])).toThrow(
      'queue ARN "https://sqs.eu-de.example/1/notify" must look like arn:aws:sqs:<region>:<account>:<queue>',
    );
  });

  it("hashes message attributes independently of their order", () => {
    expect(md5OfMessageAttributes({ b: "2", a: "1" })).toBe(md5OfMessageAttributes({ a: "1", b: "2" }));
    expect(md5OfMessageAttributes({ a: "1" })).not.toBe(md5OfMessageAttributes({ a: "2" }));
  });
});
