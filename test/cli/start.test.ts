/**
 * `sdrs-autoprotect start` (what `npm start` runs), in process (test/cli/helpers.ts; one spawned run of
 * the bin is test/cli/bin.test.ts): the simulator, the receiver and the local runtime in one process,
 * accelerated time, the report on stdout and in a file. Also the pure parts it is built from: the
 * report's counts and rendering, and the progress view.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import picocolors from "picocolors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultReportPath, reportFormatOf } from "../../lib/cli/actions/start.ts";
import type { Output } from "../../lib/cli/context.ts";
import { createProgressDisplay, type ProgressSnapshot, progressLine } from "../../lib/cli/progress.ts";
import { type ReportDocument, renderHtml, renderMarkdown } from "../../lib/cli/report/document.ts";
import {
  apiCallCounts,
  buildStartReport,
  formatDuration,
  type StartRunFacts,
  startReportSchema,
} from "../../lib/cli/report/start-report.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { ANSI, type Finished, runCli, startCli } from "./helpers.ts";

/** Resolves once `condition` holds, looking every 20 ms (the run advances on its own). */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const directory = mkdtempSync(join(tmpdir(), "sdrs-start-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A table row of the terminal report whose first cell starts with `name` (cli-table3 draws │ between cells). */
function rowOf(text: string, name: string): string {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`│ ${name} `));
  if (line === undefined) throw new Error(`no row for ${name} in:\n${text}`);
  return line;
}

