/** The benchmark results as tables for people (`npm run bench`); `--json` prints BenchResults instead. */

import Table from "cli-table3";
import picocolors from "picocolors";
import { BUNDLE_LIMITS, renderBundles } from "../scripts/check-bundles.ts";
import type { ApiCallsResult, ApproachResult, BenchResults, ScaleResult } from "./results.ts";

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
  const row = (
    label: string,
    pick: (approach: ApproachResult) => number,
    ratio?: number | null,
    format = whole,
  ): string[] => [label, format(pick(ours)), format(pick(naive)), ratio === undefined ? "" : ratioText(ratio)];
  const summary = table(
    colors,
    ["", "ours", "naive", "ours / naive"],
    [
      row("create calls", (approach) => approach.requests.createCalls, ratios.createCalls),
      row("job-status calls", (approach) => approach.requests.jobStatusCalls, ratios.jobStatusCalls),
      row("read calls", (approach) => approach.requests.readCalls, ratios.readCalls),
      row("total requests", (approach) => approach.requests.totalRequests, ratios.totalRequests),
      row(
        "requests per protected server",
        (approach) => approach.requestsPerProtectedServer,
        ratios.requestsPerProtectedServer,
        twoDecimals,
      ),
      row("SDRS jobs", (approach) => approach.jobs),
      row("servers protected (new instance)", (approach) => approach.serversProtected),
      row("servers already protected (no create)", (approach) => approach.serversAlreadyProtected),
      row("refused late (create 4xx or job FAIL)", (approach) => approach.serversRefusedLate),
      row("refused before any call (ineligible)", (approach) => approach.serversRefusedBeforeAnyCall),
      row("unresolved (job outcome unknown)", (approach) => approach.serversUnknown),
      row("not attempted (tag names no group)", (approach) => approach.serversNotAttempted),
      row(
        "simulated s to last protected",
        (approach) => approach.simulatedSecondsToLastProtected,
        undefined,
        oneDecimal,
      ),
      row("simulated s to end", (approach) => approach.simulatedSecondsToEnd, undefined, oneDecimal),
    ],
  );
  const operations = [
    ...new Set([...Object.keys(ours.requests.byOperation), ...Object.keys(naive.requests.byOperation)]),
  ].sort();
  const byOperation = table(
    colors,
    ["requests by operation", "ours", "naive"],
    operations.map((operation) => [
      operation,
      String(ours.requests.byOperation[operation] ?? 0),
      String(naive.requests.byOperation[operation] ?? 0),
    ]),
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

  if (results.apiCalls.length > 0) {
    lines.push(
      heading(
        "1. API calls to protect an estate: our pipeline vs a Terraform-style baseline (simulator request counts)",
      ),
    );
    for (const result of results.apiCalls) lines.push(apiCallsSection(result, colors), "");
  }
  if (results.polling) lines.push(pollingSection(results.polling, colors, heading));
  if (results.planner) lines.push(plannerSection(results.planner, colors, heading));
  if (results.endToEnd.length > 0) lines.push(endToEndSection(results.endToEnd, colors, heading));
  if (results.scale) lines.push(scaleSection(results.scale, colors, heading));
  if (results.bundles !== undefined) {
    lines.push(heading("6. Lambda bundles: code size and import time (median of fresh imports)"));
    lines.push(renderBundles(results.bundles.rows, BUNDLE_LIMITS));
    lines.push(results.bundles.note);
  }
  if (options.resultsPath !== undefined) lines.push(`\nresults written to ${options.resultsPath}`);
  return lines.join("\n");
}

