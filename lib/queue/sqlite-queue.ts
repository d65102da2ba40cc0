/**
 * The queue port on node:sqlite, with SQS's semantics for what the pipeline relies on: per-message
 * delay, visibility timeout on receive, receive counts, and a dead-letter queue `<queue>-dlq` that takes a
 * message instead of delivering it once it was received more than `maxReceiveCount` times (SQS redrive
 * policy), or when a consumer puts it there itself with a reason (`deadLetter`, the local DeadLetterSink). Receives run in an IMMEDIATE transaction, so two receivers — even two processes on one
 * file — never get the same message at once. Time comes from a Clock: a ManualClock (with
 * `nextVisibleAt`) lets an accelerated runtime jump straight to the next due message.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { type Clock, systemClock } from "../clock.ts";
import { inWriteTransaction, prepared, resolveDatabase } from "../state/sqlite-database.ts";
import * as z from "../zod.ts";
import {
  type BatchEntry,
  checkQueueName,
  checkReceiveOptions,
  checkSendOptions,
  checkVisibility,
  DEAD_LETTER_REASON_ATTRIBUTE,
  DEDUPLICATION_ATTRIBUTE,
  DEFAULT_MAX_RECEIVE_COUNT,
  LOCAL_SENDER_ID,
  messageBody,
  QUEUE_NAMES,
  QueueArgumentError,
  type QueueName,
  type QueueReceiver,
  type QueueSender,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendOptions,
} from "./queue.ts";

/**
 * The message attribute naming why a consumer dead-lettered a message (the AWS sink in lib/runtime/aws.ts
 * sends the same attribute name to the SQS dead-letter queues).
 */

/** SQS FIFO deduplication interval: 5 minutes. */
const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;

export interface SqliteQueueOptions {
  /** A path, ":memory:", or an open database shared with the sqlite store. */
  database: DatabaseSync | string;
  clock?: Clock;
  /** Receives before a message is dead-lettered: one number for all queues or per queue (1–1000, default 5). */
  maxReceiveCount?: number | Partial<Record<QueueName, number>>;
}

export interface QueueStats {
  /** Receivable now. */
  visible: number;
  /** Sent with a delay that has not passed yet (never received). */
  delayed: number;
  /** Received and still within their visibility timeout. */
  inFlight: number;
  /** In `<queue>-dlq`. */
  dead: number;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
  /** Epoch milliseconds of the move to the dead-letter queue. */
  deadAt: number;
  messageAttributes?: Record<string, string>;
}

interface MessageRow {
  message_id: string;
  body: string;
  sent_at: number;
  receive_count: number;
  first_received_at: number | null;
  receipt_handle: string | null;
  deduplication_id: string | null;
  dead_at: number | null;
  message_attributes: string | null;
}

