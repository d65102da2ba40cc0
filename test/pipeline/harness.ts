/**
 * End-to-end peers on 127.0.0.1: the SDRS simulator with the sample estate on a ManualClock, a webhook
 * receiver verifying signatures with the Standard Webhooks reference library, and the local runtime on an
 * in-memory sqlite store and queue — the same pipeline code the Lambdas run. Nothing of ours is mocked.
 */
import { ManualClock } from "../../lib/clock.ts";
import { parseTargetsConfig, type TargetsConfig } from "../../lib/config/targets.ts";
import { tagsChangedEvent as ownTagsChangedEvent } from "../../lib/events/inventory.ts";
import type { NotificationEvent } from "../../lib/notify/events.ts";
import {
  generateWebhookSecret,
  type RejectedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../lib/notify/receiver.ts";
import type { QueueSender } from "../../lib/queue/queue.ts";
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from "../../lib/runtime/local.ts";
import type { RequestLogEntry } from "../../lib/sdrs/client.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { type Estate, loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { seededRandom } from "../../lib/sim/random.ts";
import { type FaultSettings, type Simulator, type SimulatorOptions, startSimulator } from "../../lib/sim/server.ts";

export const estate: Estate = loadEstate(SAMPLE_ESTATE_PATH);

/** Sample-estate protection groups (lib/sim/sample-estate.json). */
export const PG_WEB = "523ab8ad-3759-4933-9436-4cf4ebb20867";
export const PG_DB = "eeb857c3-2690-4d3f-a338-4b8f346e1bb9";
export const PROTECT_TAG = "sdrs_protect";

const idsByName = new Map(estate.servers.map((server) => [server.name, server.id]));
const namesById = new Map(estate.servers.map((server) => [server.id, server.name]));

/** The id of the (first) sample-estate server with this name. */
export function serverId(name: string): string {
  const id = idsByName.get(name);
  if (id === undefined) throw new Error(`no server named ${name} in the sample estate`);
  return id;
}

export function serverName(id: string): string {
  return namesById.get(id) ?? id;
}

/** Every sample-estate server that carries the protect tag. */
export const taggedServers = estate.servers.filter((server) => server.tags?.[PROTECT_TAG] !== undefined);

/** Our own EventBridge event "ECS Server Tags Changed" (lib/events/inventory.ts). */
export function tagsChangedEvent(
  id: string,
  server: { id: string; tags?: Record<string, string> | undefined },
  at: number,
): unknown {
  return ownTagsChangedEvent({ id, serverId: server.id, tags: server.tags, at, region: "eu-de" });
}

export function targetsFor(webhookUrl: string, overrides: Record<string, unknown> = {}): TargetsConfig {
  return parseTargetsConfig({
    protectTagKey: PROTECT_TAG,
    batchLimit: 5,
    targets: {
      web: { protectionGroup: { id: PG_WEB } },
      db: { protectionGroup: { id: PG_DB } },
    },
    webhooks: [{ id: "local", url: webhookUrl, secret: { env: "SDRS_WEBHOOK_SECRET" } }],
    ...overrides,
  });
}

/** Sends every message twice: what an at-least-once queue may do to any message. */
export function twiceSender(inner: QueueSender): QueueSender {
  return {
    async send(queue, body, options) {
      await inner.send(queue, body, options);
      await inner.send(queue, body, options);
    },
    async sendBatch(queue, entries) {
      await inner.sendBatch(queue, [...entries, ...entries]);
    },
  };
}

export interface HarnessOptions {
  /** Default: the sample estate. */
  estate?: Estate;
  seed?: number;
  faults?: FaultSettings;
  jobDurations?: SimulatorOptions["jobDurations"];
  runtime?: Partial<Omit<LocalRuntimeOptions, "database" | "cloudConfig" | "targets" | "clock">>;
  targets?: Record<string, unknown>;
}

export interface Harness {
  clock: ManualClock;
  sim: Simulator;
  receiver: WebhookReceiver;
  runtime: LocalRuntime;
  webhookSecret: string;
  /** Every pipeline log line (level, message, fields) as JSON text. */
  logs: string[];
  /** Every HTTP attempt of the SDRS client. */
  cloudCalls: RequestLogEntry[];
  rejectedWebhooks: RejectedWebhook[];
  /** Sends a "tags changed" event for each server, as the inventory-events Lambda would receive it. */
  tagEvents(
    servers: readonly { id: string; tags?: Record<string, string> | undefined }[],
    idPrefix?: string,
  ): Promise<void>;
  /** Verified notification events by server id (server.* outcome types only; coverage changes are not outcomes). */
  serverEvents(): Map<string, NotificationEvent[]>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const seed = options.seed ?? 11;
  const sim = await startSimulator({
    estate: options.estate ?? estate,
    clock,
    seed,
    ...(options.jobDurations ? { jobDurations: options.jobDurations } : {}),
  });
  if (options.faults) sim.faults.set(options.faults);
  const webhookSecret = generateWebhookSecret();
  const rejectedWebhooks: RejectedWebhook[] = [];
  const receiver = await startWebhookReceiver({
    secret: webhookSecret,
    onRejected: (rejection) => rejectedWebhooks.push(rejection),
  });
  const logs: string[] = [];
  const line = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    logs.push(JSON.stringify({ level, message, ...extra }));
  };
  const cloudCalls: RequestLogEntry[] = [];
  const random = seededRandom(seed + 100);
  const runtime = await startLocalRuntime({
    database: ":memory:",
    cloudConfig: simulatorCloudConfig(sim.url),
    targets: targetsFor(receiver.url, options.targets),
    clock,
    env: { SDRS_WEBHOOK_SECRET: webhookSecret },
    notifySchedule: [1, 5, 30],
    logger: { debug: line("DEBUG"), info: line("INFO"), warn: line("WARN"), error: line("ERROR") },
    cloudClient: { sleep: async () => {}, logger: (entry) => cloudCalls.push(entry) },
    random: () => random.next(),
    ...options.runtime,
  });
  return {
    clock,
    sim,
    receiver,
    runtime,
    webhookSecret,
    logs,
    cloudCalls,
    rejectedWebhooks,
    async tagEvents(servers, idPrefix = "evt") {
      for (const server of servers)
        await runtime.inventoryEvent(tagsChangedEvent(`${idPrefix}-${server.id}`, server, clock.now()));
    },
    serverEvents() {
      const byServer = new Map<string, NotificationEvent[]>();
      for (const { event } of receiver.events()) {
        if (!event.type.startsWith("server.") || event.type.startsWith("server.coverage_")) continue;
        const id = (event.data as { serverId: string }).serverId;
        byServer.set(id, [...(byServer.get(id) ?? []), event]);
      }
      return byServer;
    },
    async close() {
      await runtime.close();
      await receiver.close();
      await sim.close();
    },
  };
}

