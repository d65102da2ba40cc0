/**
 * The VersionedStore contract, run against every adapter (sqlite in memory, DynamoDB on dynalite):
 * what the pipeline's "never two protected instances for one server" rests on.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ManualClock } from "../../lib/clock.ts";
import { createRepositories } from "../../lib/state/repositories.ts";
import { ConditionalWriteError, StoreArgumentError, type VersionedStore } from "../../lib/state/store.ts";

export interface StoreHarness {
  store: VersionedStore;
  clock: ManualClock;
  close(): Promise<void>;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

export function describeVersionedStoreContract(adapter: string, open: () => Promise<StoreHarness>): void {
  describe(`VersionedStore contract: ${adapter}`, () => {
    let harness: StoreHarness;
    let store: VersionedStore;
    let clock: ManualClock;
    const nowSeconds = () => Math.floor(clock.now() / 1000);

    beforeEach(async () => {
      harness = await open();
      store = harness.store;
      clock = harness.clock;
    });
    afterEach(async () => {
      await harness.close();
    });

    it("creates a record at version 1 only if absent, and refuses a second create with CONDITIONAL_WRITE_FAILED", async () => {
      expect(await store.put("server", "srv-1", { status: "pending" }, { expectedVersion: null })).toBe(1);
      const error = await rejection(store.put("server", "srv-1", { status: "claimed" }, { expectedVersion: null }));
      expect(error).toBeInstanceOf(ConditionalWriteError);
      expect(error).toMatchObject({
        code: "CONDITIONAL_WRITE_FAILED",
        kind: "server",
        id: "srv-1",
        expectedVersion: null,
      });
      expect((error as Error).message).toContain('server "srv-1"');
      expect(await store.get("server", "srv-1")).toEqual({ value: { status: "pending" }, version: 1 });
    });

    it("replaces only at the expected version, counting versions up", async () => {
      await store.put("job", "job-1", { status: "INIT" }, { expectedVersion: null });
      expect(await store.put("job", "job-1", { status: "RUNNING" }, { expectedVersion: 1 })).toBe(2);
      expect(await store.put("job", "job-1", { status: "SUCCESS" }, { expectedVersion: 2 })).toBe(3);
      const stale = await rejection(store.put("job", "job-1", { status: "FAIL" }, { expectedVersion: 2 }));
      expect(stale).toMatchObject({ code: "CONDITIONAL_WRITE_FAILED", kind: "job", id: "job-1", expectedVersion: 2 });
      expect((stale as Error).message).toContain("expected version 2");
      expect(await store.get("job", "job-1")).toEqual({ value: { status: "SUCCESS" }, version: 3 });
    });

    it("refuses to replace an absent record", async () => {
      const error = await rejection(store.put("request", "req-404", { a: 1 }, { expectedVersion: 1 }));
      expect(error).toMatchObject({ code: "CONDITIONAL_WRITE_FAILED", id: "req-404" });
      expect(await store.get("request", "req-404")).toBeUndefined();
    });

    it("keeps each kind a separate namespace for the same id", async () => {
      await store.put("server", "same-id", { kind: "server" }, { expectedVersion: null });
      await store.put("job", "same-id", { kind: "job" }, { expectedVersion: null });
      expect((await store.get("server", "same-id"))?.value).toEqual({ kind: "server" });
      expect((await store.get("job", "same-id"))?.value).toEqual({ kind: "job" });
      await store.delete("server", "same-id");
      expect(await store.get("server", "same-id")).toBeUndefined();
      expect(await store.get("job", "same-id")).toBeDefined();
    });

    it("round-trips JSON values and drops what JSON drops", async () => {
      const value = {
        serverId: "srv-ü-1",
        nested: { list: [1, "two", { three: true }], empty: {}, none: null },
        absent: undefined,
        text: "line\nbreak ✓",
      };
      await store.put("server", "srv-ü-1", value, { expectedVersion: null });
      expect((await store.get("server", "srv-ü-1"))?.value).toEqual({
        serverId: "srv-ü-1",
        nested: { list: [1, "two", { three: true }], empty: {}, none: null },
        text: "line\nbreak ✓",
      });
    });

    it("deletes unconditionally, and deleting an absent record is not an error", async () => {
      await store.put("endpoint", "ep-1", { disabled: false }, { expectedVersion: null });
      await store.delete("endpoint", "ep-1");
      await store.delete("endpoint", "ep-1");
      expect(await store.get("endpoint", "ep-1")).toBeUndefined();
      expect(await store.put("endpoint", "ep-1", { disabled: true }, { expectedVersion: null })).toBeGreaterThanOrEqual(
        1,
      );
    });

    it("lets exactly one of ten concurrent creates win", async () => {
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, (_, writer) =>
          store.put("idempotency", "key-1", { writer }, { expectedVersion: null }),
        ),
      );
      const winners = attempts.filter((attempt) => attempt.status === "fulfilled");
      expect(winners).toHaveLength(1);
      for (const attempt of attempts) {
        if (attempt.status === "rejected") expect(attempt.reason).toBeInstanceOf(ConditionalWriteError);
      }
    });

    it("lets exactly one of ten concurrent replaces of the same version win", async () => {
      await store.put("server", "srv-race", { writer: "first" }, { expectedVersion: null });
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, (_, writer) => store.put("server", "srv-race", { writer }, { expectedVersion: 1 })),
      );
      expect(attempts.filter((attempt) => attempt.status === "fulfilled")).toHaveLength(1);
      expect((await store.get("server", "srv-race"))?.version).toBe(2);
    });

    it("lets exactly one of five concurrent server claims win", async () => {
      const repositories = createRepositories(store, { clock });
      const claims = await Promise.all(
        ["req-a", "req-b", "req-c", "req-d", "req-e"].map((requestId) =>
          repositories.servers.claim("srv-contested", { target: "prod", requestId }),
        ),
      );
      const winners = claims.filter((claim) => claim.won);
      expect(winners).toHaveLength(1);
      const stored = await repositories.servers.get("srv-contested");
      expect(stored?.record.status).toBe("claimed");
      expect(stored?.record.requestIds).toEqual(winners[0]?.server.record.requestIds);
    });

    it("treats a record as absent once the clock reaches its expiresAt, in get, getMany and list", async () => {
      const expiresAt = nowSeconds() + 60;
      await store.put("event", "trace-1", { seen: true }, { expectedVersion: null, expiresAt });
      await store.put("event", "trace-2", { seen: true }, { expectedVersion: null });
      expect(await store.get("event", "trace-1")).toEqual({ value: { seen: true }, version: 1, expiresAt });

      clock.advance(59_000);
      expect(await store.get("event", "trace-1")).toBeDefined();

      clock.advance(1_000);
      expect(await store.get("event", "trace-1")).toBeUndefined();
      expect([...(await store.getMany("event", ["trace-1", "trace-2"])).keys()]).toEqual(["trace-2"]);
      expect((await store.list("event")).items.map((item) => item.id)).toEqual(["trace-2"]);
    });

    it("refuses to replace an expired record but lets a create take its place", async () => {
      await store.put(
        "idempotency",
        "key-ttl",
        { requestId: "old" },
        { expectedVersion: null, expiresAt: nowSeconds() + 10 },
      );
      clock.advance(10_000);
      await expect(
        store.put("idempotency", "key-ttl", { requestId: "late" }, { expectedVersion: 1 }),
      ).rejects.toBeInstanceOf(ConditionalWriteError);
      const version = await store.put("idempotency", "key-ttl", { requestId: "new" }, { expectedVersion: null });
      expect(await store.get("idempotency", "key-ttl")).toEqual({ value: { requestId: "new" }, version });
    });

    it("clears a TTL when a replace gives none, and sets one when it does", async () => {
      await store.put("server", "srv-ttl", { v: 1 }, { expectedVersion: null, expiresAt: nowSeconds() + 5 });
      await store.put("server", "srv-ttl", { v: 2 }, { expectedVersion: 1 });
      clock.advance(3_600_000);
      expect(await store.get("server", "srv-ttl")).toEqual({ value: { v: 2 }, version: 2 });
      const expiresAt = nowSeconds() + 30;
      await store.put("server", "srv-ttl", { v: 3 }, { expectedVersion: 2, expiresAt });
      expect((await store.get("server", "srv-ttl"))?.expiresAt).toBe(expiresAt);
    });

    it("reads more than 100 ids in one getMany, skipping absent ids and repeats", async () => {
      const ids = Array.from({ length: 230 }, (_, index) => `srv-${String(index).padStart(3, "0")}`);
      const present = ids.filter((_, index) => index % 3 !== 0);
      for (let start = 0; start < present.length; start += 25) {
        await Promise.all(
          present
            .slice(start, start + 25)
            .map((id) => store.put("server", id, { serverId: id }, { expectedVersion: null })),
        );
      }
      await store.put("server", "srv-001", { serverId: "srv-001", again: true }, { expectedVersion: 1 });

      const found = await store.getMany("server", [...ids, "srv-001", "srv-002"]);
      expect(found.size).toBe(present.length);
      expect([...found.keys()].sort()).toEqual(present);
      expect(found.get("srv-001")).toEqual({ value: { serverId: "srv-001", again: true }, version: 2 });
      expect(found.get("srv-002")).toEqual({ value: { serverId: "srv-002" }, version: 1 });
      expect(await store.getMany("server", [])).toEqual(new Map());
    });

    it("lists one kind page by page in id order, each page within the limit, every record exactly once", async () => {
      const ids = Array.from({ length: 25 }, (_, index) => `job-${String(index).padStart(2, "0")}`);
      await Promise.all(ids.map((id) => store.put("job", id, { jobId: id }, { expectedVersion: null })));
      await store.put("server", "job-xx", { other: "kind" }, { expectedVersion: null });
      await store.put(
        "job",
        "job-expiring",
        { jobId: "job-expiring" },
        { expectedVersion: null, expiresAt: nowSeconds() + 1 },
      );
      clock.advance(1_000);

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list("job", cursor === undefined ? { limit: 10 } : { limit: 10, cursor });
        expect(page.items.length).toBeLessThanOrEqual(10);
        for (const item of page.items) {
          expect(item.stored).toEqual({ value: { jobId: item.id }, version: 1 });
          seen.push(item.id);
        }
        cursor = page.cursor;
        pages += 1;
        expect(pages).toBeLessThan(10);
      } while (cursor !== undefined);

      expect(seen).toEqual(ids);
      expect(pages).toBeGreaterThanOrEqual(3);
    });

    it("rejects arguments outside the contract with STORE_INVALID_ARGUMENT", async () => {
      await expect(store.get("server", "")).rejects.toMatchObject({ code: "STORE_INVALID_ARGUMENT" });
      await expect(store.put("server", "srv-1", {}, { expectedVersion: 0 })).rejects.toBeInstanceOf(StoreArgumentError);
      await expect(store.put("server", "srv-1", {}, { expectedVersion: null, expiresAt: -5 })).rejects.toThrow(
        /expiresAt/,
      );
      await expect(store.list("server", { limit: 0 })).rejects.toThrow(/limit/);
      await expect(store.list("server", { cursor: "not-a-cursor!" })).rejects.toThrow(/cursor/);
      await expect(store.put("server", "srv-1", undefined, { expectedVersion: null })).rejects.toThrow(/JSON/);
    });
  });
}
