import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import type { ServerRecord } from "../../lib/state/records.ts";
import { createRepositories, type Repositories } from "../../lib/state/repositories.ts";
import { claimedServer } from "../../lib/state/server-claim.ts";
import { SqliteStore } from "../../lib/state/sqlite-store.ts";
import { isReclaimableStatus, serverRecordStatus } from "../../lib/state/statuses.ts";
import { ConditionalWriteError, type VersionedStore } from "../../lib/state/store.ts";

const T0 = "2026-01-01T00:00:00.000Z";

function serverIn(status: ServerRecord["status"], overrides: Partial<ServerRecord> = {}): ServerRecord {
  return {
    serverId: "srv-1",
    target: "prod",
    groupId: "pg-old",
    status,
    requestIds: ["req-0"],
    jobId: "job-old",
    reasons: [{ code: "INELIGIBLE_VPC_MISMATCH", message: "server vpc-b, group vpc-a" }],
    warnings: [],
    attempts: 1,
    createdAt: T0,
    updatedAt: T0,
    notified: "failed",
    ...overrides,
  };
}

/**
 * The real sqlite store, with a hook that runs just before chosen puts: it plays another process
 * writing the same record between our read and our conditional write.
 */
function storeWithRacer(
  inner: VersionedStore,
  racer: (put: VersionedStore["put"]) => Promise<void> | undefined,
): VersionedStore {
  return {
    get: (kind, id) => inner.get(kind, id),
    getMany: (kind, ids) => inner.getMany(kind, ids),
    delete: (kind, id) => inner.delete(kind, id),
    list: (kind, options) => inner.list(kind, options),
    async put(kind, id, value, options) {
      await racer(inner.put.bind(inner));
      return inner.put(kind, id, value, options);
    },
  };
}

