/**
 * A bounded, seeded chaos run of the whole pipeline: the SDRS simulator (throttling, 5xx, creates dropped
 * after being applied, failing jobs) and a verifying webhook receiver (failing some deliveries) in this
 * process; the local runtime in a worker process on a sqlite file, every message sent `copies` times,
 * killed with SIGKILL at random moments and restarted on the same file. At the end the simulator, the
 * state and the receiver are compared:
 *
 * - duplicates: servers with more than one protected instance (must be 0);
 * - lost: requested servers without a final record or without a final notification (0);
 * - multiple final ids: servers told more than one final outcome event id (0);
 * - premature failure notices: servers told `server.protection_failed` that ended protected (0);
 * - attempts: the most create attempts a server's record counts (at most maxAttempts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ManualClock, systemClock } from "../../lib/clock.ts";
import { tagsChangedEvent } from "../../lib/events/inventory.ts";
import { generateWebhookSecret, startWebhookReceiver } from "../../lib/notify/receiver.ts";
import { seededRandom } from "../../lib/sim/random.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { createRepositories } from "../../lib/state/repositories.ts";
import { openDatabase } from "../../lib/state/sqlite-database.ts";
import { SqliteStore } from "../../lib/state/sqlite-store.ts";
import { PG_WEB, sampleEstate, scaledEstate } from "../estates.ts";
import type { ChaosPlan } from "./plan.ts";

export interface ChaosOptions {
  /** Servers, split over two bulk requests and a set protected through tag events. */
  servers: number;
  kills: number;
  seed: number;
  /** Wall ms between a (re)start and its kill: drawn in [min, max]. */
  killAfterMs?: { min: number; max: number };
  /** Overall wall-time bound. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  servers: number;
  requests: number;
  events: number;
  kills: number;
  restarts: number;
  duplicates: number;
  lost: number;
  multipleFinalIds: number;
  prematureFailureNotices: number;
  maxAttempts: number;
  attemptLimit: number;
  outcomes: Record<string, number>;
  faults: {
    throttleProbability: number;
    serverErrorProbability: number;
    receiverFailures: number;
    failingJobServers: number;
    droppedCreates: number;
  };
  wallMs: number;
}

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));
const NODE = process.execPath;
const FINAL_TYPES = new Set([
  "server.protected",
  "server.protection_failed",
  "server.ineligible",
  "server.protection_unknown",
]);

/** The CLI's "ECS Server Tags Changed" event, with an id of the run's own: a restarted worker sends it again as the same event. */
function taggedEvent(id: string, serverId: string, at: number): unknown {
  return tagsChangedEvent({ id, serverId, tags: { sdrs_protect: "web" }, at, region: "eu-de" });
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const random = seededRandom(options.seed);
  const { estate, cloneIds } = scaledEstate(sampleEstate(), options.servers, options.seed);
  const failingJobServers = cloneIds.filter(() => random.next() < 0.05);
  const droppedCreates = Math.max(1, Math.round(options.servers / 160));
  const sim = await startSimulator({
    estate,
    seed: options.seed,
    clock: systemClock,
    jobDurations: {
      createProtectedInstance: { minMs: 100, maxMs: 600 },
      batchCreateProtectedInstances: { minMs: 200, maxMs: 900 },
      createProtectionGroup: { minMs: 100, maxMs: 300 },
      enableProtection: { minMs: 100, maxMs: 300 },
    },
  });
  sim.faults.set({
    throttle: { probability: 0.2 },
    serverError: { probability: 0.04 },
    dropAfterCreate: { next: droppedCreates },
    failJob: { serverIds: failingJobServers, errorCode: "SDRS.1802", failReason: "chaos: job fails" },
  });
  const webhookSecret = generateWebhookSecret();
  const receiverRandom = seededRandom(options.seed + 1);
  let receiverFailures = 0;
  const receiver = await startWebhookReceiver({
    secret: webhookSecret,
    onEvent: () => {
      if (receiverRandom.next() < 0.03) {
        receiverFailures += 1;
        throw new Error("chaos: receiver failing");
      }
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "sdrs-chaos-"));
  try {
    // Two bulk requests over the first two fifths each; the last fifth through tag events (some twice).
    const fifth = Math.floor(cloneIds.length / 5);
    const requestServers = [cloneIds.slice(0, 2 * fifth), cloneIds.slice(2 * fifth, 4 * fifth)];
    const tagged = cloneIds.slice(4 * fifth);
    const now = Date.now();
    const events = tagged.flatMap((serverId, index) => {
      const event = taggedEvent(`chaos-${index}`, serverId, now);
      return random.next() < 0.3 ? [event, event] : [event];
    });
    const plan: ChaosPlan = {
      stateFile: join(dir, "state.sqlite"),
      simulatorUrl: sim.url,
      receiverUrl: receiver.url,
      webhookSecret,
      groupId: PG_WEB,
      maxAttempts: 3,
      copies: 3,
      requests: requestServers.map((serverIds, index) => ({ key: `chaos-${options.seed}-${index}`, serverIds })),
      events,
    };
    const planFile = join(dir, "plan.json");
    writeFileSync(planFile, JSON.stringify(plan));

    const killAfter = options.killAfterMs ?? { min: 800, max: 3000 };
    const deadline = started + (options.timeoutMs ?? 20 * 60_000);
    let kills = 0;
    let restarts = 0;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`chaos run did not finish within ${options.timeoutMs} ms`);
      const child = spawn(NODE, [WORKER, planFile], { stdio: ["ignore", "pipe", "pipe"] });
      // The worker's stderr, passed on and kept (its end), so that a failed worker says why in the error.
      let stderrTail = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        process.stderr.write(chunk);
        stderrTail = (stderrTail + chunk).slice(-4000);
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      let timer: NodeJS.Timeout | undefined;
      if (kills < options.kills) {
        const wait = killAfter.min + random.next() * (killAfter.max - killAfter.min);
        timer = setTimeout(() => {
          if (child.exitCode === null) {
            child.kill("SIGKILL");
            kills += 1;
            log(`kill ${kills} after ${Math.round(wait)} ms`);
          }
        }, wait);
      }
      const code = await exited;
      if (timer) clearTimeout(timer);
      if (code === 0) break;
      if (code !== null)
        throw new Error(
          `chaos worker exited with ${code}${stderrTail === "" ? "" : `; its stderr ended with:\n${stderrTail}`}`,
        );
      restarts += 1;
    }

    // The verdict: the simulator's instances, the state's records, the receiver's events.
    const instances = new Map<string, number>();
    for (const instance of sim.state.protectedInstances())
      instances.set(instance.source_server, (instances.get(instance.source_server) ?? 0) + 1);
    const database = openDatabase(plan.stateFile);
    const repos = createRepositories(new SqliteStore({ database, clock: new ManualClock(Date.now()) }));
    const records = await repos.servers.getMany(cloneIds);
    database.close();
    const finalIds = new Map<string, Set<string>>();
    const toldFailed = new Set<string>();
    for (const { webhookId: id, event } of receiver.events()) {
      if (!FINAL_TYPES.has(event.type)) continue;
      const serverId = (event.data as { serverId: string }).serverId;
      finalIds.set(serverId, (finalIds.get(serverId) ?? new Set()).add(id));
      if (event.type === "server.protection_failed") toldFailed.add(serverId);
    }
    const outcomes: Record<string, number> = {};
    let lost = 0;
    let maxAttempts = 0;
    for (const serverId of cloneIds) {
      const record = records.get(serverId)?.record;
      const status = record?.status ?? "missing";
      outcomes[status] = (outcomes[status] ?? 0) + 1;
      if (
        !record ||
        !["protected", "failed", "ineligible", "unknown"].includes(record.status) ||
        !finalIds.has(serverId)
      )
        lost += 1;
      maxAttempts = Math.max(maxAttempts, record?.attempts ?? 0);
    }
    return {
      servers: cloneIds.length,
      requests: plan.requests.length,
      events: events.length,
      kills,
      restarts,
      duplicates: [...instances.values()].filter((count) => count > 1).length,
      lost,
      multipleFinalIds: [...finalIds.values()].filter((ids) => ids.size > 1).length,
      prematureFailureNotices: [...toldFailed].filter(
        (serverId) => records.get(serverId)?.record.status === "protected" || instances.has(serverId),
      ).length,
      maxAttempts,
      attemptLimit: plan.maxAttempts,
      outcomes,
      faults: {
        throttleProbability: 0.2,
        serverErrorProbability: 0.04,
        receiverFailures,
        failingJobServers: failingJobServers.length,
        droppedCreates,
      },
      wallMs: Date.now() - started,
    };
  } finally {
    await receiver.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
