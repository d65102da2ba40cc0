/**
 * Opening the embedded database that the sqlite store and the sqlite queue share (one file, or
 * ":memory:" for tests). node:sqlite is built into Node 24: no npm package, no native build.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";

/** How long a connection waits for another connection's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

export function openDatabase(path: string): DatabaseSync {
  const database = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  // WAL lets readers proceed while one connection writes; NORMAL sync is durable across process crashes.
  database.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  return database;
}

/** A database handed in is shared and stays open; a path opens one this adapter owns and closes. */
export function resolveDatabase(database: DatabaseSync | string): { database: DatabaseSync; owned: boolean } {
  return typeof database === "string" ? { database: openDatabase(database), owned: true } : { database, owned: false };
}

/** Runs `work` in an IMMEDIATE transaction (takes the write lock up front, so two connections cannot interleave). */
export function inWriteTransaction<T>(database: DatabaseSync, work: () => T): T {
  database.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    database.exec("COMMIT");
    return result;
  } catch (error) {
    database.exec("ROLLBACK");
    throw error;
  }
}

const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** The statement for `sql`, compiled once per database: compiling is most of what a small query costs. */
export function prepared(database: DatabaseSync, sql: string): StatementSync {
  let cache = statements.get(database);
  if (cache === undefined) {
    cache = new Map();
    statements.set(database, cache);
  }
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = database.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}
