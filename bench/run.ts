/**
 * `npm run bench`: the benchmark suite. Speed and cost are measured here, not asserted in timed tests.
 * Machines are shared and noisy, so the suite reports deterministic counts (requests by operation, checks
 * per job, simulated seconds) wherever it can, and compares ratios measured within one run.
 *
 *   npm run bench                  tables on stdout, progress on stderr, results in bench/results/latest.json
 *   npm run bench -- --json        the results JSON on stdout instead of the tables
 *   npm run bench -- --help        every option
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { type ApiCallsRun, measureApiCalls } from "./api-calls.ts";
import { measureEndToEnd } from "./end-to-end.ts";
import { sampleEstate, scaledEstate, taggedServers } from "./estates.ts";
import { measurePlanner } from "./planner-throughput.ts";
import { comparePolling, simulatorDurations } from "./polling.ts";
import { renderReport } from "./report.ts";
import { type BenchResults, benchResults, type MachineInfo, type RuntimePollingRow } from "./results.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const DEFAULT_OUT = resolve(BENCH_DIR, "results/latest.json");

const USAGE = `Usage: npm run bench -- [options]

  --json                 print the results JSON on stdout instead of the tables
  --out <path>           where to write the results JSON (default bench/results/latest.json)
  --seed <n>             simulator and jitter seed (default 11)
  --scale <n>            servers in the scaled estate (default 500)
  --polling-jobs <n>     simulated jobs per kind in the polling comparison (default 2000)
  --planner-sizes <a,b>  servers per planner input (default 1000,5000)
  --planner-runs <n>     timed planner runs per size; the median is reported (default 5)
  --e2e-runs <n>         end-to-end repeats per estate (default 3)
  --help                 this text`;

const positiveInt = z.coerce.number().int().positive();
const benchOptions = z.strictObject({
  json: z.boolean().default(false),
  out: z.string().min(1).default(DEFAULT_OUT),
  seed: z.coerce.number().int().nonnegative().default(11),
  scale: positiveInt.default(500),
  pollingJobs: positiveInt.default(2000),
  plannerSizes: z
    .string()
    .default("1000,5000")
    .transform((text) => text.split(",").map((size) => size.trim()))
    .pipe(z.array(positiveInt).min(1)),
  plannerRuns: positiveInt.default(5),
  e2eRuns: positiveInt.default(3),
  help: z.boolean().default(false),
});
type BenchOptions = z.infer<typeof benchOptions>;

class BenchUsageError extends Error {
  readonly code = "BENCH_USAGE";
}

function parseOptions(argv: readonly string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean" },
        out: { type: "string" },
        seed: { type: "string" },
        scale: { type: "string" },
        "polling-jobs": { type: "string" },
        "planner-sizes": { type: "string" },
        "planner-runs": { type: "string" },
        "e2e-runs": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  const camel = Object.fromEntries(Object.entries(values).map(([name, value]) => [name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()), value]));
  const parsed = benchOptions.safeParse(camel);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const option = issue?.path[0] === undefined ? "(options)" : `--${String(issue.path[0]).replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    throw new BenchUsageError(`${option}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

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
  const scaled = scaledEstate(base, options.scale);
  const scaledTagged = taggedServers(scaled.estate).filter((server) => scaled.cloneIds.includes(server.id));
  const sampleLabel = "sample estate";
  const scaledLabel = `scaled estate (${options.scale} clones)`;

  progress(`1/4 API calls: ${sampleLabel}`);
  const sampleRun = await measureApiCalls(sampleLabel, base, sampleTagged, options.seed);
  progress(`1/4 API calls: ${scaledLabel}`);
  const scaledRun = await measureApiCalls(scaledLabel, scaled.estate, scaledTagged, options.seed);
  for (const run of [sampleRun, scaledRun]) {
    if (run.ours.summary.ended !== "idle") throw new Error(`${run.result.estate}: the pipeline run ended "${run.ours.summary.ended}", not idle`);
  }

  progress("2/4 job polling economy");
  const pollingRows = (["single", "batch"] as const).flatMap((kind, index) =>
    comparePolling(kind, simulatorDurations(kind, options.pollingJobs, options.seed + index), options.seed),
  );

  progress(`3/4 planner throughput: ${options.plannerSizes.join(", ")} servers`);
  const plannerRows = await measurePlanner(base, options.plannerSizes, options.plannerRuns);

  progress(`4/4 end to end: ${options.e2eRuns} runs per estate`);
  const endToEnd = [
    await measureEndToEnd(sampleLabel, base, sampleTagged.map((server) => server.id), options.seed, options.e2eRuns, sampleRun.ours),
    await measureEndToEnd(scaledLabel, scaled.estate, scaled.cloneIds, options.seed, options.e2eRuns, scaledRun.ours),
  ];

  return benchResults.parse({
    schemaVersion: 1,
    startedAt: started.toISOString(),
    durationMs: performance.now() - wallStart,
    machine: machine(),
    seed: options.seed,
    apiCalls: [sampleRun.result, scaledRun.result],
    polling: {
      jobsPerKind: options.pollingJobs,
      seed: options.seed,
      rows: pollingRows,
      measuredInRuns: [...runtimePolling(sampleLabel, sampleRun), ...runtimePolling(scaledLabel, scaledRun)],
    },
    planner: { note: "wall time of planProtection on this machine: noisy, compare sizes within one run", rows: plannerRows },
    endToEnd,
  });
}

try {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    const results = await main(options);
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    const shownPath = relative(process.cwd(), options.out) || options.out;
    process.stdout.write(
      options.json ? `${JSON.stringify(results, null, 2)}\n` : `${renderReport(results, { color: process.stdout.isTTY === true, resultsPath: shownPath })}\n`,
    );
  }
} catch (error) {
  if (error instanceof BenchUsageError) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
