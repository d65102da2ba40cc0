/**
 * One run of the program: build the context, parse, run the command, and turn whatever happened into an
 * exit code and at most one error line on stderr (with the stack only when --verbose or DEBUG is set).
 */

import { createInterface } from "node:readline/promises";
import { CommanderError } from "commander";
import type { CliContext, Output, OutputStream } from "./context.ts";
import { colorWanted, createOutput } from "./context.ts";
import { describeError, EXIT, errorCodeOf, exitCodeFor, redact } from "./errors.ts";
import { PROGRAM_NAME } from "./help.ts";
import { outputColumns } from "./layout.ts";
import { buildProgram, COMMANDS, type CommandModule } from "./program.ts";
import { packageVersion } from "./version.ts";

export interface SignalSource {
  on(event: "SIGINT" | "SIGTERM", listener: () => void): unknown;
  off(event: "SIGINT" | "SIGTERM", listener: () => void): unknown;
}

/** Where answers to a question come from: the process's stdin in the bin; none in process (no terminal). */
export type InputStream = NodeJS.ReadableStream & { isTTY?: boolean | undefined };

export interface CliIo {
  stdin?: InputStream;
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  /** Where SIGINT/SIGTERM come from; the process by default. */
  signals?: SignalSource;
}

/** Secrets that may reach the CLI through the environment; scrubbed from every line printed. */
const SECRET_VARIABLES = [
  "HUAWEICLOUD_SDK_SK",
  "HUAWEICLOUD_SDK_SECURITY_TOKEN",
  "HUAWEICLOUD_PASSWORD",
  "SDRS_WEBHOOK_SECRET",
] as const;

/**
 * Global flags are read before commander parses, because the colour decision and the verbosity apply to
 * help and parse errors too. Both are plain switches, so a look at the words before `--` is exact.
 */
function globalSwitches(argv: readonly string[]): { verbose: boolean; noColor: boolean } {
  const end = argv.indexOf("--");
  const words = end === -1 ? argv : argv.slice(0, end);
  return { verbose: words.includes("--verbose"), noColor: words.includes("--no-color") };
}

function isDebugSet(env: Record<string, string | undefined>): boolean {
  const value = env.DEBUG;
  return value !== undefined && value !== "" && value !== "0" && value !== "false";
}

/** One question on the terminal (written to stderr, read from stdin); undefined when stdin is no terminal. */
async function askOn(stdin: InputStream | undefined, stderr: Output, question: string): Promise<string | undefined> {
  if (stdin?.isTTY !== true) return undefined;
  stderr.write(question);
  const prompt = createInterface({ input: stdin });
  try {
    return await prompt.question("");
  } finally {
    prompt.close();
  }
}

export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: readonly CommandModule[] = COMMANDS,
): Promise<number> {
  const switches = globalSwitches(argv);
  const secrets = new Set<string>();
  const scrub = (text: string) => redact(text, secrets);
  const colorFlag = switches.noColor ? false : undefined;
  const stdout = createOutput(io.stdout, colorWanted({ flag: colorFlag, env: io.env, isTTY: io.stdout.isTTY }), scrub);
  const stderr = createOutput(io.stderr, colorWanted({ flag: colorFlag, env: io.env, isTTY: io.stderr.isTTY }), scrub);
  for (const variable of SECRET_VARIABLES) {
    const value = io.env[variable];
    if (value !== undefined) secrets.add(value);
  }

  const controller = new AbortController();
  let selfStopping = false;
  let interrupted: (code: number) => void = () => undefined;
  const interruption = new Promise<number>((resolve) => {
    interrupted = resolve;
  });
  const context: CliContext = {
    env: io.env,
    stdout,
    stderr,
    columns: outputColumns(io.stdout.columns === undefined ? io.stderr : io.stdout, io.env),
    version: packageVersion(),
    shutdown: controller.signal,
    verbose: switches.verbose || isDebugSet(io.env),
    addSecret: (value) => {
      if (value !== undefined && value !== "") secrets.add(value);
    },
    handleShutdownItself: () => {
      selfStopping = true;
    },
    exitCode: EXIT.ok,
    stderrIsTerminal: io.stderr.isTTY === true,
    ask: (question) => askOn(io.stdin, stderr, question),
  };

  const signals = io.signals ?? process;
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    const code = signal === "SIGINT" ? EXIT.interrupted : EXIT.terminated;
    // A second signal, or a command that cannot stop gracefully: stop now.
    const stopNow = controller.signal.aborted || !selfStopping;
    // First the commands' own clean-up (a live progress line is ended), then the message on a line of its own.
    controller.abort(signal);
    if (stopNow) {
      stderr.line(`${PROGRAM_NAME}: interrupted (${signal})`);
      interrupted(code);
    }
  };
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  signals.on("SIGINT", onSigint);
  signals.on("SIGTERM", onSigterm);

  const run = async (): Promise<number> => {
    try {
      const program = buildProgram(context, commands);
      await program.parseAsync([...argv], { from: "user" });
      return context.exitCode;
    } catch (error) {
      const exitCode = exitCodeFor(error);
      if (exitCode === EXIT.ok) return EXIT.ok;
      // No command given: commander has printed the help to stderr already.
      if (error instanceof CommanderError && error.code === "commander.help") return exitCode;
      const { colors } = stderr;
      const suffix =
        error instanceof CommanderError ? colors.dim(" (see --help)") : ` ${colors.dim(`[${errorCodeOf(error)}]`)}`;
      stderr.line(`${colors.red("error:")} ${describeError(error)}${suffix}`);
      if (context.verbose && error instanceof Error && error.stack !== undefined && exitCode !== EXIT.usage) {
        stderr.line(colors.dim(error.stack));
      } else if (exitCode === EXIT.internal) {
        stderr.line(colors.dim("(run again with --verbose for the stack trace)"));
      }
      return exitCode;
    }
  };

  try {
    return await Promise.race([run(), interruption]);
  } finally {
    signals.off("SIGINT", onSigint);
    signals.off("SIGTERM", onSigterm);
  }
}
