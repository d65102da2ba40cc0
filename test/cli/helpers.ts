/**
 * Runs the CLI as a user would: `node bin/sdrs-autoprotect.js …` in a child process (process.execPath is
 * Node 24 under vitest), with an environment holding none of the developer's cloud settings.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";

export const BIN = fileURLToPath(new URL("../../bin/sdrs-autoprotect.js", import.meta.url));
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** Variables that would point the CLI at a real cloud, pick a targets file or change colour and verbosity. */
const INHERITED_NOT = /^(HUAWEICLOUD_|SDRS_|ECS_ENDPOINT|EVS_ENDPOINT|AS_ENDPOINT|IAM_ENDPOINT|WEBHOOK_|DEBUG$|NO_COLOR$|FORCE_COLOR$|CLICOLOR)/;

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !INHERITED_NOT.test(name)) env[name] = value;
  }
  // Wide, so that a table row stays on one line for the tests that read rows; the layout at 100 columns
  // is test/cli/terminal-width.test.ts.
  return { ...env, COLUMNS: "200", ...extra };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first complete stdout line (rejects if the process ends first). */
  firstLine: Promise<string>;
  /** Resolves once stdout holds a line matching `pattern`, with that line. */
  lineMatching(pattern: RegExp): Promise<string>;
  finished: Promise<Finished>;
}

export function startCli(args: readonly string[], env: Record<string, string> = cleanEnv()): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
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
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    check();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const finished = new Promise<Finished>((resolve) => {
    child.on("close", (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`CLI exited (${code ?? signal}) before printing a line matching ${waiter.pattern}; stderr: ${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  const lineMatching = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      waiters.push({ pattern, resolve, reject });
      check();
    });
  const firstLine = new Promise<string>((resolve, reject) => {
    const onData = () => {
      const end = stdout.indexOf("\n");
      if (end !== -1) {
        child.stdout.off("data", onData);
        resolve(stdout.slice(0, end));
      }
    };
    child.stdout.on("data", onData);
    child.on("close", (code) => reject(new Error(`CLI exited (${code}) before printing a line; stderr: ${stderr}`)));
  });
  // Avoid unhandled rejections when a test does not wait for the first line.
  firstLine.catch(() => undefined);
  return { child, stdout: () => stdout, stderr: () => stderr, firstLine, lineMatching, finished };
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

export function runCli(args: readonly string[], env: Record<string, string> = cleanEnv()): Promise<Finished> {
  return startCli(args, env).finished;
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

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
export const ANSI = /\u001b\[[0-9;]*m/;
