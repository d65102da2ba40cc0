/**
 * The handlers as deployed: SDRS_SECRET_ID names a Secrets Manager secret (JSON) holding the AK/SK and the
 * webhook secrets, and nothing secret is in the environment. Secrets Manager is played by a small server
 * speaking its JSON protocol (GetSecretValue) on 127.0.0.1: no emulator for it is installed. The other
 * peers are real, as in handlers.test.ts. Its own file, so awsPipeline() starts cold in its own process.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventBridgeEvent, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateWebhookSecret } from "../../lib/notify/endpoints.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../lib/notify/receiver.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import * as z from "../../lib/zod.ts";
import {
  type AwsPeers,
  type CapturedLogs,
  captureLogs,
  deployedEnvironment,
  deployHandlers,
  type EventSourceMappings,
  eventually,
  type Handlers,
  lambdaContext,
  REGION,
  readEvent,
  startAwsPeers,
} from "./harness.ts";

const SECRET_ID = "sdrs-autoprotect/test";
const ACCESS_KEY = "SECRETSMANAGERTESTAK01";
const SECRET_KEY = `sk-from-secrets-manager-${generateWebhookSecret().slice(6, 22)}`;
const WEBHOOK_SECRET = generateWebhookSecret();

interface SecretsManagerPeer {
  url: string;
  /** GetSecretValue requests received, answered or not. */
  requests(): number;
  /** Until called, the secret does not exist (ResourceNotFoundException). */
  createSecret(secretString: string): void;
  close(): Promise<void>;
}

const getSecretValueRequest = z.looseObject({ SecretId: z.string() });

