/**
 * Every Lambda handler, through its exported middy `handler`, with events it was never meant to get: null,
 * a string, an API Gateway event without requestContext, SQS events without Records or with records that
 * are no messages. Each answers (400, a rejection, dead letters, an empty failure list) and never throws;
 * then a seeded fast-check run of arbitrary JSON values at each of them. Real peers on 127.0.0.1
 * (dynalite, local-aws-sqs, the SDRS simulator), as handlers.test.ts.
 */
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import {
  type AwsPeers,
  captureLogs,
  deployedEnvironment,
  deployHandlers,
  type Handlers,
  lambdaContext,
  startAwsPeers,
} from "./harness.ts";

let aws: AwsPeers;
let simulator: Simulator;
let handlers: Handlers;
let restoreEnvironment: (() => void) | undefined;

const ODD_EVENTS: unknown[] = [
  null,
  undefined,
  "",
  "text",
  0,
  [],
  {},
  { Records: null },
  { Records: "x" },
  { requestContext: null },
];

beforeAll(async () => {
  captureLogs();
  aws = await startAwsPeers("sdrs-autoprotect-hostile-StateTable");
  simulator = await startSimulator({ estate: loadEstate(SAMPLE_ESTATE_PATH) });
  const targetsJson = JSON.stringify({
    targets: { web: { protectionGroup: { id: "523ab8ad-3759-4933-9436-4cf4ebb20867" } } },
  });
  const environment = await deployedEnvironment(
    aws,
    { simulatorUrl: simulator.url, targetsJson },
    {
      HUAWEICLOUD_SDK_AK: SIMULATOR_DEFAULTS.accessKey,
      HUAWEICLOUD_SDK_SK: SIMULATOR_DEFAULTS.secretKey,
      HUAWEICLOUD_SDK_PROJECT_ID: SIMULATOR_DEFAULTS.projectId,
    },
  );
  ({ handlers, restoreEnvironment } = await deployHandlers(aws, environment));
});

afterAll(async () => {
  restoreEnvironment?.();
  await Promise.all([simulator?.close(), aws?.close()]);
});

type AnyHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
const invoke = (name: keyof Handlers, event: unknown) =>
  (handlers[name] as unknown as AnyHandler)(event, lambdaContext(name));

describe("handlers given events they were never meant to get", () => {
  it.each(ODD_EVENTS.map((event) => [JSON.stringify(event) ?? "undefined", event]))(
    "onboardingApi answers %s with 400 INVALID_EVENT",
    async (_, event) => {
      const response = (await invoke("onboardingApi", event)) as { statusCode: number; body: string };
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error.code).toBe("INVALID_EVENT");
    },
  );

  it("onboardingApi answers an API Gateway event without requestContext with 400 naming it", async () => {
    const response = (await invoke("onboardingApi", { rawPath: "/onboarding-requests", body: "{}" })) as {
      statusCode: number;
      body: string;
    };
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.message).toBe(
      "not an API Gateway HTTP API event: requestContext: Invalid input: expected object, received undefined",
    );
  });

  it.each(ODD_EVENTS.map((event) => [JSON.stringify(event) ?? "undefined", event]))(
    "inventoryEvents rejects %s with a reason",
    async (_, event) => {
      const result = (await invoke("inventoryEvents", event)) as { status: string; reason: string };
      expect(result.status).toBe("rejected");
      expect(result.reason).toMatch(/^not an EventBridge event: /);
    },
  );

  it.each(["onboard", "jobStatus", "notify"] as const)(
    "%s acknowledges an event without Records, and dead-letters records that are no messages",
    async (name) => {
      for (const event of ODD_EVENTS) expect(await invoke(name, event)).toEqual({ batchItemFailures: [] });
      const queue = name === "onboard" ? "onboarding" : name === "jobStatus" ? "job-status" : "notify";
      const answer = await invoke(name, { Records: [null, { messageId: 7 }, { messageId: "m-1", body: "not json" }] });
      expect(answer).toEqual({ batchItemFailures: [] });
      const { Messages } = await aws.sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: aws.queues[queue].deadLetterUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ["All"],
        }),
      );
      expect((Messages ?? []).map((message) => message.MessageAttributes?.reason?.StringValue?.split(":")[0])).toEqual([
        "not an SQS record",
        "not an SQS record",
        "(body)",
      ]);
    },
  );
});

describe("fuzzing the handlers with arbitrary JSON (seeded)", () => {
  const runs = Number(process.env.SDRS_FUZZ_RUNS ?? 60);
  it.each(["onboardingApi", "inventoryEvents", "onboard", "jobStatus", "notify"] as const)(
    "%s never throws and never answers 5xx",
    async (name) => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue(), async (event) => {
          const result = (await invoke(name, event)) as { statusCode?: number };
          if (name === "onboardingApi") expect(result.statusCode).toBeLessThan(500);
        }),
        { seed: 15, numRuns: runs },
      );
    },
    60_000,
  );
});
