/** The coverage verdict, one case per code (pure: plain API shapes in, verdict out). */
import { describe, expect, it } from "vitest";
import { type CoverageFacts, coverageFingerprint, coverageOf } from "../../lib/coverage/verdict.ts";
import type { ReplicationPair } from "../../lib/sdrs/replication-schemas.ts";
import type { EcsServer, ProtectedInstance, ProtectionGroup } from "../../lib/sdrs/schemas.ts";

const server = (volumes: [id: string, device: string][]): EcsServer =>
  ({
    id: "s-1",
    name: "app-01",
    status: "ACTIVE",
    tags: ["sdrs_protect=db"],
    "os-extended-volumes:volumes_attached": volumes.map(([id, device], index) => ({
      id,
      device,
      bootIndex: index === 0 ? "0" : "-1",
    })),
  }) as unknown as EcsServer;

const group = (status: string): ProtectionGroup => ({ id: "g-1", name: "pg-db", status }) as unknown as ProtectionGroup;

const instance = (status = "protected", pairIds: string[] = ["p-sys", "p-data"]): ProtectedInstance =>
  ({
    id: "pi-1",
    server_group_id: "g-1",
    status,
    source_server: "s-1",
    target_server: "s-1-dr",
    attachment: pairIds.map((replication, index) => ({ replication, device: index === 0 ? "/dev/vda" : "/dev/vdb" })),
  }) as unknown as ProtectedInstance;

const pair = (id: string, source: string, overrides: Partial<ReplicationPair> = {}): ReplicationPair => ({
  id,
  status: "protected",
  replication_status: "active",
  fault_level: "0",
  volume_ids: `${source},${source}-dr`,
  server_group_id: "g-1",
  attachment: [{ protected_instance: "pi-1", device: "/dev/vdx" }],
  record_metadata: { volume_size: 40 },
  ...overrides,
});

function facts(overrides: Partial<CoverageFacts> = {}): CoverageFacts {
  return {
    server: server([
      ["v-sys", "/dev/vda"],
      ["v-data", "/dev/vdb"],
    ]),
    target: "db",
    expectedGroupId: "g-1",
    instance: instance(),
    group: group("protected"),
    groupPairs: [pair("p-sys", "v-sys"), pair("p-data", "v-data")],
    volumeSizes: new Map([
      ["v-sys", 40],
      ["v-data", 40],
    ]),
    ...overrides,
  };
}

const codes = (input: CoverageFacts) => coverageOf(input).gaps.map((gap) => gap.code);

