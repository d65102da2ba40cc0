/** `coverage`: options and help; the reading is in ../actions/coverage.ts, loaded only when it runs. */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";

export function register(program: Command, context: CliContext): void {
  program
    .command("coverage")
    .description(
      "is every disk of every tagged or protected server replicated? counts per target, then the gaps with codes and remedies",
    )
    .option(
      "--target <name>",
      "only this target (a target name of the targets configuration, or a protection group id)",
    )
    .option("--json", "print one JSON document: totals, targets, gaps, servers")
    .option("--html <file>", "also write a self-contained HTML report (chart per target and the gap table)")
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["coverage", "every target"],
          ["coverage --target db --json | jq '.gaps[] | {serverName, code, volumeId}'"],
          ["coverage --html coverage.html", "a page an auditor can keep"],
        ],
        [
          "The cloud and targets come from the environment as for plan (an in-process simulator with the sample estate when",
          "neither SDRS_ENDPOINT nor HUAWEICLOUD_REGION is set). Codes and remedies: docs/coverage.md.",
          "Exit 0 when every server is fully protected; 1 when there are gaps; 2 configuration error; 3 cloud unreachable.",
        ],
      ),
    )
    .action(async (raw: unknown) => (await import("../actions/coverage.ts")).coverage(context, raw));
}
