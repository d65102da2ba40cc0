/**
 * `webhooks listen`: a local receiver (lib/notify/receiver.ts) that verifies every delivery and prints each
 * event as it arrives, one line each (or one JSON object per line with --json); rejected deliveries go to
 * stderr. `webhooks secret`: a fresh `whsec_` secret for an endpoint.
 */
import { type Command, Option } from "commander";
import { z } from "zod";
import { eventSubject } from "../../notify/events.ts";
import { generateWebhookSecret, type ReceivedWebhook, type RejectedWebhook, startWebhookReceiver } from "../../notify/receiver.ts";
import { type CliContext, shutdownRequested } from "../context.ts";
import { usageError } from "../errors.ts";
import { hostName, portNumber, wholeNumber } from "../options.ts";
import { examplesHelp } from "../program.ts";

export const WEBHOOK_SECRET_VARIABLE = "SDRS_WEBHOOK_SECRET";

const listenOptions = z.object({
  secret: z.string().optional(),
  port: z.number().int(),
  host: z.string(),
  json: z.boolean().default(false),
});

const secretOptions = z.object({ bytes: z.number().int() });

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

export function register(program: Command, context: CliContext): void {
  const webhooks = program
    .command("webhooks")
    .description("receive and verify signed webhook notifications locally; make endpoint secrets")
    .addHelpText(
      "after",
      examplesHelp([
        ["webhooks secret", "a fresh whsec_… secret"],
        ["webhooks listen --secret whsec_…", "print each verified event"],
      ]),
    );

  webhooks
    .command("listen")
    .description("listen for Standard Webhooks deliveries, verify each, print the events until Ctrl+C")
    .addOption(
      new Option("--secret <whsec>", `the endpoint's secret (whsec_ + base64); prefer the ${WEBHOOK_SECRET_VARIABLE} variable, which ps cannot show`).env(
        WEBHOOK_SECRET_VARIABLE,
      ),
    )
    .option("--port <port>", "port to listen on; 0 picks a free one", portNumber, 0)
    .option("--host <host>", "address to listen on", hostName, "127.0.0.1")
    .option("--json", "one JSON object per event line (after the URL line)")
    .addHelpText(
      "after",
      examplesHelp(
        [
          ['webhooks listen --secret "$(sdrs-autoprotect webhooks secret)"'],
          [`webhooks listen --port 9000 --json`, `secret from ${WEBHOOK_SECRET_VARIABLE}`],
        ],
        [
          "The first line of output is the receiver's URL (give it to the notifier); then one line per verified event:",
          "  <received at>  <type>  <subject>  <webhook-id>",
          "Deliveries with a bad signature, a timestamp more than 5 minutes off or a body that is no notification",
          "event are answered 4xx and reported on stderr. A repeated webhook-id is acknowledged and not printed again.",
        ],
      ),
    )
    .action(async (raw: unknown) => {
      const options = listenOptions.parse(raw);
      if (options.secret === undefined || options.secret.trim() === "") {
        throw usageError(`--secret: required (or set ${WEBHOOK_SECRET_VARIABLE}); make one with "sdrs-autoprotect webhooks secret"`);
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
        // The receiver says "secret: …"; the user typed --secret (or the variable).
        if (error instanceof Error && error.message.startsWith("secret:")) {
          throw usageError(`--secret / ${WEBHOOK_SECRET_VARIABLE}:${error.message.slice("secret:".length)}`);
        }
        throw error;
      }
      context.handleShutdownItself();
      stdout.line(receiver.url);
      if (!options.json) stderr.line(stderr.colors.dim("Listening for signed webhooks; stop with Ctrl+C."));
      const signal = await shutdownRequested(context.shutdown);
      stderr.line(`${signal}: stopping the receiver (${receiver.events().length} events received)`);
      await receiver.close();
    });

  webhooks
    .command("secret")
    .description("print a fresh Standard Webhooks secret (whsec_ + base64 of random bytes)")
    .option("--bytes <n>", "random bytes (Standard Webhooks: 24 to 64)", wholeNumber(24, 64), 32)
    .addHelpText(
      "after",
      examplesHelp([["webhooks secret"], ["webhooks secret --bytes 48"]], [`Keep it in a variable: export ${WEBHOOK_SECRET_VARIABLE}=$(sdrs-autoprotect webhooks secret)`]),
    )
    .action((raw: unknown) => {
      const options = secretOptions.parse(raw);
      context.stdout.line(generateWebhookSecret(options.bytes));
    });
}
