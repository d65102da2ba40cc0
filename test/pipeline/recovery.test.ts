/**
 * A worker that dies halfway (a Lambda timeout, a killed process) leaves records in flight with no
 * message on its way; the scheduled reconcile recovers them without ever creating twice.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_PIPELINE_SETTINGS } from "../../lib/pipeline/deps.ts";
import { acceptOnboardingRequest } from "../../lib/pipeline/intake.ts";
import { protectIntent } from "../../lib/pipeline/messages.ts";
import { recoverStalledServers, recoveryAfterDeadRun, recoveryFor } from "../../lib/pipeline/recovery.ts";
import type { ServerRecord } from "../../lib/state/records.ts";
import { type Harness, PG_WEB, serverId, startHarness } from "./harness.ts";

const NOW = Date.UTC(2026, 0, 2);
const deps = { settings: DEFAULT_PIPELINE_SETTINGS };

function record(status: ServerRecord["status"], ageSeconds: number, extra: Partial<ServerRecord> = {}): ServerRecord {
  const at = new Date(NOW - ageSeconds * 1000).toISOString();
  return {
    serverId: "s1",
    target: "web",
    status,
    requestIds: [],
    reasons: [],
    warnings: [],
    attempts: 1,
    createdAt: at,
    updatedAt: at,
    ...extra,
  };
}

describe("which stalled record gets which step", () => {
  it.each([
    ["claimed", 60, {}, undefined],
    ["claimed", 1000, {}, "intent"],
    ["creating", 1000, { groupId: "g" }, "ambiguous-check"],
    ["ambiguous", 1000, { groupId: "g" }, "ambiguous-check"],
    ["ambiguous", 100, { groupId: "g" }, undefined],
    ["in_progress", 1000, { groupId: "g", jobId: "j" }, undefined],
    ["in_progress", 3600 + 901, { groupId: "g", jobId: "j" }, "job-check"],
    ["pending", 3601, {}, "intent"],
    ["protected", 999_999, {}, undefined],
    ["failed", 999_999, {}, undefined],
  ] as const)("%s for %i s → %s", (status, age, extra, expected) => {
    expect(recoveryFor(record(status, age, extra), NOW, deps)).toBe(expected);
  });
});

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const WEB = ["web-01", "web-02"].map(serverId);

async function simulateDeadWorker(current: Harness, status: "claimed" | "creating"): Promise<void> {
  const { repos } = current.runtime;
  for (const id of WEB) {
    const claim = await repos.servers.claim(id, { target: "web", requestId: "auto:event", groupId: PG_WEB });
    expect(claim.won).toBe(true);
    if (status === "creating")
      await repos.servers.update(id, (server) => ({ ...server, status: "creating", attempts: 1 }));
  }
  if (status === "creating") {
    // The create reached SDRS; the worker died before recording the job or scheduling a check.
    await current.runtime.deps.cloud.batchCreateProtectedInstances({
      name_prefix: "web",
      server_group_id: PG_WEB,
      servers: WEB.map((server_id) => ({ server_id })),
    });
  }
  current.clock.advance((DEFAULT_PIPELINE_SETTINGS.staleClaimSeconds + 60) * 1000);
}

function instancesOf(current: Harness): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const instance of current.sim.state.protectedInstances())
    counts[instance.source_server] = (counts[instance.source_server] ?? 0) + 1;
  return counts;
}

/** Reconcile also protects the rest of the tagged sample estate; these two were created exactly once. */
async function expectCreatedOnce(current: Harness): Promise<void> {
  for (const id of WEB) {
    expect(instancesOf(current)[id]).toBe(1);
    expect((await current.runtime.repos.servers.get(id))?.record.attempts).toBe(1);
  }
  expect(current.cloudCalls.filter((call) => call.errorCode === "SDRS.1305")).toEqual([]);
}

