/**
 * The state layer's record errors: one base carrying the stable `code` and which record (`kind`, `id`),
 * subclasses that add only their message (and ConditionalWriteError, in lib/state/store.ts, its version).
 */
import type { RecordKind } from "./statuses.ts";

/** Something is wrong with one record: `code` for programs, `kind` and `id` name the record. */
export abstract class RecordError extends Error {
  abstract readonly code: string;
  readonly kind: RecordKind;
  readonly id: string;

  constructor(kind: RecordKind, id: string, message: string) {
    super(message);
    this.kind = kind;
    this.id = id;
  }
}

/** A stored record does not match its schema (written by another version, or edited by hand). */
export class CorruptRecordError extends RecordError {
  readonly code = "CORRUPT_RECORD";
  override readonly name = "CorruptRecordError";

  constructor(kind: RecordKind, id: string, detail: string) {
    super(kind, id, `stored ${kind} record "${id}" is corrupt: ${detail}`);
  }
}

/** The pipeline tried to write a record that breaks its schema: a bug, refused before it is stored. */
export class InvalidRecordError extends RecordError {
  readonly code = "INVALID_RECORD";
  override readonly name = "InvalidRecordError";

  constructor(kind: RecordKind, id: string, detail: string) {
    super(kind, id, `refusing to write ${kind} record "${id}": ${detail}`);
  }
}

export class RecordNotFoundError extends RecordError {
  readonly code = "RECORD_NOT_FOUND";
  override readonly name = "RecordNotFoundError";

  constructor(kind: RecordKind, id: string) {
    super(kind, id, `no ${kind} record "${id}" to update`);
  }
}
