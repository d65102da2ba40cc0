/**
 * What a failed command tells the shell: one exit code scripts can rely on, and one line for people.
 *
 * Exit codes (docs/cli.md): 0 ok; 1 the work finished but some servers failed or are ineligible;
 * 2 usage or configuration error; 3 the cloud API was unreachable or refused our credentials;
 * 70 internal error (a bug); 130 interrupted (SIGINT), 143 terminated (SIGTERM).
 */
import { CommanderError } from "commander";

export const EXIT = {
  ok: 0,
  /** The job finished, but some servers failed or are ineligible (onboard, start). */
  someServersNotProtected: 1,
  usage: 2,
  cloudUnavailable: 3,
  internal: 70,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error of our own, raised where the CLI knows which exit code it means. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A flag, argument or variable broke a rule: exit 2, and the message names it. */
export function usageError(message: string): CliError {
  return new CliError("USAGE", message, EXIT.usage);
}

/** Listening failures people cause (port taken, no permission): exit 2, naming the flag. */
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: "the address is already in use",
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "the address is not available on this machine",
};

/**
 * Configuration errors of the other modules, by their stable `code` (CloudConfigError, ConfigError,
 * EstateError, WebhookReceiverConfigError, WebhookEndpointConfigError). Matching the code rather than the
 * class keeps those modules out of the CLI's start-up: they load only with the command that uses them.
 */
const CONFIGURATION_ERROR_CODES = new Set([
  "INVALID_CLOUD_CONFIG",
  "CONFIG_INVALID",
  "ESTATE_INVALID",
  "INVALID_WEBHOOK_RECEIVER",
  "INVALID_WEBHOOK_ENDPOINT",
]);

/** The cloud client's errors (lib/sdrs/errors.ts), by class name: their codes are the cloud's own (SDRS.xxxx, APIGW.xxxx …). */
const CLOUD_ERROR_NAMES = new Set(["CloudApiError", "AmbiguousCreateError"]);

function codeOf(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

/** Whether the error came from the cloud client: an HTTP status (or none) with the cloud's error code. */
export function isCloudError(error: unknown): error is Error & { code: string; status?: number | undefined } {
  return error instanceof Error && CLOUD_ERROR_NAMES.has(error.name);
}

/** Commander reports help and --version as "errors" with exit code 0. */
const COMMANDER_OK = new Set(["commander.helpDisplayed", "commander.version"]);

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) return COMMANDER_OK.has(error.code) ? EXIT.ok : EXIT.usage;
  if (isCloudError(error)) return EXIT.cloudUnavailable;
  const code = codeOf(error);
  if (code !== undefined && (CONFIGURATION_ERROR_CODES.has(code) || code in LISTEN_ERRORS)) return EXIT.usage;
  return EXIT.internal;
}

/** The stable code a program can match: the error's own, or INTERNAL. */
export function errorCodeOf(error: unknown): string {
  return codeOf(error) ?? "INTERNAL";
}

/** "x is invalid:\n  - a: b\n  - c: d" → "x is invalid: a: b; c: d" */
function oneLine(text: string): string {
  const [first = "", ...rest] = text
    .split("\n")
    .map((line) => line.trim().replace(/^- /, ""))
    .filter((line) => line !== "");
  return rest.length === 0 ? first : `${first} ${rest.join("; ")}`;
}

/** Replaces every known secret value (SK, passwords, tokens, webhook secrets) by [redacted]. */
export function redact(text: string, secrets: Iterable<string>): string {
  let result = text;
  for (const secret of secrets) {
    // Very short values would blank out ordinary words; the real secrets are long.
    if (secret.length >= 6) result = result.split(secret).join("[redacted]");
  }
  return result;
}

/** The one line printed to stderr, without the "error:" prefix. */
export function describeError(error: unknown): string {
  if (error instanceof CommanderError) return oneLine(error.message.replace(/^error:\s*/, ""));
  if (isCloudError(error)) {
    const hint =
      error.status === undefined
        ? " (is the endpoint right and reachable? check SDRS_ENDPOINT / ECS_ENDPOINT / EVS_ENDPOINT or HUAWEICLOUD_REGION)"
        : error.status === 401 || error.status === 403
          ? " (check HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID)"
          : "";
    return oneLine(`cloud API error: ${error.message}${hint}`);
  }
  const code = codeOf(error);
  if (code !== undefined && code in LISTEN_ERRORS && error instanceof Error) {
    const where = "address" in error && "port" in error ? ` ${String(error.address)}:${String(error.port)}` : "";
    return `cannot listen on${where}: ${LISTEN_ERRORS[code]} (--host/--port)`;
  }
  if (error instanceof Error) return oneLine(error.message);
  return oneLine(String(error));
}
