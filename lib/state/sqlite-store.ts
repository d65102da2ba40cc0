/**
 * VersionedStore on node:sqlite. Each conditional write is one statement whose WHERE clause is the
 * condition (`INSERT … ON CONFLICT DO UPDATE … WHERE expired`, `UPDATE … WHERE version = ?`), so it is
 * atomic across connections to the same file; RETURNING tells whether it applied.
 */
import type { DatabaseSync } from "node:sqlite";
import { type Clock, systemClock } from "../clock.ts";
import { prepared, resolveDatabase } from "./sqlite-database.ts";
import type { RecordKind } from "./statuses.ts";
import {
  ConditionalWriteError,
  checkId,
  checkKind,
  checkListLimit,
  checkPutOptions,
  type ListOptions,
  type ListPage,
  type PutOptions,
  StoreArgumentError,
  type Stored,
  toJson,
  type VersionedStore,
} from "./store.ts";

export interface SqliteStoreOptions {
  /** A path, ":memory:", or an open database shared with the sqlite queue. */
  database: DatabaseSync | string;
  /** Decides TTL expiry; a ManualClock makes expiry testable. */
  clock?: Clock;
  /** Expired rows are deleted at most this often (clock milliseconds), on a write. Default 60 s. */
  purgeIntervalMs?: number;
}

interface RecordRow {
  id: string;
  value: string;
  version: number;
  expires_at: number | null;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    expires_at REAL,
    PRIMARY KEY (kind, id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS records_expires_at ON records (expires_at) WHERE expires_at IS NOT NULL;
`;

/** A row is live while the clock (ms) is before its expiresAt second; `?` is the clock in ms. */
const LIVE = "(expires_at IS NULL OR expires_at * 1000 > ?)";

export class SqliteStore implements VersionedStore {
  readonly #database: DatabaseSync;
  readonly #owned: boolean;
  readonly #clock: Clock;
  readonly #purgeIntervalMs: number;
  #lastPurgeAt = Number.NEGATIVE_INFINITY;

  constructor(options: SqliteStoreOptions) {
    const { database, owned } = resolveDatabase(options.database);
    this.#database = database;
    this.#owned = owned;
    this.#clock = options.clock ?? systemClock;
    this.#purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    this.#database.exec(SCHEMA);
  }

  async get(kind: RecordKind, id: string): Promise<Stored<unknown> | undefined> {
    checkKind(kind);
    checkId(kind, id);
    const row = prepared(
      this.#database,
      `SELECT id, value, version, expires_at FROM records WHERE kind = ? AND id = ? AND ${LIVE}`,
    ).get(kind, id, this.#clock.now()) as RecordRow | undefined;
    return row === undefined ? undefined : toStored(row);
  }

  async getMany(kind: RecordKind, ids: string[]): Promise<Map<string, Stored<unknown>>> {
    checkKind(kind);
    for (const id of ids) checkId(kind, id);
    const found = new Map<string, Stored<unknown>>();
    if (ids.length === 0) return found;
    const rows = prepared(
      this.#database,
      `SELECT id, value, version, expires_at FROM records
         WHERE kind = ? AND id IN (SELECT value FROM json_each(?)) AND ${LIVE}`,
    ).all(kind, JSON.stringify([...new Set(ids)]), this.#clock.now()) as unknown as RecordRow[];
    for (const row of rows) found.set(row.id, toStored(row));
    return found;
  }

  async put(kind: RecordKind, id: string, value: unknown, options: PutOptions): Promise<number> {
    checkKind(kind);
    checkId(kind, id);
    checkPutOptions(kind, id, options);
    const json = toJson(kind, id, value);
    const now = this.#clock.now();
    const expiresAt = options.expiresAt ?? null;
    this.#purgeExpiredEvery(now);
    const written =
      options.expectedVersion === null
        ? // Create only if absent; an expired row still stored counts as absent and is overwritten.
          prepared(
            this.#database,
            `INSERT INTO records (kind, id, value, version, expires_at) VALUES (?, ?, ?, 1, ?)
               ON CONFLICT (kind, id) DO UPDATE
                 SET value = excluded.value, version = records.version + 1, expires_at = excluded.expires_at
                 WHERE records.expires_at IS NOT NULL AND records.expires_at * 1000 <= ?
               RETURNING version`,
          ).get(kind, id, json, expiresAt, now)
        : prepared(
            this.#database,
            `UPDATE records SET value = ?, version = version + 1, expires_at = ?
               WHERE kind = ? AND id = ? AND version = ? AND ${LIVE}
               RETURNING version`,
          ).get(json, expiresAt, kind, id, options.expectedVersion, now);
    if (written === undefined) throw new ConditionalWriteError(kind, id, options.expectedVersion);
    return Number((written as { version: number }).version);
  }

  async delete(kind: RecordKind, id: string): Promise<void> {
    checkKind(kind);
    checkId(kind, id);
    prepared(this.#database, "DELETE FROM records WHERE kind = ? AND id = ?").run(kind, id);
  }

  async list(kind: RecordKind, options: ListOptions = {}): Promise<ListPage> {
    checkKind(kind);
    const limit = checkListLimit(options.limit);
    const after = options.cursor === undefined ? "" : decodeCursor(options.cursor);
    // One row more than the page tells whether a next page exists without a second query.
    const rows = prepared(
      this.#database,
      `SELECT id, value, version, expires_at FROM records
         WHERE kind = ? AND id > ? AND ${LIVE} ORDER BY id LIMIT ?`,
    ).all(kind, after, this.#clock.now(), limit + 1) as unknown as RecordRow[];
    const page = rows.slice(0, limit);
    const items = page.map((row) => ({ id: row.id, stored: toStored(row) }));
    const last = page.at(-1);
    return rows.length > limit && last !== undefined ? { items, cursor: encodeCursor(last.id) } : { items };
  }

  /** Deletes every expired row now; returns how many. Reads already treat them as absent. */
  purgeExpired(): number {
    // `expires_at <= now / 1000` (not `expires_at * 1000 <= now`) so the partial index on expires_at serves it.
    const result = prepared(this.#database, "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?").run(
      this.#clock.now() / 1000,
    );
    return Number(result.changes);
  }

  close(): void {
    if (this.#owned && this.#database.isOpen) this.#database.close();
  }

  #purgeExpiredEvery(now: number): void {
    if (now - this.#lastPurgeAt < this.#purgeIntervalMs) return;
    this.#lastPurgeAt = now;
    this.purgeExpired();
  }
}

function toStored(row: RecordRow): Stored<unknown> {
  const stored: Stored<unknown> = { value: JSON.parse(row.value), version: Number(row.version) };
  if (row.expires_at !== null) stored.expiresAt = row.expires_at;
  return stored;
}

function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const lastId = Buffer.from(cursor, "base64url").toString("utf8");
  if (lastId.length === 0 || encodeCursor(lastId) !== cursor) {
    throw new StoreArgumentError(`list cursor ${JSON.stringify(cursor)} is not one this store returned`);
  }
  return lastId;
}
