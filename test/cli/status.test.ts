/**
 * `sdrs-autoprotect status`, in process (test/cli/helpers.ts): after an `onboard` run (against the in-process simulator, which is
 * what onboard uses when no cloud is configured), it lists the request and shows its servers from the
 * sqlite state, without calling any cloud.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusListSchema, statusRequestSchema } from "../../lib/cli/report/requests.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { runCli } from "./helpers.ts";

const estate = loadEstate(SAMPLE_ESTATE_PATH);
function idOf(name: string): string {
  const server = estate.servers.find((candidate) => candidate.name === name);
  if (server === undefined) throw new Error(`no server ${name} in the sample estate`);
  return server.id;
}

const directory = mkdtempSync(join(tmpdir(), "sdrs-status-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("sdrs-autoprotect status after onboard", () => {
  const state = join(directory, "state.sqlite");
  let requestId: string;

  beforeAll(async () => {
    const csv = join(directory, "servers.csv");
    writeFileSync(csv, ["server_id", idOf("web-01"), idOf("locked-01"), idOf("dev-web-01")].join("\n"));
    const onboard = await runCli(["onboard", "--target", "web", "--file", csv, "--state", state]);
    expect(onboard.stderr.replace(/\s+/g, " ")).toContain(
      "onboarding against an in-process simulator with the sample estate",
    );
    expect(onboard.code).toBe(1);
    requestId = /Onboarding request ([0-9a-f-]{36})/.exec(onboard.stderr)?.[1] ?? "";
    expect(requestId).not.toBe("");
  });

  it("lists the onboarding request with its target, source, times and counts", async () => {
    const table = await runCli(["status", "--state", state]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`Onboarding requests in ${state}`);
    expect(table.stdout).toMatch(
      new RegExp(`│ ${requestId} │ web +│ cli +│ \\S+Z │ \\S+Z │ 3: 1 protected, 2 ineligible +│`),
    );

    const json = statusListSchema.parse(JSON.parse((await runCli(["status", "--state", state, "--json"])).stdout));
    expect(json.requests).toEqual([
      {
        requestId,
        target: "web",
        source: "cli",
        createdAt: expect.any(String),
        completedAt: expect.any(String),
        servers: 3,
        counts: { protected: 1, failed: 0, ineligible: 2, unknown: 0, total: 3 },
      },
    ]);
  });

  it("shows each server of a request with its state, protected instance and reasons", async () => {
    const table = await runCli(["status", requestId, "--state", state]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`Onboarding request ${requestId}`);
    expect(table.stdout).toMatch(new RegExp(`│ ${idOf("web-01")} │ [0-9a-f-]{36} │ job [0-9a-f]{32}`));
    expect(table.stdout).toMatch(new RegExp(`│ ${idOf("locked-01")} │ INELIGIBLE_SERVER_LOCKED \\(SDRS\\.1357\\)`));
    expect(table.stdout).toContain("3 servers: 1 protected, 0 failed, 2 ineligible, 0 unknown");

    const json = statusRequestSchema.parse(
      JSON.parse((await runCli(["status", requestId, "--state", state, "--json"])).stdout),
    );
    expect(
      json.servers.map((server) => [server.serverId, server.state, server.reasons.map((reason) => reason.code)]),
    ).toEqual([
      [idOf("web-01"), "protected", []],
      [idOf("locked-01"), "ineligible", ["INELIGIBLE_SERVER_LOCKED"]],
      [idOf("dev-web-01"), "ineligible", ["INELIGIBLE_VPC_MISMATCH"]],
    ]);
    expect(json.servers[0]?.protectedInstanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.summary).toEqual({ servers: 3, protected: 1, failed: 0, ineligible: 2, unknown: 0, notFinished: 0 });
  });

  it("exits 2 naming an unknown request id, and a state file that does not exist", async () => {
    const unknown = await runCli(["status", "no-such-request", "--state", state]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`error: request-id: no onboarding request "no-such-request" in ${state}`);
    const missing = await runCli(["status", "--state", join(directory, "missing.sqlite")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: --state: no state file at");
  });
});
