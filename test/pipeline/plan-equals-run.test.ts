/**
 * plan = run: over generated estates (no injected faults), each server's `plan` verdict is its final
 * outcome in the local runtime — eligible and adopt ↔ protected; ineligible ↔ ineligible with the same
 * codes; deferred ↔ deferred until the deferrals are used up (then ineligible with the same codes plus
 * INELIGIBLE_STILL_DEFERRED). The plan is made first, read-only, then the run starts from reconcile.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CachedPlanReader } from "../../lib/cli/plan/cached-reader.ts";
import { planTargets } from "../../lib/cli/plan/plan-targets.ts";
import type { Verdict } from "../../lib/planning/types.ts";
import { CloudClient } from "../../lib/sdrs/client.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { type Estate, parseEstate } from "../../lib/sim/estate.ts";
import { PG_DB, PG_WEB, estate as sampleEstate, startHarness, targetsFor } from "./harness.ts";

const VPC_PROD = "a33598f5-aa68-46c6-a3b8-6892d7e5a418";
const VPC_DEV = "262625c3-8a3c-440b-825e-47037064a8a1";

interface GeneratedServer {
  target: string;
  az: string;
  vpcId: string;
  status: string;
  flavor: string;
  locked: boolean;
  /** An existing protected instance of the server: none, in pg-web, in pg-db, or in pg-db still creating. */
  protectedIn: string;
}

const generatedServer: fc.Arbitrary<GeneratedServer> = fc.record({
  target: fc.constantFrom("web", "db", "nosuch"),
  az: fc.constantFrom("eu-de-01", "eu-de-02"),
  vpcId: fc.constantFrom(VPC_PROD, VPC_PROD, VPC_DEV),
  status: fc.constantFrom("ACTIVE", "ACTIVE", "SHUTOFF", "ERROR", "BUILD"),
  flavor: fc.constantFrom("s6.large.2", "s6.large.2", "g6.xlarge.4"),
  locked: fc.boolean(),
  protectedIn: fc.constantFrom("none", "none", "none", "web", "db", "db-creating"),
});

const hex = (prefix: string, index: number) => `${prefix}-0000-4000-8000-${String(index).padStart(12, "0")}`;

function estateOf(servers: readonly GeneratedServer[]): Estate {
  return parseEstate({
    region: "eu-de",
    vpcs: sampleEstate.vpcs,
    activeDomains: sampleEstate.activeDomains,
    keyPairs: sampleEstate.keyPairs,
    protectionGroups: sampleEstate.protectionGroups.filter((group) => group.id === PG_WEB || group.id === PG_DB),
    servers: servers.map((server, index) => ({
      id: hex("5e000000", index),
      name: `gen-${index}`,
      status: server.status,
      az: server.az,
      vpcId: server.vpcId,
      flavor: server.flavor,
      keyName: "kp-linux-ops",
      locked: server.locked,
      tags: { sdrs_protect: server.target },
      volumes: [{ id: hex("70000000", index), bootIndex: 0 }],
    })),
    volumes: servers.map((_, index) => ({ id: hex("70000000", index), name: `gen-${index}-sys` })),
    protectedInstances: servers.flatMap((server, index) =>
      server.protectedIn === "none"
        ? []
        : [
            {
              id: hex("9a000000", index),
              name: `gen-${index}`,
              groupId: server.protectedIn === "web" ? PG_WEB : PG_DB,
              sourceServerId: hex("5e000000", index),
              status: server.protectedIn === "db-creating" ? "creating" : "protected",
            },
          ],
    ),
  });
}

/** What a verdict predicts the run ends as, in the shape of outcomeOfRecord. */
function predicted(verdict: Verdict): string {
  const codes = (extra: string[] = []) => [...verdict.reasons.map((reason) => reason.code), ...extra].sort().join(",");
  switch (verdict.verdict) {
    case "eligible":
    case "adopt":
      return "protected";
    case "ineligible":
      return `ineligible ${codes()}`;
    case "deferred":
      return `ineligible ${codes(["INELIGIBLE_STILL_DEFERRED"])}`;
  }
}

function outcomeOfRecord(record: { status: string; reasons: { code: string }[] } | undefined): string {
  if (record === undefined) return "no record";
  if (record.status !== "ineligible") return record.status;
  return `ineligible ${record.reasons
    .map((reason) => reason.code)
    .sort()
    .join(",")}`;
}

describe("plan = run", () => {
  it("each server's plan verdict is its final outcome in the local runtime, over generated estates", {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(generatedServer, { minLength: 1, maxLength: 6 }), async (servers) => {
        const harness = await startHarness({ estate: estateOf(servers) });
        try {
          const reader = new CachedPlanReader(
            new CloudClient(simulatorCloudConfig(harness.sim.url), { sleep: async () => {} }),
          );
          const dryRun = await planTargets(reader, { config: targetsFor(harness.receiver.url) });
          const verdicts = dryRun.targets.flatMap((target) => target.result.verdicts);
          expect(verdicts).toHaveLength(servers.length);

          await harness.runtime.reconcile();
          expect((await harness.runtime.runUntilIdle({ maxIterations: 20_000 })).ended).toBe("idle");
          const records = await harness.runtime.deps.repos.servers.getMany(verdicts.map((verdict) => verdict.serverId));
          const run = Object.fromEntries(
            verdicts.map((verdict) => [verdict.serverId, outcomeOfRecord(records.get(verdict.serverId)?.record)]),
          );
          const plan = Object.fromEntries(verdicts.map((verdict) => [verdict.serverId, predicted(verdict)]));
          expect(run).toEqual(plan);
        } finally {
          await harness.close();
        }
      }),
      { numRuns: 20, seed: 20261201 },
    );
  });
});
