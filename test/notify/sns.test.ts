import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SNSClient } from "@aws-sdk/client-sns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationEventId } from "../../lib/notify/events.ts";
import { createSnsPublisher } from "../../lib/notify/sns.ts";
import { protectedEvent } from "./helpers.ts";

/**
 * A minimal SNS peer on 127.0.0.1: it answers the Query-protocol Publish action the way SNS does and keeps
 * the form parameters it received, so the test sees exactly what went over the wire.
 */
const received: URLSearchParams[] = [];
let endpoint = "";
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const params = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    received.push(params);
    if (params.get("Action") !== "Publish") {
      response.writeHead(400, { "content-type": "text/xml" });
      response.end(
        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unsupported</Message></Error></ErrorResponse>",
      );
      return;
    }
    response.writeHead(200, { "content-type": "text/xml" });
    response.end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-${received.length}</MessageId></PublishResult>` +
        "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>",
    );
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(): SNSClient {
  return new SNSClient({
    endpoint,
    region: "eu-de",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

function attributes(params: URLSearchParams): Record<string, { DataType: string | null; StringValue: string | null }> {
  const result: Record<string, { DataType: string | null; StringValue: string | null }> = {};
  for (let index = 1; params.has(`MessageAttributes.entry.${index}.Name`); index++) {
    const prefix = `MessageAttributes.entry.${index}`;
    result[params.get(`${prefix}.Name`) ?? ""] = {
      DataType: params.get(`${prefix}.Value.DataType`),
      StringValue: params.get(`${prefix}.Value.StringValue`),
    };
  }
  return result;
}

describe("SNS publisher", () => {
  it("publishes the webhook payload with event_type and event_id attributes", async () => {
    received.length = 0;
    const eventId = notificationEventId(protectedEvent);
    const topicArn = "arn:aws:sns:eu-de:123456789012:sdrs-autoprotect-notifications";

    await createSnsPublisher(client(), topicArn).publish(protectedEvent, eventId);

    const [params] = received;
    expect(params?.get("Action")).toBe("Publish");
    expect(params?.get("TopicArn")).toBe(topicArn);
    expect(JSON.parse(params?.get("Message") ?? "null")).toEqual(protectedEvent);
    expect(params && attributes(params)).toEqual({
      event_type: { DataType: "String", StringValue: "server.protected" },
      event_id: { DataType: "String", StringValue: eventId },
    });
    expect(params?.has("MessageGroupId")).toBe(false);
  });

  it("adds a message group (the event's subject) and the event id as deduplication id on a FIFO topic", async () => {
    received.length = 0;
    const eventId = notificationEventId(protectedEvent);
    await createSnsPublisher(client(), "arn:aws:sns:eu-de:123456789012:notifications.fifo").publish(
      protectedEvent,
      eventId,
    );
    expect(received[0]?.get("MessageGroupId")).toBe(`server/${protectedEvent.data.serverId}`);
    expect(received[0]?.get("MessageDeduplicationId")).toBe(eventId);
  });
});
