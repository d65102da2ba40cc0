/**
 * The command's first act is to check the Node version: on a Node older than 24 (the machine's own node,
 * `npm link`, a run after `npm ci --ignore-scripts`) it says what to run instead and exits 2, where it
 * used to print an ERR_UNKNOWN_FILE_EXTENSION stack trace. Spawns a real older Node when the machine has
 * one outside node_modules/.bin.
 */
import { spawnSync } from "node:child_process";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, cleanEnv, REPO } from "./helpers.ts";

/** The first `node` on PATH (or in /usr/bin, /usr/local/bin) that is not the project's pinned Node and is older than 24. */
function olderNode(): { path: string; version: string } | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"].filter(
    (dir) => dir.length > 0 && !dir.includes("node_modules"),
  );
  for (const dir of new Set(dirs)) {
    const path = join(dir, "node");
    const probe = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 });
    const version = probe.status === 0 ? probe.stdout.trim() : "";
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (major < 24) return { path, version };
  }
  return undefined;
}

const older = olderNode();

describe("the Node version check (spawned: the bin checks before any TypeScript loads)", () => {
  it.skipIf(older === undefined)(
    `on an older Node (${older?.version ?? "none on this machine"}) says to run npx or install Node 24, and exits 2`,
    () => {
      if (older === undefined) return;
      const run = spawnSync(older.path, [BIN, "start", "--realtime"], {
        cwd: REPO,
        env: cleanEnv(),
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(run.status).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(
        [
          `sdrs-autoprotect needs Node.js 24 or newer; this is Node.js ${older.version} (${older.path}).`,
          "Inside the project, run it with the project's own Node 24 (installed by npm ci):",
          "  npx sdrs-autoprotect start --realtime",
          "Or install Node.js 24 (https://nodejs.org/, or nvm install 24) and run it again.",
          "",
        ].join("\n"),
      );
      expect(run.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|at .*\.js:\d+/);
    },
  );

  it("lets Node 24 through to the command", () => {
    const run = spawnSync(process.execPath, [BIN, "--version"], {
      cwd: REPO,
      env: cleanEnv(),
      encoding: "utf8",
      timeout: 30_000,
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
