/**
 * The request budget, pinned: a seeded 150-server wave estate (two waves, two targets, shared-disk
 * clusters, ineligible servers) protected end to end in events mode and in bulk mode, with list pages of
 * 20 so that a read of the whole project shows (150 servers are 8 ECS pages, 300 volumes 16 EVS pages).
 * Counts are deterministic for the seed; the budgets are today's counts. A per-batch full read, a tag read
 * per event, a `showServer` per shared-disk peer or a `showJob` per check coming back exceeds them.
 */
import { describe, expect, it } from "vitest";
import { waveEstate } from "../wave-estate.ts";
import { runWave, type WaveMode } from "../wave-run.ts";

const wave = waveEstate({ size: 150, waves: 2 });

/** Upper bounds per operation; an operation not listed must not be called at all. */
const BUDGET: Record<WaveMode, Record<string, number>> = {
  events: {
    batchCreateProtectedInstances: 28,
    createProtectedInstance: 2,
    // 2 onboarding batches per wave, each one scoped read (ECS by id, EVS by id: ≤ 3 pages of 20 for 50 servers).
    listServersDetails: 9,
    listVolumes: 9,
    // The in-flight view (creating + finished by id) and one project read per wave, pages of 20.
    listProtectedInstances: 109,
    showProtectionGroup: 4,
    listScalingGroups: 2,
  },
  bulk: {
    batchCreateProtectedInstances: 26,
    createProtectedInstance: 1,
    listServersDetails: 9,
    listVolumes: 9,
    listProtectedInstances: 102,
    showProtectionGroup: 4,
    listScalingGroups: 2,
  },
};

describe("the request budget on a seeded wave estate", () => {
  for (const mode of ["events", "bulk"] as const) {
    it(`${mode} mode: every server ends as before, within the budget by operation`, async () => {
      const run = await runWave(wave, mode, 11, { pageSize: 20 });
      expect(run.ended).toBe("idle");
      expect(run.outcomes).toEqual({ protected: wave.eligible, ineligible: wave.ineligible });
      expect(run.duplicateInstances).toBe(0);
      expect(run.notificationsPerServer).toEqual({ min: 1, max: 1 });
      const budget = BUDGET[mode];
      const overBudget = Object.entries(run.requests)
        .filter(([operation, requests]) => requests > (budget[operation] ?? 0))
        .map(([operation, requests]) => `${operation}: ${requests} > ${budget[operation] ?? 0}`);
      expect(overBudget).toEqual([]);
    }, 60_000);
  }
});
