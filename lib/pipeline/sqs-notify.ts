/**
 * The notify queue's SQS batches → webhook and SNS deliveries (lib/notify/dispatcher.ts), shared by the
 * notify Lambda and the local runtime. Apart from sqs.ts so that only the notify function bundles the
 * webhook sender. A notification whose webhook attempts are all spent goes to the dead-letter queue with
 * the reason, as sqs.ts describes.
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { type DispatcherDeps, deliverNotification } from "../notify/dispatcher.ts";
import { notificationMessage } from "../notify/events.ts";
import { metricsOf, type PipelineDeps } from "./deps.ts";
import { parseOrDeadLetter, processSequentially } from "./sqs.ts";

export async function processSqsNotifications(
  event: SQSEvent,
  deps: PipelineDeps,
  dispatcher: DispatcherDeps,
): Promise<SQSBatchResponse> {
  const metrics = metricsOf(deps);
  return processSequentially("notify", event, deps, async (record) => {
    const message = await parseOrDeadLetter("notify", record, notificationMessage, deps);
    if (!message) return;
    const outcome = await deliverNotification(message, dispatcher);
    if (outcome.status === "delivered") metrics.count("WebhookDeliveries");
    if (outcome.status === "retry_scheduled" || outcome.status === "disabled" || outcome.status === "dead")
      metrics.count("WebhookFailures");
    if (outcome.status !== "dead") return;
    // The last attempt's message: a redrive makes that attempt once more, it does not restart the schedule.
    await deps.deadLetter("notify", JSON.stringify(outcome.message), outcome.lastFailure.message);
    metrics.count("WebhookGiveUps");
    metrics.count("DeadLetteredMessages", { queue: "notify" });
    deps.log.error("webhook delivery gave up", {
      eventId: outcome.eventId,
      endpointId: outcome.endpointId,
      attempts: outcome.attempts,
      reason: outcome.lastFailure.message,
    });
  });
}
