/**
 * The bin itself, spawned: `node bin/sdrs-autoprotect.js` and its process shell lib/cli/main.ts. Every
 * other CLI test runs the program in process (test/cli/helpers.ts); these prove what only a real process
 * shows: the exit code reaching the shell, stdout flushed before the exit, a reader that goes away (EPIPE),
 * and real SIGINT/SIGTERM. The Node version check is test/cli/node-version.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startReportSchema } from "../../lib/cli/report/start-report.ts";
import { generateWebhookSecret } from "../../lib/notify/receiver.ts";
import { protectedEvent } from "../notify/helpers.ts";
import { killSpawned, runBin, type Spawned, sendWebhook as send, spawnCli } from "./helpers.ts";

const directory = mkdtempSync(join(tmpdir(), "sdrs-bin-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const spawned: Spawned[] = [];
afterEach(() => {
  for (const cli of spawned.splice(0)) killSpawned(cli);
});

function spawnTracked(args: readonly string[]): Spawned {
  const cli = spawnCli(args);
  spawned.push(cli);
  return cli;
}

describe("node bin/sdrs-autoprotect.js (spawned: the real entry point)", () => {
  it("--help prints the help on stdout, nothing on stderr (no ExperimentalWarning), and exits 0", async () => {
    const run = await runBin(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: sdrs-autoprotect /);
    expect(run.stdout).toMatch(/^ {2}onboard\b/m);
    expect(run.stderr).toBe("");
  });

  it("gives the program's exit code to the shell: 2 for a usage error, with its one line", async () => {
    const run = await runBin(["plan", "--bogus"]);
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: unknown option '--bogus' (see --help)\n",
    });
  });

  it("start --json: a whole accelerated run, its report (larger than a pipe's buffer) flushed to the last byte before the exit", async () => {
    const run = await runBin(["start", "--json", "--report", join(directory, "report.md")]);
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBeGreaterThan(65_536);
    const report = startReportSchema.parse(JSON.parse(run.stdout));
    expect(report.summary).toEqual({
      servers: 64,
      protected: 33,
      failed: 1,
      ineligible: 30,
      unknown: 0,
      notFinished: 0,
    });
  });

  it("a server goes on when its stdout reader goes away (EPIPE), and stops on a real SIGINT with exit 0", async () => {
    const secret = generateWebhookSecret();
    const cli = spawnTracked(["webhooks", "listen", "--secret", secret]);
    const url = await cli.firstLine;
    // `… | head -1`: the reader closes the pipe after the first line.
    cli.child.stdout.destroy();
    expect(await send(url, secret, protectedEvent)).toEqual({ result: "delivered", httpStatus: 200 });
    const otherServer = {
      ...protectedEvent,
      data: { ...protectedEvent.data, serverId: "8f5dd226-6cc0-4fe8-9786-b8b3359b234b", serverName: "web-02" },
    };
    expect(await send(url, secret, otherServer)).toEqual({ result: "delivered", httpStatus: 200 });
    cli.child.kill("SIGINT");
    const finished = await cli.finished;
    expect(finished.code).toBe(0);
    expect(finished.stderr).toContain("SIGINT: stopping the receiver (2 events received)");
    expect(finished.stderr).not.toMatch(/EPIPE|Error/);
  });

  it("sim stops on a real SIGTERM with exit 0, its port closed", async () => {
    const cli = spawnTracked(["sim", "--fast"]);
    const url = await cli.firstLine;
    await cli.lineMatching(/Stop with Ctrl\+C/);
    cli.child.kill("SIGTERM");
    const finished = await cli.finished;
    expect(finished.code).toBe(0);
    expect(finished.stderr).toBe("SIGTERM: stopping the simulator\n");
    await expect(fetch(`${url}/__sim/counts`)).rejects.toThrow();
  });
});
