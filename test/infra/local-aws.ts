/**
 * The AWS side of serverless.yml on 127.0.0.1, for the handler tests and for `osls invoke local`: dynalite
 * with the state table (createTable) and local-aws-sqs with the three queues and their DLQs, each created
 * with the VisibilityTimeout and RedrivePolicy serverless.yml declares.
 *
 *   npm exec -- node test/infra/local-aws.ts     # prints the environment to export; runs until Ctrl+C
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsQueue } from "../../lib/aws/sqs-queue.ts";
import { createTable } from "../../lib/aws/table-definition.ts";
import type { QueueName } from "../../lib/queue/queue.ts";
import { DEAD_LETTER_QUEUE_URL_VARIABLES } from "../../lib/runtime/aws.ts";
import * as z from "../../lib/zod.ts";
import { startDynalite, startLocalSqs } from "../aws/peers.ts";
import { loadServerlessYml, QUEUE_URL_VARIABLES, queueOfEnvironment, queueProperties } from "./serverless-config.ts";

export const REGION = "eu-central-1";
const serverless = loadServerlessYml().config;

export interface LocalQueue {
  url: string;
  arn: string;
  deadLetterUrl: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}

/** Creates each queue (and its DLQ) with the VisibilityTimeout and RedrivePolicy serverless.yml gives it. */
export async function createQueuesAsDeployed(client: SQSClient): Promise<Record<QueueName, LocalQueue>> {
  const arnOf = async (url: string | undefined) => {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    return Attributes?.QueueArn ?? "";
  };
  const create = async (name: QueueName): Promise<LocalQueue> => {
    const logicalId = queueOfEnvironment(serverless, QUEUE_URL_VARIABLES[name]);
    const properties = queueProperties(serverless, logicalId);
    const redrive = properties.RedrivePolicy;
    if (!redrive) throw new Error(`serverless.yml: ${logicalId} has no RedrivePolicy`);
    const deadLetter = await client.send(new CreateQueueCommand({ QueueName: `${logicalId}-dlq` }));
    const source = await client.send(
      new CreateQueueCommand({
        QueueName: logicalId,
        Attributes: {
          VisibilityTimeout: String(properties.VisibilityTimeout),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: await arnOf(deadLetter.QueueUrl),
            maxReceiveCount: redrive.maxReceiveCount,
          }),
        },
      }),
    );
    return {
      url: source.QueueUrl ?? "",
      arn: await arnOf(source.QueueUrl),
      deadLetterUrl: deadLetter.QueueUrl ?? "",
      visibilityTimeoutSeconds: properties.VisibilityTimeout,
      maxReceiveCount: redrive.maxReceiveCount,
    };
  };
  return {
    onboarding: await create("onboarding"),
    "job-status": await create("job-status"),
    notify: await create("notify"),
  };
}

/** The endpoint URL a peer's AWS SDK client was built with. */
async function endpointOf(client: { config: { endpoint?: unknown } }): Promise<string> {
  const endpoint = client.config.endpoint;
  const resolved: unknown = typeof endpoint === "function" ? await endpoint() : endpoint;
  const url = z
    .looseObject({ protocol: z.string(), hostname: z.string(), port: z.union([z.string(), z.number()]) })
    .parse(resolved);
  return `${url.protocol}//${url.hostname}:${url.port}`;
}

export interface AwsPeers {
  dynamo: Awaited<ReturnType<typeof startDynalite>>;
  sqs: Awaited<ReturnType<typeof startLocalSqs>>;
  tableName: string;
  queues: Record<QueueName, LocalQueue>;
  /** The queue port on the local queues, for sending and draining in tests. */
  queue: SqsQueue;
  close(): Promise<void>;
}

/** dynalite with the state table and local-aws-sqs with the queues, both as serverless.yml declares them. */
export async function startAwsPeers(tableName: string): Promise<AwsPeers> {
  const [dynamo, sqs] = await Promise.all([startDynalite(), startLocalSqs()]);
  await createTable(dynamo.client, tableName);
  const queues = await createQueuesAsDeployed(sqs.client);
  const queue = new SqsQueue({
    client: sqs.client,
    queueUrls: { onboarding: queues.onboarding.url, "job-status": queues["job-status"].url, notify: queues.notify.url },
  });
  return {
    dynamo,
    sqs,
    tableName,
    queues,
    queue,
    close: async () => {
      await Promise.all([dynamo.close(), sqs.close()]);
    },
  };
}

/** What serverless.yml sets for the AWS side (table, queues), pointed at the peers, plus the SDK's endpoints and dummy credentials. */
export async function awsEnvironment(peers: AwsPeers): Promise<Record<string, string>> {
  return {
    SDRS_TABLE_NAME: peers.tableName,
    ONBOARDING_QUEUE_URL: peers.queues.onboarding.url,
    JOB_STATUS_QUEUE_URL: peers.queues["job-status"].url,
    NOTIFY_QUEUE_URL: peers.queues.notify.url,
    [DEAD_LETTER_QUEUE_URL_VARIABLES.onboarding]: peers.queues.onboarding.deadLetterUrl,
    [DEAD_LETTER_QUEUE_URL_VARIABLES["job-status"]]: peers.queues["job-status"].deadLetterUrl,
    [DEAD_LETTER_QUEUE_URL_VARIABLES.notify]: peers.queues.notify.deadLetterUrl,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    // The AWS SDK v3 reads service-specific endpoints from AWS_ENDPOINT_URL_<SERVICE>.
    AWS_ENDPOINT_URL_DYNAMODB: await endpointOf(peers.dynamo.client),
    AWS_ENDPOINT_URL_SQS: await endpointOf(peers.sqs.client),
  };
}

if (import.meta.main) {
  const peers = await startAwsPeers("sdrs-autoprotect-local-StateTable");
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  for (const [name, value] of Object.entries(await awsEnvironment(peers)))
    console.log(`export ${name}=${quote(value)}`);
  console.error("dynalite and local-aws-sqs are running (in memory); Ctrl+C stops them");
  const stop = () => {
    peers.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