describe("claimedServer (the pure claim transition)", () => {
  const claim = { target: "prod", requestId: "req-1", groupId: "pg-1" };

  it("creates a claimed record for a server never seen", () => {
    expect(claimedServer(undefined, "srv-1", claim, T0)).toEqual({
      serverId: "srv-1",
      target: "prod",
      groupId: "pg-1",
      status: "claimed",
      requestIds: ["req-1"],
      reasons: [],
      warnings: [],
      attempts: 1,
      createdAt: T0,
      updatedAt: T0,
    });
  });

  it.each([
    ["pending", true],
    ["failed", true],
    ["ineligible", true],
    ["deferred", true],
    ["unknown", true],
    ["claimed", false],
    ["creating", false],
    ["ambiguous", false],
    ["in_progress", false],
    ["protected", false],
  ] as const)("a server in status %s is reclaimable: %s", (status, reclaimable) => {
    const next = claimedServer(serverIn(status), "srv-1", claim, "2026-01-02T00:00:00.000Z");
    expect(next !== undefined).toBe(reclaimable);
  });

  it("on reclaim clears the previous attempt's reasons, job and notified outcome, and keeps the history", () => {
    expect(claimedServer(serverIn("failed"), "srv-1", claim, "2026-01-02T00:00:00.000Z")).toEqual({
      serverId: "srv-1",
      target: "prod",
      groupId: "pg-1",
      status: "claimed",
      requestIds: ["req-0", "req-1"],
      reasons: [],
      warnings: [],
      attempts: 1,
      createdAt: T0,
      updatedAt: "2026-01-02T00:00:00.000Z",
    });
  });

  it("takes over a claim older than staleClaimBefore, but never a newer one or a creating server", () => {
    const claimed = serverIn("claimed", { updatedAt: "2026-01-01T00:10:00.000Z" });
    const now = "2026-01-01T00:30:00.000Z";
    expect(
      claimedServer(claimed, "srv-1", { ...claim, staleClaimBefore: "2026-01-01T00:15:00.000Z" }, now)?.status,
    ).toBe("claimed");
    expect(
      claimedServer(claimed, "srv-1", { ...claim, staleClaimBefore: "2026-01-01T00:05:00.000Z" }, now),
    ).toBeUndefined();
    const creating = serverIn("creating", { updatedAt: "2026-01-01T00:10:00.000Z" });
    expect(claimedServer(creating, "srv-1", { ...claim, staleClaimBefore: now }, now)).toBeUndefined();
  });

  it("claims exactly the reclaimable statuses and lists each request once (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...serverRecordStatus.options),
        fc.array(fc.constantFrom("req-0", "req-1", "req-2"), { maxLength: 3 }),
        fc.constantFrom("req-0", "req-1", "req-3"),
        (status, earlierRequests, requestId) => {
          const current = serverIn(status, { requestIds: [...new Set(earlierRequests)] });
          const next = claimedServer(current, "srv-1", { target: "prod", requestId }, T0);
          // A failed or unknown server already told to this request is not reopened by it (a duplicate intent).
          const toldThisRequest =
            (status === "failed" || status === "unknown") && (earlierRequests as string[]).includes(requestId);
          expect(next !== undefined).toBe(isReclaimableStatus(status) && !toldThisRequest);
          if (next !== undefined) {
            expect(next.status).toBe("claimed");
            expect(next.requestIds).toContain(requestId);
            expect(new Set(next.requestIds).size).toBe(next.requestIds.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("repositories", () => {
  let clock: ManualClock;
  let store: SqliteStore;
  let repositories: Repositories;

  beforeEach(() => {
    clock = new ManualClock(Date.parse(T0));
    store = new SqliteStore({ database: ":memory:", clock });
    repositories = createRepositories(store, { clock });
  });

  describe("servers.claim", () => {
    it("wins for the first claim and loses for a repeat of the same request, returning the holder's record", async () => {
      const first = await repositories.servers.claim("srv-1", { target: "prod", requestId: "req-1" });
      expect(first.won).toBe(true);
      expect(first.server.version).toBe(1);
      const repeat = await repositories.servers.claim("srv-1", { target: "prod", requestId: "req-1" });
      expect(repeat).toEqual({ won: false, server: first.server });
    });

    it("lets exactly one of many concurrent claims on a failed server win", async () => {
      await repositories.servers.create(serverIn("failed"));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          repositories.servers.claim("srv-1", { target: "prod", requestId: `req-${index + 1}` }),
        ),
      );
      expect(results.filter((result) => result.won)).toHaveLength(1);
      expect((await repositories.servers.get("srv-1"))?.version).toBe(2);
    });

    it("re-reads after losing a race and reports the loss when the racer claimed it", async () => {
      let raced = false;
      const racing = createRepositories(
        storeWithRacer(store, (put) => {
          if (raced) return undefined;
          raced = true;
          return put(
            "server",
            "srv-1",
            claimedServer(undefined, "srv-1", { target: "prod", requestId: "req-racer" }, T0),
            {
              expectedVersion: null,
            },
          ).then(() => undefined);
        }),
        { clock },
      );
      const result = await racing.servers.claim("srv-1", { target: "prod", requestId: "req-1" });
      expect(result.won).toBe(false);
      expect(result.server.record.requestIds).toEqual(["req-racer"]);
    });
  });

  describe("update", () => {
    it("re-runs the mutation on a fresh read after losing a race, so no write is lost", async () => {
      await repositories.jobs.create({
        jobId: "job-1",
        kind: "batch",
        groupId: "pg-1",
        target: "prod",
        serverIds: ["srv-1"],
        submittedAt: T0,
        status: "RUNNING",
        checks: 0,
      });
      let raced = false;
      const racing = createRepositories(
        storeWithRacer(store, async (put) => {
          if (raced) return;
          raced = true;
          const current = await store.get("job", "job-1");
          await put(
            "job",
            "job-1",
            { ...(current?.value as object), checks: 10 },
            { expectedVersion: current?.version ?? 0 },
          );
        }),
        { clock },
      );
      const updated = await racing.jobs.update("job-1", (job) => ({ ...job, checks: job.checks + 1 }));
      expect(updated.record.checks).toBe(11);
      expect(updated.version).toBe(3);
    });

    it("gives up with CONDITIONAL_WRITE_FAILED after the configured attempts", async () => {
      await repositories.requests.create({
        requestId: "req-1",
        target: "prod",
        source: "api",
        serverIds: [],
        createdAt: T0,
      });
      const alwaysRacing = createRepositories(
        storeWithRacer(store, async (put) => {
          const current = await store.get("request", "req-1");
          await put("request", "req-1", current?.value, { expectedVersion: current?.version ?? 0 });
        }),
        { clock, attempts: 3 },
      );
      let runs = 0;
      const error = await alwaysRacing.requests
        .update("req-1", (request) => {
          runs += 1;
          return { ...request, completedAt: T0 };
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConditionalWriteError);
      expect(runs).toBe(3);
    });

    it("with an expected version, refuses a record that moved on without running the mutation", async () => {
      await repositories.servers.create(serverIn("pending"));
      await repositories.servers.update("srv-1", (server) => ({ ...server, attempts: 2 }));
      let ran = false;
      await expect(
        repositories.servers.update("srv-1", 1, (server) => {
          ran = true;
          return server;
        }),
      ).rejects.toMatchObject({ code: "CONDITIONAL_WRITE_FAILED", expectedVersion: 1 });
      expect(ran).toBe(false);
      const written = await repositories.servers.update("srv-1", 2, (server) => ({ ...server, status: "creating" }));
      expect(written).toMatchObject({ version: 3, record: { status: "creating" } });
    });

    it("writes nothing when the mutation returns undefined or an unchanged record", async () => {
      await repositories.servers.create(serverIn("protected"));
      expect((await repositories.servers.update("srv-1", () => undefined)).version).toBe(1);
      expect((await repositories.servers.update("srv-1", (server) => ({ ...server }))).version).toBe(1);
    });

    it("stamps a server's updatedAt from the clock on every write", async () => {
      await repositories.servers.create(serverIn("creating"));
      clock.advance(90_000);
      const written = await repositories.servers.update("srv-1", (server) => ({
        ...server,
        status: "in_progress",
        jobId: "job-9",
      }));
      expect(written.record.updatedAt).toBe("2026-01-01T00:01:30.000Z");
      expect(written.record.createdAt).toBe(T0);
    });

    it("fails with RECORD_NOT_FOUND for an absent record", async () => {
      await expect(repositories.jobs.update("job-404", (job) => job)).rejects.toMatchObject({
        code: "RECORD_NOT_FOUND",
        message: 'no job record "job-404" to update',
      });
    });
  });

  describe("schemas at the boundary", () => {
    it("reports a corrupt stored record with CORRUPT_RECORD naming kind, id and field", async () => {
      await store.put(
        "server",
        "srv-bad",
        { ...serverIn("pending"), serverId: "srv-bad", status: "sleeping" },
        { expectedVersion: null },
      );
      const error = await repositories.servers.get("srv-bad").catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "CORRUPT_RECORD", kind: "server", id: "srv-bad" });
      expect((error as Error).message).toMatch(/^stored server record "srv-bad" is corrupt: status: /);
    });

    it("reports a record stored under another record's id as corrupt", async () => {
      await store.put("server", "srv-2", serverIn("pending"), { expectedVersion: null });
      await expect(repositories.servers.getMany(["srv-2"])).rejects.toThrow(
        'stored server record "srv-2" is corrupt: its id field says "srv-1"',
      );
    });

    it("refuses to write a record that breaks its schema with INVALID_RECORD", async () => {
      await expect(repositories.servers.create({ ...serverIn("pending"), attempts: -1 })).rejects.toMatchObject({
        code: "INVALID_RECORD",
        message: expect.stringContaining("attempts"),
      });
      expect(await store.get("server", "srv-1")).toBeUndefined();
    });
  });

  it("lists typed records across pages with all()", async () => {
    for (const serverId of ["srv-c", "srv-a", "srv-b"]) {
      await repositories.servers.create(serverIn("pending", { serverId }));
    }
    const seen: string[] = [];
    for await (const server of repositories.servers.all({ pageSize: 2 })) seen.push(server.record.serverId);
    expect(seen).toEqual(["srv-a", "srv-b", "srv-c"]);
  });

  describe("events.firstSeen", () => {
    it("is true once per event id until its TTL passes", async () => {
      expect(await repositories.events.firstSeen("trace-1", 3600)).toBe(true);
      expect(await repositories.events.firstSeen("trace-1", 3600)).toBe(false);
      expect(await repositories.events.firstSeen("trace-2", 3600)).toBe(true);
      clock.advance(3_600_000);
      expect(await repositories.events.firstSeen("trace-1", 3600)).toBe(true);
    });

    it("can be looked up without marking the event", async () => {
      expect(await repositories.events.seen("trace-3")).toBe(false);
      expect(await repositories.events.get("trace-3")).toBeUndefined();
      expect(await repositories.events.firstSeen("trace-3", 60)).toBe(true);
      expect(await repositories.events.seen("trace-3")).toBe(true);
      expect(await repositories.events.get("trace-3")).toEqual({
        record: { eventId: "trace-3", firstSeenAt: T0 },
        version: 1,
        expiresAt: Date.parse(T0) / 1000 + 60,
      });
    });

    it("is true for exactly one of concurrent deliveries of the same event", async () => {
      const seen = await Promise.all(Array.from({ length: 5 }, () => repositories.events.firstSeen("trace-dup", 60)));
      expect(seen.filter(Boolean)).toHaveLength(1);
    });
  });

  describe("idempotency.claim", () => {
    it("binds a key to the first request for 24 hours and returns that owner to later requests", async () => {
      expect(await repositories.idempotency.claim("key-1", "req-1")).toBe("req-1");
      expect(await repositories.idempotency.claim("key-1", "req-2")).toBe("req-1");
      clock.advance(24 * 3_600_000 - 1_000);
      expect(await repositories.idempotency.claim("key-1", "req-3")).toBe("req-1");
      clock.advance(1_000);
      expect(await repositories.idempotency.claim("key-1", "req-4")).toBe("req-4");
    });

    it("gives every concurrent claimant the same owner", async () => {
      const owners = await Promise.all(
        ["req-a", "req-b", "req-c"].map((requestId) => repositories.idempotency.claim("key-2", requestId)),
      );
      expect(new Set(owners).size).toBe(1);
    });
  });

  describe("endpoints", () => {
    it("disables with a reason and time, stays disabled on a repeat, and enables again", async () => {
      expect(await repositories.endpoints.isDisabled("ep-1")).toBe(false);
      const disabled = await repositories.endpoints.disable("ep-1", "HTTP 410 Gone");
      expect(disabled.record).toEqual({ endpointId: "ep-1", disabled: true, reason: "HTTP 410 Gone", disabledAt: T0 });
      clock.advance(1_000);
      expect((await repositories.endpoints.disable("ep-1", "again")).record.reason).toBe("HTTP 410 Gone");
      expect(await repositories.endpoints.isDisabled("ep-1")).toBe(true);
      expect((await repositories.endpoints.enable("ep-1")).record).toEqual({ endpointId: "ep-1", disabled: false });
      expect(await repositories.endpoints.isDisabled("ep-1")).toBe(false);
    });
  });

  describe("stats", () => {
    it("keeps the last samples per job kind and size, oldest first", async () => {
      const few = createRepositories(store, { clock, statsSamples: 3 });
      for (const durationMs of [1000, 2000, 3000, 4000]) await few.stats.recordJobDuration("batch", 5, durationMs);
      await few.stats.recordJobDuration("batch", 1, 500);
      expect(await few.stats.jobDurations("batch", 5)).toEqual([2000, 3000, 4000]);
      expect(await few.stats.jobDurations("batch", 1)).toEqual([500]);
      expect(await few.stats.jobDurations("single", 1)).toEqual([]);
    });

    it("loses no sample under concurrent recording", async () => {
      await Promise.all(
        [1, 2, 3, 4].map((seconds) => repositories.stats.recordJobDuration("single", 1, seconds * 1000)),
      );
      expect((await repositories.stats.jobDurations("single", 1)).sort()).toEqual([1000, 2000, 3000, 4000]);
    });
  });
});
