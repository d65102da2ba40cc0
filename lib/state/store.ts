/**
 * The state port: a versioned key-value store with conditional writes. Every decision that must not be
 * taken twice (claiming a server, creating a protected instance, notifying an outcome) rests on
 * `put` with an expected version: of two writers that read the same version, exactly one succeeds and
 * the other gets a ConditionalWriteError it can act on (re-read and decide again).
 *
 * Two adapters implement it: lib/state/sqlite-store.ts (node:sqlite, local runs and tests) and
 * lib/aws/dynamodb-store.ts (DynamoDB). Values are JSON: both adapters store what JSON.stringify keeps.
 */
import { RecordError } from "./errors.ts";
import { type RecordKind, recordKind } from "./statuses.ts";

export interface Stored<T> {
  value: T;
  /**
   * 1 after creation, +1 on every replace. Re-creating over an expired record that is still stored
   * continues its count; once an adapter has purged it, the count starts again at 1.
   */
  version: number;
  /** Epoch seconds after which the record counts as absent (TTL). */
  expiresAt?: number;
}

export interface PutOptions {
  /** null = create only if absent (an expired record counts as absent); a number = replace only if the stored version equals it. */
  expectedVersion: number | null;
  /** Epoch seconds; omitted = the record never expires (a replace without it clears an earlier TTL). */
  expiresAt?: number;
}

export interface ListOptions {
  /** Page size, 1–1000 (default 100). A page may hold fewer items than the limit while a cursor is still returned. */
  limit?: number;
  /** The cursor of the previous page; opaque. */
  cursor?: string;
}

export interface ListPage {
  items: { id: string; stored: Stored<unknown> }[];
  /** Present while more items may follow. */
  cursor?: string;
}

export interface VersionedStore {
  /** A consistent read; an expired record is absent. */
  get(kind: RecordKind, id: string): Promise<Stored<unknown> | undefined>;
  /** Consistent reads of many ids (duplicates allowed); absent and expired ids are missing from the map. */
  getMany(kind: RecordKind, ids: string[]): Promise<Map<string, Stored<unknown>>>;
  /** A conditional write; returns the new version or throws ConditionalWriteError. */
  put(kind: RecordKind, id: string, value: unknown, options: PutOptions): Promise<number>;
  /** Unconditional; deleting an absent record is not an error. */
  delete(kind: RecordKind, id: string): Promise<void>;
  /**
   * The records of one kind, ordered by id, page by page. Meant for reports and reconciliation: on
   * DynamoDB it reads a GSI, which is eventually consistent, so never decide a conditional write on it.
   */
  list(kind: RecordKind, options?: ListOptions): Promise<ListPage>;
  /** Releases the adapter's resources (closes an owned database). */
  close?(): Promise<void> | void;
}

/** The write's condition did not hold: another writer won, or the record is absent / already present. */
export class ConditionalWriteError extends RecordError {
  readonly code = "CONDITIONAL_WRITE_FAILED";
  override readonly name = "ConditionalWriteError";
  readonly expectedVersion: number | null;

  constructor(kind: RecordKind, id: string, expectedVersion: number | null) {
    super(
      kind,
      id,
      expectedVersion === null
        ? `conditional write failed for ${kind} "${id}": expected no record (create only), but one exists`
        : `conditional write failed for ${kind} "${id}": expected version ${expectedVersion}, but the stored record has another version or is absent`,
    );
    this.expectedVersion = expectedVersion;
  }
}

/** A caller passed something the port's contract rejects (bad id, version, TTL, page size). */
export class StoreArgumentError extends Error {
  readonly code = "STORE_INVALID_ARGUMENT";

  constructor(message: string) {
    super(message);
    this.name = "StoreArgumentError";
  }
}

export function isConditionalWriteError(error: unknown): error is ConditionalWriteError {
  return error instanceof ConditionalWriteError;
}

// ---------------------------------------------------------------------------------------------
// Argument rules shared by both adapters, so they refuse the same inputs with the same messages.
// ---------------------------------------------------------------------------------------------

/** DynamoDB partition keys are at most 2048 bytes; `<kind>#` takes up to 12 of them. */
const MAX_ID_BYTES = 1024;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export function checkId(kind: RecordKind, id: string): void {
  if (typeof id !== "string" || id.length === 0) {
    throw new StoreArgumentError(`${kind} id must be a non-empty string`);
  }
  if (Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) {
    throw new StoreArgumentError(`${kind} id must be at most ${MAX_ID_BYTES} bytes`);
  }
}

export function checkKind(kind: RecordKind): void {
  const parsed = recordKind.safeParse(kind);
  if (!parsed.success) {
    throw new StoreArgumentError(
      `record kind must be one of ${recordKind.options.join(", ")}; got ${JSON.stringify(kind)}`,
    );
  }
}

export function checkPutOptions(kind: RecordKind, id: string, options: PutOptions): void {
  const { expectedVersion, expiresAt } = options;
  if (expectedVersion !== null && !(Number.isSafeInteger(expectedVersion) && expectedVersion >= 1)) {
    throw new StoreArgumentError(
      `expectedVersion for ${kind} "${id}" must be null (create) or an integer >= 1; got ${expectedVersion}`,
    );
  }
  if (expiresAt !== undefined && !(Number.isFinite(expiresAt) && expiresAt > 0)) {
    throw new StoreArgumentError(`expiresAt for ${kind} "${id}" must be epoch seconds > 0; got ${expiresAt}`);
  }
}

export function checkListLimit(limit: number | undefined): number {
  const pageSize = limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_LIST_LIMIT) {
    throw new StoreArgumentError(`list limit must be an integer from 1 to ${MAX_LIST_LIMIT}; got ${limit}`);
  }
  return pageSize;
}

/** JSON text of a value, refusing what JSON cannot carry (undefined, functions, cycles, BigInt). */
export function toJson(kind: RecordKind, id: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new StoreArgumentError(`${kind} "${id}" value is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) throw new StoreArgumentError(`${kind} "${id}" value is not JSON-serialisable`);
  return text;
}

/** TTL rule of both adapters: a record is expired once the clock reaches its expiresAt second. */
export function isExpired(expiresAt: number | undefined | null, nowMs: number): boolean {
  return expiresAt !== undefined && expiresAt !== null && expiresAt * 1000 <= nowMs;
}
