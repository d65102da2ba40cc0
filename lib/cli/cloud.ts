/**
 * The cloud a command talks to: the configured one (lib/sdrs/config.ts, from the environment), or, when
 * no endpoint or region is configured at all, an in-process simulator with the sample estate, so a first
 * `sdrs-autoprotect plan` works on a fresh checkout.
 */
import { CloudClient, type RequestLogEntry } from "../sdrs/client.ts";
import { loadCloudConfig } from "../sdrs/config.ts";
import { simulatorCloudConfig } from "../sim/cloud-config.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../sim/estate.ts";
import { type Simulator, startSimulator } from "../sim/server.ts";
import type { CliContext } from "./context.ts";
import { wrapText } from "./layout.ts";

export interface CloudConnection {
  client: CloudClient;
  /** The SDRS endpoint requests go to. */
  endpoint: string;
  /** Set when the cloud is the in-process simulator. */
  simulator: Simulator | undefined;
  close(): Promise<void>;
}

const hasValue = (value: string | undefined) => value !== undefined && value.trim() !== "";

/** Whether the environment names a cloud at all: an SDRS endpoint or a region to derive endpoints from. */
export function cloudIsConfigured(env: Record<string, string | undefined>): boolean {
  return hasValue(env.SDRS_ENDPOINT) || hasValue(env.HUAWEICLOUD_REGION);
}

/** One stderr line per HTTP attempt (--verbose): operation, status, time; never headers or bodies. */
export function requestLogLine(entry: RequestLogEntry): string {
  const status = entry.status === undefined ? "no answer" : String(entry.status);
  const attempt = entry.attempt > 1 ? ` (attempt ${entry.attempt})` : "";
  const code = entry.errorCode === undefined ? "" : ` ${entry.errorCode}`;
  const request = entry.requestId === undefined ? "" : ` [request ${entry.requestId}]`;
  return `${entry.method} ${entry.operation} → ${status}${code} ${entry.durationMs}ms${attempt}${request}`;
}

export async function connectCloud(context: CliContext): Promise<CloudConnection> {
  const { stderr } = context;
  const logger = context.verbose
    ? (entry: RequestLogEntry) => stderr.line(stderr.colors.dim(requestLogLine(entry)))
    : undefined;
  const clientOptions = logger === undefined ? {} : { logger };
  if (cloudIsConfigured(context.env)) {
    const config = loadCloudConfig(context.env);
    if (config.auth.kind === "aksk") {
      context.addSecret(config.auth.secretKey.reveal());
      context.addSecret(config.auth.securityToken?.reveal());
    } else {
      context.addSecret(config.auth.password.reveal());
    }
    return {
      client: new CloudClient(config, clientOptions),
      endpoint: config.endpoints.sdrs,
      simulator: undefined,
      close: async () => undefined,
    };
  }
  const simulator = await startSimulator({ estate: loadEstate(SAMPLE_ESTATE_PATH) });
  return {
    client: new CloudClient(simulatorCloudConfig(simulator.url), clientOptions),
    endpoint: simulator.url,
    simulator,
    close: () => simulator.close(),
  };
}

/** Said on stderr when a command fell back to the in-process simulator: `doing` is e.g. "planning against". */
export function noteSimulatorFallback(
  context: CliContext,
  connection: { simulator?: unknown },
  doing: string,
  detail = "",
): void {
  if (connection.simulator === undefined) return;
  const note = `No SDRS_ENDPOINT or HUAWEICLOUD_REGION set: ${doing} an in-process simulator with the sample estate${detail}.`;
  context.stderr.line(context.stderr.colors.dim(wrapText(note, context.columns)));
}
