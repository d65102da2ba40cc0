/**
 * What an `onboard` run is against: the targets configuration (with the webhook of --webhook), and the
 * configured cloud or, when none is configured, an in-process simulator with the sample estate; and the
 * one call that checks both before anything is written.
 */
import { type Clock, ManualClock, systemClock } from "../../clock.ts";
import { loadTargetsConfig, type TargetsConfig } from "../../config/targets.ts";
import { webhookEndpointSchema } from "../../notify/endpoints.ts";
import { CloudClient, type CloudClientOptions } from "../../sdrs/client.ts";
import { type CloudConfig, loadCloudConfig } from "../../sdrs/config.ts";
import { simulatorCloudConfig } from "../../sim/cloud-config.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../sim/estate.ts";
import { type Simulator, startSimulator } from "../../sim/server.ts";
import { cloudIsConfigured, connectCloud } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { usageError } from "../errors.ts";
import { displayPath, SAMPLE_TARGETS_PATH } from "../paths.ts";
import { assertTargetNamed } from "../target-check.ts";
import { WEBHOOK_SECRET_VARIABLE, webhookSecretOf, webhookSecretRequired } from "../webhook-secret.ts";

export interface TargetsChoice {
  config: TargetsConfig;
  source: string;
  note?: string;
}

export function targetsFor(
  context: CliContext,
  options: { webhook?: string | undefined; webhookSecret?: string | undefined },
): TargetsChoice {
  const { env } = context;
  const fromSample = !env.SDRS_TARGETS_JSON && !env.SDRS_TARGETS_FILE;
  const loaded = loadTargetsConfig(env, SAMPLE_TARGETS_PATH);
  const source = env.SDRS_TARGETS_JSON
    ? "SDRS_TARGETS_JSON"
    : displayPath(env.SDRS_TARGETS_FILE ?? SAMPLE_TARGETS_PATH);
  // The sample's endpoint (http://127.0.0.1:8787/) is a placeholder for a receiver someone runs; --webhook names a real one.
  const webhooks = fromSample ? [] : [...loaded.webhooks];
  if (options.webhook !== undefined) {
    const secret = webhookSecretOf(options.webhookSecret, context.env);
    if (secret === undefined || secret.trim() === "") {
      throw webhookSecretRequired("--webhook-secret", "with --webhook");
    }
    context.addSecret(secret);
    const id = webhooks.some((endpoint) => endpoint.id === "cli") ? "cli-flag" : "cli";
    const checked = webhookEndpointSchema({ allowLoopbackHttp: true }).safeParse({ id, url: options.webhook, secret });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const flag = issue?.path[0] === "secret" ? `--webhook-secret / ${WEBHOOK_SECRET_VARIABLE}` : "--webhook";
      throw usageError(`${flag}: ${issue?.message ?? "invalid"}`);
    }
    webhooks.push({ id, url: options.webhook, secret });
  }
  const note =
    fromSample && options.webhook === undefined
      ? "no webhook endpoint: the sample targets' endpoint is a placeholder (give --webhook URL --webhook-secret whsec_…)"
      : undefined;
  return { config: { ...loaded, webhooks }, source, ...(note === undefined ? {} : { note }) };
}

export interface OnboardCloud {
  config: CloudConfig;
  /** A client for the preflight call (the runtime makes its own from `config`). */
  client: CloudClient;
  endpoint: string;
  /** Set when nothing is configured and the run goes to an in-process simulator with the sample estate. */
  simulator: Simulator | undefined;
  clock: Clock;
  close(): Promise<void>;
}

/**
 * The configured cloud (connectCloud, which also registers its secrets for scrubbing), or an in-process
 * simulator with the sample estate on an accelerated clock: nothing real waits for its jobs.
 */
export async function onboardCloud(context: CliContext, clientOptions: CloudClientOptions): Promise<OnboardCloud> {
  if (cloudIsConfigured(context.env)) {
    const connection = await connectCloud(context);
    return {
      config: loadCloudConfig(context.env),
      client: connection.client,
      endpoint: connection.endpoint,
      simulator: undefined,
      clock: systemClock,
      close: connection.close,
    };
  }
  const clock = new ManualClock(Date.now());
  const simulator = await startSimulator({ estate: loadEstate(SAMPLE_ESTATE_PATH), clock });
  const config = simulatorCloudConfig(simulator.url);
  return {
    config,
    client: new CloudClient(config, clientOptions),
    endpoint: simulator.url,
    simulator,
    clock,
    close: () => simulator.close(),
  };
}

/**
 * One cheap authenticated call before anything is written: an unreachable cloud or refused credentials
 * exit 3 now, not after the queue's retries. It also checks that --target names something.
 */
export async function preflight(client: CloudClient, target: string, targets: TargetsChoice): Promise<void> {
  const groups = await client.listProtectionGroups();
  await assertTargetNamed(async () => groups, target, targets.config, targets.source);
}
