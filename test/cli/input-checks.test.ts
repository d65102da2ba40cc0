/**
 * What people type, checked before any work: --state and --report paths (a usage error, exit 2, naming
 * the flag and the cause), every missing cloud variable at once, the servers file's faults with their
 * line. The checks themselves, and the promised exits through the CLI, in process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { parseServersFile } from "../../lib/cli/onboard/input.ts";
import { checkReportFile, checkStateFile } from "../../lib/cli/path-checks.ts";
import { cleanEnv, runCli } from "./helpers.ts";

const directory = mkdtempSync(join(tmpdir(), "sdrs-input-checks-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const csv = join(directory, "servers.csv");
writeFileSync(csv, "403b603d-1d91-42cc-a357-81f3c2daf43f\n");
const notDatabase = join(directory, "notes.txt");
writeFileSync(notDatabase, "not a database\n");
const database = join(directory, "state.sqlite");
new DatabaseSync(database).exec("CREATE TABLE t (x)");
const folder = join(directory, "folder");
mkdirSync(folder);

describe("--state", () => {
  it.each([
    ["a path under /proc", "/proc/x/s.sqlite", "--state: /proc/x/s.sqlite is under /proc, a kernel file system"],
    ["a directory", folder, `--state: ${folder} is a directory; give a file path`],
    [
      "a path under a regular file",
      join(csv, "state.sqlite"),
      `--state: ${join(csv, "state.sqlite")}: ${csv} is a file, not a directory`,
    ],
    ["a file that is not an sqlite database", notDatabase, `--state: ${notDatabase} is not an sqlite database`],
  ])("refuses %s, naming the flag and the cause", (_, path, message) => {
    expect(() => checkStateFile("--state", path, "allowed")).toThrow(message);
  });

  it("takes an sqlite database, or a new file whose directories it creates", () => {
    expect(() => checkStateFile("--state", database, "allowed")).not.toThrow();
    expect(() => checkStateFile("--state", join(directory, "new", "deeper", "state.sqlite"), "allowed")).not.toThrow();
    expect(() => checkStateFile("--state", database, "forbidden")).toThrow(`--state: ${database} exists already`);
    expect(() => checkStateFile("--state", join(directory, "none.sqlite"), "required")).toThrow(
      "--state: no state file at",
    );
  });

  it("onboard --state /proc/x/s.sqlite exits 2 at once, naming --state (a recursive mkdir there never returns)", async () => {
    const run = await runCli(["onboard", "--target", "web", "--file", csv, "--state", "/proc/x/s.sqlite"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "error: --state: /proc/x/s.sqlite is under /proc, a kernel file system; give a path on disk [USAGE]\n",
    );
  });

  it("status --state naming a file that is not a database exits 2, naming --state", async () => {
    const run = await runCli(["status", "--state", notDatabase]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: --state: ${notDatabase} is not an sqlite database`);
  });
});

describe("--report", () => {
  it("refuses a directory and a path under a regular file", () => {
    expect(() => checkReportFile("--report", folder)).toThrow(`--report: ${folder} is a directory`);
    expect(() => checkReportFile("--report", join(csv, "report.md"))).toThrow(`${csv} is a file, not a directory`);
  });

  it("start --report naming a directory exits 2 before the run, not after it", async () => {
    const run = await runCli(["start", "--report", folder]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `error: --report: ${folder} is a directory; give a file path (e.g. ${folder}/report.md) [USAGE]\n`,
    );
  });
});

describe("the cloud variables", () => {
  it("names every missing one at once: AK, SK, project id and the endpoints", async () => {
    const run = await runCli(["plan"], cleanEnv({ SDRS_ENDPOINT: "http://127.0.0.1:1" }));
    expect(run.code).toBe(2);
    for (const variable of [
      "HUAWEICLOUD_SDK_AK",
      "HUAWEICLOUD_SDK_SK",
      "HUAWEICLOUD_SDK_PROJECT_ID",
      "ECS_ENDPOINT",
      "EVS_ENDPOINT",
    ]) {
      expect(run.stderr).toContain(`${variable}: required`);
    }
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});

describe("the servers file", () => {
  const a = "403b603d-1d91-42cc-a357-81f3c2daf43f";
  const b = "8f5dd226-6cc0-4fe8-9786-b8b3359b234b";

  it.each([
    [
      "a header row without an id column",
      `name,flavorRef\nweb-01,s6.large.2\n`,
      "servers.csv line 1: the header row (name,flavorRef) has no server id column; name it server_id or id",
    ],
    [
      "the same server with two flavorRefs",
      `id,flavorRef\n${a},s6.large.2\n${b},\n${a},s6.xlarge.2\n`,
      `servers.csv line 4: ${a} is listed again with flavorRef s6.xlarge.2, but line 2 gives flavorRef s6.large.2; keep one`,
    ],
    [
      "an extra field under a one-column header",
      `server_id\n${a}\n${b},s6.large.2\n`,
      "servers.csv line 3: 2 values but the header row has 1 column",
    ],
  ])("refuses %s, naming the line", (_, text, message) => {
    expect(() => parseServersFile(text, "servers.csv")).toThrow(message);
  });

  it("still onboards a server listed twice alike once", () => {
    expect(parseServersFile(`id,flavorRef\n${a},s6.large.2\n${a},s6.large.2\n`, "servers.csv").servers).toEqual([
      { serverId: a, flavorRef: "s6.large.2" },
    ]);
  });
});
