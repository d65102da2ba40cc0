/**
 * Inventory events the intake rejected (not an EventBridge event, an invalid detail or CTS trace), kept 14
 * days so status tooling can show them. They live in the store under the existing record kind "event",
 * with ids `rejected:…`, next to the dedupe records of handled events. A rejection record is also a valid
 * event record (eventId, firstSeenAt), so everything under the kind keeps one shape.
 *
 * Only the event's id, source and detail-type are kept, never its body: a CTS trace of a server create
 * can carry the request, admin password included.
 */
import { createHash } from "node:crypto";
import { type Clock, systemClock } from "../clock.ts";
import { eventRecord } from "../state/records.ts";
import { createRepository } from "../state/repository.ts";
import { isConditionalWriteError, type VersionedStore } from "../state/store.ts";
import * as z from "../zod.ts";

export const REJECTED_EVENT_ID_PREFIX = "rejected:";
export const REJECTION_TTL_SECONDS = 14 * 24 * 3600;
/** Store ids are bounded and a malformed event's id may be anything: a longer or odd id is kept hashed. */
const READABLE_EVENT_ID = /^[\x21-\x7e]{1,200}$/;
/** Source and detail-type are kept up to this length. */
const MAX_LABEL_LENGTH = 256;
/** Page size of the scan over the event records. */
const LIST_PAGE_SIZE = 1000;

export const rejectedEvent = z.extend(eventRecord, {
  /** Why the intake rejected the event: the field and the rule. */
  reason: z.string().check(z.minLength(1)),
  /** The event's own id (EventBridge `id`), when it had one. */
  rejectedEventId: z.optional(z.string()),
  source: z.optional(z.string()),
  detailType: z.optional(z.string()),
});
export type RejectedEvent = z.infer<typeof rejectedEvent>;

export interface Rejection {
  /** The event's id, when the envelope had one. */
  eventId?: string;
  reason: string;
  /** The event as received; only its source and detail-type are kept. */
  event: unknown;
}

export interface RejectionLog {
  /** Keeps the rejection for 14 days; a redelivered event is kept once. */
  record(rejection: Rejection): Promise<void>;
  /** The kept rejections, ordered by id. Scans every event record: for status tooling, not for decisions. */
  list(): Promise<RejectedEvent[]>;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function eventText(event: unknown): string {
  try {
    return JSON.stringify(event) ?? String(event);
  } catch {
    return String(event);
  }
}

/** `rejected:<event id>`, or `rejected:sha256:<hex>` of the id or (without one) of the event. */
export function rejectionId(rejection: Pick<Rejection, "eventId" | "event">): string {
  const { eventId } = rejection;
  if (eventId !== undefined && READABLE_EVENT_ID.test(eventId)) return `${REJECTED_EVENT_ID_PREFIX}${eventId}`;
  return `${REJECTED_EVENT_ID_PREFIX}sha256:${sha256(eventId ?? eventText(rejection.event))}`;
}

function label(event: unknown, field: string): string | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const value = (event as Record<string, unknown>)[field];
  return typeof value === "string" && value !== "" ? value.slice(0, MAX_LABEL_LENGTH) : undefined;
}

/** The pure part: the record kept for a rejection at `now` (epoch ms). */
export function rejectedEventRecord(rejection: Rejection, now: number): RejectedEvent {
  const source = label(rejection.event, "source");
  const detailType = label(rejection.event, "detail-type");
  return {
    eventId: rejectionId(rejection),
    firstSeenAt: new Date(now).toISOString(),
    reason: rejection.reason,
    ...(rejection.eventId !== undefined ? { rejectedEventId: rejection.eventId.slice(0, MAX_LABEL_LENGTH) } : {}),
    ...(source ? { source } : {}),
    ...(detailType ? { detailType } : {}),
  };
}

export function createRejectionLog(store: VersionedStore, options: { clock?: Clock } = {}): RejectionLog {
  const clock = options.clock ?? systemClock;
  const rejections = createRepository<RejectedEvent>(store, {
    kind: "event",
    schema: rejectedEvent,
    idOf: (record) => record.eventId,
  });
  return {
    async record(rejection) {
      const now = clock.now();
      try {
        await rejections.create(rejectedEventRecord(rejection, now), {
          expiresAt: Math.floor(now / 1000) + REJECTION_TTL_SECONDS,
        });
      } catch (error) {
        if (!isConditionalWriteError(error)) throw error; // already kept: a redelivery of the same event
      }
    },
    async list() {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(
          "event",
          cursor === undefined ? { limit: LIST_PAGE_SIZE } : { limit: LIST_PAGE_SIZE, cursor },
        );
        for (const { id } of page.items) if (id.startsWith(REJECTED_EVENT_ID_PREFIX)) ids.push(id);
        cursor = page.cursor;
      } while (cursor !== undefined);
      const found = await rejections.getMany(ids);
      return ids.flatMap((id) => {
        const kept = found.get(id);
        return kept ? [kept.record] : [];
      });
    },
  };
}
