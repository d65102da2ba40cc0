/** The benchmark results as tables for people (`npm run bench`); `--json` prints BenchResults instead. */
import { BUNDLE_LIMITS, renderBundles } from "../scripts/check-bundles.ts";
import Table from "cli-table3";
import picocolors from "picocolors";
import type { ApiCallsResult, ApproachResult, BenchResults } from "./results.ts";

type Colors = ReturnType<typeof picocolors.createColors>;

const fixed = (digits: number) => (value: number) => value.toFixed(digits);
const oneDecimal = fixed(1);
const twoDecimals = fixed(2);
const whole = (value: number) => String(Math.round(value));

function ratioText(ratio: number | null): string {
  return ratio === null ? "—" : `${ratio.toFixed(2)}×`;
}

function table(colors: Colors, head: string[], rows: string[][], alignRightFrom = 1): string {
  const rendered = new Table({
    head: head.map((title) => colors.bold(title)),
    colAligns: head.map((_, index) => (index >= alignRightFrom ? "right" : "left")),
    style: { head: [], border: [] },
    // No rule between body rows: the tables stay short enough to read at a glance.
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of rows) rendered.push(row);
  return rendered.toString();
}

function codesText(codes: Record<string, number>): string {
  const entries = Object.entries(codes).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? "—" : entries.map(([code, servers]) => `${code}×${servers}`).join(" ");
}

function apiCallsSection(result: ApiCallsResult, colors: Colors): string {
  const { ours, naive, ratios } = result;
  const row = (label: string, pick: (approach: ApproachResult) => number, ratio?: number | null, format = whole): string[] => [
    label,
    format(pick(ours)),
    format(pick(naive)),
    ratio === undefined ? "" : ratioText(ratio),
  ];
  const summary = table(
    colors,
    ["", "ours", "naive", "ours / naive"],
    [
      row("create calls", (approach) => approach.requests.createCalls, ratios.createCalls),
      row("job-status calls", (approach) => approach.requests.jobStatusCalls, ratios.jobStatusCalls),
      row("read calls", (approach) => approach.requests.readCalls, ratios.readCalls),
      row("total requests", (approach) => approach.requests.totalRequests, ratios.totalRequests),
      row("requests per protected server", (approach) => approach.requestsPerProtectedServer, ratios.requestsPerProtectedServer, twoDecimals),
      row("SDRS jobs", (approach) => approach.jobs),
      row("servers protected (new instance)", (approach) => approach.serversProtected),
      row("servers already protected (no create)", (approach) => approach.serversAlreadyProtected),
      row("refused late (create 4xx or job FAIL)", (approach) => approach.serversRefusedLate),
      row("refused before any call (ineligible)", (approach) => approach.serversRefusedBeforeAnyCall),
      row("unresolved (job outcome unknown)", (approach) => approach.serversUnknown),
      row("not attempted (tag names no group)", (approach) => approach.serversNotAttempted),
      row("simulated s to last protected", (approach) => approach.simulatedSecondsToLastProtected, undefined, oneDecimal),
      row("simulated s to end", (approach) => approach.simulatedSecondsToEnd, undefined, oneDecimal),
    ],
  );
  const operations = [...new Set([...Object.keys(ours.requests.byOperation), ...Object.keys(naive.requests.byOperation)])].sort();
  const byOperation = table(
    colors,
    ["requests by operation", "ours", "naive"],
    operations.map((operation) => [operation, String(ours.requests.byOperation[operation] ?? 0), String(naive.requests.byOperation[operation] ?? 0)]),
  );
  return [
    colors.bold(`${result.estate}: ${result.estateServers} servers, ${result.taggedServers} tagged for protection`),
    summary,
    byOperation,
    `late refusals, ours:  ${codesText(ours.lateRefusalCodes)}`,
    `late refusals, naive: ${codesText(naive.lateRefusalCodes)}`,
  ].join("\n");
}

export function renderReport(results: BenchResults, options: { color: boolean; resultsPath?: string }): string {
  const colors = picocolors.createColors(options.color);
  const { machine } = results;
  const heading = (text: string) => `\n${colors.bold(colors.cyan(text))}`;
  const lines: string[] = [
    colors.bold(`sdrs-autoprotect benchmarks — ${results.startedAt}, took ${(results.durationMs / 1000).toFixed(1)} s`),
    `machine: ${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.platform} ${machine.arch}, ${machine.totalMemoryGiB.toFixed(1)} GiB`,
    `seed ${results.seed}: request counts and simulated times are deterministic for the seed; wall times (ms) are this machine's and noisy.`,
  ];

  lines.push(heading("1. API calls to protect an estate: our pipeline vs a Terraform-style baseline (simulator request counts)"));
  for (const result of results.apiCalls) lines.push(apiCallsSection(result, colors), "");

  lines.push(heading(`2. Job polling economy: ${results.polling.jobsPerKind} jobs per kind, durations as the simulator draws them`));
  lines.push(
    table(
      colors,
      ["strategy", "job kind", "checks / job", "vs every 10 s", "max checks", "mean delay s", "p95 delay s"],
      results.polling.rows.map((row) => [
        row.strategy,
        row.kind,
        twoDecimals(row.meanChecksPerJob),
        ratioText(row.checksVsTerraform),
        String(row.maxChecksPerJob),
        oneDecimal(row.meanDetectionDelaySeconds),
        oneDecimal(row.p95DetectionDelaySeconds),
      ]),
      2,
    ),
  );
  lines.push("delay = simulated seconds from the job's end to the status check that saw it.");
  lines.push(
    table(
      colors,
      ["measured in the runs of part 1", "estate", "jobs", "job-status calls", "checks / job", "mean delay s"],
      results.polling.measuredInRuns.map((row) => [
        row.approach,
        row.estate,
        String(row.jobs),
        String(row.jobStatusCalls),
        twoDecimals(row.checksPerJob),
        row.meanDetectionDelaySeconds === undefined ? "—" : oneDecimal(row.meanDetectionDelaySeconds),
      ]),
      2,
    ),
  );

  lines.push(heading("3. Planner throughput: planProtection, wall time (noisy: compare sizes within one run)"));
  lines.push(
    table(
      colors,
      ["servers", "shared-disk clusters", "planned calls", "runs", "median ms", "min–max ms", "servers / s", "plans / s"],
      results.planner.rows.map((row) => [
        String(row.servers),
        String(row.sharedDiskClusters),
        String(row.calls),
        String(row.runs),
        oneDecimal(row.medianMs),
        `${oneDecimal(row.minMs)}–${oneDecimal(row.maxMs)}`,
        whole(row.serversPerSecond),
        twoDecimals(row.plansPerSecond),
      ]),
      0,
    ),
  );

  lines.push(heading("4. End to end: accelerated runs (ManualClock) — wall time vs the simulated time they stand for"));
  lines.push(
    table(
      colors,
      ["estate", "servers tagged", "runs", "wall ms (median)", "min–max ms", "simulated s", "s to last protected", "speed-up", "same counts every run"],
      results.endToEnd.map((row) => [
        row.estate,
        String(row.servers),
        String(row.runs),
        whole(row.wallMsMedian),
        `${whole(row.wallMsMin)}–${whole(row.wallMsMax)}`,
        oneDecimal(row.simulatedSeconds),
        oneDecimal(row.simulatedSecondsToLastProtected),
        `${whole(row.speedup)}×`,
        row.deterministic ? "yes" : colors.red("NO"),
      ]),
    ),
  );
  if (results.bundles !== undefined) {
    lines.push(heading("5. Lambda bundles: code size and import time (median of fresh imports)"));
    lines.push(renderBundles(results.bundles.rows, BUNDLE_LIMITS));
    lines.push(results.bundles.note);
  }
  if (options.resultsPath !== undefined) lines.push(`\nresults written to ${options.resultsPath}`);
  return lines.join("\n");
}
