/**
 * Benchmark 5: the scale curve. The pipeline end to end over generated wave estates (bench/wave-estate.ts)
 * of each size, in events mode and in bulk mode, each run in its own process (bench/wave-child.ts) so its
 * CPU and peak RSS are its own; then the growth exponent between consecutive sizes,
 * log(cost₂ / cost₁) / log(n₂ / n₁) (1 = linear, 2 = quadratic), and, on the smallest estate, the
 * Terraform-style baseline (bench/naive.ts) and the floor.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { summarizeNaive } from "./api-calls.ts";
import { runNaive } from "./naive.ts";
import { type GrowthRow, type ScaleResult, type ScaleRow, scaleRow } from "./results.ts";
import { WAVE_GROUPS, waveEstate } from "./wave-estate.ts";
import { WAVE_JOB_DURATIONS, type WaveMode, type WaveRunResult } from "./wave-run.ts";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./wave-child.ts", import.meta.url));

/** One wave run in a child process (the same node binary, so the project's Node 24). */
async function runChild(size: number, mode: WaveMode, seed: number): Promise<WaveRunResult> {
  const { stdout } = await run(process.execPath, [CHILD, String(size), mode, String(seed)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as WaveRunResult;
}

function exponent(n1: number, n2: number, cost1: number, cost2: number): number {
  return cost1 <= 0 || n1 === n2 ? 0 : Math.log(cost2 / cost1) / Math.log(n2 / n1);
}

export function growth(rows: readonly ScaleRow[]): GrowthRow[] {
  const out: GrowthRow[] = [];
  for (const mode of ["events", "bulk"] as const) {
    const curve = rows.filter((row) => row.mode === mode).sort((a, b) => a.servers - b.servers);
    for (let index = 1; index < curve.length; index++) {
      const [a, b] = [curve[index - 1], curve[index]];
      if (a === undefined || b === undefined) continue;
      out.push({
        mode,
        from: a.servers,
        to: b.servers,
        wall: exponent(a.servers, b.servers, a.wallMs, b.wallMs),
        cpu: exponent(a.servers, b.servers, a.cpuMs, b.cpuMs),
        requests: exponent(a.servers, b.servers, a.totalRequests, b.totalRequests),
      });
    }
  }
  // The first to the last point, the figure the target names (e.g. 1k → 10k).
  for (const mode of ["events", "bulk"] as const) {
    const curve = rows.filter((row) => row.mode === mode).sort((a, b) => a.servers - b.servers);
    const [first, last] = [curve[0], curve[curve.length - 1]];
    if (curve.length > 2 && first && last) {
      out.push({
        mode,
        from: first.servers,
        to: last.servers,
        wall: exponent(first.servers, last.servers, first.wallMs, last.wallMs),
        cpu: exponent(first.servers, last.servers, first.cpuMs, last.cpuMs),
        requests: exponent(first.servers, last.servers, first.totalRequests, last.totalRequests),
      });
    }
  }
  return out;
}

/** Job-status requests (showJob and the instance lists) per job: an upper bound, the lists also serve onboarding. */
function statusRequestsPerJob(result: WaveRunResult): number {
  const status = (result.requests.showJob ?? 0) + (result.requests.listProtectedInstances ?? 0);
  return result.jobs === 0 ? 0 : status / result.jobs;
}

export interface ScaleOptions {
  sizes: readonly number[];
  modes: readonly WaveMode[];
  seed: number;
  /** Servers of the wave estate the Terraform-style baseline runs on; 0 = none. */
  naiveSize: number;
  progress?: (step: string) => void;
}

export async function measureScale(options: ScaleOptions): Promise<ScaleResult> {
  const rows: ScaleRow[] = [];
  for (const size of options.sizes) {
    for (const mode of options.modes) {
      options.progress?.(`5/5 scale: ${size} servers, ${mode} mode`);
      const result = await runChild(size, mode, options.seed);
      rows.push(scaleRow.parse({ ...result, statusRequestsPerJob: statusRequestsPerJob(result) }));
    }
  }
  let naive: ScaleResult["naive"];
  if (options.naiveSize > 0) {
    options.progress?.(`5/5 scale: Terraform-style baseline on ${options.naiveSize} servers`);
    const wave = waveEstate({ size: options.naiveSize });
    const byId = new Map(wave.estate.servers.map((server) => [server.id, server]));
    const summary = summarizeNaive(
      await runNaive({
        estate: wave.estate,
        servers: wave.tagged.map((server) => ({
          id: server.id,
          name: byId.get(server.id)?.name ?? server.id,
          groupId: WAVE_GROUPS[server.target],
        })),
        seed: options.seed,
        jobDurations: WAVE_JOB_DURATIONS,
      }),
    );
    naive = {
      servers: options.naiveSize,
      protected: summary.serversProtected,
      totalRequests: summary.requests.totalRequests,
      callsPerProtectedServer: summary.requestsPerProtectedServer,
      jobStatusCallsPerJob: summary.jobs === 0 ? 0 : summary.requests.jobStatusCalls / summary.jobs,
    };
  }
  return { seed: options.seed, rows, growth: growth(rows), ...(naive ? { naive } : {}) };
}
