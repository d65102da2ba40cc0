/**
 * `npm run bench`: the benchmark suite. Speed and cost are measured here, not asserted in timed tests.
 * Machines are shared and noisy, so the suite reports deterministic counts (requests by operation, checks
 * per job, simulated seconds) wherever it can, and compares ratios measured within one run.
 *
 *   npm run bench                  tables on stdout, progress on stderr, results in bench/results/latest.json
 *   npm run bench -- --json        the results JSON on stdout instead of the tables
 *   npm run bench -- --scale 10000 only the scale curve, at 10,000 servers (both modes)
 *   npm run bench -- --help        every option
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dirname, relative } from "node:path";
import { packageAndMeasureBundles } from "../scripts/check-bundles.ts";
import { type ApiCallsRun, measureApiCalls } from "./api-calls.ts";
import { measureEndToEnd } from "./end-to-end.ts";
import { sampleEstate, scaledEstate, taggedServers } from "./estates.ts";
import { BENCH_USAGE, type BenchOptions, BenchUsageError, parseBenchOptions, runsSuite } from "./options.ts";
import { measurePlanner } from "./planner-throughput.ts";
import { comparePolling, simulatorDurations } from "./polling.ts";
import { renderReport } from "./report.ts";
import { type BenchResults, benchResults, type MachineInfo, type RuntimePollingRow } from "./results.ts";
import { measureScale } from "./scale.ts";

function machine(): MachineInfo {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    totalMemoryGiB: totalmem() / 1024 ** 3,
  };
}

function progress(step: string): void {
  process.stderr.write(`· ${step}\n`);
}

function runtimePolling(label: string, run: ApiCallsRun): RuntimePollingRow[] {
  const { ours, naive } = run.result;
  const perJob = (calls: number, jobs: number) => (jobs === 0 ? 0 : calls / jobs);
  return [
    {
      approach: "ours",
      estate: label,
      jobs: ours.jobs,
      jobStatusCalls: ours.requests.jobStatusCalls,
      checksPerJob: perJob(ours.requests.jobStatusCalls, ours.jobs),
      meanDetectionDelaySeconds: run.ours.jobChecks.meanDetectionDelaySeconds,
    },
    {
      approach: "naive",
      estate: label,
      jobs: naive.jobs,
      jobStatusCalls: naive.requests.jobStatusCalls,
      checksPerJob: perJob(naive.requests.jobStatusCalls, naive.jobs),
    },
  ];
}

async function main(options: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const wallStart = performance.now();
  const base = sampleEstate();
  const sampleTagged = taggedServers(base);
  const scaled = scaledEstate(base, options.clones);
  const scaledTagged = taggedServers(scaled.estate).filter((server) => scaled.cloneIds.includes(server.id));
  const sampleLabel = "sample estate";
  const scaledLabel = `scaled estate (${options.clones} clones)`;

  const apiCalls: BenchResults["apiCalls"] = [];
  const measuredInRuns: RuntimePollingRow[] = [];
  const endToEnd: BenchResults["endToEnd"] = [];
  if (runsSuite(options, "api-calls") || runsSuite(options, "e2e")) {
    progress(`1/5 API calls: ${sampleLabel}`);
    const sampleRun = await measureApiCalls(sampleLabel, base, sampleTagged, options.seed);
    progress(`1/5 API calls: ${scaledLabel}`);
    const scaledRun = await measureApiCalls(scaledLabel, scaled.estate, scaledTagged, options.seed);
    for (const run of [sampleRun, scaledRun]) {
      if (run.ours.summary.ended !== "idle")
        throw new Error(`${run.result.estate}: the pipeline run ended "${run.ours.summary.ended}", not idle`);
    }
    apiCalls.push(sampleRun.result, scaledRun.result);
    measuredInRuns.push(...runtimePolling(sampleLabel, sampleRun), ...runtimePolling(scaledLabel, scaledRun));
    if (runsSuite(options, "e2e")) {
      progress(`4/5 end to end: ${options.e2eRuns} runs per estate`);
      endToEnd.push(
        await measureEndToEnd(
          sampleLabel,
          base,
          sampleTagged.map((server) => server.id),
          options.seed,
          options.e2eRuns,
          sampleRun.ours,
        ),
        await measureEndToEnd(
          scaledLabel,
          scaled.estate,
          scaled.cloneIds,
          options.seed,
          options.e2eRuns,
          scaledRun.ours,
        ),
      );
    }
  }

  let polling: BenchResults["polling"];
  if (runsSuite(options, "polling")) {
    progress("2/5 job polling economy");
    const rows = (["single", "batch"] as const).flatMap((kind, index) =>
      comparePolling(kind, simulatorDurations(kind, options.pollingJobs, options.seed + index), options.seed),
    );
    polling = { jobsPerKind: options.pollingJobs, seed: options.seed, rows, measuredInRuns };
  }

  let planner: BenchResults["planner"];
  if (runsSuite(options, "planner")) {
    progress(`3/5 planner throughput: ${options.plannerSizes.join(", ")} servers`);
    planner = {
      note: "wall time of planProtection on this machine: noisy, compare sizes within one run",
      rows: await measurePlanner(base, options.plannerSizes, options.plannerRuns),
    };
  }

  const scale = runsSuite(options, "scale")
    ? await measureScale({
        sizes: options.scale,
        modes: options.modes,
        seed: options.seed,
        naiveSize: options.naiveSize,
        progress,
      })
    : undefined;

  let bundleRows: Awaited<ReturnType<typeof packageAndMeasureBundles>> | undefined;
  if (runsSuite(options, "bundles")) {
    progress("6/6 Lambda bundles: osls package, then size and import time");
    bundleRows = await packageAndMeasureBundles();
  }

  return benchResults.parse({
    schemaVersion: 1,
    startedAt: started.toISOString(),
    durationMs: performance.now() - wallStart,
    machine: machine(),
    seed: options.seed,
    apiCalls,
    ...(polling ? { polling } : {}),
    ...(planner ? { planner } : {}),
    endToEnd,
    ...(bundleRows
      ? {
          bundles: {
            note: "import time: wall clock and CPU time of one import in a fresh process; the floor row is middy + logger alone",
            rows: bundleRows,
          },
        }
      : {}),
    ...(scale ? { scale } : {}),
  });
}

try {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
  } else {
    const results = await main(options);
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    const shownPath = relative(process.cwd(), options.out) || options.out;
    process.stdout.write(
      options.json
        ? `${JSON.stringify(results, null, 2)}\n`
        : `${renderReport(results, { color: process.stdout.isTTY === true, resultsPath: shownPath })}\n`,
    );
  }
} catch (error) {
  if (error instanceof BenchUsageError) {
    process.stderr.write(`${error.message}\n\n${BENCH_USAGE}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(
      `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
