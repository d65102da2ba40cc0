/**
 * `sdrs-autoprotect plan`: the dry run over the sample estate, in process (test/cli/helpers.ts). Every
 * tagged server gets a verdict, calls respect the batch limit, nothing is created, and the cloud's
 * failures map to exit 3.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PROTECT_TAG_KEY } from "../../lib/config/targets.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import * as z from "../../lib/zod.ts";
import { cleanEnv, closedPort, killSpawned, runCli, simulatorEnv, spawnCli } from "./helpers.ts";

const estate = loadEstate(SAMPLE_ESTATE_PATH);
const taggedServers = estate.servers.filter((server) => server.tags[DEFAULT_PROTECT_TAG_KEY] !== undefined);
const serverNamed = (name: string) => {
  const server = estate.servers.find((candidate) => candidate.name === name);
  if (server === undefined) throw new Error(`sample estate has no server ${name}`);
  return server;
};
const PG_WEB = "523ab8ad-3759-4933-9436-4cf4ebb20867";

/** The parts of `plan --json` these tests read. */
const dryRunJson = z.object({
  dryRun: z.literal(true),
  cloud: z.object({ endpoint: z.string(), simulator: z.boolean() }),
  batchLimit: z.number(),
  summary: z.object({ targets: z.number(), servers: z.number(), eligible: z.number(), calls: z.number() }),
  targets: z.array(
    z.object({
      target: z.nullable(z.string()),
      protectionGroup: z.nullable(z.object({ id: z.string(), name: z.string() })),
      verdicts: z.array(
        z.object({
          serverId: z.string(),
          verdict: z.enum(["eligible", "adopt", "ineligible", "deferred"]),
          reasons: z.array(z.object({ code: z.string() })),
        }),
      ),
      calls: z.array(
        z.object({ kind: z.enum(["single", "batch"]), serverIds: z.array(z.string()), request: z.unknown() }),
      ),
    }),
  ),
});

function parsePlan(stdout: string) {
  return dryRunJson.parse(JSON.parse(stdout));
}

describe("sdrs-autoprotect plan --json over the sample estate (in-process simulator)", () => {
  let plan: z.infer<typeof dryRunJson>;
  let stderr: string;

  beforeAll(async () => {
    const result = await runCli(["plan", "--json"]);
    expect(result.code).toBe(0);
    plan = parsePlan(result.stdout);
    stderr = result.stderr;
  });

  it("says it planned against the in-process simulator because no cloud is configured", () => {
    expect(plan.cloud.simulator).toBe(true);
    expect(stderr.replace(/\s+/g, " ")).toContain(
      "No SDRS_ENDPOINT or HUAWEICLOUD_REGION set: planning against an in-process simulator with the sample estate.",
    );
  });

  it("gives every tagged server exactly one verdict, and no untagged server any", () => {
    const verdictIds = plan.targets.flatMap((target) => target.verdicts.map((verdict) => verdict.serverId));
    expect(verdictIds.sort()).toEqual(taggedServers.map((server) => server.id).sort());
    expect(plan.summary.servers).toBe(taggedServers.length);
  });

  it("groups servers by their tag value: target names and protection group ids", () => {
    expect(plan.targets.map((target) => target.target)).toEqual([
      "web",
      PG_WEB,
      "analytics",
      "db",
      "eeb857c3-2690-4d3f-a338-4b8f346e1bb9",
      "bae4c87d-4551-4c3b-9410-d88d3130781b",
      "01e1b15b-a18f-42b9-9b60-d1bcfe9090ad",
    ]);
    const web = plan.targets.find((target) => target.target === "web");
    expect(web?.protectionGroup).toMatchObject({ id: PG_WEB, name: "pg-web" });
  });

  it("plans batches of at most 5 servers, each eligible server in exactly one call", () => {
    for (const target of plan.targets) {
      const eligible = target.verdicts
        .filter((verdict) => verdict.verdict === "eligible")
        .map((verdict) => verdict.serverId);
      const called = target.calls.flatMap((call) => call.serverIds);
      expect(called.sort()).toEqual(eligible.sort());
      for (const call of target.calls) expect(call.serverIds.length).toBeLessThanOrEqual(5);
    }
    expect(plan.summary.calls).toBeGreaterThan(0);
  });

  it("reports a tag value that is neither a target nor a group as INELIGIBLE_TARGET_UNKNOWN", () => {
    const analytics = plan.targets.find((target) => target.target === "analytics");
    expect(analytics?.protectionGroup).toBeNull();
    expect(analytics?.verdicts).toEqual([
      expect.objectContaining({
        serverId: serverNamed("analytics-01").id,
        verdict: "ineligible",
        reasons: [expect.objectContaining({ code: "INELIGIBLE_TARGET_UNKNOWN" })],
      }),
    ]);
  });

  it("gives the planner's reasons, e.g. INELIGIBLE_VPC_MISMATCH for a server in another VPC", () => {
    const web = plan.targets.find((target) => target.target === "web");
    const devWeb = web?.verdicts.find((verdict) => verdict.serverId === serverNamed("dev-web-01").id);
    expect(devWeb).toMatchObject({ verdict: "ineligible", reasons: [{ code: "INELIGIBLE_VPC_MISMATCH" }] });
  });
});