describe("sdrs-autoprotect start (accelerated, sample estate)", () => {
  let run: Finished;
  const reportFile = join(directory, "report.md");

  beforeAll(async () => {
    // With every ineligible server listed (cleanEnv is 200 columns wide).
    run = await runCli(["start", "--details", "--report", reportFile]);
  });

  it("runs the whole job to the end and exits 0", () => {
    expect(run.stderr).not.toContain("error:");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Result: every server reached a final state and every notification was delivered and verified.",
    );
    expect(run.stdout).toContain("64 servers: 33 protected, 1 failed, 30 ineligible, 0 unknown");
  });

  it("ends with the coverage section: counts per target, then the drift gaps with their codes", () => {
    const coverageAt = run.stdout.indexOf("Coverage: is every disk replicated?");
    expect(coverageAt).toBeGreaterThan(run.stdout.indexOf("\nTime\n"));
    const section = run.stdout.slice(coverageAt);
    for (const code of [
      "COVERAGE_DISK_UNREPLICATED",
      "COVERAGE_PAIR_FAULT",
      "COVERAGE_PAIR_INVALID",
      "COVERAGE_DISK_GROWN",
      "COVERAGE_FAILED_OVER",
      "COVERAGE_UNTAGGED_BUT_PROTECTED",
      "COVERAGE_TARGET_CHANGED",
    ]) {
      expect(section).toContain(code);
    }
  });

  it("prints no secret: neither the simulator's SK nor the fresh webhook secret", () => {
    expect(run.stdout + run.stderr).not.toContain(SIMULATOR_DEFAULTS.secretKey);
    expect(run.stdout + run.stderr).not.toContain("whsec_");
  });

  it("tells on stderr what it does: tags, one bulk request through the local API, then live progress", () => {
    expect(run.stderr).toContain(
      '1. tags: nfs-e-2 and intranet-03 tagged sdrs_protect=web in the simulator; 61 "ECS Server Tags Changed" events sent',
    );
    expect(run.stderr).toMatch(
      /2\. bulk onboarding request [0-9a-f-]{36}: POST \/onboarding-requests \(target web, 4 servers, Idempotency-Key start-[0-9a-f-]{36}\) → 202/,
    );
    // Not a terminal: plain progress lines, the last one with every server final.
    expect(run.stderr).toContain("progress: 64/64 servers final: 33 protected, 1 failed, 30 ineligible, 0 unknown");
    expect(run.stderr).toContain(`Report written to ${reportFile}`);
  });

  it("lists the protected servers with their protected instance, and the already protected ones as adopted", () => {
    expect(run.stdout).toContain("Protected (33)");
    expect(rowOf(run.stdout, "web-01")).toMatch(/│ web +│ [0-9a-f-]{36} │ job [0-9a-f]{32}/);
    // The shared-disk peer start tagged in the simulator is protected with nfs-e-1, in one batch.
    expect(rowOf(run.stdout, "nfs-e-1")).toMatch(/│ web +│ [0-9a-f-]{36} │ job /);
    expect(rowOf(run.stdout, "nfs-e-2")).toMatch(/│ web +│ [0-9a-f-]{36} │ job /);
    // Untagged servers of the bulk request, and the one tagged in the simulator.
    for (const name of ["intranet-01", "intranet-02", "intranet-03"])
      expect(rowOf(run.stdout, name)).toMatch(/│ web +│ [0-9a-f-]{36} │ job /);
    expect(rowOf(run.stdout, "billing-db-01")).toContain("adopted: was a protected instance already");
  });

  it("reports the failure with its SDRS code, and the ineligible servers with reason codes and remedies", () => {
    expect(run.stdout).toContain("Failed (1)");
    expect(rowOf(run.stdout, "legacy-02")).toMatch(/│ SDRS\.1358 │ createProtectedInstance failed with SDRS\.1358/);
    expect(run.stdout).toContain("Ineligible (30)");
    expect(rowOf(run.stdout, "dev-web-01")).toContain("INELIGIBLE_VPC_MISMATCH (SDRS.1304)");
    expect(rowOf(run.stdout, "hpc-d-1")).toContain("INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE (SDRS.1362)");
    expect(rowOf(run.stdout, "analytics-01")).toContain("INELIGIBLE_TARGET_UNKNOWN");
    expect(rowOf(run.stdout, "win-legacy-01")).toContain("INELIGIBLE_KEYPAIR_MISSING");
    // The DR-site copy of billing-db-01 that the bulk request named.
    expect(run.stdout).toContain("INELIGIBLE_DR_SITE_SERVER (SDRS.1305)");
    // Someone else's protected instance, still creating in the db group: waited for, as plan predicts.
    expect(run.stdout).not.toContain("Unknown (");
    expect(rowOf(run.stdout, "crm-db-01")).toContain("DEFERRED_INSTANCE_CREATING");
  });

  it("counts one delivered, verified notification per outcome plus the request's completion, and the API calls by endpoint", () => {
    expect(run.stdout).toContain(
      "65 delivered of 65 expected (one per server outcome, one for the request); 0 rejected by the receiver; 0 gave up.",
    );
    expect(rowOf(run.stdout, "server.protected")).toMatch(/│ 33 +│/);
    expect(rowOf(run.stdout, "onboarding_request.completed")).toMatch(/│ 1 +│/);
    expect(rowOf(run.stdout, "batchCreateProtectedInstances")).toMatch(
      /│ POST \/v1\/\{project_id\}\/protected-instances\/batch +│ 5 +│/,
    );
    // Jobs are followed through the shared in-flight view (instances creating, then looked up by id): no job read.
    expect(rowOf(run.stdout, "listProtectedInstances")).toMatch(
      /│ GET \/v1\/\{project_id\}\/protected-instances +│ \d+ +│/,
    );
    expect(run.stdout).not.toMatch(/│ showJob +│/);
    expect(run.stdout).toMatch(/9 create calls \(5 batch, 4 single\) → 8 SDRS jobs, each followed to its end/);
    expect(run.stdout).toMatch(/Time: [\d.]+ s of wall time for 1 h \d\d min of simulated time \(accelerated/);
  });

  it("writes the same report as Markdown, with no colour codes", () => {
    const markdown = readFileSync(reportFile, "utf8");
    expect(markdown.startsWith("# sdrs-autoprotect start: the whole job on one machine\n")).toBe(true);
    expect(markdown).toContain("64 servers: 33 protected, 1 failed, 30 ineligible, 0 unknown");
    expect(markdown).toContain("## Ineligible (30)");
    expect(markdown).toMatch(
      /\| dev-web-01<br>54787bd5-2113-4bef-a9c4-6edd444eeeea \| web \| INELIGIBLE_VPC_MISMATCH \(SDRS\.1304\): /,
    );
    expect(markdown).toMatch(
      /\| legacy-02<br>d23b1763-d0b8-47f5-b0f4-eb66fdeed544 \| bae4c87d-4551-4c3b-9410-d88d3130781b \| `SDRS\.1358` \|/,
    );
    expect(markdown).toContain("| `server.protected` | 33 |");
    expect(markdown).toMatch(
      /\| billing-db-01<br>e3c8cfcf-964d-42dc-98ae-dc0863d2ae22 \| web \| INELIGIBLE_DR_SITE_SERVER \(SDRS\.1305\): .* \| Remove the protect tag from the DR-site server; protect the production server instead\. \|/,
    );
    expect(markdown).not.toMatch(ANSI);
  });
});

