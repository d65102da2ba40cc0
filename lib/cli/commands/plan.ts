/**
 * `plan`: options and help; the dry run itself is in ../actions/plan.ts, loaded only when it runs.
 */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";
import { idList, wholeNumber } from "../options.ts";

export function register(program: Command, context: CliContext): void {
  program
    .command("plan")
    .description(
      "dry run: which tagged servers would be protected, in which create calls, and why the others would not",
    )
    .option(
      "--target <name>",
      "only this target (a target name of the targets configuration, or a protection group id)",
    )
    .option("--servers <ids>", "these servers (comma-separated ids) instead of the tagged ones", idList)
    .option(
      "--batch-limit <n>",
      "servers per batch create (default: the targets configuration's batchLimit, 5)",
      wholeNumber(1, 1000),
    )
    .option("--json", "print one JSON document: summary, and per target the verdicts and the exact request bodies")
    .option("--details", "list every ineligible server with its reasons (by default they are counted by reason code)")
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["plan", "every tagged server, grouped by target"],
          ["plan --target web"],
          ["plan --details", "every ineligible server with its reasons and remedies"],
          ["plan --servers 403b603d-1d91-42cc-a357-81f3c2daf43f,8f5dd226-6cc0-4fe8-9786-b8b3359b234b --target web"],
          ["plan --json | jq '.targets[].calls[].serverIds'"],
          ["plan --batch-limit 10", "if SDRS raised your account's batch limit"],
        ],
        [
          "The cloud comes from the environment (HUAWEICLOUD_REGION or SDRS_ENDPOINT / ECS_ENDPOINT / EVS_ENDPOINT, with",
          "HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID). With neither SDRS_ENDPOINT nor HUAWEICLOUD_REGION",
          "set, the plan runs against an in-process simulator with the sample estate.",
          "Targets: SDRS_TARGETS_FILE or SDRS_TARGETS_JSON; default events/targets.sample.json.",
          "Exit 0 when planning succeeded, even with ineligible servers; 2 configuration error; 3 cloud unreachable.",
        ],
      ),
    )
    .action(async (raw: unknown) => (await import("../actions/plan.ts")).plan(context, raw));
}
