import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { openDatabase } from "../../lib/state/sqlite-database.ts";
import { SqliteStore } from "../../lib/state/sqlite-store.ts";
import { ConditionalWriteError } from "../../lib/state/store.ts";
import { describeVersionedStoreContract } from "./store-contract.ts";

describeVersionedStoreContract("sqlite (in memory)", async () => {
  const clock = new ManualClock();
  const store = new SqliteStore({ database: ":memory:", clock });
  return { store, clock, close: async () => store.close() };
});

describe("SqliteStore", () => {
  const directories: string[] = [];
  const temporaryFile = () => {
    const directory = mkdtempSync(join(tmpdir(), "sqlite-store-"));
    directories.push(directory);
    return join(directory, "state.sqlite");
  };
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  it("lets exactly one of two connections to the same file win a create", async () => {
    const path = temporaryFile();
    const clock = new ManualClock();
    const first = new SqliteStore({ database: path, clock });
    const second = new SqliteStore({ database: path, clock });
    const results = await Promise.allSettled([
      first.put("server", "srv-1", { by: "first" }, { expectedVersion: null }),
      second.put("server", "srv-1", { by: "second" }, { expectedVersion: null }),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(await second.get("server", "srv-1")).toEqual(await first.get("server", "srv-1"));
    first.close();
    second.close();
  });

  it("keeps records across reopening the file", async () => {
    const path = temporaryFile();
    const clock = new ManualClock();
    const writer = new SqliteStore({ database: path, clock });
    await writer.put("request", "req-1", { requestId: "req-1" }, { expectedVersion: null });
    writer.close();
    const reader = new SqliteStore({ database: path, clock });
    expect(await reader.get("request", "req-1")).toEqual({ value: { requestId: "req-1" }, version: 1 });
    reader.close();
  });

  it("purges expired rows lazily on a write, and continues the version of an expired row not yet purged", async () => {
    const clock = new ManualClock();
    const database = openDatabase(":memory:");
    const store = new SqliteStore({ database, clock, purgeIntervalMs: 60_000 });
    const rowCount = () => (database.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n;
    const nowSeconds = () => Math.floor(clock.now() / 1000);

    await store.put("event", "e-1", {}, { expectedVersion: null, expiresAt: nowSeconds() + 10 });
    clock.advance(10_000);
    expect(await store.get("event", "e-1")).toBeUndefined();
    expect(rowCount()).toBe(1);
    // Within the purge interval the expired row is still stored: a create replaces it at version 2.
    expect(await store.put("event", "e-1", {}, { expectedVersion: null, expiresAt: nowSeconds() + 10 })).toBe(2);

    await store.put("event", "e-2", {}, { expectedVersion: null, expiresAt: nowSeconds() + 10 });
    clock.advance(60_000);
    await store.put("server", "srv-1", {}, { expectedVersion: null });
    expect(rowCount()).toBe(1);
    expect(store.purgeExpired()).toBe(0);
    store.close();
    database.close();
  });

  it("leaves a database it was handed open on close", async () => {
    const database = openDatabase(":memory:");
    const store = new SqliteStore({ database });
    store.close();
    expect(database.isOpen).toBe(true);
    database.close();
  });

  it("names kind, id and expected version in a lost replace", async () => {
    const store = new SqliteStore({ database: ":memory:" });
    await store.put("server", "srv-9", {}, { expectedVersion: null });
    const error = await store.put("server", "srv-9", {}, { expectedVersion: 7 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConditionalWriteError);
    expect((error as Error).message).toBe(
      'conditional write failed for server "srv-9": expected version 7, but the stored record has another version or is absent',
    );
    store.close();
  });
});
