/**
 * What the handler tests share: the sample events, a Lambda Context, the environment serverless.yml gives
 * every function, Lambda's SQS event source mappings, the Powertools log lines, and bounded waits. The AWS
 * peers (dynalite, local-aws-sqs) come from test/infra/local-aws.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { vi } from "vitest";
import type { SqsQueue } from "../../lib/aws/sqs-queue.ts";
import { QUEUE_NAMES, type QueueName, type ReceivedMessage, toSqsEvent } from "../../lib/queue/queue.ts";
import { type AwsPeers, awsEnvironment, type LocalQueue, REGION } from "../infra/local-aws.ts";
import { functionTimeoutSeconds, loadServerlessYml } from "../infra/serverless-config.ts";

export { type AwsPeers, REGION, startAwsPeers } from "../infra/local-aws.ts";

const serverless = loadServerlessYml().config;
/** Between two looks of a bounded wait (never a wait for a fixed time). */
const POLL_INTERVAL_MS = 100;

const EVENTS_DIR = new URL("../../events/", import.meta.url);

export function readEvent<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, EVENTS_DIR), "utf8")) as T;
}

export interface Handlers {
  inventoryEvents: typeof import("../../functions/inventory-events.ts").handler;
  reconcile: typeof import("../../functions/reconcile.ts").handler;
  onboardingApi: typeof import("../../functions/onboarding-api.ts").handler;
  onboard: typeof import("../../functions/onboard.ts").handler;
  jobStatus: typeof import("../../functions/job-status.ts").handler;
  notify: typeof import("../../functions/notify.ts").handler;
}
export type FunctionName = keyof Handlers;
export type EventSourceMappings = ReturnType<typeof eventSourceMappings>;

async function importHandlers(): Promise<Handlers> {
  return {
    inventoryEvents: (await import("../../functions/inventory-events.ts")).handler,
    reconcile: (await import("../../functions/reconcile.ts")).handler,
    onboardingApi: (await import("../../functions/onboarding-api.ts")).handler,
    onboard: (await import("../../functions/onboard.ts")).handler,
    jobStatus: (await import("../../functions/job-status.ts")).handler,
    notify: (await import("../../functions/notify.ts")).handler,
  };
}

