/**
 * Operations in Lambda, through the exported middy handlers against dynalite, local-aws-sqs, the SDRS
 * simulator and a webhook receiver (as handlers.test.ts): the CloudWatch EMF lines the functions print
 * match what happened, every cloud call is an X-Ray subsegment sent to a UDP daemon on 127.0.0.1, and a
 * handler near its deadline starts nothing it could not record.
 */
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";
import type { Context, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DynamoDbStore } from "../../lib/aws/dynamodb-store.ts";
import { systemClock } from "../../lib/clock.ts";
import { type MetricPoint, summarize } from "../../lib/metrics.ts";
import { generateWebhookSecret } from "../../lib/notify/endpoints.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../lib/notify/receiver.ts";
import { DEFAULT_DEADLINE_MARGIN_MS } from "../../lib/pipeline/deadline.ts";
import { type ProtectIntent, protectIntent } from "../../lib/pipeline/messages.ts";
import { toSqsEvent } from "../../lib/queue/queue.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import { createRepositories, type Repositories } from "../../lib/state/repositories.ts";
import * as z from "../../lib/zod.ts";
import { emfPoints } from "./emf.ts";
import {
  type AwsPeers,
  type CapturedLogs,
  captureLogs,
  deployedEnvironment,
  deployHandlers,
  type EventSourceMappings,
  type Handlers,
  lambdaContext,
  readEvent,
  startAwsPeers,
} from "./harness.ts";

const TRACE_ROOT = "1-67a1b2c3-0123456789abcdef01234567";
const TRACE_PARENT = "53995c3f42cd8ad8";

let aws: AwsPeers;
let simulator: Simulator;
let receiver: WebhookReceiver;
let repos: Repositories;
let handlers: Handlers;
let mappings: EventSourceMappings;
let logs: CapturedLogs;
let daemon: Socket;
const datagrams: string[] = [];
let restoreEnvironment: (() => void) | undefined;

const estate = loadEstate(SAMPLE_ESTATE_PATH);
const webServers = estate.servers.filter((server) => server.tags?.sdrs_protect === "web").map((server) => server.id);

function intentsEvent(serverIds: readonly string[]): SQSEvent {
  const messages = serverIds.map((serverId, index) => ({
    messageId: `msg-${serverId}`,
    receiptHandle: `handle-${index}`,
    receiveCount: 1,
    sentAt: Date.now(),
    body: JSON.stringify(protectIntent.parse({ type: "protect", serverId, target: "web", source: "event" })),
    attributes: {},
    messageAttributes: {},
  }));
  return toSqsEvent(aws.queues.onboarding.arn, messages);
}

/** A context of `functionName` whose remaining time is what `remainingMs` says at each look. */
function contextWithRemaining(functionName: "onboard" | "jobStatus", remainingMs: () => number): Context {
  return { ...lambdaContext(functionName), getRemainingTimeInMillis: remainingMs };
}

function createCalls(): number {
  const counts = simulator.counts();
  return (counts.createProtectedInstance ?? 0) + (counts.batchCreateProtectedInstances ?? 0);
}

beforeAll(async () => {
  logs = captureLogs();
  aws = await startAwsPeers("sdrs-autoprotect-ops-StateTable");
  const fastJob = { minMs: 200, maxMs: 400 };
  simulator = await startSimulator({
    estate,
    jobDurations: { createProtectedInstance: fastJob, batchCreateProtectedInstances: fastJob },
  });
  const webhookSecret = generateWebhookSecret();
  receiver = await startWebhookReceiver({ secret: webhookSecret });
  daemon = createSocket("udp4");
  daemon.on("message", (message) => datagrams.push(message.toString("utf8")));
  await new Promise<void>((resolve) => daemon.bind(0, "127.0.0.1", resolve));
  const targetsJson = JSON.stringify({
    ...readEvent<Record<string, unknown>>("targets.sample.json"),
    webhooks: [{ id: "ops", url: receiver.url, secret: { env: "SDRS_WEBHOOK_SECRET" } }],
  });
  const environment = await deployedEnvironment(
    aws,
    { simulatorUrl: simulator.url, targetsJson },
    {
      HUAWEICLOUD_SDK_AK: SIMULATOR_DEFAULTS.accessKey,
      HUAWEICLOUD_SDK_SK: SIMULATOR_DEFAULTS.secretKey,
      HUAWEICLOUD_SDK_PROJECT_ID: SIMULATOR_DEFAULTS.projectId,
      SDRS_WEBHOOK_SECRET: webhookSecret,
      // What Lambda sets with active tracing: the invocation's trace and the daemon's address.
      _X_AMZN_TRACE_ID: `Root=${TRACE_ROOT};Parent=${TRACE_PARENT};Sampled=1`,
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
    },
  );
  ({ handlers, mappings, restoreEnvironment } = await deployHandlers(aws, environment));
  repos = createRepositories(new DynamoDbStore({ client: aws.dynamo.client, tableName: aws.tableName }), {
    clock: systemClock,
  });
});

