/** The benchmark suite's pure parts: request tallies, summaries, the polling model, estates, options, report. */
import { readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ratioOf, summarizeNaive, summarizeOurs, tallyRequests } from "../api-calls.ts";
import { PG_WEB, PROTECT_TAG, sampleEstate, scaledEstate } from "../estates.ts";
import type { NaiveRunResult } from "../naive.ts";
import { BenchUsageError, parseBenchOptions } from "../options.ts";
import type { PipelineRunResult } from "../pipeline-run.ts";
import { adaptive, comparePolling, fixedInterval, pollJob, simulatorDurations } from "../polling.ts";
import { renderReport } from "../report.ts";
import { benchResults } from "../results.ts";

/** Jitter factor exactly 1 in lib/pipeline/schedule.ts (1 + (0.5 × 0.2 − 0.1)). */
const noJitter = { next: () => 0.5 };

describe("tallyRequests", () => {
  it("splits the simulator's counts into creates, job-status calls and reads", () => {
    expect(
      tallyRequests({
        showServerTags: 53,
        createProtectedInstance: 3,
        showJob: 26,
        batchCreateProtectedInstances: 4,
        listVolumes: 19,
      }),
    ).toEqual({
      createCalls: 7,
      jobStatusCalls: 26,
      readCalls: 72,
      totalRequests: 105,
      byOperation: {
        batchCreateProtectedInstances: 4,
        createProtectedInstance: 3,
        listVolumes: 19,
        showJob: 26,
        showServerTags: 53,
      },
    });
  });

  it("counts group creates and group actions as create calls", () => {
    expect(tallyRequests({ createProtectionGroup: 1, protectionGroupAction: 2 }).createCalls).toBe(3);
  });
});

describe("ratioOf", () => {
  it("divides ours by naive, and gives null where naive made no call", () => {
    expect(ratioOf(7, 52)).toBeCloseTo(0.1346, 4);
    expect(ratioOf(3, 0)).toBeNull();
  });
});

describe("summarizeNaive", () => {
  it("counts late refusals by code, timeouts as unresolved and group-less tags as not attempted", () => {
    const run: NaiveRunResult = {
      outcomes: {
        a: { kind: "protected", jobId: "j-a", protectedInstanceId: "pi-a" },
        b: { kind: "protected", jobId: "j-b", protectedInstanceId: "pi-b" },
        c: { kind: "refused", errorCode: "SDRS.1408" },
        d: { kind: "jobFailed", jobId: "j-d", errorCode: "SDRS.1802" },
        e: { kind: "timedOut", jobId: "j-e" },
        f: { kind: "notAttempted" },
      },
      requests: { createProtectedInstance: 5, showJob: 30, showProtectedInstance: 2 },
      lastProtectedAtMs: 70_000,
      virtualMs: 610_000,
      wallMs: 12,
    };
    expect(summarizeNaive(run)).toMatchObject({
      approach: "naive",
      jobs: 4,
      serversProtected: 2,
      serversAlreadyProtected: 0,
      serversRefusedLate: 2,
      serversRefusedBeforeAnyCall: 0,
      serversUnknown: 1,
      serversNotAttempted: 1,
      lateRefusalCodes: { "SDRS.1408": 1, "SDRS.1802": 1 },
      requestsPerProtectedServer: 18.5,
      simulatedSecondsToLastProtected: 70,
      simulatedSecondsToEnd: 610,
    });
  });
});

describe("summarizeOurs", () => {
  it("tells new instances from adopted ones and ineligible verdicts from late refusals", () => {
    const run: PipelineRunResult = {
      servers: {
        a: { status: "protected", adopted: false },
        b: { status: "protected", adopted: true },
        c: { status: "failed", adopted: false, errorCode: "SDRS.1358" },
        d: { status: "ineligible", adopted: false },
        e: { status: "unknown", adopted: false },
      },
      requests: { batchCreateProtectedInstances: 1, createProtectedInstance: 1, showJob: 3, listProtectedInstances: 2 },
      jobChecks: { jobs: 1, checks: 3, meanDetectionDelaySeconds: 12 },
      notifications: 5,
      lastProtectedAtMs: 200_000,
      summary: {
        ended: "idle",
        iterations: 9,
        processed: { onboarding: 5, "job-status": 3, notify: 5 },
        failed: 0,
        virtualMs: 3_700_000,
        wallMs: 40,
      },
      wallMs: 40,
      warnings: 0,
    };
    expect(summarizeOurs(run)).toMatchObject({
      approach: "ours",
      jobs: 1,
      serversProtected: 1,
      serversAlreadyProtected: 1,
      serversRefusedLate: 1,
      serversRefusedBeforeAnyCall: 1,
      serversUnknown: 1,
      lateRefusalCodes: { "SDRS.1358": 1 },
      requestsPerProtectedServer: 3.5,
      simulatedSecondsToEnd: 3700,
    });
  });
});

