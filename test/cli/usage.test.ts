/**
 * The program as a whole: help with examples for every command, --version, colour rules, and usage
 * errors that exit 2 naming the flag.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ANSI, cleanEnv, runCli } from "./helpers.ts";

const packageVersion = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

describe("sdrs-autoprotect --help", () => {
  it("lists every command, the exit codes and examples, and exits 0", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    for (const command of ["start", "onboard", "status", "plan", "sim", "webhooks"])
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(result.stdout).toContain("Examples:");
    expect(result.stdout).toMatch(/^ {2}2 {4}usage or configuration error/m);
    expect(result.stdout).toMatch(/^ {2}3 {4}the cloud API is unreachable/m);
    expect(result.stdout).toMatch(/^ {2}130 {2}interrupted/m);
    expect(result.stderr).toBe("");
  });

  it.each([
    [["plan"], "plan --target web"],
    [["sim"], "sim --fast"],
    [["webhooks"], "webhooks secret"],
    [["webhooks", "listen"], "webhooks listen --secret"],
    [["webhooks", "secret"], "webhooks secret --bytes 48"],
    [["start"], "start"],
    [["onboard"], "onboard --target web --file servers.csv"],
    [["status"], "status"],
  ])("%j --help shows examples", async (command, example) => {
    const result = await runCli([...command, "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Examples:");
    expect(result.stdout).toContain(`$ sdrs-autoprotect ${example}`);
  });

  it("--version prints the version of package.json", async () => {
    const result = await runCli(["--version"]);
    expect(result).toMatchObject({ code: 0, stdout: `${packageVersion}\n` });
  });
});

describe("usage errors exit 2 with one line naming the flag", () => {
  it("rejects an unknown option", async () => {
    const result = await runCli(["plan", "--bogus"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("error: unknown option '--bogus' (see --help)\n");
    expect(result.stdout).toBe("");
  });

  it("rejects a port that is not a number, with the rule", async () => {
    const result = await runCli(["sim", "--port", "eighty"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "option '--port <port>' argument 'eighty' is invalid. must be a whole number from 0 to 65535",
    );
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("rejects a batch limit of 0", async () => {
    const result = await runCli(["plan", "--batch-limit", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "'--batch-limit <n>' argument '0' is invalid. must be a whole number from 1 to 1000",
    );
  });

  it("rejects an unknown command, suggesting the nearest", async () => {
    const result = await runCli(["plna"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'plna'");
    expect(result.stderr).toContain("Did you mean plan?");
  });

  it("shows the help on stderr and exits 2 when no command is given", async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Usage: sdrs-autoprotect");
    expect(result.stdout).toBe("");
  });
});

describe("colour", () => {
  it("is off when output is not a terminal", async () => {
    const result = await runCli(["webhooks", "--help"]);
    expect(result.stdout).not.toMatch(ANSI);
  });

  it("is on with FORCE_COLOR, and --no-color or NO_COLOR turn it off again", async () => {
    const forced = await runCli(["webhooks", "--help"], cleanEnv({ FORCE_COLOR: "1" }));
    expect(forced.stdout).toMatch(ANSI);
    const flagged = await runCli(["webhooks", "--help", "--no-color"], cleanEnv({ FORCE_COLOR: "1" }));
    expect(flagged.stdout).not.toMatch(ANSI);
    const noColor = await runCli(["webhooks", "--help"], cleanEnv({ FORCE_COLOR: "1", NO_COLOR: "1" }));
    expect(noColor.stdout).not.toMatch(ANSI);
  });
});