/** One line per server: "name outcome detail", the shape the outcome tables in the tests use. */
export function outcomeOf(event: NotificationEvent): string {
  switch (event.type) {
    case "server.protected":
      return "protected";
    case "server.protection_failed":
      return `failed ${event.data.errorCode ?? ""}`.trim();
    case "server.ineligible":
      return `ineligible ${event.data.reasons.map((reason) => reason.code).join(",")}`;
    case "server.protection_unknown":
      return "unknown";
    default:
      return event.type;
  }
}

/** Secrets that must never appear in a log line or a notification. */
export function secretsOf(harness: Pick<Harness, "webhookSecret">): string[] {
  return [
    SIMULATOR_DEFAULTS.secretKey,
    SIMULATOR_DEFAULTS.password,
    harness.webhookSecret,
    harness.webhookSecret.slice("whsec_".length),
  ];
}

/** The bearer token of harnesses that serve the onboarding API (`runtime: { apiPort: 0, apiToken: API_TOKEN }`). */
export const API_TOKEN = "local-test-token-0123456789";

export interface ApiCallOptions {
  body?: unknown;
  /** null: no Authorization header; default API_TOKEN. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** One HTTP call to the runtime's onboarding API on 127.0.0.1. */
export async function callApi(
  harness: Pick<Harness, "runtime">,
  method: string,
  path: string,
  options: ApiCallOptions = {},
) {
  const base = harness.runtime.api?.url;
  if (base === undefined) throw new Error("the runtime serves no API");
  const token = options.token === undefined ? API_TOKEN : options.token;
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...options.headers,
    },
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

/** GET /onboarding-requests/{id}, as the API answers it. */
export async function requestStatus(harness: Pick<Harness, "runtime">, requestId: string) {
  const status = await callApi(harness, "GET", `/onboarding-requests/${requestId}`);
  return status.json as {
    counts: Record<string, number>;
    completedAt?: string;
    servers: {
      serverId: string;
      state: string;
      protectedInstanceId?: string;
      reasons: { code: string; message: string }[];
    }[];
  };
}