/** What the Lambda runtime passes: names, ARN, memory and the deadline of serverless.yml's timeout. */
export function lambdaContext(functionName: FunctionName): Context {
  const deployedName = `sdrs-autoprotect-test-${functionName}`;
  const deadline = Date.now() + functionTimeoutSeconds(serverless, functionName) * 1000;
  const unused = () => {
    throw new Error("the handlers are async: they must not call the callback-style context methods");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: deployedName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${REGION}:123456789012:function:${deployedName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${deployedName}`,
    logStreamName: `2026/11/23/[$LATEST]${randomBytes(16).toString("hex")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unused,
    fail: unused,
    succeed: unused,
  };
}

/**
 * The environment serverless.yml's provider.environment gives every function, pointed at the local peers
 * (see test/infra/local-aws.ts) and the simulator; `extra` adds or overrides.
 */
export async function deployedEnvironment(
  peers: AwsPeers,
  cloud: { simulatorUrl: string; targetsJson: string },
  extra: Record<string, string>,
): Promise<Record<string, string>> {
  return {
    POWERTOOLS_SERVICE_NAME: "sdrs-autoprotect",
    POWERTOOLS_LOG_LEVEL: "INFO",
    ...(await awsEnvironment(peers)),
    // Instead of HUAWEICLOUD_REGION: every endpoint at the simulator (Auto Scaling too, read for eligibility).
    SDRS_ENDPOINT: cloud.simulatorUrl,
    ECS_ENDPOINT: cloud.simulatorUrl,
    EVS_ENDPOINT: cloud.simulatorUrl,
    AS_ENDPOINT: cloud.simulatorUrl,
    SDRS_TARGETS_JSON: cloud.targetsJson,
    // Plain-http webhooks to 127.0.0.1, and job checks after 1 s instead of minutes.
    SDRS_ALLOW_LOOPBACK_WEBHOOKS: "true",
    SDRS_JOB_FIRST_CHECK_SECONDS: "1",
    SDRS_JOB_RETRY_BASE_SECONDS: "1",
    ...extra,
  };
}

/**
 * Sets `environment`, then imports the handlers afresh, as a Lambda container starts: the logger reads its
 * level when its module loads and awsPipeline() reads the rest on the first invocation. The modules a test
 * imported earlier (for a constant) are separate instances. Wires Lambda's SQS event source mappings too.
 */
export async function deployHandlers(peers: AwsPeers, environment: Record<string, string>) {
  const restoreEnvironment = useEnvironment(environment);
  vi.resetModules();
  const handlers = await importHandlers();
  return { handlers, mappings: eventSourceMappings(peers.queue, peers.queues, handlers), restoreEnvironment };
}

/** Variables of the pipeline and the AWS SDK: none leaks in from the machine running the tests. */
const OWN_VARIABLES = /^(AWS_|SDRS_|HUAWEICLOUD_|POWERTOOLS_|ONBOARDING_|JOB_STATUS_|NOTIFY_|SNS_)/;

/** Sets exactly `variables` of the pipeline's and the SDK's environment for this test file; returns the restore. */
function useEnvironment(variables: Record<string, string>): () => void {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (OWN_VARIABLES.test(name)) delete process.env[name];
  Object.assign(process.env, variables);
  return () => {
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, saved);
  };
}

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Lambda's SQS event source mappings over the local queues. */
function eventSourceMappings(queue: SqsQueue, queues: Record<QueueName, LocalQueue>, handlers: Handlers) {
  const consumers: Record<QueueName, { functionName: FunctionName; handler: SqsHandler }> = {
    onboarding: { functionName: "onboard", handler: handlers.onboard },
    "job-status": { functionName: "jobStatus", handler: handlers.jobStatus },
    notify: { functionName: "notify", handler: handlers.notify },
  };

  /**
   * One poll for `name`: the messages handed over and the ids the handler listed as failed. A failed
   * message stays in the queue until its visibility timeout passes (the queue's, unless a test that wants
   * it back at once passes `{ visibilityTimeoutSeconds: 0, maxMessages: 1 }`: local-aws-sqs returns a
   * message several times within one receive when it is visible again at once).
   */
  async function pollOnce(
    name: QueueName,
    options: { visibilityTimeoutSeconds?: number; maxMessages?: number } = {},
  ): Promise<{ messages: ReceivedMessage[]; failed: string[] }> {
    const messages = await queue.receive(name, {
      maxMessages: options.maxMessages ?? 10,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? queues[name].visibilityTimeoutSeconds,
    });
    if (messages.length === 0) return { messages, failed: [] };
    const { functionName, handler } = consumers[name];
    const response = await handler(toSqsEvent(queues[name].arn, messages), lambdaContext(functionName));
    const failed = response.batchItemFailures.map((failure) => failure.itemIdentifier);
    for (const message of messages) {
      if (!failed.includes(message.messageId)) await queue.delete(name, message.receiptHandle);
    }
    return { messages, failed };
  }

  /** Runs every mapping until `done` holds. */
  async function runUntil(what: string, done: () => Promise<boolean> | boolean): Promise<void> {
    await eventually(what, async () => {
      for (const name of QUEUE_NAMES) await pollOnce(name);
      return (await done()) ? true : undefined;
    });
  }

  /** Takes every message waiting in `name` off the queue, without running its consumer. */
  async function drain(name: QueueName): Promise<unknown[]> {
    const bodies: unknown[] = [];
    for (;;) {
      const messages = await queue.receive(name, { maxMessages: 10, visibilityTimeoutSeconds: 30 });
      if (messages.length === 0) return bodies;
      for (const message of messages) {
        bodies.push(JSON.parse(message.body));
        await queue.delete(name, message.receiptHandle);
      }
    }
  }

  return { pollOnce, runUntil, drain };
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 12_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

export interface CapturedLogs {
  /** Every Powertools JSON line so far, in order. */
  lines: Record<string, unknown>[];
  withMessage(message: string): Record<string, unknown>[];
  /** Every CloudWatch EMF document (Powertools Metrics' lines, those with `_aws`) so far, in order. */
  emf: Record<string, unknown>[];
  /** Everything written, as text: for checks that a secret never appears. */
  text(): string;
}

/**
 * Powertools writes JSON lines to stdout (WARN and ERROR to stderr): they are kept for assertions and left
 * out of the test report; anything else passes through. Undone by vi.restoreAllMocks().
 */
export function captureLogs(): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const emf: Record<string, unknown>[] = [];
  const raw: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      let metricLines = 0;
      const parsed = text.split("\n").flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          if (value !== null && typeof value === "object" && "_aws" in value) {
            emf.push(value as Record<string, unknown>);
            metricLines += 1;
          }
          return value !== null && typeof value === "object" && "level" in value
            ? [value as Record<string, unknown>]
            : [];
        } catch {
          return [];
        }
      });
      if (parsed.length === 0 && metricLines === 0) return write(chunk, ...(rest as [BufferEncoding]));
      raw.push(text);
      lines.push(...parsed);
      return true;
    });
  }
  return {
    lines,
    withMessage: (message) => lines.filter((line) => line.message === message),
    emf,
    text: () => raw.join(""),
  };
}
