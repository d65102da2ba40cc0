/**
 * The generic repository over the VersionedStore: one record kind, validated by its zod schema on write and
 * on read, and the optimistic-concurrency loop (read version → mutate → conditional write → on
 * ConditionalWriteError re-read and retry) written once here so the pipeline never hand-rolls it.
 */
import type * as z from "../zod.ts";
import { CorruptRecordError, InvalidRecordError, RecordNotFoundError } from "./errors.ts";
import type { RecordKind } from "./statuses.ts";
import { ConditionalWriteError, type VersionedStore } from "./store.ts";

function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(record)"}: ${issue.message}`)
    .join("; ");
}

export interface Versioned<T> {
  record: T;
  version: number;
  /** Epoch seconds (TTL), when the record expires. */
  expiresAt?: number;
}

/**
 * Computes the next record from the current one. Must be pure: it is re-run on a fresh read after a
 * lost race. Returning undefined (or an unchanged record) writes nothing; throwing aborts.
 */
export type Mutation<T> = (current: T) => T | undefined;

export interface UpdateOptions {
  /** Conditional-write attempts before the last ConditionalWriteError is thrown (default 5). */
  attempts?: number;
}

export interface Repository<T> {
  get(id: string): Promise<Versioned<T> | undefined>;
  getMany(ids: string[]): Promise<Map<string, Versioned<T>>>;
  /** Creates only if absent; throws ConditionalWriteError when a record exists. */
  create(record: T, options?: { expiresAt?: number }): Promise<Versioned<T>>;
  /** One conditional replace of the version the caller read; ConditionalWriteError if it changed. */
  replace(record: T, expectedVersion: number): Promise<Versioned<T>>;
  /** Read → mutate → conditional write, re-reading and re-running `mutate` after a lost race. */
  update(id: string, mutate: Mutation<T>, options?: UpdateOptions): Promise<Versioned<T>>;
  /** Runs `mutate` once on the record only if it is still at `expectedVersion`; no retry. */
  update(id: string, expectedVersion: number, mutate: Mutation<T>): Promise<Versioned<T>>;
  /** Like update, but `mutate` also sees an absent record (undefined) and may create it. */
  upsert(
    id: string,
    mutate: (current: T | undefined) => T | undefined,
    options?: UpdateOptions,
  ): Promise<Versioned<T> | undefined>;
  delete(id: string): Promise<void>;
  list(options?: { limit?: number; cursor?: string }): Promise<{ items: Versioned<T>[]; cursor?: string }>;
  /** Every record of the kind, page by page. */
  all(options?: { pageSize?: number }): AsyncIterable<Versioned<T>>;
}

export interface RepositoryDefinition<T> {
  kind: RecordKind;
  schema: z.ZodMiniType<T>;
  idOf: (record: T) => string;
  /** Applied to every record written by replace/update/upsert (e.g. stamp updatedAt). */
  beforeWrite?: (record: T) => T;
  /** Default conditional-write attempts of update/upsert (default 5). */
  attempts?: number;
}

export const DEFAULT_ATTEMPTS = 5;

/** The error class a record that breaks its schema is refused with: corrupt when read, invalid when written. */
type RecordRefusal = typeof CorruptRecordError | typeof InvalidRecordError;

/** The record `value` holds when it matches the schema and its id field is `id`; else `refuse`'s error. */
function checkedRecord<T>(
  { kind, schema, idOf }: RepositoryDefinition<T>,
  id: string,
  value: unknown,
  refuse: RecordRefusal,
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new refuse(kind, id, describeIssues(parsed.error));
  if (idOf(parsed.data) !== id) throw new refuse(kind, id, `its id field says "${idOf(parsed.data)}"`);
  return parsed.data;
}

