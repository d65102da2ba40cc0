/**
 * Planner throughput: planProtection (zod parse + eligibility + packing) over 1,000 / 5,000 servers of a
 * scaled estate, lone servers and 2-server shared-disk clusters mixed. The inventory facts are read once
 * from the simulator with readInventory (as the pipeline reads them); only planProtection is timed.
 * Wall time on a shared machine is noisy: the median of several runs, for comparing sizes within a run.
 */
import { median } from "../lib/pipeline/schedule.ts";
import { readInventory } from "../lib/planning/inventory.ts";
import { planProtection } from "../lib/planning/plan.ts";
import type { PlanInputArg } from "../lib/planning/types.ts";
import { CloudClient } from "../lib/sdrs/client.ts";
import { simulatorCloudConfig } from "../lib/sim/cloud-config.ts";
import type { Estate } from "../lib/sim/estate.ts";
import { startSimulator } from "../lib/sim/server.ts";
import { PG_WEB, scaledEstate } from "./estates.ts";
import type { PlannerRow } from "./results.ts";

/** The plan input for `count` cloned pg-web servers, read from a simulator over HTTP like the pipeline does. */
async function planInputFor(base: Estate, count: number): Promise<PlanInputArg> {
  const { estate, cloneIds } = scaledEstate(base, count);
  const sim = await startSimulator({ estate });
  try {
    const cloud = new CloudClient(simulatorCloudConfig(sim.url));
    const inventory = await readInventory(cloud, { protectionGroupId: PG_WEB, serverIds: cloneIds });
    return {
      protectionGroupId: PG_WEB,
      protectionGroup: inventory.protectionGroup,
      targetName: "web",
      servers: inventory.servers,
      protectedInstances: inventory.protectedInstances,
    };
  } finally {
    await sim.close();
  }
}

export async function measurePlanner(base: Estate, sizes: readonly number[], runs: number): Promise<PlannerRow[]> {
  const rows: PlannerRow[] = [];
  for (const servers of sizes) {
    const input = await planInputFor(base, servers);
    planProtection(input); // warm-up: JIT and zod's first-parse caches are not what we measure
    const timesMs: number[] = [];
    let result = planProtection(input);
    for (let run = 0; run < runs; run++) {
      const start = performance.now();
      result = planProtection(input);
      timesMs.push(performance.now() - start);
    }
    const clusters = new Set(
      result.verdicts.flatMap((verdict) => (verdict.sharedDiskCluster ? [verdict.sharedDiskCluster.join(",")] : [])),
    );
    const medianMs = median(timesMs) ?? 0;
    rows.push({
      servers,
      sharedDiskClusters: clusters.size,
      eligible: result.verdicts.filter((verdict) => verdict.verdict === "eligible").length,
      calls: result.calls.length,
      runs,
      medianMs,
      minMs: Math.min(...timesMs),
      maxMs: Math.max(...timesMs),
      serversPerSecond: medianMs > 0 ? (servers / medianMs) * 1000 : 0,
      plansPerSecond: medianMs > 0 ? 1000 / medianMs : 0,
    });
  }
  return rows;
}
