/**
 * The notify function's composition root: the webhook endpoints of the configuration and SNS when a topic
 * is configured, over the state, queues, logger and metrics every function shares (aws.ts). It builds no
 * SDRS client and reads no cloud configuration (notify calls no cloud API), and no other function bundles
 * the webhook sender or loads the SNS client. The webhook secrets come from their own secret
 * (SDRS_WEBHOOK_SECRET_ID), which only the notify role may read.
 */
import { snsSdk } from "../aws/sdk.ts";
import { systemClock } from "../clock.ts";
import { allowListEntryProblem, guardedFetch } from "../notify/address-guard.ts";
import { verifyWebhookHosts, WebhookEndpointConfigError } from "../notify/endpoints.ts";
import { createSnsPublisher } from "../notify/sns.ts";
import type { PipelineDeps } from "../pipeline/deps.ts";
import type { CloudClient } from "../sdrs/client.ts";
import { type AwsBase, awsBase, once, pipelineDepsWithoutCloud } from "./aws.ts";
import { type NotifyRuntime, notifyDepsFor } from "./notify.ts";

/** SDRS_WEBHOOK_ALLOW_PRIVATE: comma-separated hostnames and CIDR ranges webhooks may reach though not public. */
function allowedPrivateHostsFrom(env: NodeJS.ProcessEnv): string[] {
  const entries = (env.SDRS_WEBHOOK_ALLOW_PRIVATE ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const problems = entries.flatMap((entry) => allowListEntryProblem(entry) ?? []);
  if (problems.length > 0) throw new WebhookEndpointConfigError("SDRS_WEBHOOK_ALLOW_PRIVATE", problems);
  return entries;
}

/** The notify function asked its pipeline ports for the cloud client, which it is never given. */
export class NoCloudClientError extends Error {
  readonly code = "NO_CLOUD_CLIENT";
  override name = "NoCloudClientError";

  constructor() {
    super(
      "the notify function calls no cloud API: its composition root (lib/runtime/aws-notify.ts) builds no SDRS client",
    );
  }
}

/** What the notify function runs on: the pipeline's ports without a cloud client, and the dispatcher's. */
export interface NotifyPorts {
  pipeline: PipelineDeps;
  dispatcher: NotifyRuntime;
}

async function buildDispatcher({ env, config, repos, queue }: AwsBase): Promise<NotifyRuntime> {
  const topicArn = config.sns?.topicArn ?? env.SNS_TOPIC_ARN;
  const sns = topicArn ? createSnsPublisher(new (await snsSdk()).SNSClient({}), topicArn) : undefined;
  // Plain-http webhooks to loopback only for tests that run the handlers on one machine.
  const allowLoopbackHttp = env.SDRS_ALLOW_LOOPBACK_WEBHOOKS === "true";
  const allowedPrivateHosts = allowedPrivateHostsFrom(env);
  const dispatcher = notifyDepsFor({
    config,
    env,
    repos,
    queue,
    clock: systemClock,
    ...(sns ? { sns } : {}),
    allowLoopbackHttp,
    allowedPrivateHosts,
    // Cloud mode: each connection's resolved address is checked again (DNS rebinding).
    ...(allowLoopbackHttp ? {} : { fetch: guardedFetch({ allowedPrivateHosts }) }),
  });
  // Cloud mode: a webhook host that resolves to an internal address is refused when the function starts.
  if (!allowLoopbackHttp) await verifyWebhookHosts(dispatcher.endpoints, { allowedPrivateHosts });
  return dispatcher;
}

async function buildNotify(): Promise<NotifyPorts> {
  const base = await awsBase();
  const pipeline: PipelineDeps = {
    ...pipelineDepsWithoutCloud(base),
    get cloud(): CloudClient {
      throw new NoCloudClientError();
    },
  };
  return { pipeline, dispatcher: await buildDispatcher(base) };
}

/** The notify function's ports, built once per container. */
export const awsNotify = once(buildNotify);
