/**
 * `sdrs-autoprotect coverage`, run in process (test/cli/helpers.ts): over the sample estate's drift cases (in-process
 * simulator) and over a fully covered estate on a simulator the test starts.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEstate } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import { runCli, simulatorEnv } from "./helpers.ts";

interface CoverageJson {
  ok: boolean;
  totals: {
    servers: number;
    fully: number;
    partially: number;
    not: number;
    disksAttached: number;
    disksReplicated: number;
  };
  targets: { target: string | null; servers: number; fully: number }[];
  gaps: {
    serverName: string;
    code: string;
    volumeId?: string;
    replicationPairId?: string;
    faultLevel?: string;
    device?: string;
    sizeGb?: number;
  }[];
}

describe("sdrs-autoprotect coverage over the sample estate", () => {
  let json: CoverageJson;
  let code: number | null;
  let html: string;

  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), "coverage-")), "coverage.html");
    const result = await runCli(["coverage", "--json", "--html", file]);
    code = result.code;
    json = JSON.parse(result.stdout) as CoverageJson;
    html = readFileSync(file, "utf8");
  });

  it("exits 1 because there are gaps", () => {
    expect(code).toBe(1);
    expect(json.ok).toBe(false);
  });

  it("names every drifted disk and pair with its code", () => {
    const drift = json.gaps
      .filter((gap) => gap.code !== "COVERAGE_NOT_PROTECTED")
      .map((gap) => [gap.serverName, gap.code]);
    expect(drift).toEqual([
      ["legacy-01", "COVERAGE_REPLICATION_NOT_STARTED"],
      ["drift-disk-01", "COVERAGE_DISK_UNREPLICATED"],
      ["drift-fault-01", "COVERAGE_PAIR_FAULT"],
      ["drift-invalid-01", "COVERAGE_PAIR_INVALID"],
      ["drift-grown-01", "COVERAGE_DISK_GROWN"],
      ["drift-untagged-01", "COVERAGE_UNTAGGED_BUT_PROTECTED"],
      ["drift-retagged-01", "COVERAGE_TARGET_CHANGED"],
      ["erp-app-01", "COVERAGE_FAILED_OVER"],
      ["crm-db-01", "COVERAGE_PROTECTION_IN_PROGRESS"],
    ]);
    // Drift first, then the servers onboarding still has to protect.
    expect(json.gaps.at(-1)?.code).toBe("COVERAGE_NOT_PROTECTED");
    expect(json.gaps[0]?.code).toBe("COVERAGE_REPLICATION_NOT_STARTED");
    const byCode = (wanted: string) => json.gaps.find((gap) => gap.code === wanted);
    expect(byCode("COVERAGE_DISK_UNREPLICATED")).toMatchObject({
      volumeId: expect.any(String),
      device: "/dev/vdb",
      sizeGb: 50,
    });
    expect(byCode("COVERAGE_PAIR_FAULT")).toMatchObject({
      faultLevel: "2",
      replicationPairId: expect.any(String),
      volumeId: expect.any(String),
    });
    expect(byCode("COVERAGE_PAIR_INVALID")).toMatchObject({ replicationPairId: expect.any(String) });
    expect(byCode("COVERAGE_DISK_GROWN")).toMatchObject({ sizeGb: 80 });
  });

  it("counts per target: servers fully / partially / not protected and disks replicated of disks attached", () => {
    const db = json.targets.find((target) => target.target === "db");
    expect(db).toMatchObject({ servers: 12, fully: 1 });
    expect(json.totals.servers).toBe(json.targets.reduce((sum, target) => sum + target.servers, 0));
    expect(json.totals.disksReplicated).toBeLessThan(json.totals.disksAttached);
  });

  it("--target keeps the servers tagged for it or protected in its group", async () => {
    const result = await runCli(["coverage", "--json", "--target", "db"]);
    expect(result.code).toBe(1);
    const db = JSON.parse(result.stdout) as CoverageJson & { servers: { serverName: string; target: string | null }[] };
    // drift-untagged-01 and drift-retagged-01 carry no db tag but are protected in pg-db.
    expect(db.servers.map((server) => server.target ?? "(none)").sort()).toEqual(
      [...Array(12).fill("db"), "(none)", "web"].sort(),
    );
    expect(db.gaps.map((gap) => gap.serverName)).not.toContain("erp-app-01");
  });

  it("writes a self-contained HTML page: an inline SVG chart and the gap table, no external assets", () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("<svg");
    expect(html).toContain("COVERAGE_DISK_UNREPLICATED");
    expect(html).not.toMatch(/<script|<link|\bsrc=|\bhref=|url\(/i);
  });
});

describe("sdrs-autoprotect coverage when everything is covered", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      estate: parseEstate({
        servers: [
          {
            id: "s-1",
            name: "app-01",
            az: "az-1",
            vpcId: "vpc-1",
            flavor: "s6.large.2",
            tags: { sdrs_protect: "app" },
            volumes: [{ id: "v-1", bootIndex: 0 }, { id: "v-2" }],
          },
          { id: "s-1-dr", name: "app-01", status: "SHUTOFF", az: "az-2", vpcId: "vpc-1", flavor: "s6.large.2" },
        ],
        volumes: [{ id: "v-1" }, { id: "v-2" }],
        activeDomains: [{ id: "d-1", name: "domain", localAz: "az-1", remoteAz: "az-2" }],
        protectionGroups: [
          {
            id: "g-1",
            name: "pg",
            status: "protected",
            sourceAz: "az-1",
            targetAz: "az-2",
            vpcId: "vpc-1",
            domainId: "d-1",
          },
        ],
        protectedInstances: [
          {
            id: "pi-1",
            name: "app-01",
            groupId: "g-1",
            sourceServerId: "s-1",
            targetServerId: "s-1-dr",
            status: "protected",
          },
        ],
      }),
    });
  });
  afterAll(() => sim.close());

  it("exits 0 and says there are no gaps", async () => {
    const env = simulatorEnv(sim.url, {
      SDRS_TARGETS_JSON: JSON.stringify({ targets: { app: { protectionGroup: { id: "g-1" } } } }),
    });
    const result = await runCli(["coverage", "--no-color"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("no gaps");
    expect(result.stdout).toMatch(/│ app\s+│ 1\s+│ 1\s+│ 0\s+│ 0\s+│ 2 of 2 \(100 %\)/);
  });
});
