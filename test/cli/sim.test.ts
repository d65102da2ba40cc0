/**
 * `sdrs-autoprotect sim`: the URL is the first line, the simulator answers signed requests with the
 * credentials it announced, the SK is never printed, and SIGINT/SIGTERM close it with exit 0. In process
 * (test/cli/helpers.ts), the signals from its fake signal source; a real SIGTERM to the bin is
 * test/cli/bin.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { CloudClient } from "../../lib/sdrs/client.ts";
import { loadCloudConfig } from "../../lib/sdrs/config.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { cleanEnv, type Running, runCli, startCli } from "./helpers.ts";

const running: Running[] = [];

function start(args: readonly string[], env = cleanEnv()): Running {
  const cli = startCli(args, env);
  running.push(cli);
  return cli;
}

afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
});

describe("sdrs-autoprotect sim", () => {
  it("prints exactly the base URL first, answers signed requests, and exits 0 on SIGINT", async () => {
    const cli = start(["sim", "--port", "0"]);
    const url = await cli.firstLine;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const counts = await fetch(`${url}/__sim/counts`);
    expect(counts.status).toBe(200);
    const groups = await new CloudClient(simulatorCloudConfig(url)).listProtectionGroups();
    expect(groups.map((group) => group.name).sort()).toEqual([
      "pg-broken",
      "pg-db",
      "pg-erp",
      "pg-reporting",
      "pg-small",
      "pg-web",
    ]);

    await cli.lineMatching(/Stop with Ctrl\+C/);
    expect(cli.stdout()).toContain("73 servers (59 tagged sdrs_protect), 6 protection groups");
    expect(cli.stdout()).toContain(`export SDRS_ENDPOINT=${url} ECS_ENDPOINT=${url} EVS_ENDPOINT=${url}`);
    expect(cli.stdout()).toContain(
      `HUAWEICLOUD_SDK_AK=${SIMULATOR_DEFAULTS.accessKey} HUAWEICLOUD_SDK_PROJECT_ID=${SIMULATOR_DEFAULTS.projectId}`,
    );
    expect(cli.stdout()).not.toContain(SIMULATOR_DEFAULTS.secretKey);

    cli.signal("SIGINT");
    const finished = await cli.finished;
    expect(finished.code).toBe(0);
    expect(finished.stderr).toContain("SIGINT: stopping the simulator");
    await expect(fetch(`${url}/__sim/counts`)).rejects.toThrow();
  });

  it("accepts the credentials of the client's variables, prints the AK and project but never the SK, and stops on SIGTERM", async () => {
    const credentials = {
      HUAWEICLOUD_SDK_AK: "CLITESTACCESSKEY",
      HUAWEICLOUD_SDK_SK: "cli-test-secret-key-do-not-print",
      HUAWEICLOUD_SDK_PROJECT_ID: "clitestproject01",
    };
    const cli = start(["sim", "--verbose"], cleanEnv(credentials));
    const url = await cli.firstLine;
    await cli.lineMatching(/Stop with Ctrl\+C/);
    const client = new CloudClient(
      loadCloudConfig({ ...credentials, SDRS_ENDPOINT: url, ECS_ENDPOINT: url, EVS_ENDPOINT: url }),
    );
    expect((await client.listServers()).length).toBe(73);
    // The simulator's defaults no longer open it.
    await expect(
      new CloudClient(simulatorCloudConfig(url), { retry: { maxAttempts: 1 } }).listServers(),
    ).rejects.toMatchObject({ status: 401 });

    cli.signal("SIGTERM");
    const finished = await cli.finished;
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain(
      "credentials: AK CLITESTACCESSKEY, project clitestproject01, SK from HUAWEICLOUD_SDK_SK",
    );
    // --verbose: one access-log line per request, on stderr.
    expect(finished.stderr).toMatch(/GET \/v1\/clitestproject01\/cloudservers\/detail\S* → 200/);
    expect(finished.stdout + finished.stderr).not.toContain(credentials.HUAWEICLOUD_SDK_SK);
  });

  it("--fast finishes a protection job in seconds", async () => {
    const cli = start(["sim", "--fast"]);
    const url = await cli.firstLine;
    const client = new CloudClient(simulatorCloudConfig(url));
    const { jobId } = await client.createProtectedInstance({
      server_group_id: "523ab8ad-3759-4933-9436-4cf4ebb20867",
      server_id: "403b603d-1d91-42cc-a357-81f3c2daf43f",
      name: "web-01",
    });
    // Polls until the job ends; --fast bounds a single create to 3 s.
    const deadline = Date.now() + 10_000;
    let status = (await client.getJob(jobId)).status;
    while (status !== "SUCCESS" && status !== "FAIL" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await client.getJob(jobId)).status;
    }
    expect(status).toBe("SUCCESS");
  });

  it("starts with the faults given by --faults, as GET /__sim/faults shows", async () => {
    const cli = start(["sim", "--faults", '{"serverError":{"next":2,"status":503}}']);
    const url = await cli.firstLine;
    const faults = (await (await fetch(`${url}/__sim/faults`)).json()) as unknown;
    expect(faults).toEqual({ serverError: { next: 2, status: 503 } });
  });

  it("refuses fault settings that break the schema, naming the field (exit 2)", async () => {
    const result = await runCli(["sim", "--faults", '{"throttle":{"next":-1}}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --faults\.throttle\.next: .*>=0/);
    expect(result.stdout).toBe("");
  });

  it("refuses an estate file it cannot read (exit 2, naming --estate)", async () => {
    const result = await runCli(["sim", "--estate", "no/such/estate.json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("error: --estate: cannot read no/such/estate.json (ENOENT) [USAGE]\n");
  });

  it("refuses a port that is already taken (exit 2, naming --port)", async () => {
    const first = start(["sim"]);
    const port = new URL(await first.firstLine).port;
    const result = await runCli(["sim", "--port", port]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `cannot listen on 127.0.0.1:${port}: the address is already in use (--host/--port)`,
    );
  });
});
