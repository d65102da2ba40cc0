/**
 * What every Lambda shares in AWS: the environment with secrets from Secrets Manager, the targets
 * configuration, DynamoDB state, SQS queues and their dead-letter queues, and the pipeline's ports that
 * need nothing more. Two composition roots build on it: aws-pipeline.ts adds the SDRS client (the functions
 * that call the cloud) and aws-notify.ts the webhook endpoints and SNS (the notify function), so a function
 * bundles neither the cloud client nor the webhook sender unless it uses them. Built once per container;
 * the AWS SDK clients are loaded then (lib/aws/sdk.ts), so a function never loads a client it does not call.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDbStore } from "../aws/dynamodb-store.ts";
import { dynamoDbSdk, secretsManagerSdk, sqsSdk } from "../aws/sdk.ts";
import { queueUrlsFromEnv, SqsQueue } from "../aws/sqs-queue.ts";
import { systemClock } from "../clock.ts";
import { loadTargetsConfig, type TargetsConfig } from "../config/targets.ts";
import type { DeadLetterSink, PipelineDeps } from "../pipeline/deps.ts";
import { createRejectionLog } from "../pipeline/rejections.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE, type QueueName } from "../queue/queue.ts";
import { createRepositories, type Repositories } from "../state/repositories.ts";
import * as z from "../zod.ts";
import { lambdaMetrics } from "./emf.ts";
import { pipelineLogger } from "./logger.ts";
import { pipelineSettingsFromEnv } from "./settings.ts";

/** The environment variable holding each queue's dead-letter queue URL (the DLQs of serverless.yml). */
export const DEAD_LETTER_QUEUE_URL_VARIABLES: Record<QueueName, string> = {
  onboarding: "ONBOARDING_DLQ_URL",
  "job-status": "JOB_STATUS_DLQ_URL",
  notify: "NOTIFY_DLQ_URL",
};

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
    const { SendMessageCommand } = await sqsSdk();
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: { [DEAD_LETTER_REASON_ATTRIBUTE]: { DataType: "String", StringValue: reason } },
      }),
    );
  };
}

/** A secret (SDRS_SECRET_ID or SDRS_WEBHOOK_SECRET_ID) is not a JSON object of strings. Never quotes the secret's text. */
export class SecretFormatError extends Error {
  readonly code = "SECRET_FORMAT";

  constructor(secretId: string, variable: string, rule: string) {
    super(
      `secret ${secretId} (${variable}) must be a JSON object of strings, such as {"HUAWEICLOUD_SDK_AK": "…"}: ${rule}`,
    );
    this.name = "SecretFormatError";
  }
}

const secretValues = z.record(z.string(), z.string());

/** One JSON secret, read with the SDK's GetSecretValue directly (built once per container: a cache would never be asked twice). */
async function readSecret(secretId: string, variable: string): Promise<Record<string, string>> {
  const { GetSecretValueCommand, SecretsManagerClient } = await secretsManagerSdk();
  const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
  if (SecretString === undefined)
    throw new SecretFormatError(secretId, variable, "it has no SecretString (a binary secret)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(SecretString);
  } catch {
    // JSON.parse's message quotes the text it failed on: the secret itself.
    throw new SecretFormatError(secretId, variable, "its SecretString is not JSON");
  }
  const secrets = secretValues.safeParse(parsed);
  if (!secrets.success) {
    const fields = secrets.error.issues.map((issue) => issue.path.join(".") || "(the whole value)").join(", ");
    throw new SecretFormatError(secretId, variable, `check ${fields}`);
  }
  return secrets.data;
}

/**
 * Secrets merged over the environment: the Huawei AK/SK from the JSON secret SDRS_SECRET_ID (set only on the
 * functions that call the cloud) and the webhook secrets from SDRS_WEBHOOK_SECRET_ID (set only on notify).
 * Each role may read only the secret its function is given (serverless.yml).
 */
async function environmentWithSecrets(): Promise<NodeJS.ProcessEnv> {
  let env: NodeJS.ProcessEnv = process.env;
  for (const variable of ["SDRS_SECRET_ID", "SDRS_WEBHOOK_SECRET_ID"] as const) {
    const secretId = process.env[variable];
    if (secretId) env = { ...env, ...(await readSecret(secretId, variable)) };
  }
  return env;
}

/** What every function shares: the environment with secrets, configuration, state and queues. */
export interface AwsBase {
  env: NodeJS.ProcessEnv;
  config: TargetsConfig;
  repos: Repositories;
  sqs: SQSClient;
  queue: SqsQueue;
  store: DynamoDbStore;
}

async function buildBase(): Promise<AwsBase> {
  const env = await environmentWithSecrets();
  const config = loadTargetsConfig(env);
  const [{ DynamoDBClient }, { SQSClient }] = await Promise.all([dynamoDbSdk(), sqsSdk()]);
  const store = new DynamoDbStore({
    client: new DynamoDBClient({}),
    tableName: env.SDRS_TABLE_NAME ?? "",
    clock: systemClock,
  });
  const sqs = new SQSClient({});
  return {
    env,
    config,
    repos: createRepositories(store, { clock: systemClock }),
    sqs,
    queue: new SqsQueue({ client: sqs, queueUrls: queueUrlsFromEnv(env) }),
    store,
  };
}

/** Built once per container; a failure (a configuration error, the secret unreadable) is retried on the next call. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
}

/** Shared by aws-pipeline.ts and aws-notify.ts. */
export const awsBase = once(buildBase);

/** The pipeline's ports that need no cloud client: aws-pipeline.ts adds it, aws-notify.ts never calls one. */
export type PipelineDepsWithoutCloud = Omit<PipelineDeps, "cloud" | "instances" | "creatingInstances" | "reads">;

export function pipelineDepsWithoutCloud({ env, config, repos, queue, sqs, store }: AwsBase): PipelineDepsWithoutCloud {
  return {
    repos,
    queue,
    config,
    clock: systemClock,
    log: pipelineLogger,
    settings: pipelineSettingsFromEnv(env),
    deadLetter: sqsDeadLetterSink(sqs, env),
    rejections: createRejectionLog(store, { clock: systemClock }),
    metrics: lambdaMetrics,
  };
}
