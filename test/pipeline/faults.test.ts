/**
 * The pipeline under the simulator's faults: ambiguous creates, a failing server in a batch job,
 * throttling, jobs that never finish, and a protect tag naming nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SAMPLE_ESTATE_OUTCOMES } from "./expected.ts";
import {
  type Harness,
  type HarnessOptions,
  outcomeOf,
  serverId,
  serverName,
  startHarness,
  taggedServers,
} from "./harness.ts";

const WEB_TRIO = ["web-01", "web-02", "web-03"].map((name) => ({ id: serverId(name), tags: { sdrs_protect: "web" } }));

let harness: Harness | undefined;

async function run(
  options: HarnessOptions,
  servers: readonly { id: string; tags?: Record<string, string> | undefined }[],
): Promise<Harness> {
  harness = await startHarness(options);
  await harness.tagEvents(servers);
  const summary = await harness.runtime.runUntilIdle({ maxIterations: 3_000 });
  expect(summary.ended).toBe("idle");
  return harness;
}

/** name → the one notified outcome; fails if a server was notified twice. */
function outcomes(current: Harness): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [id, events] of current.serverEvents()) {
    expect(events, serverName(id)).toHaveLength(1);
    const event = events[0];
    if (event) result[serverName(id)] = outcomeOf(event);
  }
  return result;
}

function instancesPerServer(current: Harness): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const instance of current.sim.state.protectedInstances()) {
    const name = serverName(instance.source_server);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("faults", () => {
  it("an ambiguous create (connection dropped after it was applied) never creates a second instance and the servers end protected", async () => {
    const current = await run({ faults: { dropAfterCreate: { next: 1 } } }, WEB_TRIO);
    expect(outcomes(current)).toEqual({ "web-01": "protected", "web-02": "protected", "web-03": "protected" });
    expect(instancesPerServer(current)).toMatchObject({ "web-01": 1, "web-02": 1, "web-03": 1 });
    expect(current.sim.counts().batchCreateProtectedInstances).toBe(1);
    expect(current.cloudCalls.filter((call) => call.errorCode === "SDRS.1305")).toEqual([]);
    const notified = current.receiver
      .events()
      .flatMap((received) => (received.event.type === "server.protected" ? [received.event.data.jobId] : []));
    expect(notified).toEqual(["ambiguous-create", "ambiguous-create", "ambiguous-create"]);
  });

  it("a batch job failing for one server protects the others and reports that one failed with the job's code, once, after its last attempt", async () => {
    const current = await run(
      {
        faults: {
          failJob: {
            serverIds: [serverId("web-02")],
            errorCode: "SDRS.1802",
            failReason: "simulated: encryption key unavailable",
          },
        },
      },
      WEB_TRIO,
    );
    expect(outcomes(current)).toEqual({ "web-01": "protected", "web-02": "failed SDRS.1802", "web-03": "protected" });
    expect(instancesPerServer(current)).toEqual({
      "web-01": 1,
      "web-03": 1,
      "billing-db-01": 1,
      "crm-db-01": 1,
      "legacy-01": 1,
      // The sample estate's coverage drift cases, protected from the start.
      "drift-disk-01": 1,
      "drift-fault-01": 1,
      "drift-invalid-01": 1,
      "drift-grown-01": 1,
      "drift-untagged-01": 1,
      "drift-retagged-01": 1,
      "erp-app-01": 1,
    });
    const failed = current.receiver
      .events()
      .find((received) => received.event.type === "server.protection_failed")?.event;
    expect(failed?.data).toMatchObject({
      serverId: serverId("web-02"),
      errorCode: "SDRS.1802",
      reason: "simulated: encryption key unavailable",
      attempts: 3,
    });
  });

  it("a batch job failing as a whole because of one server retries each server alone: the others end protected, that one failed", async () => {
    const current = await run(
      { faults: { failJob: { serverIds: [serverId("web-02")], wholeBatch: true, errorCode: "SDRS.1350" } } },
      WEB_TRIO,
    );
    expect(outcomes(current)).toEqual({ "web-01": "protected", "web-02": "failed SDRS.1350", "web-03": "protected" });
    // The batch (attempt 1 of each), then each alone (attempt 2); web-02 fails again and makes its third and last.
    expect(current.sim.counts()).toMatchObject({ batchCreateProtectedInstances: 1, createProtectedInstance: 4 });
    const attempts = await current.runtime.repos.servers.getMany(WEB_TRIO.map((server) => server.id));
    expect([...attempts.values()].map((stored) => stored.record.attempts)).toEqual([2, 3, 2]);
  });

  it("under throttling (30 % of requests answered 429) the sample estate ends exactly as without faults, each server notified once", async () => {
    const current = await run({ seed: 5, faults: { throttle: { probability: 0.3 } } }, taggedServers);
    expect(outcomes(current)).toEqual(SAMPLE_ESTATE_OUTCOMES);
    expect(Object.values(instancesPerServer(current)).every((count) => count === 1)).toBe(true);
    expect(current.cloudCalls.filter((call) => call.status === 429).length).toBeGreaterThan(0);
    expect(current.runtime.queue.deadLetters("onboarding")).toEqual([]);
    expect(current.runtime.queue.deadLetters("job-status")).toEqual([]);
    expect(current.rejectedWebhooks).toEqual([]);
  });

  it("a job that never finishes ends `unknown` after the job timeout, notified once", async () => {
    const current = await run(
      { faults: { jobsNeverFinish: true }, runtime: { settings: { schedule: { jobTimeoutSeconds: 600 } } } },
      WEB_TRIO.slice(0, 1),
    );
    expect(outcomes(current)).toEqual({ "web-01": "unknown" });
    const unknown = current.receiver.events()[0]?.event;
    expect(unknown?.type).toBe("server.protection_unknown");
    expect(unknown?.data).toMatchObject({
      serverId: serverId("web-01"),
      target: "web",
      reason: expect.stringMatching(/^job still RUNNING after \d+ s$/),
    });
    const record = await current.runtime.repos.servers.get(serverId("web-01"));
    expect(record?.record.status).toBe("unknown");
    // Checks back off: 10 minutes take a handful of job reads, not one every 10 s.
    expect(current.sim.counts().showJob ?? 0).toBeLessThanOrEqual(12);
  });

  it("a protect tag whose value is neither a target nor a group id makes the server ineligible with INELIGIBLE_TARGET_UNKNOWN", async () => {
    harness = await startHarness();
    harness.sim.setServerTags(serverId("web-01"), { sdrs_protect: "no-such-target" });
    await harness.tagEvents([{ id: serverId("web-01") }]);
    expect((await harness.runtime.runUntilIdle({ maxIterations: 100 })).ended).toBe("idle");
    expect(outcomes(harness)).toEqual({ "web-01": "ineligible INELIGIBLE_TARGET_UNKNOWN" });
    const event = harness.receiver.events()[0]?.event;
    expect(event?.type === "server.ineligible" ? event.data.target : undefined).toBe("no-such-target");
    expect(harness.sim.counts().createProtectedInstance ?? 0).toBe(0);
    expect(harness.sim.counts().batchCreateProtectedInstances ?? 0).toBe(0);
  });
});