describe("coverageOf", () => {
  it("is fully protected when the group, the instance and every pair are healthy and every disk is paired", () => {
    expect(coverageOf(facts())).toMatchObject({
      state: "fully",
      disksAttached: 2,
      disksReplicated: 2,
      gaps: [],
      protectedInstanceId: "pi-1",
    });
  });

  it("names a disk attached after protection with COVERAGE_DISK_UNREPLICATED: volume, device and size", () => {
    const verdict = coverageOf(
      facts({
        server: server([
          ["v-sys", "/dev/vda"],
          ["v-data", "/dev/vdb"],
          ["v-new", "/dev/vdc"],
        ]),
        volumeSizes: new Map([
          ["v-sys", 40],
          ["v-data", 40],
          ["v-new", 100],
        ]),
      }),
    );
    expect(verdict).toMatchObject({ state: "partially", disksAttached: 3, disksReplicated: 2 });
    expect(verdict.gaps).toEqual([
      expect.objectContaining({
        code: "COVERAGE_DISK_UNREPLICATED",
        volumeId: "v-new",
        device: "/dev/vdc",
        sizeGb: 100,
        repair: "command",
      }),
    ]);
    expect(verdict.gaps[0]?.remedy).toContain("sdrs-autoprotect repair --server s-1 --volume v-new");
  });

  it("reports a group never started with COVERAGE_REPLICATION_NOT_STARTED (a safe, automatic repair) and nothing replicated", () => {
    const verdict = coverageOf(
      facts({
        group: group("available"),
        groupPairs: [
          pair("p-sys", "v-sys", { status: "available" }),
          pair("p-data", "v-data", { status: "available" }),
        ],
      }),
    );
    expect(verdict).toMatchObject({ state: "not", disksReplicated: 0 });
    expect(verdict.gaps).toEqual([
      expect.objectContaining({ code: "COVERAGE_REPLICATION_NOT_STARTED", repair: "automatic" }),
    ]);
  });

  it("reports a pair in fault with COVERAGE_PAIR_FAULT and its fault_level; level 5 says the link is broken", () => {
    for (const level of ["2", "5"]) {
      const verdict = coverageOf(
        facts({
          groupPairs: [pair("p-sys", "v-sys"), pair("p-data", "v-data", { status: "fault", fault_level: level })],
        }),
      );
      expect(verdict.gaps).toEqual([
        expect.objectContaining({
          code: "COVERAGE_PAIR_FAULT",
          faultLevel: level,
          replicationPairId: "p-data",
          volumeId: "v-data",
        }),
      ]);
      expect(verdict).toMatchObject({ state: "partially", disksReplicated: 1 });
    }
    const broken = coverageOf(
      facts({ groupPairs: [pair("p-sys", "v-sys"), pair("p-data", "v-data", { status: "fault", fault_level: "5" })] }),
    );
    expect(broken.gaps[0]?.message).toContain("replication link is broken");
  });

  it("reports a pair that lost a disk with COVERAGE_PAIR_INVALID, and an attached pair whose disk left the server too", () => {
    expect(
      codes(facts({ groupPairs: [pair("p-sys", "v-sys"), pair("p-data", "v-data", { status: "invalid" })] })),
    ).toEqual(["COVERAGE_PAIR_INVALID"]);
    const stale = coverageOf(facts({ server: server([["v-sys", "/dev/vda"]]) }));
    expect(stale.gaps).toEqual([
      expect.objectContaining({ code: "COVERAGE_PAIR_INVALID", replicationPairId: "p-data" }),
    ]);
  });

  it("reports a pair whose last operation failed with COVERAGE_PAIR_ERROR", () => {
    expect(
      codes(facts({ groupPairs: [pair("p-sys", "v-sys"), pair("p-data", "v-data", { status: "error-extending" })] })),
    ).toEqual(["COVERAGE_PAIR_ERROR"]);
  });

  it("reports a disk grown outside SDRS with COVERAGE_DISK_GROWN (an automatic repair: expand the pair)", () => {
    const verdict = coverageOf(
      facts({
        volumeSizes: new Map([
          ["v-sys", 40],
          ["v-data", 80],
        ]),
      }),
    );
    expect(verdict.gaps).toEqual([
      expect.objectContaining({
        code: "COVERAGE_DISK_GROWN",
        sizeGb: 80,
        replicationPairId: "p-data",
        repair: "automatic",
      }),
    ]);
    expect(verdict).toMatchObject({ state: "partially", disksReplicated: 2 });
  });

  it("reports a failed-over group with COVERAGE_FAILED_OVER", () => {
    const verdict = coverageOf(facts({ group: group("failed-over") }));
    expect(verdict).toMatchObject({ state: "not", disksReplicated: 0 });
    expect(verdict.gaps.map((gap) => gap.code)).toEqual(["COVERAGE_FAILED_OVER"]);
  });

  it("reports a protected server without the tag with COVERAGE_UNTAGGED_BUT_PROTECTED, still fully replicated in its counts", () => {
    const verdict = coverageOf(facts({ target: undefined, expectedGroupId: undefined }));
    expect(verdict).toMatchObject({ target: null, state: "fully", disksReplicated: 2 });
    expect(verdict.gaps.map((gap) => gap.code)).toEqual(["COVERAGE_UNTAGGED_BUT_PROTECTED"]);
  });

  it("reports a server retagged for another target's group with COVERAGE_TARGET_CHANGED", () => {
    expect(codes(facts({ target: "web", expectedGroupId: "g-web" }))).toEqual(["COVERAGE_TARGET_CHANGED"]);
    expect(codes(facts({ target: "web", expectedGroupId: undefined }))).toEqual([]);
  });

  it("reports a tagged server without a protected instance as not protected, and one being created as in progress", () => {
    expect(coverageOf(facts({ instance: undefined }))).toMatchObject({
      state: "not",
      gaps: [{ code: "COVERAGE_NOT_PROTECTED" }],
    });
    expect(coverageOf(facts({ instance: instance("creating") }))).toMatchObject({
      state: "not",
      gaps: [{ code: "COVERAGE_PROTECTION_IN_PROGRESS" }],
    });
  });

  it("finds the production disk by either id of volume_ids (after a failover and reprotect the order does not flip)", () => {
    const swapped = [pair("p-sys", "v-sys"), { ...pair("p-data", "v-data"), volume_ids: "v-data-original,v-data" }];
    expect(coverageOf(facts({ groupPairs: swapped })).gaps).toEqual([]);
  });

  it("fingerprints a verdict by its gaps, independent of their order and wording", () => {
    const a = coverageOf(
      facts({
        groupPairs: [
          pair("p-sys", "v-sys", { status: "fault", fault_level: "2" }),
          pair("p-data", "v-data", { status: "invalid" }),
        ],
      }),
    );
    expect(coverageFingerprint(a)).toBe("COVERAGE_PAIR_FAULT:v-sys:p-sys:2,COVERAGE_PAIR_INVALID:v-data:p-data:");
    expect(coverageFingerprint({ gaps: [...a.gaps].reverse() })).toBe(coverageFingerprint(a));
    expect(coverageFingerprint(coverageOf(facts()))).toBe("");
  });
});
