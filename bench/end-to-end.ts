/**
 * Benchmark 4: wall time of a whole accelerated run (ManualClock: the runtime jumps the clock over idle
 * time, so SDRS jobs of minutes pass at once) and the simulated time it stands for. The same run is
 * repeated; the request counts and outcomes must not change between repeats.
 */
import { median } from "../lib/pipeline/schedule.ts";
import type { Estate } from "../lib/sim/estate.ts";
import { type PipelineRunResult, runPipeline } from "./pipeline-run.ts";
import type { EndToEndRow } from "./results.ts";

/** What must be equal between two runs with the same seed. */
function fingerprint(run: PipelineRunResult): string {
  return JSON.stringify({
    requests: Object.entries(run.requests).sort(),
    servers: Object.entries(run.servers).sort(),
    jobChecks: run.jobChecks,
    virtualMs: run.summary.virtualMs,
  });
}

/** Runs the pipeline `runs` times in all, counting `firstRun` (already made) as the first. */
export async function measureEndToEnd(
  label: string,
  estate: Estate,
  serverIds: readonly string[],
  seed: number,
  runs: number,
  firstRun: PipelineRunResult,
): Promise<EndToEndRow> {
  const all = [firstRun];
  while (all.length < runs) all.push(await runPipeline({ estate, serverIds, seed }));
  const wallMs = all.map((run) => run.wallMs);
  const wallMsMedian = median(wallMs) ?? 0;
  const simulatedSeconds = firstRun.summary.virtualMs / 1000;
  return {
    estate: label,
    servers: serverIds.length,
    runs: all.length,
    wallMsMedian,
    wallMsMin: Math.min(...wallMs),
    wallMsMax: Math.max(...wallMs),
    simulatedSeconds,
    simulatedSecondsToLastProtected: firstRun.lastProtectedAtMs / 1000,
    speedup: wallMsMedian > 0 ? (simulatedSeconds * 1000) / wallMsMedian : 0,
    deterministic: all.every((run) => fingerprint(run) === fingerprint(firstRun)),
  };
}
