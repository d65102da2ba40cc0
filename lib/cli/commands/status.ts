/** `status`: options and help; the reading is in ../actions/status.ts, loaded only when it runs. */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";

export function register(program: Command, context: CliContext): void {
  program
    .command("status")
    .description(
      "show the onboarding requests in the sqlite state, or one request's servers with their states and reasons",
    )
    .argument("[request-id]", "one onboarding request (as onboard printed it)")
    .option("--state <file>", "the sqlite state to read (default .sdrs-autoprotect/state.sqlite)")
    .option("--json", "print one JSON document")
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["status", "every onboarding request: target, created, completed, counts"],
          ["status 6f1c0e9a-…", "each server: state, protected instance, reason codes and remedies"],
          ["status --state demo.sqlite --json"],
        ],
        ["Exit 0; 2 when the state file or the request id does not exist."],
      ),
    )
    .action(async (requestId: string | undefined, raw: unknown) =>
      (await import("../actions/status.ts")).status(context, requestId, raw),
    );
}
