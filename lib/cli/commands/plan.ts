/**
 * `plan`: the dry run (issue #3). Finds the servers carrying the protect tag (or the --servers given),
 * groups them by target, and prints each target's verdicts and the create calls that would be sent.
 * Exits 0 whenever planning succeeded, ineligible servers included: nothing is changed.
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { z } from "zod";
import { loadTargetsConfig } from "../../config/targets.ts";
import { connectCloud } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { usageError } from "../errors.ts";
import { idList, wholeNumber } from "../options.ts";
import { CachedPlanReader } from "../plan/cached-reader.ts";
import { planTargets } from "../plan/plan-targets.ts";
import { dryRunToJson, renderDryRun } from "../plan/report.ts";
import { examplesHelp } from "../program.ts";

/** Used when neither SDRS_TARGETS_FILE nor SDRS_TARGETS_JSON is set. */
export const SAMPLE_TARGETS_PATH = fileURLToPath(new URL("../../../events/targets.sample.json", import.meta.url));

const planOptions = z.object({
  target: z.string().optional(),
  servers: z.array(z.string()).optional(),
  batchLimit: z.number().int().optional(),
  json: z.boolean().default(false),
});

function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown === "" || shown.startsWith("..") ? path : shown;
}

/** Where the targets configuration comes from, in loadTargetsConfig's order. */
function targetsSource(env: Record<string, string | undefined>): string {
  if (env.SDRS_TARGETS_JSON) return "SDRS_TARGETS_JSON";
  return displayPath(env.SDRS_TARGETS_FILE ?? SAMPLE_TARGETS_PATH);
}

export function register(program: Command, context: CliContext): void {
  program
    .command("plan")
    .description("dry run: which tagged servers would be protected, in which create calls, and why the others would not")
    .option("--target <name>", "only this target (a target name of the targets configuration, or a protection group id)")
    .option("--servers <ids>", "these servers (comma-separated ids) instead of the tagged ones", idList)
    .option("--batch-limit <n>", "servers per batch create (default: the targets configuration's batchLimit, 5)", wholeNumber(1, 1000))
    .option("--json", "print one JSON document: summary, and per target the verdicts and the exact request bodies")
    .addHelpText(
      "after",
      examplesHelp(
        [
          ["plan", "every tagged server, grouped by target"],
          ["plan --target web"],
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
    .action(async (raw: unknown) => {
      const options = planOptions.parse(raw);
      if (options.target !== undefined && options.target.trim() === "") throw usageError("--target: must not be empty");
      const config = loadTargetsConfig(context.env, SAMPLE_TARGETS_PATH);
      const cloud = await connectCloud(context);
      try {
        if (cloud.simulator !== undefined) {
          context.stderr.line(
            context.stderr.colors.dim("No SDRS_ENDPOINT or HUAWEICLOUD_REGION set: planning against an in-process simulator with the sample estate."),
          );
        }
        const dryRun = await planTargets(new CachedPlanReader(cloud.client), {
          config,
          target: options.target,
          serverIds: options.servers,
          batchLimit: options.batchLimit,
        });
        const source = { endpoint: cloud.endpoint, simulator: cloud.simulator !== undefined, targets: targetsSource(context.env) };
        if (options.json) context.stdout.line(JSON.stringify(dryRunToJson(dryRun, source), null, 2));
        else context.stdout.line(renderDryRun(dryRun, source, { color: context.stdout.colorEnabled }));
      } finally {
        await cloud.close();
      }
    });
}