afterAll(async () => {
  restoreEnvironment?.();
  delete process.env._X_AMZN_TRACE_ID;
  vi.restoreAllMocks();
  daemon?.close();
  await Promise.all([receiver?.close(), simulator?.close(), aws?.close()]);
});

const FINAL = ["protected", "failed", "ineligible", "unknown"];

describe("operations in Lambda: metrics, tracing and deadlines", () => {
  it("starts nothing when the remaining time is below the margin: every intent returns as a batch item failure, logged and counted", async () => {
    // Servers no test before touched (the metrics test protects them later).
    const serverIds = webServers.slice(12, 16);
    const before = createCalls();
    const emfBefore = logs.emf.length;
    const response = await handlers.onboard(
      intentsEvent(serverIds),
      contextWithRemaining("onboard", () => DEFAULT_DEADLINE_MARGIN_MS - 1),
    );
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      serverIds.map((serverId) => `msg-${serverId}`).sort(),
    );
    expect(createCalls()).toBe(before);
    expect((await repos.servers.getMany(serverIds)).size).toBe(0);
    expect(logs.withMessage("deadline near: messages not started return to the queue").at(-1)).toMatchObject({
      level: "WARN",
      queue: "onboarding",
      unstarted: 4,
    });
    expect(summarize(emfPoints(logs.emf.slice(emfBefore), "SdrsAutoprotect")).DeadlineStops).toMatchObject({
      count: 4,
      by: { "queue:onboarding": 4 },
    });

    const checks = await handlers.jobStatus(
      intentsEvent(serverIds),
      contextWithRemaining("jobStatus", () => 1_000),
    );
    expect(checks.batchItemFailures).toHaveLength(4);
  });

  it("stops before the create call it could not record once the deadline nears mid-batch, and the returned intents protect their servers once later", async () => {
    // Eligible servers of the sample estate: more than one create call's worth (batch limit 5).
    const serverIds = webServers.slice(0, 12);
    const before = createCalls();
    // Plenty of time until the first create call is made, then below the margin.
    const response = await handlers.onboard(
      intentsEvent(serverIds),
      contextWithRemaining("onboard", () => (createCalls() > before ? 1_000 : 100_000)),
    );
    expect(createCalls()).toBe(before + 1);
    const returned = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier.replace(/^msg-/, "")));
    expect(returned.size).toBeGreaterThan(0);
    const records = await repos.servers.getMany(serverIds);
    const inFlight = serverIds.filter((serverId) =>
      ["creating", "in_progress"].includes(records.get(serverId)?.record.status ?? ""),
    );
    expect(inFlight.length).toBeGreaterThan(0);
    // Nothing returned to the queue was claimed or sent to SDRS; everything sent is recorded with its job.
    for (const serverId of returned)
      expect(["pending", undefined], serverId).toContain(records.get(serverId)?.record.status);
    for (const serverId of inFlight)
      expect(records.get(serverId)?.record, serverId).toMatchObject({
        status: "in_progress",
        jobId: expect.any(String),
      });
    expect(logs.withMessage("deadline near: messages not started return to the queue").at(-1)).toMatchObject({
      unstarted: returned.size,
    });

    // The queue redelivers what came back (here: sent again), and a later invocation finishes the work.
    for (const serverId of returned)
      await aws.queue.send(
        "onboarding",
        protectIntent.parse({ type: "protect", serverId, target: "web", source: "event" }) satisfies ProtectIntent,
      );
    const notified = () =>
      new Set(receiver.events().map(({ event }) => (event.data as { serverId?: string }).serverId));
    await mappings.runUntil("every server of the batch final and notified", async () => {
      const now = await repos.servers.getMany(serverIds);
      const seen = notified();
      return serverIds.every(
        (serverId) => FINAL.includes(now.get(serverId)?.record.status ?? "") && seen.has(serverId),
      );
    });
    for (const serverId of serverIds) {
      expect(
        simulator.state.protectedInstances().filter((instance) => instance.source_server === serverId).length,
        serverId,
      ).toBeLessThanOrEqual(1);
    }
  });
  it("prints EMF lines (namespace SdrsAutoprotect, dimension function) whose figures match the servers, calls, jobs and webhooks of the run", async () => {
    // Eligible servers and the sample estate's ineligible showcase (one reason code each); not the one it defers.
    const serverIds = webServers.slice(12, 32);
    const deliveredBefore = receiver.events().length;
    const emfBefore = logs.emf.length;
    simulator.resetCounts();
    for (const serverId of serverIds) {
      await aws.queue.send(
        "onboarding",
        protectIntent.parse({ type: "protect", serverId, target: "web", source: "event" }),
      );
    }
    await mappings.runUntil("every server final and notified", async () => {
      const records = await repos.servers.getMany(serverIds);
      const statuses = serverIds.map((serverId) => records.get(serverId)?.record.status ?? "");
      // A server the estate shows busy is deferred (re-enqueued minutes later): not waited for.
      const settled = statuses.filter((status) => FINAL.includes(status)).length;
      return (
        settled + statuses.filter((status) => status === "deferred").length === serverIds.length &&
        receiver.events().length >= deliveredBefore + settled
      );
    });
    const documents = logs.emf.slice(emfBefore);
    expect(documents.length).toBeGreaterThan(0);
    const functions = new Set(documents.map((document) => document.function));
    expect([...functions].sort()).toEqual([
      "sdrs-autoprotect-test-jobStatus",
      "sdrs-autoprotect-test-notify",
      "sdrs-autoprotect-test-onboard",
    ]);
    const points: MetricPoint[] = emfPoints(documents, "SdrsAutoprotect");
    const totals = summarize(points);

    const records = [...(await repos.servers.getMany(serverIds)).values()].map((entry) => entry.record);
    const byStatus = (status: string) => records.filter((record) => record.status === status).length;
    expect(totals.ServersProtected?.count ?? 0).toBe(byStatus("protected"));
    expect(totals.ServersFailed?.count ?? 0).toBe(byStatus("failed"));
    expect(totals.ServersUnknown?.count ?? 0).toBe(byStatus("unknown"));
    expect(totals.ServersIneligible?.count ?? 0).toBe(byStatus("ineligible"));
    const reasons: Record<string, number> = {};
    for (const record of records.filter((candidate) => candidate.status === "ineligible")) {
      const key = `reason:${record.reasons[0]?.code}`;
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
    expect(
      Object.fromEntries(
        Object.entries(totals.ServersIneligible?.by ?? {}).filter(([key]) => key.startsWith("reason:")),
      ),
    ).toEqual(reasons);
    expect(byStatus("protected")).toBeGreaterThan(0);

    const counts = simulator.counts();
    expect(totals.CreateCalls?.by["kind:single"] ?? 0).toBe(counts.createProtectedInstance ?? 0);
    expect(totals.CreateCalls?.by["kind:batch"] ?? 0).toBe(counts.batchCreateProtectedInstances ?? 0);
    expect(totals.ServersPerCall?.count).toBe(totals.CreateCalls?.count);
    // Every server job ended (no faults): one duration per create call, one showJob per check.
    expect(totals.JobDuration?.count).toBe(totals.CreateCalls?.count);
    expect(totals.JobChecks?.sum).toBe(counts.showJob);
    expect(totals.WebhookDeliveries?.count).toBe(receiver.events().length - deliveredBefore);
    expect(totals.CloudErrors).toBeUndefined();
  });

  it("sends every cloud call attempt as an X-Ray subsegment of the invocation's trace, annotated with the operation and the job id", async () => {
    const sent = Object.values(simulator.counts()).reduce((sum, count) => sum + count, 0);
    const subsegments = await vi.waitFor(
      () => {
        const parsed = datagrams.map((datagram) => {
          const [header, body] = datagram.split("\n");
          expect(JSON.parse(header ?? "")).toEqual({ format: "json", version: 1 });
          return z
            .looseObject({
              name: z.string(),
              trace_id: z.string(),
              parent_id: z.string(),
              type: z.literal("subsegment"),
              annotations: z.record(z.string(), z.unknown()),
            })
            .parse(JSON.parse(body ?? ""));
        });
        // The test before reset the simulator's counts at its start: everything since was traced, and more before.
        expect(parsed.length).toBeGreaterThanOrEqual(sent);
        return parsed;
      },
      { timeout: 5_000 },
    );
    for (const subsegment of subsegments)
      expect(subsegment).toMatchObject({ trace_id: TRACE_ROOT, parent_id: TRACE_PARENT });
    // Auto Scaling is read too (eligibility: no server of a scaling group).
    expect(new Set(subsegments.map((subsegment) => subsegment.name))).toEqual(new Set(["SDRS", "ECS", "EVS", "AS"]));
    const creates = subsegments.filter((subsegment) =>
      String(subsegment.annotations.operation).match(/^(createProtectedInstance|batchCreateProtectedInstances)$/),
    );
    const checks = subsegments.filter((subsegment) => subsegment.annotations.operation === "showJob");
    expect(creates.length).toBeGreaterThan(0);
    // The job a create answered with is the job its checks read.
    const createdJobs = new Set(creates.map((subsegment) => subsegment.annotations.jobId));
    expect(createdJobs.has(undefined)).toBe(false);
    expect(new Set(checks.map((subsegment) => subsegment.annotations.jobId))).toEqual(createdJobs);
  });
});
