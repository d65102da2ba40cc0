/**
 * The sample estate end to end: a "tags changed" event for every server carrying sdrs_protect, through the
 * local runtime (sqlite queue + store), against the simulator, to verified webhooks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_ESTATE_OUTCOMES as EXPECTED } from "./expected.ts";
import {
  type Harness,
  outcomeOf,
  PG_DB,
  PG_WEB,
  secretsOf,
  serverName,
  startHarness,
  taggedServers,
  twiceSender,
} from "./harness.ts";

const NOTHING_RECOVERED = { intent: 0, "ambiguous-check": 0, "job-check": 0 };

const SHARED_DISK_CLUSTERS = [
  ["file-a-1", "file-a-2"],
  ["cache-b-1", "cache-b-2"],
  ["ora-c-1", "ora-c-2", "ora-c-3"],
];

interface RunResult {
  outcomes: Record<string, string>;
  webhookIds: string[];
  eventsPerServer: Record<string, number>;
  protectedInstancesPerServer: Record<string, number>;
  counts: Record<string, number>;
}

function snapshot(harness: Harness): RunResult {
  const outcomes: Record<string, string> = {};
  const eventsPerServer: Record<string, number> = {};
  for (const [id, events] of harness.serverEvents()) {
    eventsPerServer[serverName(id)] = events.length;
    const last = events.at(-1);
    if (last) outcomes[serverName(id)] = outcomeOf(last);
  }
  const protectedInstancesPerServer: Record<string, number> = {};
  for (const instance of harness.sim.state.protectedInstances()) {
    const name = serverName(instance.source_server);
    protectedInstancesPerServer[name] = (protectedInstancesPerServer[name] ?? 0) + 1;
  }
  return {
    outcomes,
    webhookIds: harness.receiver
      .events()
      .map((received) => received.webhookId)
      .sort(),
    eventsPerServer,
    protectedInstancesPerServer,
    counts: harness.sim.counts(),
  };
}

describe("the sample estate, one tag event per tagged server", () => {
  let harness: Harness;
  let single: RunResult;

  beforeAll(async () => {
    harness = await startHarness({ seed: 11 });
    await harness.tagEvents(taggedServers);
    const summary = await harness.runtime.runUntilIdle({ maxIterations: 2_000 });
    expect(summary.ended).toBe("idle");
    single = snapshot(harness);
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("ends every tagged server in its expected outcome", () => {
    expect(single.outcomes).toEqual(EXPECTED);
  });

  it("notifies every outcome exactly once, with no webhook rejected", () => {
    expect(Object.values(single.eventsPerServer).every((count) => count === 1)).toBe(true);
    expect(Object.keys(single.eventsPerServer).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(harness.rejectedWebhooks).toEqual([]);
    expect(harness.runtime.queue.deadLetters("notify")).toEqual([]);
  });

  it("leaves exactly one protected instance per protected server and never hits SDRS.1305", () => {
    const protectedNames = Object.entries(EXPECTED)
      .filter(([, outcome]) => outcome === "protected")
      .map(([name]) => name);
    for (const name of protectedNames) expect(single.protectedInstancesPerServer[name], name).toBe(1);
    expect(Object.values(single.protectedInstancesPerServer).every((count) => count === 1)).toBe(true);
    expect(harness.cloudCalls.filter((call) => call.errorCode === "SDRS.1305")).toEqual([]);
  });

  it("batches at most 5 servers per call and puts each shared-disk cluster in one call", () => {
    const jobs = harness.sim.state.jobs().filter((job) => (job.job_type ?? "").startsWith("batchCreate"));
    const batches = jobs.map((job) =>
      (job.entities?.sub_jobs ?? []).map((sub) => serverName(sub.entities?.server_id ?? "")),
    );
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(5);
    for (const cluster of SHARED_DISK_CLUSTERS) {
      expect(
        batches
          .filter((batch) => cluster.some((name) => batch.includes(name)))
          .map((batch) => cluster.filter((name) => batch.includes(name))),
      ).toEqual([cluster]);
    }
    // 14 `web` servers in 5 + 5 + 4, the 5 `db` servers in one call; the two group-id targets and the full group singly.
    expect(batches.map((batch) => batch.length).sort()).toEqual([4, 5, 5, 5]);
    expect(single.counts.batchCreateProtectedInstances).toBe(4);
    expect(single.counts.createProtectedInstance).toBe(3);
  });

  it("records each protected server's instance in its target's group", () => {
    const groupOf = new Map(
      harness.sim.state
        .protectedInstances()
        .map((instance) => [serverName(instance.source_server), instance.server_group_id]),
    );
    expect(groupOf.get("web-01")).toBe(PG_WEB);
    expect(groupOf.get("api-gw-01")).toBe(PG_WEB);
    expect(groupOf.get("ora-c-2")).toBe(PG_DB);
    expect(groupOf.get("db-reporting-01")).toBe(PG_DB);
  });

  it("keeps secrets out of logs and notifications", () => {
    const texts = [...harness.logs, ...harness.receiver.events().map((received) => JSON.stringify(received.event))];
    for (const secret of secretsOf(harness)) {
      expect(texts.filter((text) => text.includes(secret))).toEqual([]);
    }
  });

  it("gives the same outcomes and the same notifications when every message and event is delivered twice", async () => {
    const doubled = await startHarness({ seed: 11, runtime: { wrapSender: twiceSender } });
    try {
      await doubled.tagEvents(taggedServers);
      await doubled.tagEvents(taggedServers); // the same EventBridge ids again
      const summary = await doubled.runtime.runUntilIdle({ maxIterations: 4_000 });
      expect(summary.ended).toBe("idle");
      const twice = snapshot(doubled);
      expect(twice.outcomes).toEqual(single.outcomes);
      expect(twice.webhookIds).toEqual(single.webhookIds);
      expect(twice.protectedInstancesPerServer).toEqual(single.protectedInstancesPerServer);
      expect(twice.counts.batchCreateProtectedInstances).toBe(single.counts.batchCreateProtectedInstances);
      expect(twice.counts.createProtectedInstance).toBe(single.counts.createProtectedInstance);
      expect(doubled.rejectedWebhooks).toEqual([]);
    } finally {
      await doubled.close();
    }
  });

  it("ends the same way from the reconcile sweep alone, and a second sweep enqueues nothing", async () => {
    const swept = await startHarness({ seed: 11 });
    try {
      expect(await swept.runtime.reconcile()).toEqual({
        tagged: taggedServers.length,
        enqueued: taggedServers.length,
        skipped: {},
        recovered: NOTHING_RECOVERED,
        requestsFinished: 0,
        // The sample estate's drift cases (docs/coverage.md): 9 protected servers, 8 with a gap.
        coverage: { servers: 9, gaps: 8, degraded: 8, restored: 0, repairs: [] },
      });
      expect((await swept.runtime.runUntilIdle({ maxIterations: 2_000 })).ended).toBe("idle");
      expect(snapshot(swept).outcomes).toEqual(EXPECTED);
      expect(await swept.runtime.reconcile()).toEqual({
        tagged: taggedServers.length,
        enqueued: 0,
        skipped: { protected: 28, ineligible: 30, failed: 1 },
        recovered: NOTHING_RECOVERED,
        requestsFinished: 0,
        // The 15 servers protected into pg-web (available, enableProtection off) replicate nothing yet: newly degraded.
        coverage: { servers: 30, gaps: 23, degraded: 15, restored: 0, repairs: [] },
      });
    } finally {
      await swept.close();
    }
  });

  it("makes 7 create calls for 22 servers and checks each job at most 5 times", () => {
    const jobs = harness.sim.state.jobs().filter((job) => (job.job_type ?? "").includes("ProtectedInstance"));
    const serversInJobs = jobs.reduce((sum, job) => sum + Math.max(1, job.entities?.sub_jobs?.length ?? 0), 0);
    const createCalls =
      (single.counts.batchCreateProtectedInstances ?? 0) + (single.counts.createProtectedInstance ?? 0);
    // legacy-02's create is refused (SDRS.1358), so 6 jobs carry the other 21 servers.
    expect({ createCalls, jobs: jobs.length, serversInJobs }).toEqual({ createCalls: 7, jobs: 6, serversInJobs: 21 });
    expect(single.counts.showJob ?? 0).toBeLessThanOrEqual(5 * jobs.length);
    const tally = (prefix: string) =>
      Object.values(single.outcomes).filter((outcome) => outcome.startsWith(prefix)).length;
    // The figures the README and docs/cli.md quote.
    console.info(
      JSON.stringify({
        tagged: taggedServers.length,
        protected: tally("protected"),
        ineligible: tally("ineligible"),
        failed: tally("failed"),
        unknown: tally("unknown"),
        createCalls,
        jobStatusCalls: single.counts.showJob,
        cloudRequests: single.counts,
      }),
    );
  });
});