export function createRepository<T>(store: VersionedStore, definition: RepositoryDefinition<T>): Repository<T> {
  const { kind, idOf } = definition;
  const beforeWrite = definition.beforeWrite ?? ((record: T) => record);
  const defaultAttempts = definition.attempts ?? DEFAULT_ATTEMPTS;

  const checked = (id: string, value: unknown, refuse: RecordRefusal) => checkedRecord(definition, id, value, refuse);

  function parseStored(id: string, stored: { value: unknown; version: number; expiresAt?: number }): Versioned<T> {
    const versioned: Versioned<T> = { record: checked(id, stored.value, CorruptRecordError), version: stored.version };
    if (stored.expiresAt !== undefined) versioned.expiresAt = stored.expiresAt;
    return versioned;
  }

  async function get(id: string): Promise<Versioned<T> | undefined> {
    const stored = await store.get(kind, id);
    return stored === undefined ? undefined : parseStored(id, stored);
  }

  async function write(
    id: string,
    record: T,
    expectedVersion: number | null,
    expiresAt?: number,
  ): Promise<Versioned<T>> {
    const value = checked(id, record, InvalidRecordError);
    const version = await store.put(
      kind,
      id,
      value,
      expiresAt === undefined ? { expectedVersion } : { expectedVersion, expiresAt },
    );
    return expiresAt === undefined ? { record: value, version } : { record: value, version, expiresAt };
  }

  /** One attempt: apply `mutate` to `current` and write it conditionally; unchanged → no write. */
  async function applyOnce(
    id: string,
    current: Versioned<T> | undefined,
    mutate: (current: T | undefined) => T | undefined,
  ): Promise<Versioned<T> | undefined> {
    const next = mutate(current?.record);
    if (next === undefined) return current;
    if (current !== undefined && sameJson(next, current.record)) return current;
    // A TTL the record had is kept: mutations change content, not lifetime.
    return write(id, beforeWrite(next), current?.version ?? null, current?.expiresAt);
  }

  async function retrying(
    id: string,
    mutate: (current: T | undefined) => T | undefined,
    attempts: number,
  ): Promise<Versioned<T> | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await get(id);
      try {
        return await applyOnce(id, current, mutate);
      } catch (error) {
        if (!(error instanceof ConditionalWriteError) || attempt >= attempts) throw error;
      }
    }
  }

  function update(id: string, mutate: Mutation<T>, options?: UpdateOptions): Promise<Versioned<T>>;
  function update(id: string, expectedVersion: number, mutate: Mutation<T>): Promise<Versioned<T>>;
  async function update(
    id: string,
    mutateOrVersion: Mutation<T> | number,
    optionsOrMutate?: UpdateOptions | Mutation<T>,
  ): Promise<Versioned<T>> {
    if (typeof mutateOrVersion === "number")
      return updateAtVersion(id, mutateOrVersion, optionsOrMutate as Mutation<T>);
    return updateRetrying(id, mutateOrVersion, (optionsOrMutate as UpdateOptions | undefined) ?? {});
  }

  /** One attempt, only while the record is at `expectedVersion`. */
  async function updateAtVersion(id: string, expectedVersion: number, mutate: Mutation<T>): Promise<Versioned<T>> {
    const current = await get(id);
    if (current === undefined) throw new RecordNotFoundError(kind, id);
    if (current.version !== expectedVersion) throw new ConditionalWriteError(kind, id, expectedVersion);
    const written = await applyOnce(id, current, (record) => (record === undefined ? undefined : mutate(record)));
    return written ?? current;
  }

  /** Read → mutate → conditional write, again after each lost race, for an existing record. */
  async function updateRetrying(id: string, mutate: Mutation<T>, options: UpdateOptions): Promise<Versioned<T>> {
    const written = await retrying(
      id,
      (record) => {
        if (record === undefined) throw new RecordNotFoundError(kind, id);
        return mutate(record);
      },
      options.attempts ?? defaultAttempts,
    );
    if (written === undefined) throw new RecordNotFoundError(kind, id);
    return written;
  }

  return {
    get,
    async getMany(ids) {
      const found = await store.getMany(kind, ids);
      const records = new Map<string, Versioned<T>>();
      for (const [id, stored] of found) records.set(id, parseStored(id, stored));
      return records;
    },
    create(record, options = {}) {
      return write(idOf(record), record, null, options.expiresAt);
    },
    replace(record, expectedVersion) {
      return write(idOf(record), beforeWrite(record), expectedVersion);
    },
    update,
    upsert(id, mutate, options = {}) {
      return retrying(id, mutate, options.attempts ?? defaultAttempts);
    },
    delete(id) {
      return store.delete(kind, id);
    },
    async list(options = {}) {
      const page = await store.list(kind, options);
      const items = page.items.map(({ id, stored }) => parseStored(id, stored));
      return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
    },
    async *all(options = {}) {
      let cursor: string | undefined;
      do {
        const page = await store.list(
          kind,
          cursor === undefined ? { limit: options.pageSize } : { limit: options.pageSize, cursor },
        );
        for (const { id, stored } of page.items) yield parseStored(id, stored);
        cursor = page.cursor;
      } while (cursor !== undefined);
    },
  };
}

function sameJson(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}
