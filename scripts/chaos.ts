/**
 * `npm run chaos`: the large chaos run (default 2,000 servers, 8 SIGKILLs of the worker) and the full fuzz
 * run of the handlers (SDRS_FUZZ_RUNS, default 10,000 cases), printing the figures.
 *
 *   npm run chaos -- --servers 2000 --kills 8 --seed 15
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { runChaos } from "../bench/chaos/run.ts";

const { values } = parseArgs({
  options: {
    servers: { type: "string", default: "2000" },
    kills: { type: "string", default: "8" },
    seed: { type: "string", default: "15" },
    "fuzz-runs": { type: "string", default: "10000" },
    "skip-fuzz": { type: "boolean", default: false },
  },
});

const report = await runChaos({
  servers: Number(values.servers),
  kills: Number(values.kills),
  seed: Number(values.seed),
  // Kills land while the run is busy: it takes under a minute at 2,000 servers on this machine.
  killAfterMs: { min: 1000, max: 4000 },
  timeoutMs: 60 * 60_000,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const clean =
  report.duplicates === 0 &&
  report.lost === 0 &&
  report.multipleFinalIds === 0 &&
  report.prematureFailureNotices === 0 &&
  report.maxAttempts <= report.attemptLimit &&
  report.kills >= Number(values.kills);
process.stdout.write(
  `chaos: ${report.servers} servers, ${report.kills} kills (of ${values.kills} asked): ${report.duplicates} duplicates, ${report.lost} lost, ${report.multipleFinalIds} with more than one final id, ${report.prematureFailureNotices} premature failure notices, attempts ≤ ${report.maxAttempts} (limit ${report.attemptLimit}) — ${clean ? "OK" : "FAILED"}\n`,
);

let fuzzOk = true;
if (!values["skip-fuzz"]) {
  const fuzz = spawnSync(
    process.execPath,
    ["node_modules/vitest/vitest.mjs", "run", "test/functions/hostile-events.test.ts", "test/hostile"],
    {
      stdio: "inherit",
      env: { ...process.env, SDRS_FUZZ_RUNS: values["fuzz-runs"] },
    },
  );
  fuzzOk = fuzz.status === 0;
  process.stdout.write(`fuzz: ${values["fuzz-runs"]} cases per handler — ${fuzzOk ? "OK" : "FAILED"}\n`);
}
process.exit(clean && fuzzOk ? 0 : 1);
