/**
 * `repair --server ID [--volume ID]`: reads the server's coverage, plans the steps (pure,
 * lib/coverage/repair-plan.ts), shows them, asks for confirmation (or --yes), and runs them following
 * each job (lib/coverage/repair-run.ts). A progress file makes a second run resume the first.
 */
import { join, resolve } from "node:path";
import { loadTargetsConfig } from "../../config/targets.ts";
import { readCoverage } from "../../coverage/estate.ts";
import { describeStep, planRepair, RepairPlanError, repairBlocker } from "../../coverage/repair-plan.ts";
import { newProgress, RepairStepError, readProgress, runRepair } from "../../coverage/repair-run.ts";
import * as z from "../../zod.ts";
import { connectCloud } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { displayPath, SAMPLE_TARGETS_PATH } from "../paths.ts";

const repairOptions = z.object({
  server: z.string().check(z.trim(), z.minLength(1, { error: "--server: must name a server id" })),
  volume: z.optional(z.string().check(z.trim(), z.minLength(1))),
  yes: z._default(z.boolean(), false),
  progress: z.optional(z.string()),
  pollMs: z._default(z.int(), 5000),
});

/** A yes on the terminal; no terminal means no answer (the caller refuses). */
async function confirmed(context: CliContext, question: string): Promise<boolean> {
  const answer = await context.ask(question);
  return answer !== undefined && /^(y|yes)$/i.test(answer.trim());
}

export async function repair(context: CliContext, raw: unknown): Promise<void> {
  const parsed = repairOptions.safeParse(raw);
  if (!parsed.success) throw usageError(parsed.error.issues[0]?.message ?? "invalid options");
  const options = parsed.data;
  const file = resolve(
    options.progress ?? join(".sdrs-autoprotect", `repair-${options.server.replace(/[^A-Za-z0-9._-]/g, "_")}.json`),
  );
  const config = loadTargetsConfig(context.env, SAMPLE_TARGETS_PATH);
  const cloud = await connectCloud(context);
  const say = (line: string) => context.stderr.line(line);
  try {
    let progress = readProgress(file);
    if (progress?.completedAt !== undefined) progress = undefined;
    if (progress !== undefined) {
      const done = progress.steps.filter((step) => step.done).length;
      say(
        `Resuming the repair of ${progress.plan.serverName} started ${progress.startedAt} (${done} of ${progress.steps.length} steps done; ${displayPath(file)}).`,
      );
    } else {
      const report = await readCoverage(cloud.client, { config, scope: { serverIds: [options.server] } });
      const coverage = report.servers.find((server) => server.serverId === options.server);
      if (coverage === undefined)
        throw usageError(`--server: ${options.server} is neither tagged nor protected (no coverage to repair)`);
      const plan = (() => {
        try {
          return planRepair(coverage, options.volume);
        } catch (error) {
          if (error instanceof RepairPlanError) throw new CliError(error.code, error.message, EXIT.usage);
          throw error;
        }
      })();
      if (plan.steps.length === 0) {
        say(
          plan.leftAlone.length === 0
            ? `${plan.serverName}: nothing to repair.`
            : `${plan.serverName}: no step can close ${plan.leftAlone.join(", ")}; see the remedies of sdrs-autoprotect coverage.`,
        );
        return;
      }
      say(`Repair of ${plan.serverName} (${plan.serverId}), protected instance ${plan.protectedInstanceId}:`);
      for (const [index, step] of plan.steps.entries()) say(`  ${index + 1}. ${describeStep(step)}`);
      if (plan.leftAlone.length > 0) say(`Not repaired here (a person decides): ${plan.leftAlone.join(", ")}.`);
      const blocker = repairBlocker(plan, await cloud.client.getProtectionGroup(plan.protectionGroupId));
      if (blocker !== undefined)
        throw new CliError("REPAIR_BLOCKED", `repair: ${blocker}; nothing was changed`, EXIT.usage);
      if (!options.yes && !(await confirmed(context, "Run these steps? [y/N] "))) {
        throw new CliError(
          "REPAIR_NOT_CONFIRMED",
          "repair: not confirmed; nothing was changed (answer y on a terminal, or pass --yes)",
          EXIT.usage,
        );
      }
      progress = newProgress(plan, new Date().toISOString());
    }
    try {
      await runRepair(
        progress,
        {
          cloud: cloud.client,
          file,
          pollMs: options.pollMs,
          maxPolls: 720,
          signal: context.shutdown,
          log: say,
          now: () => new Date().toISOString(),
        },
        describeStep,
      );
    } catch (error) {
      if (!(error instanceof RepairStepError)) throw error;
      say(`${error.code}: ${error.message}`);
      say(`Fix the cause, then run the same command again to resume (${displayPath(file)}).`);
      context.exitCode = EXIT.someServersNotProtected;
      return;
    }
    say(`Repaired ${progress.plan.serverName}: sdrs-autoprotect coverage shows it now.`);
  } finally {
    await cloud.close();
  }
}