describe("sdrs-autoprotect plan against a configured endpoint", () => {
  let simulator: Simulator;

  beforeAll(async () => {
    simulator = await startSimulator({ estate });
  });
  afterAll(async () => {
    await simulator.close();
  });

  it("reads the project once for all targets and creates nothing", async () => {
    simulator.resetCounts();
    const result = await runCli(["plan", "--json"], simulatorEnv(simulator.url));
    expect(result.code).toBe(0);
    const plan = parsePlan(result.stdout);
    expect(plan.cloud).toEqual({ endpoint: simulator.url, simulator: false });
    expect(result.stderr).toBe("");
    const counts = simulator.counts();
    // One project listing each, shared by the six targets (small targets read volumes per server instead).
    expect(counts.listServersDetails).toBe(1);
    expect(counts.listProtectedInstances).toBe(1);
    for (const create of [
      "createProtectedInstance",
      "batchCreateProtectedInstances",
      "createProtectionGroup",
      "protectionGroupAction",
    ]) {
      expect(counts[create]).toBeUndefined();
    }
  });

  it("--batch-limit 2 keeps every call to 2 servers", async () => {
    const result = await runCli(["plan", "--json", "--batch-limit", "2"], simulatorEnv(simulator.url));
    const plan = parsePlan(result.stdout);
    expect(plan.batchLimit).toBe(2);
    const sizes = plan.targets.flatMap((target) => target.calls.map((call) => call.serverIds.length));
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
  });

  it("--target web --servers plans exactly the servers given, for that target", async () => {
    const ids = [serverNamed("web-01").id, serverNamed("intranet-01").id];
    const result = await runCli(
      ["plan", "--json", "--target", "web", "--servers", ids.join(",")],
      simulatorEnv(simulator.url),
    );
    const plan = parsePlan(result.stdout);
    expect(plan.targets.map((target) => target.target)).toEqual(["web"]);
    expect(plan.targets[0]?.verdicts.map((verdict) => [verdict.serverId, verdict.verdict])).toEqual([
      [ids[0], "eligible"],
      [ids[1], "eligible"],
    ]);
  });

  it("--target naming neither a configured target nor a protection group exits 2, as onboard does", async () => {
    const result = await runCli(["plan", "--json", "--target", "nosuch"], simulatorEnv(simulator.url));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      '--target: "nosuch" is neither a target of events/targets.sample.json (web, db) nor the id of a protection group in the project',
    );
  });

  it("--target given as a protection group id of the project is planned", async () => {
    const result = await runCli(
      ["plan", "--json", "--target", PG_WEB, "--servers", serverNamed("intranet-01").id],
      simulatorEnv(simulator.url),
    );
    expect(result.code).toBe(0);
    expect(parsePlan(result.stdout).targets.map((target) => target.target)).toEqual([PG_WEB]);
  });

  it("--servers without --target uses each server's tag, and reports an untagged one as INELIGIBLE_NOT_TAGGED", async () => {
    const ids = [serverNamed("db-01").id, serverNamed("intranet-02").id];
    const result = await runCli(["plan", "--json", "--servers", ids.join(",")], simulatorEnv(simulator.url));
    const plan = parsePlan(result.stdout);
    expect(plan.targets.map((target) => [target.target, target.verdicts.map((verdict) => verdict.serverId)])).toEqual([
      ["db", [ids[0]]],
      [null, [ids[1]]],
    ]);
    expect(plan.targets[1]?.verdicts[0]?.reasons[0]?.code).toBe("INELIGIBLE_NOT_TAGGED");
  });

  it("prints a table per target and the totals for people", async () => {
    const result = await runCli(["plan", "--target", "db"], simulatorEnv(simulator.url));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Dry run: nothing is created or changed.");
    expect(result.stdout).toContain(
      "Target db → protection group pg-db (eeb857c3-2690-4d3f-a338-4b8f346e1bb9), status protected: 12 servers",
    );
    expect(result.stdout).toContain("INELIGIBLE_AZ_MISMATCH");
    expect(result.stdout).toMatch(
      /^Total: 12 servers in 1 target: 5 adopted \(already protected\), 5 eligible in 1 call \(1 batch, 0 single\), 1 deferred, 1 ineligible$/m,
    );
  });

  it("exits 3 with one line naming the credentials when the cloud refuses them, never printing the SK", async () => {
    const wrongSk = "definitely-not-the-simulator-sk";
    const result = await runCli(["plan"], simulatorEnv(simulator.url, { HUAWEICLOUD_SDK_SK: wrongSk }));
    expect(result.code).toBe(3);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: cloud API error: listServersDetails failed with APIGW\.\d+ \(HTTP 401\)/);
    expect(result.stderr).toContain("check HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK / HUAWEICLOUD_SDK_PROJECT_ID");
    expect(result.stdout + result.stderr).not.toContain(wrongSk);
  });

  // In process the interrupted command would go on in the background; the bin exits, its request unanswered.
  describe("Ctrl+C (spawned: a real SIGINT must end the process at once, a request still in flight)", () => {
    it("exits 130 when interrupted while waiting for the cloud", async () => {
      simulator.faults.set({ latencyMs: 60_000 });
      simulator.resetCounts();
      const cli = spawnCli(["plan"], simulatorEnv(simulator.url));
      try {
        // Interrupt once the first request has reached the (now very slow) cloud.
        while ((simulator.counts().listServersDetails ?? 0) === 0 && cli.child.exitCode === null)
          await new Promise((resolve) => setTimeout(resolve, 20));
        cli.child.kill("SIGINT");
        const finished = await cli.finished;
        expect(finished.code).toBe(130);
        expect(finished.stderr).toBe("sdrs-autoprotect: interrupted (SIGINT)\n");
      } finally {
        killSpawned(cli);
        simulator.faults.clear();
      }
    });
  });
});