describe("sdrs-autoprotect start --json", () => {
  it("prints only the report as JSON, whose counts add up, and writes the HTML report", async () => {
    const htmlFile = join(directory, "report.html");
    const run = await runCli(["start", "--json", "--report", htmlFile]);
    expect(run.code).toBe(0);
    const report = startReportSchema.parse(JSON.parse(run.stdout));
    const { summary } = report;
    expect(summary.protected + summary.failed + summary.ineligible + summary.unknown + summary.notFinished).toBe(
      summary.servers,
    );
    expect(summary).toEqual({ servers: 64, protected: 33, failed: 1, ineligible: 30, unknown: 0, notFinished: 0 });
    expect(report.servers).toHaveLength(summary.servers);
    for (const state of ["protected", "failed", "ineligible", "unknown"] as const) {
      expect(report.servers.filter((server) => server.state === state)).toHaveLength(summary[state]);
    }
    expect(report.ok).toBe(true);
    const serverEvents = Object.entries(report.notifications.byType)
      .filter(([type]) => type.startsWith("server."))
      .reduce((sum, [, count]) => sum + count, 0);
    expect(serverEvents).toBe(summary.servers);
    expect(report.notifications).toMatchObject({ expected: 65, delivered: 65, missing: [], rejected: [], dead: [] });
    expect(report.apiCalls.total).toBe(report.apiCalls.byOperation.reduce((sum, entry) => sum + entry.calls, 0));
    expect(report.createCalls).toEqual({ total: 9, batch: 5, single: 4 });
    // The figures the Lambdas would publish to CloudWatch agree with the report's own counts.
    const metric = (name: string) => report.metrics.find((entry) => entry.name === name);
    expect(metric("ServersProtected")?.count).toBe(summary.protected);
    expect(metric("ServersFailed")?.count).toBe(summary.failed);
    expect(metric("ServersIneligible")?.count).toBe(summary.ineligible);
    expect(metric("ServersUnknown")?.count ?? 0).toBe(summary.unknown);
    expect(metric("CreateCalls")?.by).toMatchObject({ "kind:batch": 5, "kind:single": 4 });
    expect(metric("JobDuration")?.count).toBe(
      report.jobs.filter((job) => job.kind === "single" || job.kind === "batch").length,
    );
    expect(metric("WebhookDeliveries")?.count).toBe(report.notifications.delivered);
    const { coverage } = JSON.parse(run.stdout) as { coverage: { ok: boolean; gaps: { code: string }[] } };
    expect(coverage.ok).toBe(false);
    expect(coverage.gaps.map((gap) => gap.code)).toContain("COVERAGE_DISK_UNREPLICATED");
    expect(report.jobs.every((job) => job.status === "SUCCESS")).toBe(true);
    expect(report.request.counts).toEqual({ protected: 3, ineligible: 1 });
    // web-01 came in by its tag and by the request: one protected instance, one notification.
    const web01 = report.servers.find((server) => server.serverName === "web-01");
    expect(web01).toMatchObject({ state: "protected", via: ["tag", "request"] });
    expect(report.time.accelerated).toBe(true);
    expect(report.time.simulatedMs).toBeGreaterThan(report.time.wallMs);
    expect(report.reportFile).toBe(htmlFile);

    const html = readFileSync(htmlFile, "utf8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("<h2>Ineligible (30)</h2>");
    expect(html).toContain("INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE");
    expect(html).toContain("server vpc 262625c3-8a3c-440b-825e-47037064a8a1 ≠ protection group vpc");
  });

  it("gives up with exit 3 after --outage-limit when its simulator's every answer is a 503, saying so on the progress line first", async () => {
    const run = startCli(["start", "--outage-limit", "3", "--report", join(directory, "outage.md")]);
    try {
      await waitFor(() => /following every job/.test(run.stderr()), "step 3");
      const url = /simulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(run.stderr())?.[1];
      expect(url).toBeDefined();
      const faults = await fetch(`${url}/__sim/faults`, {
        method: "POST",
        body: JSON.stringify({ serverError: { probability: 1, status: 503 } }),
      });
      expect(faults.status).toBe(200);
      const ended = await run.finished;
      expect(ended.stderr).toMatch(/progress: .*cloud unreachable \((SDRS|APIGW|HTTP)[^)]*\)/);
      expect(ended.stderr).toMatch(
        /error: the cloud kept failing for 3 s \(--outage-limit\): last \S+; stopped, the state was temporary \[CLOUD_UNREACHABLE\]/,
      );
      expect(ended.code).toBe(3);
    } finally {
      await run.stop();
    }
  });

  it("refuses a --state file that exists already, naming the flag", async () => {
    const existing = join(directory, "existing.sqlite");
    writeFileSync(existing, "");
    const run = await runCli(["start", "--state", existing, "--report", join(directory, "unused.md")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: --state: ${existing} exists already`);
  });
});

// ---------------------------------------------------------------------------------------------
// The pure parts
// ---------------------------------------------------------------------------------------------

function facts(overrides: Partial<StartRunFacts> = {}): StartRunFacts {
  return {
    startedAt: Date.UTC(2026, 0, 1, 12),
    finishedAt: Date.UTC(2026, 0, 1, 12, 0, 2),
    accelerated: true,
    simulatedMs: 3_700_000,
    simulator: { url: "http://127.0.0.1:1", seed: 1, servers: 3, taggedServers: 2 },
    state: { file: null, kept: false },
    tagging: { events: 2, taggedInSimulator: [] },
    request: {
      requestId: "req-1",
      target: "web",
      idempotencyKey: "start-1",
      serverIds: ["s3"],
      counts: { protected: 1 },
    },
    servers: [
      {
        serverId: "s1",
        serverName: "web-01",
        target: "web",
        state: "protected",
        protectedInstanceId: "pi-1",
        jobId: "job-1",
        reasons: [],
        via: ["tag"],
      },
      {
        serverId: "s2",
        serverName: "web-02",
        target: "web",
        state: "ineligible",
        reasons: [
          {
            code: "INELIGIBLE_VPC_MISMATCH",
            message: "server vpc a ≠ protection group vpc b",
            remedy: "Tag it for another target.",
            sdrsCode: "SDRS.1304",
          },
        ],
        via: ["tag"],
      },
      {
        serverId: "s3",
        serverName: "intranet-01",
        target: "web",
        state: "protected",
        protectedInstanceId: "pi-3",
        jobId: "job-1",
        reasons: [],
        via: ["request"],
      },
    ],
    jobs: [],
    received: [
      { type: "server.protected", subjectId: "s1" },
      { type: "server.ineligible", subjectId: "s2" },
      { type: "server.protected", subjectId: "s3" },
      { type: "onboarding_request.completed", subjectId: "req-1" },
    ],
    rejected: [],
    dead: [],
    simulatorCounts: { showJob: 3, batchCreateProtectedInstances: 1, bogus: 1 },
    pipelineLog: { warnings: 0, errors: 0 },
    ...overrides,
  };
}

describe("the start report", () => {
  it("is ok when every server is final and every expected notification arrived", () => {
    const report = buildStartReport(facts());
    expect(report.ok).toBe(true);
    expect(report.summary).toEqual({ servers: 3, protected: 2, failed: 0, ineligible: 1, unknown: 0, notFinished: 0 });
    expect(report.notifications).toMatchObject({ expected: 4, delivered: 4, missing: [] });
  });

  it("is not ok, and names the missing event, when an outcome was not delivered", () => {
    const base = facts();
    const report = buildStartReport({ ...base, received: base.received.filter((event) => event.subjectId !== "s2") });
    expect(report.ok).toBe(false);
    expect(report.notifications.missing).toEqual(["server.ineligible for web-02 (s2)"]);
  });

  it("is not ok when a server did not reach a final state, or a delivery gave up", () => {
    const base = facts();
    const stuck = buildStartReport({
      ...base,
      servers: base.servers.map((server) => (server.serverId === "s1" ? { ...server, state: "in_progress" } : server)),
    });
    expect(stuck.ok).toBe(false);
    expect(stuck.summary.notFinished).toBe(1);
    expect(buildStartReport({ ...base, dead: [{ type: "server.protected", reason: "HTTP 500" }] }).ok).toBe(false);
  });

  it("names each operation's endpoint, most called first, and keeps unknown paths visible", () => {
    expect(apiCallCounts({ showJob: 3, batchCreateProtectedInstances: 1, unknown: 2 })).toEqual([
      { operation: "showJob", method: "GET", path: "/v1/{project_id}/jobs/{job_id}", calls: 3 },
      { operation: "unknown", method: "", path: "(no such API)", calls: 2 },
      {
        operation: "batchCreateProtectedInstances",
        method: "POST",
        path: "/v1/{project_id}/protected-instances/batch",
        calls: 1,
      },
    ]);
  });

  it("formats durations for people", () => {
    expect([450, 12_340, 245_000, 3_725_000].map(formatDuration)).toEqual([
      "0.5 s",
      "12.3 s",
      "4 min 05 s",
      "1 h 02 min",
    ]);
  });

  it("picks the report file and its format from the flags", () => {
    expect(defaultReportPath(Date.UTC(2026, 0, 2, 3, 4, 5, 678), "md")).toBe(
      join("reports", "sdrs-autoprotect-2026-01-02T03-04-05Z.md"),
    );
    expect(reportFormatOf({ report: "out/run.HTML", reportFormat: undefined })).toBe("html");
    expect(reportFormatOf({ report: "out/run.html", reportFormat: "md" })).toBe("md");
    expect(reportFormatOf({ report: undefined, reportFormat: undefined })).toBe("md");
  });
});

describe("report rendering", () => {
  const document: ReportDocument = {
    title: "T <&>",
    blocks: [
      { kind: "heading", text: "Servers" },
      { kind: "table", head: ["Server", "Why"], rows: [[{ text: "a|b", code: true }, "line 1\nline 2 <b>"]] },
    ],
  };

  it("escapes table pipes and keeps line breaks in Markdown", () => {
    expect(renderMarkdown(document)).toBe(
      "# T <&>\n\n## Servers\n\n| Server | Why |\n| --- | --- |\n| `a\\|b` | line 1<br>line 2 <b> |\n",
    );
  });

  it("escapes every text in HTML", () => {
    const html = renderHtml(document);
    expect(html).toContain("<title>T &lt;&amp;&gt;</title>");
    expect(html).toContain("<td><code>a|b</code></td><td>line 1<br>line 2 &lt;b&gt;</td>");
    expect(html).not.toContain("<b>");
  });
});

describe("the progress view", () => {
  const snapshot = (protectedCount: number): ProgressSnapshot => ({
    servers: 4,
    states: { protected: protectedCount, ineligible: 1, in_progress: 3 - protectedCount },
    jobsInFlight: 3 - protectedCount > 0 ? 1 : 0,
    webhooks: { received: protectedCount + 1, rejected: 0 },
    simulatedMs: 3_723_000,
  });

  function captured(): { output: Output; lines: string[] } {
    const lines: string[] = [];
    return {
      lines,
      output: {
        colors: picocolors.createColors(false),
        colorEnabled: false,
        line: (text = "") => lines.push(text),
        write: (text) => lines.push(text),
      },
    };
  }

  it("says in one line what is final, what is in flight and what came back", () => {
    expect(progressLine(snapshot(1))).toBe(
      "2/4 servers final: 1 protected, 0 failed, 1 ineligible, 0 unknown · 2 in flight (in_progress 2) · 1 job running · 2 webhooks received · 01:02:03 simulated",
    );
  });

  it("off a terminal, prints a line at most once per interval and only on change, and the last state on stop", () => {
    let now = 0;
    const { output, lines } = captured();
    const display = createProgressDisplay({
      output,
      interactive: false,
      intervalMs: 1_000,
      heartbeatMs: 10_000,
      now: () => now,
    });
    display.update(snapshot(0));
    display.update(snapshot(1)); // within the interval: held back
    now = 500;
    display.update(snapshot(1));
    now = 1_200;
    display.update(snapshot(1)); // changed since the last line, interval passed
    now = 2_500;
    display.update(snapshot(1)); // unchanged: nothing
    now = 11_300;
    display.update(snapshot(1)); // heartbeat
    now = 11_400;
    display.update(snapshot(3));
    display.stop();
    expect(lines.map((line) => line.slice(0, "progress: 2/4".length))).toEqual([
      "progress: 1/4",
      "progress: 2/4",
      "progress: 2/4",
      "progress: 4/4",
    ]);
  });
});
