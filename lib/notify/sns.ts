/**
 * SNS as a second channel: the same JSON payload the webhooks carry, with message attributes `event_type`
 * and `event_id` so subscriptions can filter by type and subscribers can drop repeats by id.
 */
import type { SNSClient } from "@aws-sdk/client-sns";
import { snsSdk } from "../aws/sdk.ts";
import type { NotificationPublisher } from "./dispatcher.ts";
import { eventSubject, type NotificationEvent } from "./events.ts";

export function createSnsPublisher(client: Pick<SNSClient, "send">, topicArn: string): NotificationPublisher {
  // FIFO topics require a group and a deduplication id; the event id is exactly the deduplication key.
  const fifo = topicArn.endsWith(".fifo");
  return {
    async publish(event: NotificationEvent, eventId: string): Promise<void> {
      const { PublishCommand } = await snsSdk();
      await client.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify(event),
          MessageAttributes: {
            event_type: { DataType: "String", StringValue: event.type },
            event_id: { DataType: "String", StringValue: eventId },
          },
          ...(fifo ? { MessageGroupId: eventSubject(event), MessageDeduplicationId: eventId } : {}),
        }),
      );
    },
  };
}