describe("the polling model", () => {
  it("checks every 5 s from submission until a check falls at or after the job's end", () => {
    expect(pollJob(fixedInterval("5 s", 5, 5, ""), 12_000, [], noJitter)).toEqual({
      durationMs: 12_000,
      checks: 3,
      detectionDelayMs: 3_000,
    });
  });

  it("follows Terraform's cadence: 5 s after submission, then every 10 s", () => {
    expect(pollJob(fixedInterval("tf", 5, 10, ""), 12_000, [], noJitter)).toEqual({
      durationMs: 12_000,
      checks: 2,
      detectionDelayMs: 3_000,
    });
  });

  it("checks first at the learned durations' low quantile (5 %: the shortest of these), then backs off 15 s, 23 s, … (schedule.ts)", () => {
    // 90 s, 105 s.
    expect(pollJob(adaptive("single", true), 100_000, [90_000, 100_000, 110_000], noJitter)).toEqual({
      durationMs: 100_000,
      checks: 2,
      detectionDelayMs: 5_000,
    });
    // 100 s, 115 s, 138 s.
    expect(pollJob(adaptive("single", true), 120_000, [100_000], noJitter)).toEqual({
      durationMs: 120_000,
      checks: 3,
      detectionDelayMs: 18_000,
    });
  });

  it("checks first at the kind's default while nothing is learned (single: 60 s)", () => {
    // 60 s, 75 s, 98 s, 132 s.
    expect(pollJob(adaptive("single", false), 120_000, [100_000], noJitter)).toEqual({
      durationMs: 120_000,
      checks: 4,
      detectionDelayMs: 12_000,
    });
  });

  it("never notices a job before its end, nor later than one fixed interval after it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        (durationMs, first, interval) => {
          const job = pollJob(fixedInterval("fixed", first, interval, ""), durationMs, [], noJitter);
          const expectedChecks =
            durationMs <= first * 1000 ? 1 : Math.ceil((durationMs - first * 1000) / (interval * 1000)) + 1;
          expect(job.checks).toBe(expectedChecks);
          expect(job.detectionDelayMs).toBeGreaterThanOrEqual(0);
          expect(job.detectionDelayMs).toBeLessThan(Math.max(first, interval) * 1000);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("draws durations in the simulator's ranges (single 60–180 s, batch 90–300 s), the same for a seed", () => {
    const single = simulatorDurations("single", 500, 3);
    const batch = simulatorDurations("batch", 500, 3);
    expect(Math.min(...single)).toBeGreaterThanOrEqual(60_000);
    expect(Math.max(...single)).toBeLessThanOrEqual(180_000);
    expect(Math.min(...batch)).toBeGreaterThanOrEqual(90_000);
    expect(Math.max(...batch)).toBeLessThanOrEqual(300_000);
    expect(simulatorDurations("single", 500, 3)).toEqual(single);
  });

  it("compares four strategies on the same jobs, relative to the Terraform cadence", () => {
    const rows = comparePolling("batch", simulatorDurations("batch", 200, 5), 5);
    expect(rows.map((row) => row.strategy)).toEqual([
      "ours (adaptive, learned)",
      "ours (adaptive, cold)",
      "every 10 s (Terraform)",
      "every 5 s (naive)",
    ]);
    expect(rows.map((row) => row.jobs)).toEqual([200, 200, 200, 200]);
    expect(rows[2]?.checksVsTerraform).toBe(1);
    const [learned, , terraform, everyFive] = rows;
    expect(learned?.meanChecksPerJob).toBeLessThan(terraform?.meanChecksPerJob ?? 0);
    expect(everyFive?.meanDetectionDelaySeconds).toBeLessThan(terraform?.meanDetectionDelaySeconds ?? 0);
  });
});

describe("scaledEstate", () => {
  const base = sampleEstate();
  const webGroup = base.protectionGroups.find((group) => group.id === PG_WEB);

  it("adds exactly the asked number of clones, with new ids, in pg-web's VPC and production AZ, tagged for web", () => {
    const { estate, cloneIds } = scaledEstate(base, 500);
    expect(cloneIds).toHaveLength(500);
    expect(new Set(cloneIds).size).toBe(500);
    expect(estate.servers).toHaveLength(base.servers.length + 500);
    const baseIds = new Set(base.servers.map((server) => server.id));
    const clones = estate.servers.filter((server) => cloneIds.includes(server.id));
    expect(clones.filter((server) => baseIds.has(server.id))).toEqual([]);
    for (const clone of clones) {
      expect(clone.tags[PROTECT_TAG]).toBe("web");
      expect(clone.vpcId).toBe(webGroup?.vpcId);
      expect(clone.az).toBe(webGroup?.sourceAz);
    }
  });

  it("clones a shared-disk cluster whole: each cloned shared disk is attached to the two clones of one cluster copy", () => {
    const { estate, cloneIds } = scaledEstate(base, 26);
    const shared = new Set(estate.volumes.filter((volume) => volume.multiattach).map((volume) => volume.id));
    const holders = new Map<string, string[]>();
    for (const server of estate.servers.filter((candidate) => cloneIds.includes(candidate.id))) {
      for (const attached of server.volumes)
        if (shared.has(attached.id)) holders.set(attached.id, [...(holders.get(attached.id) ?? []), server.name]);
    }
    expect([...holders.values()].map((names) => names.sort()).sort()).toEqual([
      ["cache-b-1-s1", "cache-b-2-s1"],
      ["cache-b-1-s2", "cache-b-2-s2"],
      ["file-a-1-s1", "file-a-2-s1"],
      ["file-a-1-s2", "file-a-2-s2"],
    ]);
  });

  it("skips a cluster that would overshoot the count and fills up with a lone server", () => {
    const { estate, cloneIds } = scaledEstate(base, 8);
    const names = estate.servers.filter((server) => cloneIds.includes(server.id)).map((server) => server.name);
    expect(names).toEqual([
      "web-01-s1",
      "web-02-s1",
      "web-03-s1",
      "web-04-s1",
      "web-05-s1",
      "api-01-s1",
      "win-app-01-s1",
      "finance-01-s1",
    ]);
  });

  it("draws the same ids for the same seed and others for another", () => {
    expect(scaledEstate(base, 20, 3).cloneIds).toEqual(scaledEstate(base, 20, 3).cloneIds);
    expect(scaledEstate(base, 20, 4).cloneIds).not.toEqual(scaledEstate(base, 20, 3).cloneIds);
  });
});

describe("parseBenchOptions", () => {
  it("defaults to the full suite: seed 11, 500 clones, planner 1,000 and 5,000 servers", () => {
    const options = parseBenchOptions([]);
    expect(options).toMatchObject({
      json: false,
      seed: 11,
      clones: 500,
      scale: [1000, 2000, 5000, 10000],
      only: undefined,
      pollingJobs: 2000,
      plannerSizes: [1000, 5000],
      plannerRuns: 5,
      e2eRuns: 3,
    });
    expect(options.out.endsWith("bench/results/latest.json")).toBe(true);
  });

  it("reads the options and resolves --out against the working directory", () => {
    const options = parseBenchOptions([
      "--json",
      "--clones",
      "50",
      "--planner-sizes",
      "100, 200",
      "--out",
      "tmp/r.json",
    ]);
    expect(options).toMatchObject({ json: true, clones: 50, plannerSizes: [100, 200] });
    // The scale curve alone, at the sizes given.
    expect(parseBenchOptions(["--scale", "1000, 10000"])).toMatchObject({ scale: [1000, 10000], only: ["scale"] });
    expect(parseBenchOptions(["--scale", "2000", "--only", "scale,api-calls"])).toMatchObject({
      only: ["scale", "api-calls"],
    });
    expect(isAbsolute(options.out)).toBe(true);
  });

  it("names the option that is wrong", () => {
    expect(() => parseBenchOptions(["--planner-sizes", "1000,x"])).toThrow(/^--planner-sizes: /);
    expect(() => parseBenchOptions(["--scale", "0"])).toThrow(/^--scale: /);
    expect(() => parseBenchOptions(["--clones", "0"])).toThrow(/^--clones: /);
    expect(() => parseBenchOptions(["--only", "everything"])).toThrow(/^--only: /);
    expect(() => parseBenchOptions(["--fast"])).toThrow(BenchUsageError);
  });
});

describe("the committed sample run (bench/results/sample.json)", () => {
  const sample = benchResults.parse(
    JSON.parse(readFileSync(new URL("../results/sample.json", import.meta.url), "utf8")),
  );

  it("matches the results schema and covers both estates, four polling strategies per kind and two planner sizes", () => {
    expect(sample.apiCalls.map((result) => result.estate)).toEqual(["sample estate", "scaled estate (500 clones)"]);
    expect(sample.polling?.rows).toHaveLength(8);
    expect(sample.planner?.rows.map((row) => row.servers)).toEqual([1000, 5000]);
    expect(sample.endToEnd.every((row) => row.deterministic)).toBe(true);
  });

  it("renders as tables with the machine at the top and the ratios, without colour unless asked", () => {
    const text = renderReport(sample, { color: false });
    const [, machineLine] = text.split("\n");
    expect(machineLine).toContain(`${sample.machine.cores} cores`);
    expect(machineLine).toContain(sample.machine.node);
    const createRatio = sample.apiCalls[0]?.ratios.createCalls;
    expect(text).toContain(`${createRatio?.toFixed(2)}×`);
    for (const heading of ["1. API calls", "2. Job polling economy", "3. Planner throughput", "4. End to end"])
      expect(text).toContain(heading);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
    expect(text).not.toMatch(/\u001b\[/);
  });
});