function pollingSection(
  polling: NonNullable<BenchResults["polling"]>,
  colors: Colors,
  heading: (text: string) => string,
): string {
  const lines: string[] = [];
  lines.push(
    heading(`2. Job polling economy: ${polling.jobsPerKind} jobs per kind, durations as the simulator draws them`),
  );
  lines.push(
    table(
      colors,
      ["strategy", "job kind", "checks / job", "vs every 10 s", "max checks", "mean delay s", "p95 delay s"],
      polling.rows.map((row) => [
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
      polling.measuredInRuns.map((row) => [
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

  return lines.join("\n");
}

function plannerSection(
  planner: NonNullable<BenchResults["planner"]>,
  colors: Colors,
  heading: (text: string) => string,
): string {
  const lines: string[] = [];
  lines.push(heading("3. Planner throughput: planProtection, wall time (noisy: compare sizes within one run)"));
  lines.push(
    table(
      colors,
      [
        "servers",
        "shared-disk clusters",
        "planned calls",
        "runs",
        "median ms",
        "min–max ms",
        "servers / s",
        "plans / s",
      ],
      planner.rows.map((row) => [
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

  return lines.join("\n");
}

function endToEndSection(
  endToEnd: BenchResults["endToEnd"],
  colors: Colors,
  heading: (text: string) => string,
): string {
  const lines: string[] = [];
  lines.push(heading("4. End to end: accelerated runs (ManualClock) — wall time vs the simulated time they stand for"));
  lines.push(
    table(
      colors,
      [
        "estate",
        "servers tagged",
        "runs",
        "wall ms (median)",
        "min–max ms",
        "simulated s",
        "s to last protected",
        "speed-up",
        "same counts every run",
      ],
      endToEnd.map((row) => [
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
  return lines.join("\n");
}

function scaleSection(scale: ScaleResult, colors: Colors, heading: (text: string) => string): string {
  const lines: string[] = [
    heading("5. Scale curve: wave estates end to end, each run in its own process (wall and CPU are this machine's)"),
  ];
  lines.push(
    table(
      colors,
      [
        "mode",
        "servers",
        "protected",
        "wall s",
        "CPU s",
        "peak RSS MiB",
        "requests",
        "calls / protected",
        "floor / protected",
        "status req / job",
        "looks / job (median)",
        "lag mean s",
        "lag p95 s",
      ],
      scale.rows.map((row) => {
        const protectedServers = row.outcomes.protected ?? 0;
        return [
          row.mode,
          String(row.servers),
          String(protectedServers),
          oneDecimal(row.wallMs / 1000),
          oneDecimal(row.cpuMs / 1000),
          whole(row.peakRssMiB),
          String(row.totalRequests),
          twoDecimals(row.callsPerProtectedServer),
          twoDecimals(protectedServers === 0 ? 0 : row.floorRequests / protectedServers),
          twoDecimals(row.statusRequestsPerJob),
          oneDecimal(row.checksPerJobMedian),
          oneDecimal(row.detectionLagMeanSeconds),
          oneDecimal(row.detectionLagP95Seconds),
        ];
      }),
      1,
    ),
  );
  lines.push(
    table(
      colors,
      ["mode", "requests by operation (per run, smallest → largest)"],
      (["events", "bulk"] as const).flatMap((mode) =>
        scale.rows
          .filter((row) => row.mode === mode)
          .map((row) => [
            `${mode} ${row.servers}`,
            Object.entries(row.requests)
              .map(([operation, count]) => `${operation} ${count}`)
              .join(", "),
          ]),
      ),
      2,
    ),
  );
  if (scale.growth.length > 0) {
    lines.push(
      table(
        colors,
        ["mode", "from → to servers", "wall exponent", "CPU exponent", "requests exponent"],
        scale.growth.map((row) => [
          row.mode,
          `${row.from} → ${row.to}`,
          twoDecimals(row.wall),
          twoDecimals(row.cpu),
          twoDecimals(row.requests),
        ]),
        2,
      ),
    );
  }
  if (scale.naive) {
    lines.push(
      `Terraform-style baseline on the ${scale.naive.servers}-server wave estate: ${scale.naive.totalRequests} requests, ${twoDecimals(scale.naive.callsPerProtectedServer)} per protected server (${scale.naive.protected}), ${twoDecimals(scale.naive.jobStatusCallsPerJob)} job reads per job.`,
    );
  }
  const broken = scale.rows.filter(
    (row) =>
      row.duplicateInstances > 0 ||
      row.notificationsPerServer.max > 1 ||
      row.notificationsPerServer.min < 1 ||
      row.ended !== "idle",
  );
  lines.push(
    broken.length === 0
      ? "every run: no duplicate instance, each tagged server notified exactly once, ended idle."
      : colors.red(`${broken.length} run(s) broke an invariant: see the JSON`),
  );
  return lines.join("\n");
}
