/**
 * Lookups keyed by what a user or the cloud chose (server ids, target names, flavor ids): a plain object's
 * `record["constructor"]` is Object itself and `record["__proto__"]` its prototype, so such a lookup reads
 * own properties only.
 */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A plain-object copy of `entries` without a prototype: safe to index with any key, and JSON-serialisable. */
export function prototypeFree<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}
