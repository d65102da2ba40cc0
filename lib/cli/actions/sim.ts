/**
 * `sim`: the SDRS simulator (lib/sim/server.ts) as a process. The base URL is the first line of stdout,
 * exactly, so a script can read it (`read -r URL`); a summary and the variables that point the client at
 * it follow. Runs until SIGINT/SIGTERM, then closes and exits 0.
 */

import { DEFAULT_PROTECT_TAG_KEY } from "../../config/targets.ts";
import { SIMULATOR_DEFAULTS } from "../../sim/defaults.ts";
import { type Estate, EstateError, loadEstate, SAMPLE_ESTATE_PATH } from "../../sim/estate.ts";
import { type FaultSettings, faultSettingsSchema } from "../../sim/faults.ts";
import { FAST_REPLICATION_JOB_DURATIONS } from "../../sim/replication.ts";
import { type SimulatorOptions, startSimulator } from "../../sim/server.ts";
import * as z from "../../zod.ts";
import { type CliContext, shutdownRequested } from "../context.ts";
import { usageError } from "../errors.ts";
import { displayPath } from "../paths.ts";

/** `--fast`: jobs finish in seconds, so a whole onboarding can be watched live. */
export const FAST_JOB_DURATIONS: NonNullable<SimulatorOptions["jobDurations"]> = {
  createProtectedInstance: { minMs: 1_000, maxMs: 3_000 },
  batchCreateProtectedInstances: { minMs: 2_000, maxMs: 5_000 },
  createProtectionGroup: { minMs: 1_000, maxMs: 2_000 },
  enableProtection: { minMs: 1_000, maxMs: 3_000 },
  ...FAST_REPLICATION_JOB_DURATIONS,
};

const simOptions = z.object({
  port: z.int(),
  host: z.string(),
  estate: z.optional(z.string()),
  seed: z.int(),
  fast: z._default(z.boolean(), false),
  batchLimit: z.optional(z.int()),
  faults: z.optional(z.string()),
});

/** The credentials the simulator accepts: the client's variables when set, the documented defaults otherwise. */
export function simulatorCredentials(env: Record<string, string | undefined>) {
  const fromEnv = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const accessKey = fromEnv("HUAWEICLOUD_SDK_AK");
  const secretKey = fromEnv("HUAWEICLOUD_SDK_SK");
  const projectId = fromEnv("HUAWEICLOUD_SDK_PROJECT_ID");
  return {
    accessKey: accessKey ?? SIMULATOR_DEFAULTS.accessKey,
    secretKey: secretKey ?? SIMULATOR_DEFAULTS.secretKey,
    projectId: projectId ?? SIMULATOR_DEFAULTS.projectId,
    fromEnv: {
      accessKey: accessKey !== undefined,
      secretKey: secretKey !== undefined,
      projectId: projectId !== undefined,
    },
  };
}

/** `--faults '{"throttle":{"next":3}}'`: the body POST /__sim/faults takes, checked the same way. */
export function parseFaults(text: string): FaultSettings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError('--faults: must be a JSON object such as \'{"serverError":{"next":2,"status":503}}\'');
  }
  const parsed = faultSettingsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : `.${issue.path.map(String).join(".")}`;
    throw usageError(
      `--faults${where}: ${issue?.message ?? "invalid"} (fields: throttle, serverError, latencyMs, dropAfterCreate, failJob, jobsNeverFinish)`,
    );
  }
  return parsed.data;
}

export function estateSummary(estate: Estate, tagKey = DEFAULT_PROTECT_TAG_KEY): string {
  const tagged = estate.servers.filter((server) => server.tags[tagKey] !== undefined).length;
  return `${estate.servers.length} servers (${tagged} tagged ${tagKey}), ${estate.protectionGroups.length} protection groups, ${estate.protectedInstances.length} protected instances, ${estate.activeDomains.length} active-active domains`;
}

/** The estate file, or exit 2 naming --estate when it cannot be read (a bad estate is an EstateError, also exit 2). */
function readEstate(path: string): Estate {
  try {
    return loadEstate(path);
  } catch (error) {
    if (
      error instanceof Error &&
      "code" in error &&
      typeof error.code === "string" &&
      error.code.startsWith("E") &&
      !(error instanceof EstateError)
    ) {
      throw usageError(`--estate: cannot read ${path} (${error.code})`);
    }
    throw error;
  }
}

export async function runSim(context: CliContext, raw: unknown): Promise<void> {
  const options = simOptions.parse(raw);
  const faults = options.faults === undefined ? undefined : parseFaults(options.faults);
  const estatePath = options.estate ?? SAMPLE_ESTATE_PATH;
  const estate = readEstate(estatePath);
  const credentials = simulatorCredentials(context.env);
  context.addSecret(credentials.secretKey);
  const { stdout, stderr } = context;
  const simulator = await startSimulator({
    estate,
    port: options.port,
    host: options.host,
    seed: options.seed,
    credentials: {
      accessKey: credentials.accessKey,
      secretKey: credentials.secretKey,
      projectId: credentials.projectId,
    },
    ...(options.fast ? { jobDurations: FAST_JOB_DURATIONS } : {}),
    ...(options.batchLimit === undefined ? {} : { batchLimit: options.batchLimit }),
    ...(context.verbose ? { logger: (line: string) => stderr.line(stderr.colors.dim(line)) } : {}),
  });
  context.handleShutdownItself();
  if (faults !== undefined) simulator.faults.set(faults);

  const { colors } = stdout;
  const url = simulator.url;
  const source = options.estate === undefined ? "sample estate" : `estate ${displayPath(estatePath)}`;
  const defaulted = (fromEnv: boolean) => (fromEnv ? "" : " (default)");
  stdout.line(url);
  stdout.line(
    `${colors.bold("SDRS simulator")}: ${source}, region ${estate.region}, seed ${options.seed}, ${options.fast ? "fast jobs (seconds)" : "realistic job durations (1–5 min)"}`,
  );
  stdout.line(`  ${estateSummary(estate)}`);
  stdout.line(
    `  credentials: AK ${credentials.accessKey}${defaulted(credentials.fromEnv.accessKey)}, project ${credentials.projectId}${defaulted(credentials.fromEnv.projectId)}, SK ${credentials.fromEnv.secretKey ? "from HUAWEICLOUD_SDK_SK" : "the simulator default"}`,
  );
  if (faults !== undefined) stdout.line(`  faults: ${JSON.stringify(simulator.faults.current())}`);
  stdout.line("Point the client at it:");
  stdout.line(
    `  export SDRS_ENDPOINT=${url} ECS_ENDPOINT=${url} EVS_ENDPOINT=${url} AS_ENDPOINT=${url} IAM_ENDPOINT=${url}`,
  );
  stdout.line(
    `  export HUAWEICLOUD_SDK_AK=${credentials.accessKey} HUAWEICLOUD_SDK_PROJECT_ID=${credentials.projectId}`,
  );
  stdout.line(
    `  ${colors.dim(`# and HUAWEICLOUD_SDK_SK: ${credentials.fromEnv.secretKey ? "the SK this simulator was started with" : "the simulator default (SIMULATOR_DEFAULTS.secretKey in lib/sim/defaults.ts)"}`)}`,
  );
  stdout.line(`Control plane: ${url}/__sim/counts, ${url}/__sim/faults, ${url}/__sim/state (see --help)`);
  stdout.line(colors.dim("Stop with Ctrl+C."));

  const signal = await shutdownRequested(context.shutdown);
  stderr.line(`${signal}: stopping the simulator`);
  await simulator.close();
}
