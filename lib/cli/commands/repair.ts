/** `repair`: options and help; the run is in ../actions/repair.ts, loaded only when it runs. */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";
import { wholeNumber } from "../options.ts";

export function register(program: Command, context: CliContext): void {
  program
    .command("repair")
    .description(
      "close a protected server's coverage gaps: pair a disk attached through ECS (detach → create pair → attach on the same device), replace an invalid pair, expand a grown pair, enable protection",
    )
    .requiredOption("--server <id>", "the protected server (its production ECS id)")
    .option("--volume <id>", "only this disk's gap")
    .option("--yes", "do not ask for confirmation (required when stdin is not a terminal)")
    .option(
      "--progress <file>",
      "where the run records its steps and jobs, to resume (default .sdrs-autoprotect/repair-<server>.json)",
    )
    .option(
      "--poll-ms <n>",
      "how often a job's status is read, in milliseconds (default 5000)",
      wholeNumber(10, 600_000),
    )
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["coverage", "find the gaps and the repair command for each"],
          ["repair --server 5b0c… --volume 1c76…", "shows the steps, asks before running them"],
          ["repair --server 5b0c… --yes", "every gap of the server, no question"],
        ],
        [
          "Detaching a disk takes it away from the running server until it is attached again: unmount it in the guest first.",
          "Interrupted (Ctrl-C, a lost connection)? Run the same command again: it resumes from the progress file and does nothing twice.",
          "Exit 0 when the repair ran (or there was nothing to repair); 1 when a step's job failed; 2 usage error or refused",
          "without confirmation; 3 cloud unreachable; 130 interrupted.",
        ],
      ),
    )
    .action(async (raw: unknown) => (await import("../actions/repair.ts")).repair(context, raw));
}
