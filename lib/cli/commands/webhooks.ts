/**
 * `webhooks listen` and `webhooks secret`: options and help; the work is in ../actions/webhooks.ts,
 * loaded only when a command runs.
 */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";
import { hostName, portNumber, wholeNumber } from "../options.ts";
import { WEBHOOK_SECRET_VARIABLE, webhookSecretHelp } from "../webhook-secret.ts";

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
    .option("--secret <whsec>", webhookSecretHelp())
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
    .action(async (raw: unknown) => (await import("../actions/webhooks.ts")).listen(context, raw));

  webhooks
    .command("secret")
    .description("print a fresh Standard Webhooks secret (whsec_ + base64 of random bytes)")
    .option("--bytes <n>", "random bytes (Standard Webhooks: 24 to 64)", wholeNumber(24, 64), 32)
    .addHelpText(
      "after",
      examplesHelp(
        [["webhooks secret"], ["webhooks secret --bytes 48"]],
        [`Keep it in a variable: export ${WEBHOOK_SECRET_VARIABLE}=$(sdrs-autoprotect webhooks secret)`],
      ),
    )
    .action(async (raw: unknown) => (await import("../actions/webhooks.ts")).secret(context, raw));
}
