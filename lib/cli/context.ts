/**
 * What every command gets from the shell: output streams with their colour decision, the environment,
 * the global flags, the secrets to keep out of any output, and a signal that fires on SIGINT/SIGTERM.
 * Commands never touch process.stdin, process.stdout, process.env or process.exit themselves, so the same program runs
 * in a terminal, in a pipe and in tests.
 */
import picocolors from "picocolors";

export type Colors = ReturnType<typeof picocolors.createColors>;

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
  /** A terminal's width. */
  columns?: number | undefined;
}

export interface Output {
  readonly colors: Colors;
  readonly colorEnabled: boolean;
  /** Writes one line (a newline is added). */
  line(text?: string): void;
  /** Writes text as is. */
  write(text: string): void;
}

/**
 * Colour only for a terminal, and never when asked not to: `--no-color`, NO_COLOR (no-color.org),
 * FORCE_COLOR=0/false. FORCE_COLOR otherwise turns it on for pipes.
 */
export function colorWanted(input: {
  flag: boolean | undefined;
  env: Record<string, string | undefined>;
  isTTY: boolean | undefined;
}): boolean {
  if (input.flag === false) return false;
  const { NO_COLOR, FORCE_COLOR } = input.env;
  if (NO_COLOR !== undefined && NO_COLOR !== "") return false;
  if (FORCE_COLOR === "0" || FORCE_COLOR === "false") return false;
  if (FORCE_COLOR !== undefined) return true;
  return input.isTTY === true;
}

export function createOutput(
  stream: OutputStream,
  colorEnabled: boolean,
  redactText: (text: string) => string,
): Output {
  return {
    colors: picocolors.createColors(colorEnabled),
    colorEnabled,
    line: (text = "") => {
      stream.write(`${redactText(text)}\n`);
    },
    write: (text) => {
      stream.write(redactText(text));
    },
  };
}

export interface GlobalFlags {
  verbose: boolean;
  color: boolean;
}

export interface CliContext {
  readonly env: Record<string, string | undefined>;
  readonly stdout: Output;
  readonly stderr: Output;
  /** The width to lay reports and the progress line out for: the terminal's, else COLUMNS, else 100 (lib/cli/layout.ts). */
  readonly columns: number;
  readonly version: string;
  /** Aborted on the first SIGINT/SIGTERM; its reason is the signal name. */
  readonly shutdown: AbortSignal;
  /** `--verbose` or DEBUG set: stack traces and request logs on stderr. */
  readonly verbose: boolean;
  /** Values that must never be printed (SK, passwords, tokens, webhook secrets); output is scrubbed of them. */
  addSecret(value: string | undefined): void;
  /**
   * A long-running command (a server) says it stops by itself on SIGINT/SIGTERM and closes cleanly;
   * for any other command the shell exits 130/143 at once.
   */
  handleShutdownItself(): void;
  /** The exit code the command wants when it returns normally (default 0). */
  exitCode: number;
  /** Whether stderr is a terminal: the progress view redraws in place only there. */
  readonly stderrIsTerminal: boolean;
  /** Asks on the terminal and returns the answer; undefined when stdin is not a terminal (no one to ask). */
  ask(question: string): Promise<string | undefined>;
}

/** Resolves with the signal name when `signal` is aborted. */
export function shutdownRequested(signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const reason = () => resolve(typeof signal.reason === "string" ? signal.reason : "SIGINT");
    if (signal.aborted) reason();
    else signal.addEventListener("abort", reason, { once: true });
  });
}
