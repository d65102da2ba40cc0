/**
 * The `sdrs-autoprotect` program: global flags, help layout and output wiring, and one module per
 * command under ./commands, each exporting `register(program, context)`. A new command is a new module
 * added to COMMANDS.
 */
import { Command } from "commander";
import * as coverage from "./commands/coverage.ts";
import * as onboard from "./commands/onboard.ts";
import * as plan from "./commands/plan.ts";
import * as repair from "./commands/repair.ts";
import * as sim from "./commands/sim.ts";
import * as start from "./commands/start.ts";
import * as status from "./commands/status.ts";
import * as webhooks from "./commands/webhooks.ts";
import type { CliContext } from "./context.ts";
import { EXIT } from "./errors.ts";
import { PROGRAM_NAME } from "./help.ts";

export interface CommandModule {
  register(program: Command, context: CliContext): void;
}

/** In the order `--help` lists them. */
export const COMMANDS: readonly CommandModule[] = [start, onboard, status, plan, coverage, repair, sim, webhooks];

export function exitCodeHelp(): string {
  return [
    "Exit codes:",
    `  ${EXIT.ok}    ok`,
    `  ${EXIT.someServersNotProtected}    the job finished, but some servers failed or are ineligible (onboard, start)`,
    `  ${EXIT.usage}    usage or configuration error (the message names the flag or variable and the rule)`,
    `  ${EXIT.cloudUnavailable}    the cloud API is unreachable or refused the credentials`,
    `  ${EXIT.internal}   internal error (a bug: run again with --verbose and report the output)`,
    `  ${EXIT.interrupted}  interrupted (SIGINT; ${EXIT.terminated} for SIGTERM)`,
  ].join("\n");
}

export function buildProgram(context: CliContext, commands: readonly CommandModule[] = COMMANDS): Command {
  const { colors } = context.stdout;
  const program = new Command(PROGRAM_NAME)
    .description(
      "Protect every tagged Huawei Cloud / Open Telekom Cloud server with SDRS: plan, onboard, follow jobs, notify.",
    )
    .version(context.version, "-V, --version", "print the version")
    .option("--verbose", "print request logs and stack traces on stderr (also: DEBUG=1)")
    .option("--no-color", "no ANSI colours (also: NO_COLOR=1; off anyway when output is not a terminal)")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .showSuggestionAfterError()
    // Commander must not exit the process or print errors itself: main maps every error to one line and an exit code.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
      outputError: () => undefined,
      getOutHasColors: () => context.stdout.colorEnabled,
      getErrHasColors: () => context.stderr.colorEnabled,
    })
    .configureHelp({
      styleTitle: (text) => colors.bold(text),
      styleCommandText: (text) => colors.cyan(text),
      styleOptionText: (text) => colors.green(text),
      showGlobalOptions: true,
      sortSubcommands: false,
    })
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        `  $ ${PROGRAM_NAME} sim --fast                 # a local SDRS simulator with the sample estate`,
        `  $ ${PROGRAM_NAME} plan                       # dry run: what would be protected, and why not`,
        `  $ ${PROGRAM_NAME} webhooks listen --secret "$(${PROGRAM_NAME} webhooks secret)"`,
        "",
        exitCodeHelp(),
        "",
        "Cloud configuration comes from the environment (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID,",
        "HUAWEICLOUD_REGION or SDRS_ENDPOINT / ECS_ENDPOINT / EVS_ENDPOINT, …); targets from SDRS_TARGETS_FILE. See docs/cloud-client.md.",
      ].join("\n"),
    );
  for (const command of commands) command.register(program, context);
  return program;
}
