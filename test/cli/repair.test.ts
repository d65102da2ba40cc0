/**
 * `sdrs-autoprotect repair`, in process (test/cli/helpers.ts) against a simulator on 127.0.0.1 with
 * short jobs: a refusal without confirmation, an interrupted run resumed without doing anything twice,
 * and the second `coverage` showing the disk replicated on its old device.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEstate } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import { killSpawned, runCli, simulatorEnv, spawnCli } from "./helpers.ts";

const estate = parseEstate({
  servers: [
    {
      id: "s-1",
      name: "db-01",
      az: "az-1",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      tags: { sdrs_protect: "db" },
      volumes: [{ id: "v-sys", bootIndex: 0 }, { id: "v-data" }, { id: "v-late" }],
    },
    { id: "s-1-dr", name: "db-01", status: "SHUTOFF", az: "az-2", vpcId: "vpc-1", flavor: "s6.large.2" },
  ],
  volumes: [{ id: "v-sys" }, { id: "v-data" }, { id: "v-late", size: 100 }],
  activeDomains: [{ id: "d-1", name: "domain", localAz: "az-1", remoteAz: "az-2" }],
  protectionGroups: [
    {
      id: "g-1",
      name: "pg-db",
      status: "protected",
      sourceAz: "az-1",
      targetAz: "az-2",
      vpcId: "vpc-1",
      domainId: "d-1",
    },
  ],
  protectedInstances: [
    { id: "pi-1", name: "db-01", groupId: "g-1", sourceServerId: "s-1", targetServerId: "s-1-dr", status: "protected" },
  ],
  // v-late was attached through ECS after protection: no pair.
  replicationPairs: [{ volumeId: "v-late", replicated: false }],
});

interface CoverageJson {
  ok: boolean;
  gaps: { code: string; volumeId?: string }[];
  servers: { serverId: string; disksAttached: number; disksReplicated: number }[];
}

describe("sdrs-autoprotect repair", () => {
  let sim: Simulator;
  let env: Record<string, string>;
  let progress: string;

  beforeEach(async () => {
    sim = await startSimulator({
      estate,
      jobDurations: {
        detachServerVolume: { minMs: 100, maxMs: 200 },
        createReplication: { minMs: 1_500, maxMs: 2_000 },
        attachReplication: { minMs: 100, maxMs: 200 },
      },
    });
    progress = join(mkdtempSync(join(tmpdir(), "repair-")), "progress.json");
    env = simulatorEnv(sim.url, {
      SDRS_TARGETS_JSON: JSON.stringify({ targets: { db: { protectionGroup: { id: "g-1" } } } }),
    });
  });
  afterEach(() => sim.close());

  it("shows the steps and refuses without confirmation when stdin is no terminal: exit 2, nothing changed", async () => {
    const result = await runCli(["repair", "--server", "s-1", "--progress", progress], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("1. detach volume v-late from server s-1");
    expect(result.stderr).toContain("on /dev/vdc");
    expect(result.stderr).toContain("REPAIR_NOT_CONFIRMED");
    expect(sim.counts().detachServerVolume).toBeUndefined();
    expect(sim.counts().createReplication).toBeUndefined();
  });

  it("refuses before detaching anything when the group could not take a new pair (produces on its DR site: SDRS.1809)", async () => {
    const failedBack = await startSimulator({
      estate: parseEstate({
        ...estate,
        protectionGroups: estate.protectionGroups.map((group) => ({
          ...group,
          priorityStation: "target" as const,
          sourceAz: "az-2",
          targetAz: "az-1",
        })),
      }),
    });
    try {
      const result = await runCli(["repair", "--server", "s-1", "--yes", "--progress", progress], {
        ...env,
        SDRS_ENDPOINT: failedBack.url,
        ECS_ENDPOINT: failedBack.url,
        EVS_ENDPOINT: failedBack.url,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("REPAIR_BLOCKED");
      expect(result.stderr).toContain("SDRS.1809");
      expect(failedBack.counts().detachServerVolume).toBeUndefined();
    } finally {
      await failedBack.close();
    }
  });

  // The interrupted run is spawned: in process it would go on in the background next to the resuming run;
  // a real SIGINT ends its process between two steps. The resuming runs are in process.
  describe("interrupted (spawned: a real SIGINT must end the run's process)", () => {
    it("resumes an interrupted run without repeating a step, and coverage then shows the disk replicated on its old device", async () => {
      const args = [
        "repair",
        "--server",
        "s-1",
        "--volume",
        "v-late",
        "--yes",
        "--poll-ms",
        "50",
        "--progress",
        progress,
      ];
      const first = spawnCli(args, env);
      try {
        // Interrupted while the create-pair job runs (its job lasts ~2 s).
        for (
          let waited = 0;
          !/2\/3 create a replication pair[^\n]*\n\s+job /.test(first.stderr()) && waited < 15_000;
          waited += 50
        )
          await sleep(50);
        expect(first.stderr()).toMatch(/2\/3 create a replication pair/);
        first.child.kill("SIGINT");
        expect((await first.finished).code).toBe(130);
      } finally {
        killSpawned(first);
      }

      const second = await runCli(args, env);
      expect(second.code).toBe(0);
      expect(second.stderr).toContain("Resuming the repair of db-01");
      expect(second.stderr).toContain(
        "1/3 detach volume v-late from server s-1 (ECS; the guest must have unmounted it: it is offline until re-attached): done earlier",
      );
      expect(second.stderr).toContain("Repaired db-01");
      expect(sim.counts()).toMatchObject({ detachServerVolume: 1, createReplication: 1, attachReplication: 1 });

      const coverage = await runCli(["coverage", "--json"], env);
      expect(coverage.code).toBe(0);
      const json = JSON.parse(coverage.stdout) as CoverageJson;
      expect(json.ok).toBe(true);
      expect(json.servers).toEqual([
        expect.objectContaining({ serverId: "s-1", disksAttached: 3, disksReplicated: 3 }),
      ]);
      const server = sim.state.servers().find((candidate) => candidate.id === "s-1");
      expect(server?.["os-extended-volumes:volumes_attached"].find((volume) => volume.id === "v-late")?.device).toBe(
        "/dev/vdc",
      );

      // A third run finds a completed progress file and nothing left to repair.
      const third = await runCli(args, env);
      expect(third.code).toBe(2);
      expect(third.stderr).toContain("REPAIR_NOTHING_TO_DO");
    }, 60_000);
  });
});
