/**
 * The composition root in AWS Lambda: DynamoDB state, SQS queues, the SDRS client configured from the
 * environment with secrets from Secrets Manager (Powertools Parameters, cached across invocations).
 * Built once per container; the handlers in functions/ only ask for it.
 */

import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDbStore } from "../aws/dynamodb-store.ts";
import { queueUrlsFromEnv, SqsQueue } from "../aws/sqs-queue.ts";
import { systemClock } from "../clock.ts";
import { loadTargetsConfig } from "../config/targets.ts";
import { allowListEntryProblem, guardedFetch } from "../notify/address-guard.ts";
import { verifyWebhookHosts, WebhookEndpointConfigError } from "../notify/endpoints.ts";
import { createSnsPublisher } from "../notify/sns.ts";
import type { DeadLetterSink, PipelineDeps } from "../pipeline/deps.ts";
import { createRejectionLog } from "../pipeline/rejections.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE, type QueueName } from "../queue/queue.ts";
import { CloudClient } from "../sdrs/client.ts";
import { loadCloudConfig } from "../sdrs/config.ts";
import { createRepositories } from "../state/records.ts";
import { logger, pipelineLogger } from "./logger.ts";
import { type NotifyRuntime, notifyDepsFor } from "./notify.ts";
import { pipelineSettingsFromEnv } from "./settings.ts";

export interface AwsRuntime {
  pipeline: PipelineDeps;
  /**
   * Built on first use, by the notify function only: the webhook secrets live in their own secret
   * (SDRS_WEBHOOK_SECRET_ID) that only the notify role may read, so other functions never resolve them.
   */
  notify(): Promise<NotifyRuntime>;
}

let runtime: Promise<AwsRuntime> | undefined;

/** The environment variable holding each queue's dead-letter queue URL (the DLQs of serverless.yml). */
export const DEAD_LETTER_QUEUE_URL_VARIABLES: Record<QueueName, string> = {
  onboarding: "ONBOARDING_DLQ_URL",
  "job-status": "JOB_STATUS_DLQ_URL",
  notify: "NOTIFY_DLQ_URL",
};

/** The message attribute carrying the reason (the sqlite queue's `deadLetter` uses the same name). */

/** A queue's dead-letter queue URL is not configured: the message stays in its queue (SQS's redrive moves it later). */
export class DeadLetterQueueNotConfiguredError extends Error {
  readonly code = "DEAD_LETTER_QUEUE_NOT_CONFIGURED";
  readonly queue: QueueName;

  constructor(queue: QueueName, variable: string) {
    super(
      `cannot dead-letter a message of queue ${queue}: environment variable ${variable} must hold its dead-letter queue URL; the message stays in ${queue} until the redrive policy moves it`,
    );
    this.name = "DeadLetterQueueNotConfiguredError";
    this.queue = queue;
  }
}

/**
 * The DeadLetterSink on SQS: sends the message text to the queue's dead-letter queue with the reason as
 * the string message attribute `reason`. The URL is read per call, so a function without it still serves
 * everything else; that one message then throws and returns to its queue.
 */
export function sqsDeadLetterSink(client: SQSClient, env: Record<string, string | undefined>): DeadLetterSink {
  return async (queue, body, reason) => {
    const variable = DEAD_LETTER_QUEUE_URL_VARIABLES[queue];
    const queueUrl = env[variable];
    if (!queueUrl) throw new DeadLetterQueueNotConfiguredError(queue, variable);
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: { [DEAD_LETTER_REASON_ATTRIBUTE]: { DataType: "String", StringValue: reason } },
      }),
    );
  };
}

/**
 * Secrets merged over the environment: the Huawei AK/SK from the JSON secret SDRS_SECRET_ID (set only on the
 * functions that call the cloud) and the webhook secrets from SDRS_WEBHOOK_SECRET_ID (set only on notify).
 * Each role may read only the secret its function is given (serverless.yml).
 */
async function environmentWithSecrets(): Promise<NodeJS.ProcessEnv> {
  let env: NodeJS.ProcessEnv = process.env;
  for (const secretId of [process.env.SDRS_SECRET_ID, process.env.SDRS_WEBHOOK_SECRET_ID]) {
    if (!secretId) continue;
    const secrets = await getSecret<Record<string, string>>(secretId, { transform: "json", maxAge: 300 });
    env = { ...env, ...(secrets ?? {}) };
  }
  return env;
}

async function build(): Promise<AwsRuntime> {
  const env = await environmentWithSecrets();
  const config = loadTargetsConfig(env);
  const clock = systemClock;
  const store = new DynamoDbStore({ client: new DynamoDBClient({}), tableName: env.SDRS_TABLE_NAME ?? "", clock });
  const repos = createRepositories(store, { clock });
  const sqs = new SQSClient({});
  const queue = new SqsQueue({ client: sqs, queueUrls: queueUrlsFromEnv(env) });
  // Made on first use: the onboarding API and notify never call the cloud and have no credentials to load.
  let cloudClient: CloudClient | undefined;
  const cloud = () =>
    (cloudClient ??= new CloudClient(loadCloudConfig(env), {
      logger: (entry) => logger.debug("cloud request", { ...entry }),
    }));
  const topicArn = config.sns?.topicArn ?? env.SNS_TOPIC_ARN;
  const sns = topicArn ? createSnsPublisher(new SNSClient({}), topicArn) : undefined;
  const pipeline: PipelineDeps = {
    get cloud() {
      return cloud();
    },
    repos,
    queue,
    config,
    clock,
    log: pipelineLogger,
    settings: pipelineSettingsFromEnv(env),
    deadLetter: sqsDeadLetterSink(sqs, env),
    rejections: createRejectionLog(store, { clock }),
  };
  let notify: Promise<NotifyRuntime> | undefined;
  const buildNotify = async (): Promise<NotifyRuntime> => {
    const allowLoopbackHttp = env.SDRS_ALLOW_LOOPBACK_WEBHOOKS === "true";
    const allowedPrivateHosts = allowedPrivateHostsFrom(env);
    const dispatcher = notifyDepsFor({
        config,
        env,
        repos,
        queue,
        clock,
        ...(sns ? { sns } : {}),
        // Plain-http webhooks to loopback only for tests that run the handlers on one machine.
        allowLoopbackHttp,
        allowedPrivateHosts,
        // Cloud mode: each connection's resolved address is checked again (DNS rebinding).
        ...(allowLoopbackHttp ? {} : { fetch: guardedFetch({ allowedPrivateHosts }) }),
      });
    // Cloud mode: a webhook host that resolves to an internal address is refused when the function starts.
    if (!allowLoopbackHttp) await verifyWebhookHosts(dispatcher.endpoints, { allowedPrivateHosts });
    return dispatcher;
  };
  return {
    pipeline,
    notify: () => {
      notify ??= buildNotify().catch((error: unknown) => {
        notify = undefined;
        throw error;
      });
      return notify;
    },
  };
}

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

export function awsRuntime(): Promise<AwsRuntime> {
  runtime ??= build().catch((error: unknown) => {
    runtime = undefined; // a configuration error is retried on the next invocation, not cached forever
    throw error;
  });
  return runtime;
}
