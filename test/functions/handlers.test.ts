/**
 * The six Lambda handlers of functions/, invoked through their exported middy `handler` with the sample
 * events of events/ and a Lambda Context, against real peers on 127.0.0.1: dynalite (the state table),
 * local-aws-sqs (the queues and DLQs serverless.yml declares, with its visibility timeouts and redrive
 * policies), the project's SDRS simulator and a Standard Webhooks receiver. Configuration travels the way
 * it does in Lambda: through the environment, read once by awsPipeline() on the first invocation.
 *
 * Lambda's SQS event source mapping is played by harness.ts's `pollOnce`: receive, hand the handler
 * `toSqsEvent(…)`, delete what it did not list in batchItemFailures.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, EventBridgeEvent, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DynamoDbStore } from "../../lib/aws/dynamodb-store.ts";
import { systemClock } from "../../lib/clock.ts";
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "../../lib/notify/dispatcher.ts";
import { generateWebhookSecret } from "../../lib/notify/endpoints.ts";
import { type NotificationEvent, type NotificationMessage, notificationEventId } from "../../lib/notify/events.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../lib/notify/receiver.ts";
import { type ProtectIntent, protectIntent } from "../../lib/pipeline/messages.ts";
import { createRejectionLog } from "../../lib/pipeline/rejections.ts";
import { MAX_TRANSIENT_RETRIES } from "../../lib/pipeline/schedule.ts";
import type { QueueName } from "../../lib/queue/queue.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE } from "../../lib/queue/queue.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import { createRepositories, type Repositories } from "../../lib/state/repositories.ts";
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
  readEvent,
  startAwsPeers,
} from "./harness.ts";

const PROTECT_TAG_KEY = "sdrs_protect";

let aws: AwsPeers;
let simulator: Simulator;
let receiver: WebhookReceiver;
let store: DynamoDbStore;
let repos: Repositories;
let handlers: Handlers;
let mappings: EventSourceMappings;
let logs: CapturedLogs;
let restoreEnvironment: (() => void) | undefined;

/** Takes the messages off `queue`'s DLQ: the text, and the reason a consumer gave (none when SQS's redrive moved it). */
async function deadLetters(queue: QueueName): Promise<{ body: string; reason?: string }[]> {
  const { Messages } = await aws.sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: aws.queues[queue].deadLetterUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 30,
      MessageAttributeNames: ["All"],
    }),
  );
  const received = Messages ?? [];
  for (const message of received) {
    await aws.sqs.client.send(
      new DeleteMessageCommand({ QueueUrl: aws.queues[queue].deadLetterUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }
  return received.map((message) => {
    const reason = message.MessageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE]?.StringValue;
    return { body: message.Body ?? "", ...(reason !== undefined ? { reason } : {}) };
  });
}

function receivedEvents(type: NotificationEvent["type"]): NotificationEvent[] {
  return receiver
    .events()
    .map((received) => received.event)
    .filter((event) => event.type === type);
}

const apiBody = z.looseObject({ requestId: z.string(), statusPath: z.string() });
const requestStatus = z.looseObject({
  requestId: z.string(),
  completedAt: z.optional(z.string()),
  servers: z.array(
    z.looseObject({ serverId: z.string(), state: z.string(), protectedInstanceId: z.optional(z.string()) }),
  ),
});

beforeAll(async () => {
  logs = captureLogs();
  aws = await startAwsPeers("sdrs-autoprotect-test-StateTable");
  const fastJob = { minMs: 200, maxMs: 400 };
  simulator = await startSimulator({
    estate: loadEstate(SAMPLE_ESTATE_PATH),
    jobDurations: {
      createProtectedInstance: fastJob,
      batchCreateProtectedInstances: fastJob,
      createProtectionGroup: fastJob,
      enableProtection: fastJob,
    },
  });
  const webhookSecret = generateWebhookSecret();
  receiver = await startWebhookReceiver({ secret: webhookSecret });

  const targetsJson = JSON.stringify({
    ...readEvent<Record<string, unknown>>("targets.sample.json"),
    webhooks: [
      { id: "ops", url: receiver.url, secret: { env: "SDRS_WEBHOOK_SECRET" } },
      // Signs with a secret the receiver does not know: every delivery fails (the dead-letter test).
      {
        id: "audit",
        url: receiver.url,
        secret: { env: "SDRS_AUDIT_WEBHOOK_SECRET" },
        eventTypes: ["protection_group.protection_enabled"],
      },
    ],
  });
  const environment = await deployedEnvironment(
    aws,
    { simulatorUrl: simulator.url, targetsJson },
    {
      // In AWS these come from the Secrets Manager secret (secrets.test.ts); here straight from the environment.
      HUAWEICLOUD_SDK_AK: SIMULATOR_DEFAULTS.accessKey,
      HUAWEICLOUD_SDK_SK: SIMULATOR_DEFAULTS.secretKey,
      HUAWEICLOUD_SDK_PROJECT_ID: SIMULATOR_DEFAULTS.projectId,
      SDRS_WEBHOOK_SECRET: webhookSecret,
      SDRS_AUDIT_WEBHOOK_SECRET: generateWebhookSecret(),
      // The SDRS client's read retries, shortened: the transient-failure test fails every read on purpose.
      SDRS_RETRY_MAX_ATTEMPTS: "2",
      SDRS_RETRY_BASE_DELAY_MS: "20",
    },
  );
  ({ handlers, mappings, restoreEnvironment } = await deployHandlers(aws, environment));
  store = new DynamoDbStore({ client: aws.dynamo.client, tableName: aws.tableName });
  repos = createRepositories(store, { clock: systemClock });
});

afterAll(async () => {
  restoreEnvironment?.();
  vi.restoreAllMocks();
  await Promise.all([receiver?.close(), simulator?.close(), aws?.close()]);
});

describe("the Lambda handlers, against dynalite, local-aws-sqs, the SDRS simulator and a webhook receiver", () => {
  it("protects the server of an 'ECS Server Tags Changed' event: inventoryEvents → onboard → jobStatus → notify → a verified server.protected webhook", async () => {
    const event =
      readEvent<EventBridgeEvent<"ECS Server Tags Changed", { serverId: string }>>("inventory-tags-changed.json");
    const { serverId } = event.detail;

    const intake = await handlers.inventoryEvents(event, lambdaContext("inventoryEvents"));
    expect(intake).toEqual({ status: "enqueued", eventId: `eb:${event.id}`, enqueued: [{ serverId, target: "web" }] });

    const onboarded = await mappings.pollOnce("onboarding");
    expect(onboarded.messages.map((message) => JSON.parse(message.body))).toEqual([
      {
        type: "protect",
        serverId,
        target: "web",
        source: "event",
        eventId: `eb:${event.id}`,
        deferrals: 0,
        verifyTag: true,
      },
    ]);
    expect(onboarded.failed).toEqual([]);
    expect((await repos.servers.get(serverId))?.record.status).toMatch(/^(creating|in_progress)$/);

    // The first job check is delayed (SDRS_JOB_FIRST_CHECK_SECONDS=1): wait until SQS delivers it.
    const firstCheck = await eventually("the first job-status message", async () => {
      const polled = await mappings.pollOnce("job-status");
      return polled.messages.length > 0 ? polled : undefined;
    });
    expect(JSON.parse(firstCheck.messages[0]?.body ?? "{}")).toMatchObject({
      type: "job",
      target: "web",
      serverIds: [serverId],
      checks: 0,
    });
    expect(firstCheck.failed).toEqual([]);

    await eventually("the server record to settle", async () => {
      const record = (await repos.servers.get(serverId))?.record;
      if (record?.status === "protected") return record;
      await mappings.pollOnce("job-status");
      return undefined;
    });
    const record = (await repos.servers.get(serverId))?.record;
    const instance = simulator.state.protectedInstances().find((candidate) => candidate.source_server === serverId);
    expect(instance).toBeDefined();
    expect(record).toMatchObject({ status: "protected", target: "web", protectedInstanceId: instance?.id });

    // notify fans the outcome out to each subscribed endpoint, then delivers to each.
    const fanOut = await mappings.pollOnce("notify");
    expect(fanOut.failed).toEqual([]);
    await eventually("the server.protected webhook", async () => {
      await mappings.pollOnce("notify");
      return receivedEvents("server.protected").find(
        (received) => received.type === "server.protected" && received.data.serverId === serverId,
      );
    });
    expect(receivedEvents("server.protected")).toEqual([
      {
        type: "server.protected",
        timestamp: expect.any(String),
        data: expect.objectContaining({
          serverId,
          target: "web",
          protectionGroupId: "523ab8ad-3759-4933-9436-4cf4ebb20867",
          protectedInstanceId: instance?.id,
        }),
      },
    ]);

    // The middleware put the Lambda context on every log line of the invocation.
    const handled = logs.withMessage("inventory event handled");
    expect(handled).toHaveLength(1);
    expect(handled[0]).toMatchObject({
      level: "INFO",
      service: "sdrs-autoprotect",
      function_name: "sdrs-autoprotect-test-inventoryEvents",
      function_request_id: expect.any(String),
      correlationId: event.id,
      cold_start: expect.any(Boolean),
    });
  });

  it("accepts POST /onboarding-requests with 202 and a requestId, reports each server's state on GET, and completes the request", async () => {
    const post = readEvent<APIGatewayProxyEventV2>("onboarding-post.json");
    const accepted = await handlers.onboardingApi(post, lambdaContext("onboardingApi"));
    expect(accepted.statusCode).toBe(202);
    const body = apiBody.parse(JSON.parse(String(accepted.body)));
    expect(JSON.parse(String(accepted.body))).toMatchObject({
      target: "web",
      replayed: false,
      servers: [
        { serverId: "403b603d-1d91-42cc-a357-81f3c2daf43f", accepted: true },
        { serverId: "8f5dd226-6cc0-4fe8-9786-b8b3359b234b", accepted: true },
        { serverId: "d0242183-2cd7-4308-af55-f4d482af5f7d", accepted: true },
      ],
    });
    expect(body.statusPath).toBe(`/onboarding-requests/${body.requestId}`);

    // The same Idempotency-Key returns the same request instead of a second one.
    const replay = await handlers.onboardingApi(post, lambdaContext("onboardingApi"));
    expect(replay.statusCode).toBe(202);
    expect(JSON.parse(String(replay.body))).toMatchObject({ requestId: body.requestId, replayed: true });

    const get = (): APIGatewayProxyEventV2 => {
      const sample = readEvent<APIGatewayProxyEventV2>("onboarding-get.json");
      const path = `/onboarding-requests/${body.requestId}`;
      return {
        ...sample,
        rawPath: path,
        pathParameters: { id: body.requestId },
        requestContext: { ...sample.requestContext, http: { ...sample.requestContext.http, path } },
      };
    };
    const queued = await handlers.onboardingApi(get(), lambdaContext("onboardingApi"));
    expect(queued.statusCode).toBe(200);
    const before = requestStatus.parse(JSON.parse(String(queued.body)));
    expect(before.requestId).toBe(body.requestId);
    expect(before.completedAt).toBeUndefined();
    expect(before.servers.map((server) => server.serverId)).toEqual([
      "403b603d-1d91-42cc-a357-81f3c2daf43f",
      "8f5dd226-6cc0-4fe8-9786-b8b3359b234b",
      "d0242183-2cd7-4308-af55-f4d482af5f7d",
    ]);
    for (const server of before.servers) expect(server.state).toBe("queued");

    await mappings.runUntil("the onboarding_request.completed webhook", () =>
      receivedEvents("onboarding_request.completed").some(
        (event) => event.type === "onboarding_request.completed" && event.data.requestId === body.requestId,
      ),
    );
    const settled = await handlers.onboardingApi(get(), lambdaContext("onboardingApi"));
    expect(settled.statusCode).toBe(200);
    const after = requestStatus.parse(JSON.parse(String(settled.body)));
    expect(after.completedAt).toEqual(expect.any(String));
    const instances = simulator.state.protectedInstances();
    for (const server of after.servers) {
      expect(server, server.serverId).toMatchObject({
        state: "protected",
        protectedInstanceId: instances.find((instance) => instance.source_server === server.serverId)?.id,
      });
    }
  });

  it("answers an invalid onboarding request with 400 naming each field and its rule", async () => {
    const response = await handlers.onboardingApi(
      readEvent<APIGatewayProxyEventV2>("onboarding-post-invalid.json"),
      lambdaContext("onboardingApi"),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(String(response.body))).toEqual({
      error: {
        code: "INVALID_REQUEST",
        message: expect.stringContaining("target"),
        issues: [
          { field: "target", rule: "must name a target (or a protection group id)" },
          { field: "servers", rule: "must list at least 1 server" },
        ],
      },
    });
  });

  it("answers GET for an unknown request id with 404 REQUEST_NOT_FOUND", async () => {
    const response = await handlers.onboardingApi(
      readEvent<APIGatewayProxyEventV2>("onboarding-get.json"),
      lambdaContext("onboardingApi"),
    );
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(String(response.body))).toMatchObject({ error: { code: "REQUEST_NOT_FOUND" } });
  });

  it("classifies our own and CTS inventory events: creates and tag changes enqueue, a repeated trace is a duplicate, others are ignored", async () => {
    const invoke = (file: string) =>
      handlers.inventoryEvents(readEvent<EventBridgeEvent<string, unknown>>(file), lambdaContext("inventoryEvents"));
    expect(await invoke("inventory-server-created.json")).toEqual({
      status: "enqueued",
      eventId: "eb:0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
      enqueued: [{ serverId: "df616dd3-030e-4cdc-affa-2d18ad5b0370", target: "db" }],
    });
    expect(await invoke("cts-create-server.json")).toEqual({
      status: "enqueued",
      eventId: "cts:f828ab77-d993-11f0-b09f-35adcfa25f3b",
      enqueued: [{ serverId: "8f5dd226-6cc0-4fe8-9786-b8b3359b234b", target: "web" }],
    });
    // The same trace forwarded as an EventGrid CloudEvent: CTS delivers at least once, we act once.
    expect(await invoke("cts-eventgrid-cloudevent.json")).toEqual({
      status: "duplicate",
      eventId: "cts:f828ab77-d993-11f0-b09f-35adcfa25f3b",
      enqueued: [],
    });
    expect(await invoke("cts-tag-resources-functiongraph.json")).toEqual({
      status: "enqueued",
      eventId: "cts:2a3b4c5d-d993-11f0-b09f-35adcfa25f3b",
      enqueued: [
        { serverId: "d0242183-2cd7-4308-af55-f4d482af5f7d", target: "web" },
        { serverId: "894e099f-8e62-41e7-a842-6d4bfdcb2c9c", target: "web" },
      ],
    });
    expect(await invoke("cts-irrelevant.json")).toEqual({
      status: "ignored",
      eventId: "33333333-d993-11f0-b09f-35adcfa25f3b",
      reason: "trace ECS/rebootServer is not a server create or tag change",
      enqueued: [],
    });

    const intents = (await mappings.drain("onboarding")).map((body) => protectIntent.parse(body));
    expect(
      intents
        .map(({ serverId, target, source }) => ({ serverId, target, source }))
        .sort((a, b) => a.serverId.localeCompare(b.serverId)),
    ).toEqual([
      { serverId: "894e099f-8e62-41e7-a842-6d4bfdcb2c9c", target: "web", source: "event" },
      { serverId: "8f5dd226-6cc0-4fe8-9786-b8b3359b234b", target: "web", source: "event" },
      { serverId: "d0242183-2cd7-4308-af55-f4d482af5f7d", target: "web", source: "event" },
      { serverId: "df616dd3-030e-4cdc-affa-2d18ad5b0370", target: "db", source: "event" },
    ]);
  });

  it("rejects a malformed inventory event with the reason naming the field, keeps the rejection, logs it, and enqueues nothing", async () => {
    const event = readEvent<EventBridgeEvent<string, unknown>>("inventory-malformed.json");
    const result = await handlers.inventoryEvents(event, lambdaContext("inventoryEvents"));
    expect(result).toEqual({
      status: "rejected",
      eventId: event.id,
      reason: expect.stringContaining("serverId"),
      enqueued: [],
    });
    expect(logs.withMessage("inventory event rejected")).toEqual([
      expect.objectContaining({ level: "WARN", eventId: event.id, reason: result.reason }),
    ]);
    const kept = await createRejectionLog(store).list();
    expect(kept).toEqual([
      expect.objectContaining({
        rejectedEventId: event.id,
        reason: result.reason,
        source: event.source,
        detailType: event["detail-type"],
      }),
    ]);
    expect(await mappings.drain("onboarding")).toEqual([]);
  });

  it("puts a message onboard can never process into the onboarding DLQ with the reason, and acknowledges it", async () => {
    const event = readEvent<SQSEvent>("sqs-malformed.json");
    const response = await handlers.onboard(event, lambdaContext("onboard"));
    expect(response).toEqual({ batchItemFailures: [] });
    const [deadLetter, ...others] = await deadLetters("onboarding");
    expect(others).toEqual([]);
    expect(deadLetter).toEqual({ body: event.Records[0]?.body, reason: expect.stringContaining("(body)") });
    expect(logs.withMessage("unprocessable message: sent to the dead-letter queue")).toEqual([
      expect.objectContaining({
        level: "ERROR",
        queue: "onboarding",
        messageId: event.Records[0]?.messageId,
        reason: deadLetter?.reason,
      }),
    ]);
  });

  it("delivers the sample notify message (events/sqs-notify.json) to the webhook endpoint, signed with its event id", async () => {
    const event = readEvent<SQSEvent>("sqs-notify.json");
    const { eventId } = z.object({ eventId: z.string() }).parse(JSON.parse(event.Records[0]?.body ?? "{}"));
    expect(await handlers.notify(event, lambdaContext("notify"))).toEqual({ batchItemFailures: [] });
    await eventually("the sample's webhook", async () => {
      await mappings.pollOnce("notify");
      return receiver.events().find((received) => received.webhookId === eventId);
    });
  });

  it("puts a webhook that failed its last attempt into the notify DLQ with the last failure, and acknowledges it", async () => {
    const event: NotificationEvent = {
      type: "protection_group.protection_enabled",
      timestamp: new Date().toISOString(),
      data: {
        protectionGroupId: "523ab8ad-3759-4933-9436-4cf4ebb20867",
        jobId: "ff8080826b45d4a5016b5036242c0099",
        target: "web",
      },
    };
    const lastAttempt: NotificationMessage = {
      eventId: notificationEventId(event),
      event,
      endpointId: "audit",
      attempt: DEFAULT_RETRY_SCHEDULE_SECONDS.length + 1,
      firstAttemptAt: new Date().toISOString(),
    };
    await aws.queue.send("notify", lastAttempt);
    const { messages, failed } = await mappings.pollOnce("notify");
    expect(messages).toHaveLength(1);
    expect(failed).toEqual([]);
    const [deadLetter, ...others] = await deadLetters("notify");
    expect(others).toEqual([]);
    expect(deadLetter && JSON.parse(deadLetter.body)).toEqual(lastAttempt);
    expect(deadLetter?.reason).toMatch(/401/);
    expect(logs.withMessage("webhook delivery gave up")).toEqual([
      expect.objectContaining({
        level: "ERROR",
        eventId: lastAttempt.eventId,
        endpointId: "audit",
        attempts: lastAttempt.attempt,
      }),
    ]);
  });

  it("returns a job check that keeps failing for a transient reason, past its backoffs, to its queue, which SQS dead-letters after maxReceiveCount receives", async () => {
    // A check backed off MAX_TRANSIENT_RETRIES times already (transient-backoff.test.ts shows the backoffs).
    const check = JSON.stringify({
      ...JSON.parse(readEvent<SQSEvent>("sqs-job-status.json").Records[0]?.body ?? "{}"),
      retries: MAX_TRANSIENT_RETRIES,
    });
    simulator.faults.set({ serverError: { probability: 1, status: 503, operations: ["showJob"] } });
    try {
      await aws.queue.send("job-status", JSON.parse(check));
      const { maxReceiveCount } = aws.queues["job-status"];
      let receives = 0;
      for (;;) {
        const { messages, failed } = await mappings.pollOnce("job-status", {
          visibilityTimeoutSeconds: 0,
          maxMessages: 1,
        });
        if (messages.length === 0) break;
        expect(failed).toEqual(messages.map((message) => message.messageId));
        receives += 1;
        expect(receives).toBeLessThanOrEqual(maxReceiveCount);
      }
      expect(receives).toBe(maxReceiveCount);
    } finally {
      simulator.faults.clear();
    }
    // Moved by SQS's redrive policy, not by the consumer: no reason attribute.
    const moved = await deadLetters("job-status");
    expect(moved.map((deadLetter) => ({ ...deadLetter, body: JSON.parse(deadLetter.body) }))).toEqual([
      { body: JSON.parse(check) },
    ]);
  });

  it("protects each server of the sample onboard batch (events/sqs-onboard.json) exactly once, whatever ran before", async () => {
    const event = readEvent<SQSEvent>("sqs-onboard.json");
    const serverIds = event.Records.map((record) => protectIntent.parse(JSON.parse(record.body)).serverId);
    expect(await handlers.onboard(event, lambdaContext("onboard"))).toEqual({ batchItemFailures: [] });

    await mappings.runUntil("every server of the batch to be protected", async () => {
      const records = await repos.servers.getMany(serverIds);
      return serverIds.every((serverId) => records.get(serverId)?.record.status === "protected");
    });
    const records = await repos.servers.getMany(serverIds);
    const instances = simulator.state.protectedInstances();
    for (const serverId of serverIds) {
      const ofServer = instances.filter((instance) => instance.source_server === serverId);
      expect(ofServer, serverId).toHaveLength(1);
      expect(records.get(serverId)?.record.protectedInstanceId, serverId).toBe(ofServer[0]?.id);
    }
  });

  it("settles the servers of a job SDRS does not know (events/sqs-job-status.json) as unknown and notifies server.protection_unknown", async () => {
    // Servers no other test touches, so their only record is the one this check writes.
    const serverIds = ["f0c36243-f850-448f-b45e-22400f427d5c", "657baec4-4c7a-4cdd-80bc-d2a4841969b0"];
    const sample = readEvent<SQSEvent>("sqs-job-status.json");
    const event: SQSEvent = {
      Records: sample.Records.map((record) => ({
        ...record,
        body: JSON.stringify({ ...JSON.parse(record.body), serverIds }),
      })),
    };
    const { jobId } = z.object({ jobId: z.string() }).parse(JSON.parse(event.Records[0]?.body ?? "{}"));
    expect(await handlers.jobStatus(event, lambdaContext("jobStatus"))).toEqual({ batchItemFailures: [] });

    const records = await repos.servers.getMany(serverIds);
    for (const serverId of serverIds)
      expect(records.get(serverId)?.record, serverId).toMatchObject({ status: "unknown", jobId });
    const unknownFor = (serverId: string) =>
      receivedEvents("server.protection_unknown").find(
        (received) => received.type === "server.protection_unknown" && received.data.serverId === serverId,
      );
    await mappings.runUntil("a server.protection_unknown webhook per server", () =>
      serverIds.every((serverId) => unknownFor(serverId) !== undefined),
    );
    for (const serverId of serverIds) {
      expect(unknownFor(serverId)?.data).toMatchObject({
        serverId,
        target: "web",
        jobId,
        reason: expect.stringContaining("SDRS.0408"),
      });
    }
  });

  it("reconcile enqueues every tagged server without a settled or in-flight record, with the tag's value as target", async () => {
    const tagged = simulator.state
      .servers()
      .map((server) => ({
        serverId: server.id,
        target: (server.tags ?? [])
          .find((tag) => tag.startsWith(`${PROTECT_TAG_KEY}=`))
          ?.slice(PROTECT_TAG_KEY.length + 1),
      }))
      .filter((server): server is { serverId: string; target: string } => server.target !== undefined);
    // What the tests before left in the store decides what is skipped: records settled minutes ago are.
    const records = await repos.servers.getMany(tagged.map((server) => server.serverId));
    const unsettled: { serverId: string; target: string }[] = [];
    const skipped: Record<string, number> = {};
    for (const server of tagged) {
      const status = records.get(server.serverId)?.record.status;
      if (status === undefined || status === "pending") unsettled.push(server);
      else skipped[status] = (skipped[status] ?? 0) + 1;
    }

    const result = await handlers.reconcile(
      readEvent<EventBridgeEvent<"Scheduled Event", unknown>>("reconcile-schedule.json"),
      lambdaContext("reconcile"),
    );
    expect(result).toEqual({
      tagged: tagged.length,
      enqueued: unsettled.length,
      skipped,
      recovered: { intent: 0, "ambiguous-check": 0, "job-check": 0 },
      requestsFinished: 0,
      // Coverage of the protected servers, each new gap notified once (docs/coverage.md).
      coverage: { servers: 13, gaps: 11, degraded: 11, restored: 0, repairs: [] },
    });

    const intents: ProtectIntent[] = (await mappings.drain("onboarding")).map((body) => protectIntent.parse(body));
    const byServer = (a: { serverId: string }, b: { serverId: string }) => a.serverId.localeCompare(b.serverId);
    expect(intents.map(({ serverId, target, source }) => ({ serverId, target, source })).sort(byServer)).toEqual(
      unsettled.map((server) => ({ ...server, source: "reconcile" })).sort(byServer),
    );
  });
});
