/**
 * Invariants of planProtection over generated requests: up to 8 servers with random status, VPC, flavor,
 * shared disks (some attached to servers outside the request), batch options, primary IPs, already
 * protected servers, group status, batch limit and shared-disk policy.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batchCompatibilityKey, creationOptionsFor } from "../../lib/planning/creation-options.ts";
import { parsePlanInput, planProtection } from "../../lib/planning/plan.ts";
import type { PlanInputArg, PlanResult } from "../../lib/planning/types.ts";
import { batchCreateRequest, createProtectedInstanceRequest, type EvsVolume } from "../../lib/sdrs/schemas.ts";
import { bruteForceBinCount } from "./brute-force.ts";
import { facts, planInputFor, protectedInstance, protectionGroup, sharedVolume } from "./fixtures.ts";

const SERVER_IDS = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];
const RUNS = { numRuns: 1000 };

/** Mostly healthy servers, so that most runs plan calls; each trait breaks eligibility now and then. */
const mostly = <T>(usual: T, ...others: T[]) => fc.constantFrom(...Array<T>(16).fill(usual), ...others);

const serverTraits = fc.record({
  status: mostly("ACTIVE", "SHUTOFF", "REBOOT", "ERROR"),
  vpc: mostly("vpc-prod", "vpc-other"),
  flavor: mostly("s6.large.2", "c7.large.2", "g6.xlarge.4"),
  dedicatedTenancy: fc.integer({ min: 0, max: 9 }).map((value) => value === 0),
  primaryIp: fc.integer({ min: 0, max: 5 }).map((value) => value === 0),
});

/** A shared volume: attached to 1–3 servers of the pool, sometimes also to one outside the request. */
const sharedAttachments = fc.record({
  attached: fc.subarray(SERVER_IDS, { minLength: 1, maxLength: 3 }),
  alsoOutside: fc.integer({ min: 0, max: 5 }).map((roll) => roll === 0),
});

const request = fc
  .record({
    serverIds: fc.shuffledSubarray(SERVER_IDS, { minLength: 0 }),
    traits: fc.array(serverTraits, { minLength: SERVER_IDS.length, maxLength: SERVER_IDS.length }),
    sharedVolumes: fc.array(sharedAttachments, { maxLength: 3 }),
    batchLimit: fc.constantFrom(5, 5, 5, 5, 5, 1, 2, 3, 4, 6),
    sharedDiskPolicy: mostly("batch-together", "block"),
    groupStatus: mostly("available", "protected", "creating", "error"),
    protectedServer: fc
      .tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(...SERVER_IDS))
      .map(([roll, serverId]) => (roll === 0 ? serverId : undefined)),
  })
  .map(
    ({
      serverIds,
      traits,
      sharedVolumes,
      batchLimit,
      sharedDiskPolicy,
      groupStatus,
      protectedServer,
    }): PlanInputArg => {
      // Attached to request servers only, unless the volume is meant to reach outside the request.
      const volumes: EvsVolume[] = sharedVolumes.flatMap(({ attached, alsoOutside }, index) => {
        const inRequest = attached.filter((serverId) => serverIds.includes(serverId));
        return inRequest.length === 0
          ? []
          : [sharedVolume(`shared-${index}`, alsoOutside ? [...inRequest, "outside-1"] : inRequest)];
      });
      const traitsOf = (serverId: string) => traits[SERVER_IDS.indexOf(serverId)] ?? traits[0];
      const primaryIps = Object.fromEntries(
        serverIds
          .filter((serverId) => traitsOf(serverId)?.primaryIp)
          .map((serverId) => [serverId, `10.0.0.${SERVER_IDS.indexOf(serverId) + 10}`]),
      );
      return planInputFor(
        serverIds.map((serverId) => {
          const trait = traitsOf(serverId);
          return facts(serverId, {
            server: {
              status: trait?.status,
              metadata: { vpc_id: trait?.vpc },
              flavor: { id: trait?.flavor ?? "s6.large.2" },
            },
            volumes: volumes.filter((volume) =>
              volume.attachments.some((attachment) => attachment.server_id === serverId),
            ),
          });
        }),
        {
          protectionGroup: protectionGroup({ status: groupStatus }),
          creationOptions:
            Object.keys(primaryIps).length > 0 ? { primarySubnetId: "subnet-1", primaryIpAddresses: primaryIps } : {},
          serverCreationOptions: Object.fromEntries(
            serverIds
              .filter((serverId) => traitsOf(serverId)?.dedicatedTenancy)
              .map((serverId) => [serverId, { tenancy: "dedicated" as const }]),
          ),
          protectedInstances:
            protectedServer === undefined ? [] : [protectedInstance({ source_server: protectedServer })],
          batchLimit,
          sharedDiskPolicy: sharedDiskPolicy as "batch-together" | "block",
        },
      );
    },
  );