/** The string message attributes a message was stored with (JSON text in `message_attributes`). */
const storedAttributes = z.record(z.string(), z.string());

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS queue_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received_at INTEGER,
    receipt_handle TEXT UNIQUE,
    deduplication_id TEXT,
    dead_at INTEGER,
    message_attributes TEXT
  );
  CREATE INDEX IF NOT EXISTS queue_messages_due ON queue_messages (queue, visible_at, seq);
  CREATE TABLE IF NOT EXISTS queue_deduplication (
    queue TEXT NOT NULL,
    deduplication_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue, deduplication_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS queue_deduplication_expiry ON queue_deduplication (expires_at);
`;

export function deadLetterQueueName(queue: QueueName): string {
  return `${queue}-dlq`;
}

/** The ARN the local runtime passes to toSqsEvent for a sqlite queue. */
export function localQueueArn(queue: QueueName): string {
  return `arn:aws:sqs:local:000000000000:${queue}`;
}

export class SqliteQueue implements QueueSender, QueueReceiver {
  readonly #database: DatabaseSync;
  readonly #owned: boolean;
  readonly #clock: Clock;
  readonly #maxReceiveCount: Record<QueueName, number>;

  constructor(options: SqliteQueueOptions) {
    const { database, owned } = resolveDatabase(options.database);
    this.#database = database;
    this.#owned = owned;
    this.#clock = options.clock ?? systemClock;
    this.#maxReceiveCount = resolveMaxReceiveCount(options.maxReceiveCount);
    this.#database.exec(SCHEMA);
    addMessageAttributesColumn(this.#database);
  }

  async send(queue: QueueName, body: unknown, options: SendOptions = {}): Promise<void> {
    await this.sendBatch(queue, [{ ...options, body }]);
  }

  async sendBatch(queue: QueueName, entries: BatchEntry[]): Promise<void> {
    checkQueueName(queue);
    const messages = entries.map((entry) => {
      checkSendOptions(queue, entry);
      return { ...entry, text: messageBody(queue, entry.body) };
    });
    const now = this.#clock.now();
    inWriteTransaction(this.#database, () => {
      prepared(this.#database, "DELETE FROM queue_deduplication WHERE expires_at <= ?").run(now);
      const remember = prepared(
        this.#database,
        "INSERT INTO queue_deduplication (queue, deduplication_id, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      );
      const insert = prepared(
        this.#database,
        `INSERT INTO queue_messages (message_id, queue, body, sent_at, visible_at, deduplication_id)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (const message of messages) {
        if (message.deduplicationId !== undefined) {
          const fresh = remember.run(queue, message.deduplicationId, now + DEDUPLICATION_WINDOW_MS).changes;
          if (Number(fresh) === 0) continue;
        }
        const visibleAt = now + (message.delaySeconds ?? 0) * 1000;
        insert.run(randomUUID(), queue, message.text, now, visibleAt, message.deduplicationId ?? null);
      }
    });
  }

  async receive(queue: QueueName, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    checkQueueName(queue);
    checkReceiveOptions(queue, options);
    const now = this.#clock.now();
    const rows = inWriteTransaction(this.#database, () => {
      // Only the rows this receive reaches are looked at (the due index, in order): a due message received
      // maxReceiveCount times goes to the dead-letter queue (SQS redrive), the next due one takes its place.
      // A backlog of due messages is never rescanned, so draining it stays linear.
      const due = prepared(
        this.#database,
        "SELECT seq, receive_count FROM queue_messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
      );
      const toDeadLetters = prepared(
        this.#database,
        "UPDATE queue_messages SET queue = ?, dead_at = ?, receipt_handle = NULL WHERE seq = ?",
      );
      const take = prepared(
        this.#database,
        `UPDATE queue_messages
           SET receive_count = receive_count + 1, visible_at = ?, receipt_handle = ?,
               first_received_at = coalesce(first_received_at, ?)
         WHERE seq = ?
         RETURNING message_id, body, sent_at, receive_count, first_received_at, receipt_handle, deduplication_id, dead_at, message_attributes`,
      );
      const visibleAt = now + options.visibilityTimeoutSeconds * 1000;
      const taken: MessageRow[] = [];
      for (;;) {
        const wanted = options.maxMessages - taken.length;
        const rows = due.all(queue, now, wanted) as unknown as { seq: number; receive_count: number }[];
        for (const { seq, receive_count: receiveCount } of rows) {
          if (Number(receiveCount) >= this.#maxReceiveCount[queue])
            toDeadLetters.run(deadLetterQueueName(queue), now, seq);
          else taken.push(take.get(visibleAt, newReceiptHandle(), now, seq) as unknown as MessageRow);
        }
        // Every row seen was taken or dead-lettered (due no more), so each pass moves on; a short page is the end.
        if (rows.length < wanted || taken.length >= options.maxMessages) return taken;
      }
    });
    return rows.map(toReceivedMessage);
  }

  async delete(queue: QueueName, receiptHandle: string): Promise<void> {
    await this.deleteBatch(queue, [receiptHandle]);
  }

  /** Deletes many received messages in one transaction (one commit, not one per message). */
  async deleteBatch(queue: QueueName, receiptHandles: readonly string[]): Promise<void> {
    checkQueueName(queue);
    if (receiptHandles.length === 0) return;
    inWriteTransaction(this.#database, () => {
      const remove = prepared(this.#database, "DELETE FROM queue_messages WHERE queue = ? AND receipt_handle = ?");
      for (const receiptHandle of receiptHandles) remove.run(queue, receiptHandle);
    });
  }

  async changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
    checkQueueName(queue);
    checkVisibility(queue, seconds);
    const changed = prepared(
      this.#database,
      "UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ?",
    ).run(this.#clock.now() + seconds * 1000, queue, receiptHandle).changes;
    if (Number(changed) === 0) {
      throw new QueueArgumentError(
        "receiptHandle",
        `receipt handle is not the latest of a message in queue ${queue} (deleted, dead-lettered or received again since)`,
      );
    }
  }

  stats(queue: QueueName): QueueStats {
    checkQueueName(queue);
    const row = prepared(
      this.#database,
      `SELECT
           coalesce(sum(queue = ?1 AND visible_at <= ?2), 0) AS visible,
           coalesce(sum(queue = ?1 AND visible_at > ?2 AND receive_count = 0), 0) AS delayed,
           coalesce(sum(queue = ?1 AND visible_at > ?2 AND receive_count > 0), 0) AS inFlight,
           coalesce(sum(queue = ?3), 0) AS dead
         FROM queue_messages WHERE queue IN (?1, ?3)`,
    ).get(queue, this.#clock.now(), deadLetterQueueName(queue)) as Record<keyof QueueStats, number>;
    return {
      visible: Number(row.visible),
      delayed: Number(row.delayed),
      inFlight: Number(row.inFlight),
      dead: Number(row.dead),
    };
  }

  /** The messages in `<queue>-dlq`, oldest first. */
  deadLetters(queue: QueueName): DeadLetter[] {
    checkQueueName(queue);
    const rows = prepared(
      this.#database,
      `SELECT message_id, body, sent_at, receive_count, first_received_at, receipt_handle, deduplication_id, dead_at, message_attributes
         FROM queue_messages WHERE queue = ? ORDER BY dead_at, seq`,
    ).all(deadLetterQueueName(queue)) as unknown as MessageRow[];
    return rows.map((row) => {
      const deadLetter: DeadLetter = {
        messageId: row.message_id,
        body: row.body,
        receiveCount: Number(row.receive_count),
        sentAt: Number(row.sent_at),
        deadAt: Number(row.dead_at),
      };
      const messageAttributes = attributesOf(row);
      if (messageAttributes) deadLetter.messageAttributes = messageAttributes;
      return deadLetter;
    });
  }

  /**
   * Puts `body` (the message text as received) straight into `<queue>-dlq`, with `reason` as the message
   * attribute DEAD_LETTER_REASON_ATTRIBUTE: what a consumer does with a message it can never process, so
   * it is kept for a person (`deadLetters`) and can be redriven (`redriveDeadLetters`) once fixed.
   */
  async deadLetter(queue: QueueName, body: string, reason: string): Promise<void> {
    checkQueueName(queue);
    const now = this.#clock.now();
    prepared(
      this.#database,
      `INSERT INTO queue_messages (message_id, queue, body, sent_at, visible_at, dead_at, message_attributes)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      randomUUID(),
      deadLetterQueueName(queue),
      body,
      now,
      now,
      now,
      JSON.stringify({ [DEAD_LETTER_REASON_ATTRIBUTE]: reason }),
    );
  }

  /** Moves every dead letter of `queue` back to it, visible now with a fresh receive count; returns how many. */
  redriveDeadLetters(queue: QueueName): number {
    checkQueueName(queue);
    const moved = prepared(
      this.#database,
      `UPDATE queue_messages
           SET queue = ?, visible_at = ?, receive_count = 0, first_received_at = NULL, receipt_handle = NULL, dead_at = NULL
         WHERE queue = ?`,
    ).run(queue, this.#clock.now(), deadLetterQueueName(queue)).changes;
    return Number(moved);
  }

  /**
   * After a crash: the messages a dead consumer had received become visible now (SQS would wait out their
   * visibility timeout); returns how many. Only for a queue file whose consumers are known to be gone.
   */
  releaseInFlight(): number {
    const released = prepared(
      this.#database,
      `UPDATE queue_messages SET visible_at = ?, receipt_handle = NULL
         WHERE queue IN (SELECT value FROM json_each(?)) AND receive_count > 0 AND visible_at > ?`,
    ).run(this.#clock.now(), JSON.stringify(QUEUE_NAMES), this.#clock.now()).changes;
    return Number(released);
  }

  /** The bodies of every live message of `queue` (visible, delayed or in flight), oldest first. */
  liveBodies(queue: QueueName): string[] {
    checkQueueName(queue);
    const rows = prepared(this.#database, "SELECT body FROM queue_messages WHERE queue = ? ORDER BY seq").all(
      queue,
    ) as unknown as { body: string }[];
    return rows.map((row) => row.body);
  }

  /**
   * Epoch milliseconds at which the earliest live message (of `queue`, or of any queue) is or becomes
   * visible; undefined when there is none. A value at or before now means something is receivable.
   */
  nextVisibleAt(queue?: QueueName): number | undefined {
    const queues = queue === undefined ? QUEUE_NAMES : [queue];
    for (const name of queues) checkQueueName(name);
    // One indexed lookup per queue (the due index), not a scan of every live message.
    const earliest = prepared(this.#database, "SELECT min(visible_at) AS next FROM queue_messages WHERE queue = ?");
    const times = queues.flatMap((name) => {
      const row = earliest.get(name) as { next: number | null };
      return row.next === null ? [] : [Number(row.next)];
    });
    return times.length === 0 ? undefined : Math.min(...times);
  }

  close(): void {
    if (this.#owned && this.#database.isOpen) this.#database.close();
  }
}

function resolveMaxReceiveCount(option: SqliteQueueOptions["maxReceiveCount"]): Record<QueueName, number> {
  const resolved = {} as Record<QueueName, number>;
  for (const queue of QUEUE_NAMES) {
    const count = typeof option === "number" ? option : (option?.[queue] ?? DEFAULT_MAX_RECEIVE_COUNT);
    // SQS redrive policy: "maxReceiveCount … valid values are from 1 to 1000".
    if (!(Number.isInteger(count) && count >= 1 && count <= 1000)) {
      throw new QueueArgumentError(
        "maxReceiveCount",
        `maxReceiveCount for queue ${queue} must be an integer from 1 to 1000; got ${count}`,
      );
    }
    resolved[queue] = count;
  }
  return resolved;
}

/** Files written before message attributes were stored lack the column; SQLite adds it in place. */
function addMessageAttributesColumn(database: DatabaseSync): void {
  const hasColumn = () =>
    (database.prepare("PRAGMA table_info(queue_messages)").all() as unknown as { name: string }[]).some(
      (column) => column.name === "message_attributes",
    );
  if (hasColumn()) return;
  try {
    database.exec("ALTER TABLE queue_messages ADD COLUMN message_attributes TEXT");
  } catch (error) {
    if (!hasColumn()) throw error; // another connection added it in between: nothing left to do
  }
}

/** A message's string attributes: the ones it was stored with, plus DeduplicationId for a deduplicated send. */
function attributesOf(row: MessageRow): Record<string, string> | undefined {
  const attributes: Record<string, string> =
    row.message_attributes === null ? {} : storedAttributes.parse(JSON.parse(row.message_attributes));
  if (row.deduplication_id !== null) attributes[DEDUPLICATION_ATTRIBUTE] = row.deduplication_id;
  return Object.keys(attributes).length > 0 ? attributes : undefined;
}

function newReceiptHandle(): string {
  return randomBytes(24).toString("base64url");
}

function toReceivedMessage(row: MessageRow): ReceivedMessage {
  const sentAt = Number(row.sent_at);
  const message: ReceivedMessage = {
    messageId: row.message_id,
    body: row.body,
    receiptHandle: row.receipt_handle ?? "",
    receiveCount: Number(row.receive_count),
    sentAt,
    attributes: {
      ApproximateReceiveCount: String(row.receive_count),
      SentTimestamp: String(sentAt),
      SenderId: LOCAL_SENDER_ID,
      ApproximateFirstReceiveTimestamp: String(row.first_received_at ?? sentAt),
    },
  };
  const messageAttributes = attributesOf(row);
  if (messageAttributes) message.messageAttributes = messageAttributes;
  return message;
}
