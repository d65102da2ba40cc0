/**
 * The composition root in AWS Lambda: DynamoDB state, SQS queues, the SDRS client configured from the
 * environment with secrets from Secrets Manager (Powertools Parameters, cached across invocations).
 * Built once per container; the handlers in functions/ only ask for it.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { systemClock } from "../clock.ts";
import { loadTargetsConfig } from "../config/targets.ts";
import { DynamoDbStore } from "../aws/dynamodb-store.ts";
import { queueUrlsFromEnv, SqsQueue } from "../aws/sqs-queue.ts";
import { createSnsPublisher } from "../notify/sns.ts";
import type { DeadLetterSink, PipelineDeps } from "../pipeline/deps.ts";
import { inFlightInstancesView, protectedInstanceView, sharedReads } from "../pipeline/instance-view.ts";
import { inFlightViewMaxAgeSeconds } from "../pipeline/schedule.ts";
import { createRejectionLog } from "../pipeline/rejections.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE, type QueueName } from "../queue/queue.ts";
import { CloudClient } from "../sdrs/client.ts";
import { loadCloudConfig } from "../sdrs/config.ts";
import { createRepositories } from "../state/records.ts";
import { logger, pipelineLogger } from "./logger.ts";
import { notifyDepsFor, type NotifyRuntime } from "./notify.ts";
import { pipelineSettingsFromEnv } from "./settings.ts";

export interface AwsRuntime {
  pipeline: PipelineDeps;
  notify: NotifyRuntime;
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

/** Secrets (AK/SK, webhook secrets) from the JSON secret SDRS_SECRET_ID, merged over the environment. */
async function environmentWithSecrets(): Promise<NodeJS.ProcessEnv> {
  const secretId = process.env.SDRS_SECRET_ID;
  if (!secretId) return process.env;
  const secrets = await getSecret<Record<string, string>>(secretId, { transform: "json", maxAge: 300 });
  return { ...process.env, ...(secrets ?? {}) };
}

async function build(): Promise<AwsRuntime> {
  const env = await environmentWithSecrets();
  const config = loadTargetsConfig(env);
  const clock = systemClock;
  const store = new DynamoDbStore({ client: new DynamoDBClient({}), tableName: env.SDRS_TABLE_NAME ?? "", clock });
  const repos = createRepositories(store, { clock });
  const sqs = new SQSClient({});
  const queue = new SqsQueue({ client: sqs, queueUrls: queueUrlsFromEnv(env) });
  const cloud = new CloudClient(loadCloudConfig(env), {
    logger: (entry) => logger.debug("cloud request", { ...entry }),
  });
  const topicArn = config.sns?.topicArn ?? env.SNS_TOPIC_ARN;
  const sns = topicArn ? createSnsPublisher(new SNSClient({}), topicArn) : undefined;
  const settings = pipelineSettingsFromEnv(env);
  const pipeline: PipelineDeps = {
    cloud,
    repos,
    queue,
    config,
    clock,
    log: pipelineLogger,
    settings,
    deadLetter: sqsDeadLetterSink(sqs, env),
    rejections: createRejectionLog(store, { clock }),
    // One per container: the batches and checks a warm Lambda runs share a read for a few seconds.
    instances: protectedInstanceView(() => cloud.listProtectedInstances({}), clock),
    creatingInstances: inFlightInstancesView(cloud, clock, inFlightViewMaxAgeSeconds(settings.schedule)),
    reads: sharedReads(clock),
  };
  return {
    pipeline,
    notify: notifyDepsFor({
      config,
      env,
      repos,
      queue,
      clock,
      ...(sns ? { sns } : {}),
      // Plain-http webhooks to loopback only for tests that run the handlers on one machine.
      allowLoopbackHttp: env.SDRS_ALLOW_LOOPBACK_WEBHOOKS === "true",
    }),
  };
}

export function awsRuntime(): Promise<AwsRuntime> {
  runtime ??= build().catch((error: unknown) => {
    runtime = undefined; // a configuration error is retried on the next invocation, not cached forever
    throw error;
  });
  return runtime;
}
