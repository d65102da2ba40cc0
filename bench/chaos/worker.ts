/**
 * The chaos run's worker process: the local runtime on a sqlite state file, against the simulator and the
 * receiver the parent started. It submits the plan's bulk requests (with Idempotency-Keys) and inventory
 * events, hands back what a killed predecessor left half done, and pumps until every queue is empty. The
 * parent kills it with SIGKILL at random moments and starts it again on the same file.
 *
 *   node lib/chaos/worker.ts <plan.json>
 */
import { readFileSync } from "node:fs";
import { resumeInterruptedWork } from "../../lib/cli/onboard/resume.ts";
import { systemClock } from "../../lib/clock.ts";
import { parseTargetsConfig } from "../../lib/config/targets.ts";
import { acceptOnboardingRequest, getOnboardingRequest } from "../../lib/pipeline/intake.ts";
import type { QueueSender } from "../../lib/queue/queue.ts";
import { startLocalRuntime } from "../../lib/runtime/local.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import type { ChaosPlan } from "./plan.ts";

/** Every message sent `copies` times: at-least-once delivery, exaggerated. */
function copiesSender(inner: QueueSender, copies: number): QueueSender {
  return {
    async send(queue, body, options) {
      for (let copy = 0; copy < copies; copy += 1) await inner.send(queue, body, options);
    },
    async sendBatch(queue, entries) {
      await inner.sendBatch(queue, Array.from({ length: copies }, () => entries).flat());
    },
  };
}

const plan = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as ChaosPlan;
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const runtime = await startLocalRuntime({
  database: plan.stateFile,
  cloudConfig: simulatorCloudConfig(plan.simulatorUrl),
  targets: parseTargetsConfig({
    protectTagKey: "sdrs_protect",
    batchLimit: 5,
    targets: { web: { protectionGroup: { id: plan.groupId } } },
    webhooks: [{ id: "chaos", url: plan.receiverUrl, secret: { env: "CHAOS_WEBHOOK_SECRET" } }],
  }),
  clock: systemClock,
  env: { CHAOS_WEBHOOK_SECRET: plan.webhookSecret },
  notifySchedule: [1, 1, 2, 2, 5, 5, 10, 10],
  maxReceiveCount: 50,
  logger: quiet,
  settings: {
    maxAttempts: plan.maxAttempts,
    ambiguousCheckDelaySeconds: 1,
    ambiguousMaxChecks: 3,
    schedule: {
      defaultFirstCheckSeconds: { single: 1, batch: 1, group: 1, enable: 1 },
      retryBaseSeconds: 1,
      retryMaxSeconds: 2,
      jobTimeoutSeconds: 900,
    },
  },
  // Reads retry in the client (under 20 % throttling and 4 % 5xx), creates never: they back off through the queue.
  cloudClient: { retry: { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50 } },
  wrapSender: (sender) => copiesSender(sender, plan.copies),
});

// 1. What the killed predecessor had received comes back now, not after the visibility timeout.
// 2. The requests (replayed by their keys) and the events (deduplicated by id) are submitted again.
//    Exclusive, as `onboard` holding its state lock: this worker is the only one on the state file, so an
//    acceptance its killed predecessor left halfway is finished now (not refused as "key in use" for 30 s).
for (const request of plan.requests) {
  await acceptOnboardingRequest(
    { target: "web", servers: request.serverIds },
    { idempotencyKey: request.key, source: "cli", exclusive: true },
    runtime.deps,
  );
}
for (const event of plan.events) await runtime.inventoryEvent(event);
// 3. Servers left claimed, creating or without any message get theirs.
for (const request of plan.requests) {
  const owner = await runtime.repos.idempotency.claim(request.key, "none");
  const status = await getOnboardingRequest(owner, runtime.deps);
  if (status) await resumeInterruptedWork(runtime, status);
}
const debug = process.env.CHAOS_DEBUG === "1";
let ticks = 0;
const summary = await runtime.runUntilIdle({
  maxIterations: 1_000_000,
  onTick: () => {
    ticks += 1;
    if (debug && ticks % 50 === 0)
      process.stderr.write(
        `${JSON.stringify(runtime.stats().queues)} ${runtime.queue.liveBodies("onboarding").slice(0, 3).join(" ")}\n`,
      );
  },
});
await runtime.close();
process.stdout.write(`${JSON.stringify({ ended: summary.ended, processed: summary.processed })}\n`);
process.exit(summary.ended === "idle" ? 0 : 1);