/** GetSecretValue over the AWS JSON 1.1 protocol, as @aws-sdk/client-secrets-manager calls it. */
async function startSecretsManager(): Promise<SecretsManagerPeer> {
  let secretString: string | undefined;
  let requests = 0;
  const reply = (response: ServerResponse, status: number, body: unknown, errorType?: string) => {
    response.writeHead(status, {
      "content-type": "application/x-amz-json-1.1",
      ...(errorType ? { "x-amzn-errortype": errorType } : {}),
    });
    response.end(JSON.stringify(body));
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.headers["x-amz-target"] !== "secretsmanager.GetSecretValue") {
      return reply(
        response,
        400,
        { __type: "UnknownOperationException", message: `unsupported ${request.headers["x-amz-target"]}` },
        "UnknownOperationException",
      );
    }
    requests += 1;
    const { SecretId } = getSecretValueRequest.parse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    if (SecretId !== SECRET_ID || secretString === undefined) {
      const message = "Secrets Manager can't find the specified secret.";
      return reply(response, 400, { __type: "ResourceNotFoundException", message }, "ResourceNotFoundException");
    }
    reply(response, 200, {
      ARN: `arn:aws:secretsmanager:${REGION}:123456789012:secret:${SECRET_ID}-AbCdEf`,
      Name: SECRET_ID,
      VersionId: "00000000-0000-4000-8000-000000000001",
      SecretString: secretString,
      VersionStages: ["AWSCURRENT"],
      CreatedDate: 1_763_889_300,
    });
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) =>
      reply(response, 500, { __type: "InternalServiceError", message: String(error) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    createSecret: (value) => {
      secretString = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let aws: AwsPeers;
let simulator: Simulator;
let receiver: WebhookReceiver;
let secretsManager: SecretsManagerPeer;
let handlers: Handlers;
let mappings: EventSourceMappings;
let logs: CapturedLogs;
let restoreEnvironment: (() => void) | undefined;

beforeAll(async () => {
  logs = captureLogs();
  [aws, secretsManager] = await Promise.all([
    startAwsPeers("sdrs-autoprotect-secrets-StateTable"),
    startSecretsManager(),
  ]);
  // Credentials only the secret knows: a request signed with anything else is refused.
  simulator = await startSimulator({
    estate: loadEstate(SAMPLE_ESTATE_PATH),
    credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
  });
  receiver = await startWebhookReceiver({ secret: WEBHOOK_SECRET });
  const targetsJson = JSON.stringify({
    ...readEvent<Record<string, unknown>>("targets.sample.json"),
    webhooks: [{ id: "ops", url: receiver.url, secret: { env: "SDRS_WEBHOOK_SECRET" } }],
  });
  const environment = await deployedEnvironment(
    aws,
    { simulatorUrl: simulator.url, targetsJson },
    {
      // The most talkative level: a secret must not show up even in debug lines.
      POWERTOOLS_LOG_LEVEL: "DEBUG",
      SDRS_SECRET_ID: SECRET_ID,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      HUAWEICLOUD_SDK_PROJECT_ID: SIMULATOR_DEFAULTS.projectId,
    },
  );
  ({ handlers, mappings, restoreEnvironment } = await deployHandlers(aws, environment));
});

afterAll(async () => {
  restoreEnvironment?.();
  vi.restoreAllMocks();
  await Promise.all([receiver?.close(), simulator?.close(), aws?.close(), secretsManager?.close()]);
});

describe("the handlers with their secrets in Secrets Manager (SDRS_SECRET_ID)", () => {
  const schedule = () => readEvent<EventBridgeEvent<"Scheduled Event", unknown>>("reconcile-schedule.json");
  const secret = JSON.stringify({
    HUAWEICLOUD_SDK_AK: ACCESS_KEY,
    HUAWEICLOUD_SDK_SK: SECRET_KEY,
    SDRS_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });

  it("retries a cold start that could not read the secret, then reads it once and signs SDRS calls and webhooks with it", async () => {
    await expect(handlers.reconcile(schedule(), lambdaContext("reconcile"))).rejects.toThrow(
      /ResourceNotFoundException|find the specified secret/,
    );
    expect(secretsManager.requests()).toBe(1);

    // A secret that is not JSON fails with the rule, never quoting the secret's text.
    secretsManager.createSecret(`HUAWEICLOUD_SDK_SK=${SECRET_KEY}`);
    const notJson = await handlers.reconcile(schedule(), lambdaContext("reconcile")).catch((error: unknown) => error);
    expect(notJson).toMatchObject({ code: "SECRET_FORMAT", message: expect.stringContaining("is not JSON") });
    expect(String((notJson as Error).message)).not.toContain(SECRET_KEY);
    expect(secretsManager.requests()).toBe(2);

    secretsManager.createSecret(secret);
    // The simulator accepts only the secret's AK/SK: a listing proves the client signed with them.
    const reconciled = await handlers.reconcile(schedule(), lambdaContext("reconcile"));
    expect(reconciled.tagged).toBeGreaterThan(0);
    expect(reconciled.enqueued).toBe(reconciled.tagged);

    // The receiver verifies with the endpoint's secret: delivery proves notify signed with the one from the secret.
    const event = readEvent<SQSEvent>("sqs-notify.json");
    const { eventId } = z.object({ eventId: z.string() }).parse(JSON.parse(event.Records[0]?.body ?? "{}"));
    expect(await handlers.notify(event, lambdaContext("notify"))).toEqual({ batchItemFailures: [] });
    await eventually("the verified webhook", async () => {
      await mappings.pollOnce("notify");
      return receiver.events().find((received) => received.webhookId === eventId);
    });

    // Two failed reads and one good one: every later invocation used the container's cached runtime.
    expect(secretsManager.requests()).toBe(3);
  });

  it("never writes the SK or the webhook secret to the logs, even at DEBUG", async () => {
    secretsManager.createSecret(secret);
    await handlers.reconcile(schedule(), lambdaContext("reconcile"));
    expect(logs.withMessage("cloud request").length).toBeGreaterThan(0);
    expect(logs.text()).not.toContain(SECRET_KEY);
    expect(logs.text()).not.toContain(WEBHOOK_SECRET.slice("whsec_".length));
  });
});
