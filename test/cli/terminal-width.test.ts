/**
 * Output that fits the terminal: `plan` and `start` (in process, COLUMNS=100, not a terminal) print no line
 * wider than 100 display columns on stdout or stderr; ineligible servers are counted by reason code unless
 * --details; the pure parts (width source, column fitting, the progress line) and the Ctrl+C order in-process.
 */
import { EventEmitter } from "node:events";
import type { Command } from "commander";
import stringWidth from "string-width";
import { beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../lib/cli/context.ts";
import { fitColumnWidths, outputColumns } from "../../lib/cli/layout.ts";
import { type ProgressSnapshot, progressLine } from "../../lib/cli/progress.ts";
import { renderTerminal } from "../../lib/cli/report/document.ts";
import { runCli as runInProcess } from "../../lib/cli/run.ts";
import { cleanEnv, type Finished, runCli } from "./helpers.ts";

function widest(text: string): { width: number; line: string } {
  let found = { width: 0, line: "" };
  for (const line of text.split(/\r?\n|\r/)) {
    const width = stringWidth(line);
    if (width > found.width) found = { width, line };
  }
  return found;
}

const narrow = cleanEnv({ COLUMNS: "100" });

describe("plan at COLUMNS=100", () => {
  let plain: Finished;
  let details: Finished;
  beforeAll(async () => {
    [plain, details] = await Promise.all([runCli(["plan"], narrow), runCli(["plan", "--details"], narrow)]);
  });

  it("prints nothing wider than 100 columns, with or without --details", () => {
    for (const run of [plain, details]) {
      expect(run.code).toBe(0);
      expect(widest(run.stdout).width, widest(run.stdout).line).toBeLessThanOrEqual(100);
      expect(widest(run.stderr).width, widest(run.stderr).line).toBeLessThanOrEqual(100);
    }
  });

  it("counts the ineligible servers by reason code, and lists them per server only with --details", () => {
    expect(plain.stdout).toContain("Ineligible: 26, by reason code");
    expect(plain.stdout).toMatch(/│ INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE +│ 6 +│/);
    expect(plain.stdout).not.toContain("hpc-d-1");
    expect(plain.stdout).toContain("Per server: run again with --details");
    expect(details.stdout).toContain("hpc-d-1");
    expect(details.stdout).not.toContain("by reason code");
  });

  it("names a shared-disk cluster's members once, not once per member", () => {
    // The six members of hpc-d each carry INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE, whose message lists the
    // cluster: hpc-d-6's id shows under its name and once in hpc-d-1's message (it was in all six).
    expect(details.stdout.match(/73a00154-3f72-493c-bd99-2417f185e119/g)).toHaveLength(2);
    expect(details.stdout.match(/as for hpc-d-\d above/g)).toHaveLength(5);
  });
});

describe("start at COLUMNS=100", () => {
  let run: Finished;
  beforeAll(async () => {
    run = await runCli(["start"], narrow);
  });

  it("prints nothing wider than 100 columns on stdout or stderr", () => {
    expect(run.code).toBe(0);
    expect(widest(run.stdout).width, widest(run.stdout).line).toBeLessThanOrEqual(100);
    expect(widest(run.stderr).width, widest(run.stderr).line).toBeLessThanOrEqual(100);
  });

  it("counts the ineligible servers by reason code in the printed report", () => {
    expect(run.stdout).toContain("Ineligible (30)");
    expect(run.stdout).toMatch(/│ INELIGIBLE_FLAVOR_UNSUPPORTED \(SDRS\.1356\) +│ 6 +│/);
    expect(run.stdout).toContain("Per server: run again with --details (the report file always has them).");
  });

  it("keeps the counts on the last progress line", () => {
    const last =
      run.stderr
        .split("\n")
        .filter((line) => line.startsWith("progress: "))
        .at(-1) ?? "";
    expect(last).toMatch(/^progress: 64\/64 servers final: 33 \w+, 1 \w+, 30 \w+, 0 \w+ · 0 jobs/);
  });
});

describe("the width output is laid out for", () => {
  it("is the terminal's, else COLUMNS, else 100", () => {
    expect(outputColumns({ columns: 132 }, { COLUMNS: "80" })).toBe(132);
    expect(outputColumns({}, { COLUMNS: "80" })).toBe(80);
    expect(outputColumns({}, { COLUMNS: "wide" })).toBe(100);
    expect(outputColumns({}, {})).toBe(100);
  });

  it("narrows the widest columns first, so short ones keep their width", () => {
    // Borders: 4 columns take 5; 3 + 10 + 60 + 50 + 5 = 128 → 80.
    const widths = fitColumnWidths([3, 10, 60, 50], 80);
    expect(widths.reduce((sum, width) => sum + width, 0) + 5).toBe(80);
    expect(widths.slice(0, 2)).toEqual([3, 10]);
  });

  it("renders a table of long ids within the width, the ids broken rather than cut", () => {
    const id = "0252dc6b-d33d-4a79-9af3-0c806d8417e3";
    const text = renderTerminal(
      { title: "t", blocks: [{ kind: "table", head: ["Server", "Reasons"], rows: [[id, `${id} ${id} ${id}`]] }] },
      { color: false, columns: 50 },
    );
    expect(widest(text).width).toBeLessThanOrEqual(50);
    expect(text.replace(/[│\s]/g, "")).toContain(`${id}${id}`);
  });
});

describe("the progress line", () => {
  const snapshot: ProgressSnapshot = {
    servers: 64,
    states: { protected: 33, failed: 1, ineligible: 28, in_progress: 2 },
    jobsInFlight: 2,
    webhooks: { received: 62, rejected: 0 },
    simulatedMs: 3_600_000,
  };

  it("says everything when there is room", () => {
    expect(progressLine(snapshot)).toBe(
      "62/64 servers final: 33 protected, 1 failed, 28 ineligible, 0 unknown · 2 in flight (in_progress 2) · 2 jobs running · 62 webhooks received · 01:00:00 simulated",
    );
  });

  it("fits the width with shorter words, keeping every count", () => {
    const line = progressLine(snapshot, 105);
    expect(stringWidth(line)).toBeLessThanOrEqual(105);
    expect(line).toBe(
      "62/64 servers final: 33 prot, 1 fail, 28 inel, 0 unk · 2 in flight · 2 jobs · 62 hooks · 01:00:00 sim",
    );
  });

  it("is cut with … only when even the short words do not fit", () => {
    const line = progressLine(snapshot, 60);
    expect(stringWidth(line)).toBe(60);
    expect(line.endsWith("…")).toBe(true);
    expect(line.startsWith("62/64 servers final: 33 prot, 1 fail, 28 inel, 0 unk")).toBe(true);
  });
});

describe("Ctrl+C", () => {
  it("lets the command clear its progress line before the interrupted message", async () => {
    let stderr = "";
    const signals = new EventEmitter();
    const io = {
      stdout: { write: () => undefined },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      signals: {
        on: (event: "SIGINT" | "SIGTERM", listener: () => void) => signals.on(event, listener),
        off: (event: "SIGINT" | "SIGTERM", listener: () => void) => signals.off(event, listener),
      },
    };
    const drawing = {
      register(program: Command, context: CliContext) {
        program.command("draw").action(async () => {
          context.stderr.write("\r12/58 servers final");
          context.shutdown.addEventListener("abort", () => context.stderr.write("\r\u001b[2K"));
          await new Promise(() => undefined);
        });
      },
    };
    const run = runInProcess(["draw"], io, [drawing]);
    await expect.poll(() => stderr).toContain("servers final");
    signals.emit("SIGINT");
    expect(await run).toBe(130);
    expect(stderr).toBe("\r12/58 servers final\r\u001b[2Ksdrs-autoprotect: interrupted (SIGINT)\n");
  });
});
