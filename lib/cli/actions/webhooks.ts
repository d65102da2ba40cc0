/**
 * `webhooks listen`: a local receiver (lib/notify/receiver.ts) that verifies every delivery and prints each
 * event as it arrives, one line each (or one JSON object per line with --json); rejected deliveries go to
 * stderr. `webhooks secret`: a fresh `whsec_` secret for an endpoint.
 */

import { eventSubject } from "../../notify/events.ts";
import {
  generateWebhookSecret,
  type ReceivedWebhook,
  type RejectedWebhook,
  startWebhookReceiver,
  WebhookReceiverConfigError,
} from "../../notify/receiver.ts";
import * as z from "../../zod.ts";
import { type CliContext, shutdownRequested } from "../context.ts";
import { usageError } from "../errors.ts";
import { WEBHOOK_SECRET_VARIABLE, webhookSecretOf, webhookSecretRequired } from "../webhook-secret.ts";

const listenOptions = z.object({
  secret: z.optional(z.string()),
  port: z.int(),
  host: z.string(),
  json: z._default(z.boolean(), false),
});

const secretOptions = z.object({ bytes: z.int() });

/** One line for people: time, type, subject, webhook-id. */
export function eventLine(received: ReceivedWebhook): string {
  return [received.receivedAt, received.event.type, eventSubject(received.event), received.webhookId].join("  ");
}

/** One JSON object for programs: the delivery's id and times, the subject, and the verified event. */
export function eventJson(received: ReceivedWebhook): string {
  return JSON.stringify({
    webhookId: received.webhookId,
    receivedAt: received.receivedAt,
    sentAt: received.sentAt,
    type: received.event.type,
    subject: eventSubject(received.event),
    event: received.event,
  });
}

export function rejectionLine(rejection: RejectedWebhook): string {
  return `rejected: HTTP ${rejection.httpStatus} ${rejection.reason}${rejection.webhookId === undefined ? "" : ` (webhook-id ${rejection.webhookId})`}`;
}

export async function listen(context: CliContext, raw: unknown): Promise<void> {
  const parsed = listenOptions.parse(raw);
  const options = { ...parsed, secret: webhookSecretOf(parsed.secret, context.env) };
  if (options.secret === undefined || options.secret.trim() === "") {
    throw webhookSecretRequired("--secret");
  }
  context.addSecret(options.secret);
  const { stdout, stderr } = context;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  try {
    receiver = await startWebhookReceiver({
      secret: options.secret,
      port: options.port,
      host: options.host,
      onEvent: (received) => stdout.line(options.json ? eventJson(received) : eventLine(received)),
      onRejected: (rejection) => stderr.line(stderr.colors.yellow(rejectionLine(rejection))),
    });
  } catch (error) {
    // The receiver names its option ("secret: …"); the user typed --secret or set the variable.
    if (error instanceof WebhookReceiverConfigError) {
      throw usageError(`--secret / ${WEBHOOK_SECRET_VARIABLE}: ${error.message.replace(/^secret:\s*/, "")}`);
    }
    throw error;
  }
  context.handleShutdownItself();
  stdout.line(receiver.url);
  if (!options.json) stderr.line(stderr.colors.dim("Listening for signed webhooks; stop with Ctrl+C."));
  const signal = await shutdownRequested(context.shutdown);
  stderr.line(`${signal}: stopping the receiver (${receiver.events().length} events received)`);
  await receiver.close();
}

export function secret(context: CliContext, raw: unknown): void {
  const options = secretOptions.parse(raw);
  context.stdout.line(generateWebhookSecret(options.bytes));
}