describe("reconcile recovers servers whose worker died", () => {
  it("after the create call (records left `creating`): finds the instances in the group and settles them protected, with no second create", async () => {
    harness = await startHarness();
    await simulateDeadWorker(harness, "creating");
    const result = await harness.runtime.reconcile();
    expect(result.recovered["ambiguous-check"]).toBe(2);
    expect((await harness.runtime.runUntilIdle({ maxIterations: 2_000 })).ended).toBe("idle");
    for (const id of WEB) expect((await harness.runtime.repos.servers.get(id))?.record.status).toBe("protected");
    await expectCreatedOnce(harness);
  });

  it("before the create call (records left `claimed`): queues them again and protects each exactly once", async () => {
    harness = await startHarness();
    await simulateDeadWorker(harness, "claimed");
    const result = await harness.runtime.reconcile();
    expect(result.recovered.intent).toBe(2);
    expect((await harness.runtime.runUntilIdle({ maxIterations: 2_000 })).ended).toBe("idle");
    for (const id of WEB) expect((await harness.runtime.repos.servers.get(id))?.record.status).toBe("protected");
    await expectCreatedOnce(harness);
  });
});

/** A worker took the request's intents off the queue and claimed its servers, then died before any create call. */
async function requestLeftClaimed(current: Harness, source: "api" | "cli"): Promise<string> {
  const { requestId } = await acceptOnboardingRequest(
    { target: "web", servers: [{ serverId: serverId("web-01"), flavorRef: "s6.xlarge.2" }, serverId("web-02")] },
    { idempotencyKey: `dead-worker-${source}`, source },
    current.runtime.deps,
  );
  const { queue, repos } = current.runtime;
  const taken = await queue.receive("onboarding", { maxMessages: 10, visibilityTimeoutSeconds: 30 });
  await queue.deleteBatch(
    "onboarding",
    taken.map((message) => message.receiptHandle),
  );
  for (const id of WEB)
    expect((await repos.servers.claim(id, { target: "web", requestId, groupId: PG_WEB })).won).toBe(true);
  current.clock.advance((DEFAULT_PIPELINE_SETTINGS.staleClaimSeconds + 60) * 1000);
  return requestId;
}

function queuedIntents(current: Harness) {
  return current.runtime.queue.liveBodies("onboarding").map((body) => protectIntent.parse(JSON.parse(body)));
}

describe("a recovered server of an onboarding request gets the request's own intent again", () => {
  it.each(["cli", "api"] as const)(
    "reconcile re-queues the stale claims of a %s request with that source and the server's flavorRef",
    async (source) => {
      harness = await startHarness();
      const requestId = await requestLeftClaimed(harness, source);
      const result = await recoverStalledServers(harness.runtime.deps);
      expect(result.recovered.intent).toBe(2);
      expect(queuedIntents(harness)).toEqual([
        {
          type: "protect",
          serverId: serverId("web-01"),
          target: "web",
          requestId,
          source,
          flavorRef: "s6.xlarge.2",
          deferrals: 0,
        },
        { type: "protect", serverId: serverId("web-02"), target: "web", requestId, source, deferrals: 0 },
      ]);
    },
  );

  it("after a dead run (the CLI resuming its state): gives back the claims, then protects each server exactly once", async () => {
    harness = await startHarness();
    const requestId = await requestLeftClaimed(harness, "cli");
    const result = await recoverStalledServers(harness.runtime.deps, {
      stalled: recoveryAfterDeadRun,
      releaseClaims: true,
    });
    expect(result.serverIds).toEqual(WEB);
    for (const id of WEB)
      expect((await harness.runtime.repos.servers.get(id))?.record).toMatchObject({ status: "pending", attempts: 0 });
    expect(queuedIntents(harness).map((intent) => [intent.serverId, intent.source, intent.requestId])).toEqual(
      WEB.map((id) => [id, "cli", requestId]),
    );
    expect((await harness.runtime.runUntilIdle({ maxIterations: 2_000 })).ended).toBe("idle");
    for (const id of WEB) expect((await harness.runtime.repos.servers.get(id))?.record.status).toBe("protected");
    await expectCreatedOnce(harness);
  });
});
