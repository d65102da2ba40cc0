/**
 * `onboard`: options and help; the bulk onboarding itself is in ../actions/onboard.ts, loaded only when it runs.
 */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { examplesHelp } from "../help.ts";
import { OUTAGE_LIMIT_OPTION } from "../outage.ts";
import { webhookSecretHelp } from "../webhook-secret.ts";

export function register(program: Command, context: CliContext): void {
  program
    .command("onboard")
    .description(
      "protect the servers of a CSV or JSON file (one bulk onboarding request) and follow every job to its end",
    )
    .requiredOption(
      "--target <name>",
      "the target: a target name of the targets configuration, or a protection group id",
    )
    .requiredOption(
      "--file <path>",
      "servers.csv (a header with server_id or id, optional flavorRef; or one id per line) or servers.json",
    )
    .option(
      "--state <file>",
      "the sqlite state (store and queues) to keep and resume from (default .sdrs-autoprotect/state.sqlite)",
    )
    .option("--webhook <url>", "also notify this webhook endpoint (https, or plain http to a loopback address)")
    .option("--webhook-secret <whsec>", webhookSecretHelp())
    .option("--json", "print the final per-server result as one JSON document")
    .option(OUTAGE_LIMIT_OPTION.flags, OUTAGE_LIMIT_OPTION.description)
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["onboard --target web --file servers.csv"],
          ["onboard --target web --file servers.json --json | jq '.servers[] | [.serverId, .state]'"],
          ['onboard --target db --file db.csv --webhook http://127.0.0.1:9000/ --webhook-secret "$SECRET"'],
          ["onboard --target web --file servers.csv", "again after an interruption: resumes, creates nothing twice"],
        ],
        [
          'servers.csv:  server_id,flavorRef          servers.json:  ["403b603d-…", {"serverId": "8f5dd226-…", "flavorRef": "s6.large.2"}]',
          '              403b603d-…,                                 or {"servers": [...]}',
          "              8f5dd226-…,s6.large.2",
          "The cloud comes from the environment (HUAWEICLOUD_REGION or SDRS_ENDPOINT / ECS_ENDPOINT / EVS_ENDPOINT, with",
          "HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID); with neither SDRS_ENDPOINT nor HUAWEICLOUD_REGION",
          "set, an in-process simulator with the sample estate. Targets: SDRS_TARGETS_FILE or SDRS_TARGETS_JSON (default",
          "events/targets.sample.json). Job checks: SDRS_JOB_FIRST_CHECK_SECONDS, SDRS_JOB_RETRY_BASE_SECONDS, … (see docs/configuration.md).",
          "Exit 0 all protected; 1 some failed, ineligible or unknown; 2 usage or configuration; 3 cloud unreachable; 130 interrupted",
          "(the state is kept: run the same command again to resume).",
        ],
      ),
    )
    .action(async (raw: unknown) => (await import("../actions/onboard.ts")).onboard(context, raw));
}
