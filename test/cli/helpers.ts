/**
 * Runs the CLI for the tests. Most tests run the program in this process, through lib/cli/run.ts `runCli`
 * with captured streams, an environment holding none of the developer's cloud settings and a fake signal
 * source: no Node start-up and no module loading per run. `spawnCli`/`runBin` run `node
 * bin/sdrs-autoprotect.js …` in a child process (process.execPath is Node 24 under vitest), for the few
 * tests that prove the real entry point: the Node check, exit and flush, real signals, a killed process.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { runCli as runProgram, type SignalSource } from "../../lib/cli/run.ts";
import { parseWebhookEndpoints } from "../../lib/notify/endpoints.ts";
import { type NotificationEvent, notificationEventId } from "../../lib/notify/events.ts";
import { postWebhook } from "../../lib/notify/webhook.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";

export const BIN = fileURLToPath(new URL("../../bin/sdrs-autoprotect.js", import.meta.url));
export const REPO = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** Variables that would point the CLI at a real cloud, pick a targets file or change colour and verbosity. */
const INHERITED_NOT =
  /^(HUAWEICLOUD_|SDRS_|ECS_ENDPOINT|EVS_ENDPOINT|AS_ENDPOINT|IAM_ENDPOINT|WEBHOOK_|DEBUG$|NO_COLOR$|FORCE_COLOR$|CLICOLOR)/;

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !INHERITED_NOT.test(name)) env[name] = value;
  }
  // Wide, so that a table row stays on one line for the tests that read rows; the layout at 100 columns
  // is test/cli/terminal-width.test.ts.
  return { ...env, COLUMNS: "200", ...extra };
}

/** The environment that points the CLI at a simulator on `url` (every service on one base URL). */
export function simulatorEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({
    SDRS_ENDPOINT: url,
    ECS_ENDPOINT: url,
    EVS_ENDPOINT: url,
    AS_ENDPOINT: url,
    HUAWEICLOUD_SDK_AK: SIMULATOR_DEFAULTS.accessKey,
    HUAWEICLOUD_SDK_SK: SIMULATOR_DEFAULTS.secretKey,
    HUAWEICLOUD_SDK_PROJECT_ID: SIMULATOR_DEFAULTS.projectId,
    ...extra,
  });
}