describe("sdrs-autoprotect plan: configuration and reachability errors", () => {
  it("exits 3 with a clear message when SDRS_ENDPOINT does not answer", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(["plan"], simulatorEnv(url, { SDRS_RETRY_MAX_ATTEMPTS: "1" }));
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^error: cloud API error: listServersDetails failed with NETWORK_ERROR \(no HTTP answer\): .*ECONNREFUSED/,
    );
    expect(result.stderr).toContain(
      "is the endpoint right and reachable? check SDRS_ENDPOINT / ECS_ENDPOINT / EVS_ENDPOINT or HUAWEICLOUD_REGION",
    );
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stdout).toBe("");
  });

  it("exits 2 naming each variable that breaks a rule", async () => {
    const result = await runCli(
      ["plan"],
      cleanEnv({ SDRS_ENDPOINT: "sdrs.example", HUAWEICLOUD_SDK_AK: "AK", HUAWEICLOUD_SDK_SK: "a-secret-value" }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("HUAWEICLOUD_SDK_PROJECT_ID: required");
    expect(result.stderr).toContain("SDRS_ENDPOINT: must be an http(s) URL");
    expect(result.stderr).not.toContain("a-secret-value");
  });

  it("exits 2 naming SDRS_TARGETS_FILE when it cannot be read", async () => {
    const result = await runCli(["plan"], cleanEnv({ SDRS_TARGETS_FILE: "no/such/targets.json" }));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: SDRS_TARGETS_FILE: cannot read no/such/targets.json (ENOENT) [CONFIG_INVALID]\n",
    );
  });
});
