/**
 * The plan for the simulator's sample estate (lib/sim/sample-estate.json), read through the real client
 * from the simulator on 127.0.0.1: every server tagged sdrs_protect, planned per tag value (targets web →
 * pg-web, db → pg-db; a group id names its group; anything else names no group). The compact rendering
 * is a reviewed file snapshot; every planned call must then be accepted by the simulator.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readInventory } from "../../lib/planning/inventory.ts";
import { planProtection } from "../../lib/planning/plan.ts";
import type { PlanResult } from "../../lib/planning/types.ts";
import { CloudClient } from "../../lib/sdrs/client.ts";
import { CloudApiError } from "../../lib/sdrs/errors.ts";
import { batchCreateRequest, createProtectedInstanceRequest, type ProtectionGroup } from "../../lib/sdrs/schemas.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";

const TAG_KEY = "sdrs_protect";
const TARGET_GROUPS: Record<string, string> = { web: "pg-web", db: "pg-db" };

let running: Simulator | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

interface TargetPlan {
  target: string;
  group: ProtectionGroup | undefined;
  groupId: string;
  result: PlanResult;
}

async function planSampleEstate() {
  running = await startSimulator({ estate: loadEstate(SAMPLE_ESTATE_PATH) });
  const client = new CloudClient(simulatorCloudConfig(running.url));
  const groups = await client.listProtectionGroups();
  const byTarget = new Map<string, string[]>();
  for (const server of await client.listServers()) {
    const target = (server.tags ?? []).find((tag) => tag.startsWith(`${TAG_KEY}=`))?.slice(TAG_KEY.length + 1);
    if (target !== undefined) byTarget.set(target, [...(byTarget.get(target) ?? []), server.id]);
  }
  const plans: TargetPlan[] = [];
  for (const [target, serverIds] of [...byTarget].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const group = groups.find((candidate) => candidate.name === TARGET_GROUPS[target] || candidate.id === target);
    const groupId = group?.id ?? target;
    const inventory = await readInventory(client, { protectionGroupId: groupId, serverIds });
    const result = planProtection({
      protectionGroupId: groupId,
      protectionGroup: inventory.protectionGroup,
      targetName: target,
      servers: inventory.servers,
      protectedInstances: inventory.protectedInstances,
    });
    plans.push({ target, group, groupId, result });
  }
  return { client, plans };
}

/** One line per server (verdict, reason codes with SDRS codes, warnings) and per call. */
function render(plans: readonly TargetPlan[]): string {
  const lines: string[] = [];
  for (const { target, group, groupId, result } of plans) {
    lines.push(`target ${target} → ${group ? `${group.name} (${group.status})` : `no group ${groupId}`}`);
    const names = new Map(result.verdicts.map((verdict) => [verdict.serverId, verdict.serverName ?? verdict.serverId]));
    for (const verdict of result.verdicts) {
      const reasons = verdict.reasons.map((reason) =>
        reason.sdrsCode ? `${reason.code}[${reason.sdrsCode}]` : reason.code,
      );
      const warnings = verdict.warnings
        .filter((warning) => warning.code !== "WARN_CHANGES_NOT_SYNCED")
        .map((warning) => warning.code);
      const retry = verdict.retryAfterSeconds === undefined ? "" : ` retry=${verdict.retryAfterSeconds}s`;
      lines.push(
        `  ${verdict.verdict.padEnd(10)} ${(names.get(verdict.serverId) ?? "").padEnd(16)} ${[...reasons, ...warnings].join(" ")}${retry}`.trimEnd(),
      );
    }
    result.calls.forEach((call, index) => {
      const label =
        call.kind === "single"
          ? `single name=${call.request.protected_instance.name}`
          : `batch name_prefix=${call.request.protected_instances.name_prefix}`;
      lines.push(`  call ${index + 1}: ${label}: ${call.serverIds.map((serverId) => names.get(serverId)).join(", ")}`);
    });
  }
  return `${lines.join("\n")}\n`;
}

describe("plan for the sample estate", () => {
  it("matches the reviewed snapshot", async () => {
    const { plans } = await planSampleEstate();
    await expect(render(plans)).toMatchFileSnapshot("__snapshots__/sample-estate-plan.txt");
    for (const { result } of plans) {
      for (const call of result.calls) {
        if (call.kind === "single") expect(createProtectedInstanceRequest.safeParse(call.request).success).toBe(true);
        else expect(batchCreateRequest().safeParse(call.request).success).toBe(true);
      }
    }
  });

  it("plans only calls the simulator accepts, except where the group is full (SDRS.1358, limit not published)", async () => {
    const { client, plans } = await planSampleEstate();
    const accepted: string[] = [];
    const groupFull: string[] = [];
    for (const { result } of plans) {
      const names = new Map(result.verdicts.map((verdict) => [verdict.serverId, verdict.serverName]));
      for (const call of result.calls) {
        try {
          const { jobId } =
            call.kind === "single"
              ? await client.createProtectedInstance(call.request.protected_instance)
              : await client.batchCreateProtectedInstances(call.request.protected_instances);
          expect(jobId).toMatch(/\S/);
          accepted.push(...call.serverIds.map((serverId) => names.get(serverId) ?? serverId));
        } catch (error) {
          // The per-group protected-instance limit is not readable from the API, so only the create tells.
          if (!(error instanceof CloudApiError) || error.code !== "SDRS.1358") throw error;
          groupFull.push(...call.serverIds.map((serverId) => names.get(serverId) ?? serverId));
        }
      }
    }
    expect(groupFull).toEqual(["legacy-02"]);
    const eligible = plans.flatMap(({ result }) => result.verdicts.filter((verdict) => verdict.verdict === "eligible"));
    expect(accepted).toHaveLength(eligible.length - groupFull.length);
  });
});
