/**
 * The pipeline's metrics (lib/metrics.ts) on the local runtime against the simulator: what it counts
 * matches what happened (outcomes, reason codes, create calls, jobs, throttles, webhooks, dead letters,
 * coverage), and the same points published as EMF (Powertools Metrics, as in Lambda) parse back to
 * exactly the figures the local report shows.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { type MetricPoint, MetricsCollector, summarize } from "../../lib/metrics.ts";
import { METRICS_NAMESPACE, publishMetricPoints } from "../../lib/runtime/emf.ts";
import { emfPoints } from "../functions/emf.ts";
import { type Harness, startHarness, taggedServers } from "./harness.ts";

let harness: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await harness?.close();
  harness = undefined;
});

/** The EMF lines Powertools prints for `points`, captured from stdout. */
function emfLinesOf(points: readonly MetricPoint[], functionName: string): unknown[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(
      ...String(chunk)
        .split("\n")
        .filter((line) => line.trim() !== ""),
    );
    return true;
  });
  publishMetricPoints(points, functionName);
  vi.restoreAllMocks();
  return lines.map((line) => JSON.parse(line));
}

describe("the pipeline's metrics", () => {
  it("sums counters and keeps every observation, per set of dimensions", () => {
    const metrics = new MetricsCollector();
    metrics.count("ServersIneligible", { target: "web", reason: "INELIGIBLE_VPC_MISMATCH" });
    metrics.count("ServersIneligible", { target: "web", reason: "INELIGIBLE_VPC_MISMATCH" });
    metrics.count("ServersIneligible", { target: "db", reason: "INELIGIBLE_SERVER_LOCKED" });
    metrics.observe("ServersPerCall", 5, { target: "web", kind: "batch" });
    metrics.observe("ServersPerCall", 2, { target: "web", kind: "batch" });
    metrics.count("CreateCalls", { target: "web", kind: "batch" }, 2);
    expect(metrics.points()).toEqual([
      {
        name: "ServersIneligible",
        unit: "Count",
        dimensions: { target: "web", reason: "INELIGIBLE_VPC_MISMATCH" },
        values: [2],
      },
      {
        name: "ServersIneligible",
        unit: "Count",
        dimensions: { target: "db", reason: "INELIGIBLE_SERVER_LOCKED" },
        values: [1],
      },
      { name: "ServersPerCall", unit: "Count", dimensions: { target: "web", kind: "batch" }, values: [5, 2] },
      { name: "CreateCalls", unit: "Count", dimensions: { target: "web", kind: "batch" }, values: [2] },
    ]);
    expect(metrics.totals()).toEqual({
      ServersIneligible: {
        unit: "Count",
        count: 3,
        sum: 3,
        min: 1,
        max: 2,
        by: {
          "target:web": 2,
          "target:db": 1,
          "reason:INELIGIBLE_VPC_MISMATCH": 2,
          "reason:INELIGIBLE_SERVER_LOCKED": 1,
        },
      },
      ServersPerCall: { unit: "Count", count: 2, sum: 7, min: 2, max: 5, by: { "target:web": 7, "kind:batch": 7 } },
      CreateCalls: { unit: "Count", count: 2, sum: 2, min: 2, max: 2, by: { "target:web": 2, "kind:batch": 2 } },
    });
    expect(metrics.drain()).toHaveLength(4);
    expect(metrics.points()).toEqual([]);
  });

  it("counts a local run as it happened, and its EMF lines parse back to the figures of its report", async () => {
    harness = await startHarness({ faults: { throttle: { next: 2, operations: ["listServersDetails"] } } });
    const { runtime, sim } = harness;
    await harness.tagEvents(taggedServers);
    await runtime.reconcile();
    expect((await runtime.runUntilIdle()).ended).toBe("idle");
    await runtime.reconcile();
    const totals = runtime.metrics.totals();

    const records: { status: string; reasons: { code: string }[]; target: string }[] = [];
    for await (const { record } of runtime.repos.servers.all()) records.push(record);
    // One count per outcome notified.
    const notified = (type: string) =>
      harness?.receiver.events().filter(({ event }) => event.type === type).length ?? 0;
    expect(totals.ServersProtected?.count).toBe(notified("server.protected"));
    expect(totals.ServersProtected?.count).toBe(records.filter((record) => record.status === "protected").length);
    expect(totals.ServersIneligible?.count).toBe(notified("server.ineligible"));
    // legacy-02 fails (SDRS.1358, its group is full) in two rounds: the metric counts each round's outcome, while both
    // notifications carry the one id of that final outcome, so the receiver keeps one (docs/delivery-guarantees.md).
    expect(totals.ServersFailed?.count ?? 0).toBe(2);
    expect(notified("server.protection_failed")).toBe(1);
    expect(totals.ServersUnknown?.count ?? 0).toBe(notified("server.protection_unknown"));
    const reasons: Record<string, number> = {};
    for (const record of records.filter((candidate) => candidate.status === "ineligible")) {
      reasons[`reason:${record.reasons[0]?.code}`] = (reasons[`reason:${record.reasons[0]?.code}`] ?? 0) + 1;
    }
    expect(
      Object.fromEntries(
        Object.entries(totals.ServersIneligible?.by ?? {}).filter(([key]) => key.startsWith("reason:")),
      ),
    ).toEqual(reasons);

    const counts = sim.counts();
    expect(totals.CreateCalls?.by).toMatchObject({
      "kind:batch": counts.batchCreateProtectedInstances ?? 0,
      "kind:single": counts.createProtectedInstance ?? 0,
    });
    expect(totals.ServersPerCall?.count).toBe(totals.CreateCalls?.count);
    // The two throttled list calls are Throttles; every failed attempt is a CloudErrors by its code (SDRS.1358 …).
    expect(totals.Throttles?.count).toBe(2);
    const errors: Record<string, number> = {};
    for (const call of harness.cloudCalls)
      if (call.errorCode) errors[`code:${call.errorCode}`] = (errors[`code:${call.errorCode}`] ?? 0) + 1;
    expect(errors["code:APIGW.0308"]).toBe(2);
    expect(totals.CloudErrors?.by).toEqual(errors);
    // Deliveries are HTTP deliveries: legacy-02's second round re-sent its one event id, which the receiver keeps once.
    expect(totals.WebhookDeliveries?.count).toBe(harness.receiver.events().length + 1);
    // Reconcile ran twice: tagged and protected per target, and their ratio.
    const web = records.filter((record) => record.target === "web");
    const taggedWeb = taggedServers.filter((server) => server.tags?.sdrs_protect === "web").length;
    const coverage = runtime.metrics
      .points()
      .filter((point) => point.name === "CoverageRatio" && point.dimensions.target === "web");
    expect(coverage).toHaveLength(1);
    expect(coverage[0]?.values.at(-1)).toBeCloseTo(
      web.filter((record) => record.status === "protected").length / taggedWeb,
      10,
    );

    const documents = emfLinesOf(runtime.metrics.points(), "sdrs-autoprotect-local");
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents)
      expect(document).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE }] },
        function: "sdrs-autoprotect-local",
      });
    expect(summarize(emfPoints(documents, METRICS_NAMESPACE))).toEqual(totals);
  });
});