export interface Finished {
  code: number | null;
  /** The signal that ended a spawned process; always null in process. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** What a test reads from a run while it goes on, in process or spawned. */
interface Watched {
  stdout(): string;
  stderr(): string;
  /** Resolves with the first complete stdout line (rejects if the run ends first). */
  firstLine: Promise<string>;
  /** Resolves once stdout holds a line matching `pattern`, with that line (rejects if the run ends first). */
  lineMatching(pattern: RegExp): Promise<string>;
  finished: Promise<Finished>;
}

/** Collects a run's output and answers the line waiters; `end` rejects the waiters still open. */
function watchOutput(): Omit<Watched, "finished"> & {
  addStdout(text: string): void;
  addStderr(text: string): void;
  end(why: string): void;
} {
  let stdout = "";
  let stderr = "";
  let ended: string | undefined;
  const waiters: { pattern: RegExp; resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  const check = () => {
    const lines = stdout.split("\n").slice(0, -1);
    for (const waiter of [...waiters]) {
      const line = lines.find((candidate) => waiter.pattern.test(candidate));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  const lineMatching = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      waiters.push({ pattern, resolve, reject });
      check();
      if (ended !== undefined && waiters.length > 0) {
        waiters.splice(0);
        reject(new Error(`CLI ${ended} before printing a line matching ${pattern}; stderr: ${stderr}`));
      }
    });
  const firstLine = lineMatching(/^/);
  // Avoid unhandled rejections when a test does not wait for the first line.
  firstLine.catch(() => undefined);
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    firstLine,
    lineMatching,
    addStdout: (text) => {
      stdout += text;
      check();
    },
    addStderr: (text) => {
      stderr += text;
    },
    end: (why) => {
      ended = why;
      for (const waiter of waiters.splice(0))
        waiter.reject(new Error(`CLI ${why} before printing a line matching ${waiter.pattern}; stderr: ${stderr}`));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// In process
// ---------------------------------------------------------------------------------------------

export interface Running extends Watched {
  /** Delivers SIGINT or SIGTERM to this run only, as Ctrl+C or `kill` would to its process. */
  signal(name: "SIGINT" | "SIGTERM"): void;
  /** Whether the program has returned its exit code. */
  done(): boolean;
  /**
   * Ends the run if it still goes on (a server waiting for Ctrl+C): SIGTERM, and a second signal if it
   * has not returned within 5 s. For afterEach.
   */
  stop(): Promise<void>;
}

export interface InProcessOptions {
  /** The run is stopped (two signals, as a user pressing Ctrl+C twice) and fails after this long. */
  timeoutMs?: number;
}

/** Under the default test timeout (30 s), so that a hung command fails with its output, not the suite. */
const DEFAULT_RUN_TIMEOUT_MS = 25_000;

// Relative paths (--state x.sqlite, no/such/estate.json) resolve against the working directory; a spawned
// run had the repository as its cwd, so an in-process run must too.
if (process.cwd() !== REPO) process.chdir(REPO);

/** Listener counts on the process that an in-process run must leave as it found them. */
const PROCESS_EVENTS = [
  "SIGINT",
  "SIGTERM",
  "exit",
  "beforeExit",
  "uncaughtException",
  "unhandledRejection",
  "warning",
] as const;
const processListeners = () => PROCESS_EVENTS.map((event) => `${event}=${process.listenerCount(event)}`).join(" ");

/** Starts the program in this process; it runs until it returns (or until a signal, for a server). */
export function startCli(
  args: readonly string[],
  env: Record<string, string> = cleanEnv(),
  options: InProcessOptions = {},
): Running {
  const output = watchOutput();
  const signals = new EventEmitter();
  const signalSource: SignalSource = {
    on: (event, listener) => signals.on(event, listener),
    off: (event, listener) => signals.off(event, listener),
  };
  // Not a terminal, like the pipes of a spawned run: no isTTY, no columns (the width comes from COLUMNS).
  const io = {
    stdout: { write: (text: string) => output.addStdout(text) },
    stderr: { write: (text: string) => output.addStderr(text) },
    env: { ...env },
    signals: signalSource,
  };
  const listenersBefore = processListeners();
  let returned = false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      signals.emit("SIGINT");
      signals.emit("SIGINT");
      reject(
        new Error(
          `sdrs-autoprotect ${args.join(" ")} did not return within ${timeoutMs} ms; stdout: ${output.stdout()}\nstderr: ${output.stderr()}`,
        ),
      );
    }, timeoutMs);
  });
  timedOut.catch(() => undefined);
  const program = runProgram(args, io).finally(() => {
    returned = true;
    clearTimeout(timer);
  });
  const finished = Promise.race([program, timedOut]).then(
    (code) => {
      output.end(`exited (${code})`);
      const listenersAfter = processListeners();
      if (listenersAfter !== listenersBefore)
        throw new Error(
          `sdrs-autoprotect ${args.join(" ")} left listeners on the process: before ${listenersBefore}, after ${listenersAfter}`,
        );
      return { code, signal: null, stdout: output.stdout(), stderr: output.stderr() };
    },
    (error: unknown) => {
      output.end("failed");
      throw error;
    },
  );
  finished.catch(() => undefined);
  return {
    stdout: output.stdout,
    stderr: output.stderr,
    firstLine: output.firstLine,
    lineMatching: output.lineMatching,
    finished,
    signal: (name) => signals.emit(name),
    done: () => returned,
    stop: async () => {
      if (returned) return;
      signals.emit("SIGTERM");
      const stopped = await Promise.race([
        program.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000).unref()),
      ]);
      if (!stopped) signals.emit("SIGTERM");
      await program;
    },
  };
}

/** Runs the program in this process to its end. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = cleanEnv(),
  options: InProcessOptions = {},
): Promise<Finished> {
  return startCli(args, env, options).finished;
}

// ---------------------------------------------------------------------------------------------
// Spawned: only where the real process is the thing under test
// ---------------------------------------------------------------------------------------------

export interface Spawned extends Watched {
  child: ChildProcessWithoutNullStreams;
}

export function spawnCli(args: readonly string[], env: Record<string, string> = cleanEnv()): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env, stdio: ["pipe", "pipe", "pipe"] });
  const output = watchOutput();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => output.addStdout(chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => output.addStderr(chunk));
  const finished = new Promise<Finished>((resolve) => {
    child.on("close", (code, signal) => {
      output.end(`exited (${code ?? signal})`);
      resolve({ code, signal, stdout: output.stdout(), stderr: output.stderr() });
    });
  });
  return {
    child,
    stdout: output.stdout,
    stderr: output.stderr,
    firstLine: output.firstLine,
    lineMatching: output.lineMatching,
    finished,
  };
}

/** Runs `node bin/sdrs-autoprotect.js …` to its end. */
export function runBin(args: readonly string[], env: Record<string, string> = cleanEnv()): Promise<Finished> {
  return spawnCli(args, env).finished;
}

/** Kills a spawned CLI that still runs (for afterEach). */
export function killSpawned(cli: Spawned): void {
  if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
}

/** A port nothing listens on: bound, then released. Connecting to it is refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Delivers `event` to a `webhooks listen` on `url` with the notifier's own signed sender. */
export function sendWebhook(url: string, secret: string, event: NotificationEvent) {
  const [endpoint] = parseWebhookEndpoints([{ id: "cli-test", url, secret }], { allowLoopbackHttp: true });
  if (endpoint === undefined) throw new Error("no endpoint");
  return postWebhook(endpoint, {
    eventId: notificationEventId(event),
    payload: JSON.stringify(event),
    timestamp: new Date(),
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
export const ANSI = /\u001b\[[0-9;]*m/;
