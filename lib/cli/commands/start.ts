/**
 * `start` (what `npm start` runs): options and help; the run itself is in ../actions/start.ts, loaded
 * only when it runs.
 */
import { type Command, Option } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";
import { wholeNumber } from "../options.ts";
import { OUTAGE_LIMIT_OPTION } from "../outage.ts";

export function register(program: Command, context: CliContext): void {
  program
    .command("start")
    .description(
      "the whole job on this machine: simulator, tags, a bulk request, jobs followed to the end, webhooks, a report",
    )
    .option(
      "--realtime",
      "run the simulated job durations on the real clock (about 10 minutes) instead of accelerated time",
    )
    .option(
      "--state <file>",
      "keep the sqlite state (store and queues) in this new file; default a temporary file, removed at the end",
    )
    .option("--report <file>", "write the report here (default reports/sdrs-autoprotect-<timestamp>.md)")
    .addOption(
      new Option(
        "--report-format <format>",
        "the report file's format (default: from --report's extension, else md)",
      ).choices(["md", "html"]),
    )
    .option("--details", "list every ineligible server in the printed report (the report file always does)")
    .option("--json", "print the report as one JSON document on stdout (progress still goes to stderr)")
    .option(OUTAGE_LIMIT_OPTION.flags, OUTAGE_LIMIT_OPTION.description)
    .option("--seed <n>", "the simulator's seed (ids, job durations)", wholeNumber(0, 2 ** 31 - 1), 1)
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["start", "accelerated: done in seconds"],
          ["start --report-format html", "reports/sdrs-autoprotect-<timestamp>.html"],
          ["start --json | jq .summary"],
          ["start --state demo.sqlite && sdrs-autoprotect status --state demo.sqlite"],
          ["start --realtime", "the simulated job durations on the real clock"],
        ],
        [
          "Starts the SDRS simulator with the sample estate, a local webhook receiver that verifies every signature, and",
          "the local runtime (the Lambdas' code on one sqlite file) with the targets of events/targets.sample.json.",
          "Then tags servers (inventory events), submits one bulk onboarding request through the local API, follows every",
          "job to its end with a live progress view on stderr, and prints the report: protected, failed (SDRS code),",
          "ineligible (reason codes, remedies), unknown, notifications, API calls, time. No cloud account is used.",
          "Exit 0 when every server reached a final state and every notification was delivered; 1 otherwise.",
        ],
      ),
    )
    .action(async (raw: unknown) => (await import("../actions/start.ts")).start(context, raw));
}