/** The same request with servers (and the attachments of their volumes) in another order. */
const permutedRequest = request.chain((input) =>
  fc
    .shuffledSubarray(input.servers, { minLength: input.servers.length, maxLength: input.servers.length })
    .map((servers) => [input, { ...input, servers }] as const),
);

const plannedIds = (result: PlanResult) => result.calls.flatMap((call) => call.serverIds);

describe("planProtection properties", () => {
  it("never exceeds the batch limit, and every request passes the SDRS schemas", () => {
    fc.assert(
      fc.property(request, (input) => {
        const limit = input.batchLimit ?? 5;
        for (const call of planProtection(input).calls) {
          if (call.kind === "batch") {
            expect(call.serverIds.length).toBeLessThanOrEqual(limit);
            expect(batchCreateRequest(limit).safeParse(call.request).success).toBe(true);
          } else {
            expect(createProtectedInstanceRequest.safeParse(call.request).success).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it("never splits a shared-disk cluster", () => {
    fc.assert(
      fc.property(request, (input) => {
        const result = planProtection(input);
        const callOf = new Map(
          result.calls.flatMap((call, index) => call.serverIds.map((serverId) => [serverId, index] as const)),
        );
        for (const verdict of result.verdicts) {
          const cluster = verdict.sharedDiskCluster;
          if (cluster === undefined || !callOf.has(verdict.serverId)) continue;
          for (const member of cluster) expect(callOf.get(member)).toBe(callOf.get(verdict.serverId));
        }
      }),
      RUNS,
    );
  });

  it("accounts for every input server exactly once: planned, ineligible or deferred", () => {
    fc.assert(
      fc.property(request, (input) => {
        const result = planProtection(input);
        const inputIds = input.servers.map((server) => server.serverId).sort();
        const notPlanned = result.verdicts
          .filter((verdict) => verdict.verdict !== "eligible")
          .map((verdict) => verdict.serverId);
        expect([...plannedIds(result), ...notPlanned].sort()).toEqual(inputIds);
        expect(result.verdicts.map((verdict) => verdict.serverId).sort()).toEqual(inputIds);
        expect(plannedIds(result).sort()).toEqual(
          result.verdicts
            .filter((verdict) => verdict.verdict === "eligible")
            .map((verdict) => verdict.serverId)
            .sort(),
        );
      }),
      RUNS,
    );
  });

  it("gives the same plan for the same input, and under any order of the servers", () => {
    fc.assert(
      fc.property(permutedRequest, ([input, permuted]) => {
        const result = planProtection(input);
        expect(planProtection(structuredClone(input))).toEqual(result);
        const other = planProtection(permuted);
        expect(other.calls).toEqual(result.calls);
        const byId = (plan: PlanResult) => [...plan.verdicts].sort((a, b) => (a.serverId < b.serverId ? -1 : 1));
        expect(byId(other)).toEqual(byId(result));
      }),
      RUNS,
    );
  });

  it("plans the fewest calls (checked against brute-force bin packing)", () => {
    fc.assert(
      fc.property(request, (input) => {
        const parsed = parsePlanInput(input);
        const result = planProtection(input);
        const eligible = result.verdicts.filter((verdict) => verdict.verdict === "eligible");
        // Units: shared-disk clusters and lone servers; lone servers with a primary IP need their own single create.
        const units = new Map<string, { size: number; key: string }>();
        let forcedSingles = 0;
        for (const verdict of eligible) {
          const options = creationOptionsFor(parsed, verdict.serverId);
          if (verdict.sharedDiskCluster === undefined && options.primaryIpAddresses?.[verdict.serverId] !== undefined) {
            forcedSingles++;
            continue;
          }
          const unitKey = verdict.sharedDiskCluster?.join(",") ?? verdict.serverId;
          const unit = units.get(unitKey) ?? { size: 0, key: batchCompatibilityKey(options) };
          units.set(unitKey, { ...unit, size: unit.size + 1 });
        }
        const sizesByKey = new Map<string, number[]>();
        for (const unit of units.values()) sizesByKey.set(unit.key, [...(sizesByKey.get(unit.key) ?? []), unit.size]);
        const fewest =
          forcedSingles +
          [...sizesByKey.values()].reduce((sum, sizes) => sum + bruteForceBinCount(sizes, parsed.batchLimit), 0);
        expect(result.calls.length).toBe(fewest);
      }),
      RUNS,
    );
  });
});
