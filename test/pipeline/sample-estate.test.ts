/**
 * The sample estate end to end: a "tags changed" event for every server carrying sdrs_protect, through the
 * local runtime (sqlite queue + store), against the simulator, to verified webhooks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, outcomeOf, PG_DB, PG_WEB, secretsOf, serverId, serverName, startHarness, taggedServers, twiceSender } from "./harness.ts";

/** What each tagged server ends as: the specification of the sample estate's run. */
const EXPECTED: Record<string, string> = {
  // Eligible: protected by our batch / single creates.
  "web-01": "protected",
  "web-02": "protected",
  "web-03": "protected",
  "web-04": "protected",
  "web-05": "protected",
  "api-01": "protected",
  "api-gw-01": "protected",
  "win-app-01": "protected",
  "file-a-1": "protected",
  "file-a-2": "protected",
  "cache-b-1": "protected",
  "cache-b-2": "protected",
  "shop-as-01": "protected",
  "finance-01": "protected",
  "ha-node-01": "protected",
  "db-01": "protected",
  "db-02": "protected",
  "db-reporting-01": "protected",
  "ora-c-1": "protected",
  "ora-c-2": "protected",
  "ora-c-3": "protected",
  // Already a protected instance of the tagged group: adopted, not created again.
  "billing-db-01": "protected",
  "legacy-01": "protected",
  // Ineligible, with the planner's reason codes.
  "analytics-01": "ineligible INELIGIBLE_TARGET_UNKNOWN",
  "hpc-d-1": "ineligible INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
  "hpc-d-2": "ineligible INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
  "hpc-d-3": "ineligible INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
  "hpc-d-4": "ineligible INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
  "hpc-d-5": "ineligible INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
  "hpc-d-6": "ineligible INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
  "nfs-e-1": "ineligible INELIGIBLE_SHARED_DISK_PEER_MISSING",
  "dev-web-01": "ineligible INELIGIBLE_VPC_MISMATCH",
  "web-az2-01": "ineligible INELIGIBLE_AZ_MISMATCH",
  "db-az1-01": "ineligible INELIGIBLE_AZ_MISMATCH",
  "broken-01": "ineligible INELIGIBLE_SERVER_STATUS",
  "provisioning-01": "ineligible DEFERRED_SERVER_BUSY,INELIGIBLE_STILL_DEFERRED",
  "suspended-01": "ineligible INELIGIBLE_SERVER_STATUS",
  "arrears-01": "ineligible INELIGIBLE_SERVER_FROZEN",
  "locked-01": "ineligible INELIGIBLE_SERVER_LOCKED",
  "order-locked-01": "ineligible INELIGIBLE_SERVER_LOCKED",
  "ml-gpu-01": "ineligible INELIGIBLE_FLAVOR_UNSUPPORTED",
  "fpga-01": "ineligible INELIGIBLE_FLAVOR_UNSUPPORTED",
  "compute-c6-01": "ineligible INELIGIBLE_FLAVOR_UNSUPPORTED",
  "arm-01": "ineligible INELIGIBLE_FLAVOR_UNSUPPORTED",
  "sap-hana-01": "ineligible INELIGIBLE_FLAVOR_UNSUPPORTED",
  "hadoop-01": "ineligible INELIGIBLE_FLAVOR_UNSUPPORTED",
  "vault-01": "ineligible INELIGIBLE_DISK_ENCRYPTED",
  "archive-01": "ineligible INELIGIBLE_DISK_FROZEN",
  "scratch-01": "ineligible INELIGIBLE_NO_SYSTEM_DISK",
  "win-legacy-01": "ineligible INELIGIBLE_KEYPAIR_MISSING",
  "licensed-01": "ineligible INELIGIBLE_DEDICATED_HOST",
  // The group is full (maxInstances 1): SDRS refuses the create call.
  "legacy-02": "failed SDRS.1358",
  // A protected instance someone else is creating that never finishes (no job in the simulator): unknown at the timeout.
  "crm-db-01": "unknown",
};

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
    webhookIds: harness.receiver.events().map((received) => received.webhookId).sort(),
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
    expect(harness.runtime.deadNotifications()).toEqual([]);
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
    const jobs = harness.sim.state.jobs().filter((job) => job.job_type.startsWith("batchCreate"));
    const batches = jobs.map((job) => (job.entities?.sub_jobs ?? []).map((sub) => serverName(sub.entities?.server_id ?? "")));
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(5);
    for (const cluster of SHARED_DISK_CLUSTERS) {
      expect(batches.filter((batch) => cluster.some((name) => batch.includes(name))).map((batch) => cluster.filter((name) => batch.includes(name)))).toEqual([
        cluster,
      ]);
    }
    // 14 `web` servers in 5 + 5 + 4, the 5 `db` servers in one call; the two group-id targets and the full group singly.
    expect(batches.map((batch) => batch.length).sort()).toEqual([4, 5, 5, 5]);
    expect(single.counts.batchCreateProtectedInstances).toBe(4);
    expect(single.counts.createProtectedInstance).toBe(3);
  });

  it("records each protected server's instance in its target's group", () => {
    const groupOf = new Map(harness.sim.state.protectedInstances().map((instance) => [serverName(instance.source_server), instance.server_group_id]));
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

  it("reports the figures of the run", () => {
    // Not a check: the numbers the README quotes, printed for the record.
    const tally = (prefix: string) => Object.values(single.outcomes).filter((outcome) => outcome.startsWith(prefix)).length;
    const jobs = harness.sim.state.jobs().filter((job) => job.job_type.includes("ProtectedInstance"));
    console.info(
      JSON.stringify({
        tagged: taggedServers.length,
        protected: tally("protected"),
        ineligible: tally("ineligible"),
        failed: tally("failed"),
        unknown: tally("unknown"),
        createCalls: (single.counts.batchCreateProtectedInstances ?? 0) + (single.counts.createProtectedInstance ?? 0),
        serversInCreateCalls: jobs.reduce((sum, job) => sum + Math.max(1, job.entities?.sub_jobs?.length ?? 0), 0),
        jobStatusCalls: single.counts.showJob,
        jobs: jobs.length,
        cloudRequests: Object.values(single.counts).reduce((sum, count) => sum + count, 0),
      }),
    );
    expect(serverId("web-01")).toBeDefined();
  });
});
