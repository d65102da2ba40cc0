/**
 * `plan`: the dry run (issue #3). Finds the servers carrying the protect tag (or the --servers given),
 * groups them by target, and prints each target's verdicts and the create calls that would be sent.
 * Exits 0 whenever planning succeeded, ineligible servers included: nothing is changed; exits 2 for a
 * --target that names neither a configured target nor a protection group (as `onboard` does).
 */

import { loadTargetsConfig } from "../../config/targets.ts";
import * as z from "../../zod.ts";
import { connectCloud, noteSimulatorFallback } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { usageError } from "../errors.ts";
import { displayPath, SAMPLE_TARGETS_PATH } from "../paths.ts";
import { CachedPlanReader } from "../plan/cached-reader.ts";
import { planTargets } from "../plan/plan-targets.ts";
import { dryRunToJson, renderDryRun } from "../plan/report.ts";
import { assertTargetNamed } from "../target-check.ts";

const planOptions = z.object({
  target: z.optional(z.string()),
  servers: z.optional(z.array(z.string())),
  batchLimit: z.optional(z.int()),
  json: z._default(z.boolean(), false),
  details: z._default(z.boolean(), false),
});

/** Where the targets configuration comes from, in loadTargetsConfig's order. */
function targetsSource(env: Record<string, string | undefined>): string {
  if (env.SDRS_TARGETS_JSON) return "SDRS_TARGETS_JSON";
  return displayPath(env.SDRS_TARGETS_FILE ?? SAMPLE_TARGETS_PATH);
}

export async function plan(context: CliContext, raw: unknown): Promise<void> {
  const options = planOptions.parse(raw);
  if (options.target !== undefined && options.target.trim() === "") throw usageError("--target: must not be empty");
  const config = loadTargetsConfig(context.env, SAMPLE_TARGETS_PATH);
  const cloud = await connectCloud(context);
  try {
    noteSimulatorFallback(context, cloud, "planning against");
    if (options.target !== undefined) {
      await assertTargetNamed(
        () => cloud.client.listProtectionGroups(),
        options.target,
        config,
        targetsSource(context.env),
      );
    }
    const dryRun = await planTargets(new CachedPlanReader(cloud.client), {
      config,
      target: options.target,
      serverIds: options.servers,
      batchLimit: options.batchLimit,
    });
    const source = {
      endpoint: cloud.endpoint,
      simulator: cloud.simulator !== undefined,
      targets: targetsSource(context.env),
    };
    if (options.json) context.stdout.line(JSON.stringify(dryRunToJson(dryRun, source), null, 2));
    else
      context.stdout.line(
        renderDryRun(dryRun, source, {
          color: context.stdout.colorEnabled,
          columns: context.columns,
          details: options.details,
        }),
      );
  } finally {
    await cloud.close();
  }
}
