/**
 * The notify function's part of the Lambda composition root: the webhook endpoints of the configuration
 * and SNS when a topic is configured, over the state and queues every function shares (aws.ts). Its own
 * module so that no other function bundles the webhook sender or loads the SNS client.
 */
import { snsSdk } from "../aws/sdk.ts";
import { createSnsPublisher } from "../notify/sns.ts";
import { awsBase, once } from "./aws.ts";
import { notifyDepsFor, type NotifyRuntime } from "./notify.ts";
import { systemClock } from "../clock.ts";

async function buildNotify(): Promise<NotifyRuntime> {
  const { env, config, repos, queue } = await awsBase();
  const topicArn = config.sns?.topicArn ?? env.SNS_TOPIC_ARN;
  const sns = topicArn ? createSnsPublisher(new (await snsSdk()).SNSClient({}), topicArn) : undefined;
  return notifyDepsFor({
    config,
    env,
    repos,
    queue,
    clock: systemClock,
    ...(sns ? { sns } : {}),
    // Plain-http webhooks to loopback only for tests that run the handlers on one machine.
    allowLoopbackHttp: env.SDRS_ALLOW_LOOPBACK_WEBHOOKS === "true",
  });
}

/** The notification dispatcher's ports, built once per container. */
export const awsNotify = once(buildNotify);
