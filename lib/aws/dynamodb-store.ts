/**
 * VersionedStore on DynamoDB (one table, see table-definition.ts). Conditional writes are single
 * UpdateItem calls whose ConditionExpression is the port's condition; a failed condition
 * (ConditionalCheckFailedException) becomes ConditionalWriteError. Reads are strongly consistent.
 *
 * TTL: DynamoDB deletes expired items lazily (typically within days) and dynalite never does, so every
 * read filters `expiresAt` against the clock and a create-only write may overwrite an expired item.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { BatchGetCommandOutput, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type Clock, systemClock } from "../clock.ts";
import type { RecordKind } from "../state/statuses.ts";
import {
  ConditionalWriteError,
  checkId,
  checkKind,
  checkListLimit,
  checkPutOptions,
  isExpired,
  type ListOptions,
  type ListPage,
  type PutOptions,
  StoreArgumentError,
  type Stored,
  toJson,
  type VersionedStore,
} from "../state/store.ts";
import * as z from "../zod.ts";
import { type BatchRetry, batchRetryOf, waitBeforeRetry } from "./batch-retry.ts";
import { documentSdk } from "./sdk.ts";
import { STATE_TABLE } from "./table-definition.ts";

/** DynamoDB BatchGetItem: "up to 100 items" per call. */
const BATCH_GET_LIMIT = 100;

export interface DynamoDbStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
  /** BatchGetItem UnprocessedKeys: retried with exponential backoff from this delay (default 50 ms)… */
  retryBaseDelayMs?: number;
  /** …at most this many times before failing with STORE_THROTTLED (default 8). */
  maxRetries?: number;
}

/** DynamoDB kept returning UnprocessedKeys (throttling) after every retry. */
export class StoreThrottledError extends Error {
  readonly code = "STORE_THROTTLED";

  constructor(kind: RecordKind, unprocessed: number, attempts: number) {
    super(`DynamoDB left ${unprocessed} ${kind} keys unprocessed after ${attempts} BatchGetItem attempts; retry later`);
    this.name = "StoreThrottledError";
  }
}

const storedItem = z.object({
  id: z.string(),
  value: z.unknown(),
  version: z.int(),
  expiresAt: z.optional(z.number()),
});

const cursorKey = z.strictObject({ pk: z.string(), kind: z.string(), id: z.string() });

interface DocumentApi {
  sdk: Awaited<ReturnType<typeof documentSdk>>;
  client: DynamoDBDocumentClient;
}

export class DynamoDbStore implements VersionedStore {
  readonly #client: DynamoDBClient;
  #documents: Promise<DocumentApi> | undefined;
  readonly #tableName: string;
  readonly #clock: Clock;
  readonly #retry: BatchRetry;

  constructor(options: DynamoDbStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#clock = options.clock ?? systemClock;
    this.#retry = batchRetryOf(options, { baseDelayMs: 50, maxRetries: 8 });
  }

  async get(kind: RecordKind, id: string): Promise<Stored<unknown> | undefined> {
    checkKind(kind);
    checkId(kind, id);
    const { client, sdk } = await this.#documentApi();
    const { Item } = await client.send(
      new sdk.GetCommand({ TableName: this.#tableName, Key: { pk: partitionKey(kind, id) }, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : this.#live(Item)?.stored;
  }

  async getMany(kind: RecordKind, ids: string[]): Promise<Map<string, Stored<unknown>>> {
    checkKind(kind);
    for (const id of ids) checkId(kind, id);
    const unique = [...new Set(ids)];
    const chunks: string[][] = [];
    for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
      chunks.push(unique.slice(start, start + BATCH_GET_LIMIT));
    }
    const found = new Map<string, Stored<unknown>>();
    const pages = await Promise.all(chunks.map((chunk) => this.#batchGet(kind, chunk)));
    for (const items of pages) {
      for (const item of items) {
        const live = this.#live(item);
        if (live !== undefined) found.set(live.id, live.stored);
      }
    }
    return found;
  }

  async put(kind: RecordKind, id: string, value: unknown, options: PutOptions): Promise<number> {
    checkKind(kind);
    checkId(kind, id);
    checkPutOptions(kind, id, options);
    // Round-trip through JSON so both adapters keep exactly what JSON keeps (no undefined, Dates as strings).
    const document: unknown = JSON.parse(toJson(kind, id, value));
    const names: Record<string, string> = {
      "#kind": STATE_TABLE.kindAttribute,
      "#id": STATE_TABLE.idAttribute,
      "#value": STATE_TABLE.valueAttribute,
      "#version": STATE_TABLE.versionAttribute,
      "#expiresAt": STATE_TABLE.ttlAttribute,
    };
    const values: Record<string, unknown> = { ":value": document, ":one": 1, ":now": this.#clock.now() / 1000 };
    const ttl = options.expiresAt === undefined ? " REMOVE #expiresAt" : ", #expiresAt = :expiresAt";
    if (options.expiresAt !== undefined) values[":expiresAt"] = options.expiresAt;
    let updateExpression: string;
    let conditionExpression: string;
    if (options.expectedVersion === null) {
      values[":kind"] = kind;
      values[":id"] = id;
      values[":zero"] = 0;
      updateExpression = `SET #kind = :kind, #id = :id, #value = :value, #version = if_not_exists(#version, :zero) + :one${ttl}`;
      conditionExpression = "attribute_not_exists(pk) OR #expiresAt <= :now";
    } else {
      values[":expected"] = options.expectedVersion;
      updateExpression = `SET #value = :value, #version = #version + :one${ttl}`;
      conditionExpression = "#version = :expected AND (attribute_not_exists(#expiresAt) OR #expiresAt > :now)";
      // #kind and #id are not used on this path; DynamoDB rejects unused expression attribute names.
      delete names["#kind"];
      delete names["#id"];
    }
    const { client, sdk } = await this.#documentApi();
    try {
      const { Attributes } = await client.send(
        new sdk.UpdateCommand({
          TableName: this.#tableName,
          Key: { pk: partitionKey(kind, id) },
          UpdateExpression: updateExpression,
          ConditionExpression: conditionExpression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "UPDATED_NEW",
        }),
      );
      return z.object({ version: z.int() }).parse(Attributes).version;
    } catch (error) {
      // The SDK names its service exceptions; matching the name needs no class from the client package.
      if (error instanceof Error && error.name === "ConditionalCheckFailedException")
        throw new ConditionalWriteError(kind, id, options.expectedVersion);
      throw error;
    }
  }

  async delete(kind: RecordKind, id: string): Promise<void> {
    checkKind(kind);
    checkId(kind, id);
    const { client, sdk } = await this.#documentApi();
    await client.send(new sdk.DeleteCommand({ TableName: this.#tableName, Key: { pk: partitionKey(kind, id) } }));
  }

  async list(kind: RecordKind, options: ListOptions = {}): Promise<ListPage> {
    checkKind(kind);
    const limit = checkListLimit(options.limit);
    const exclusiveStartKey = options.cursor === undefined ? undefined : decodeCursor(kind, options.cursor);
    // Limit counts items read before the filter, so a page can come back short (even empty) with a cursor.
    const { client, sdk } = await this.#documentApi();
    const { Items, LastEvaluatedKey } = await client.send(
      new sdk.QueryCommand({
        TableName: this.#tableName,
        IndexName: STATE_TABLE.kindIndexName,
        KeyConditionExpression: "#kind = :kind",
        FilterExpression: "attribute_not_exists(#expiresAt) OR #expiresAt > :now",
        ExpressionAttributeNames: { "#kind": STATE_TABLE.kindAttribute, "#expiresAt": STATE_TABLE.ttlAttribute },
        ExpressionAttributeValues: { ":kind": kind, ":now": this.#clock.now() / 1000 },
        Limit: limit,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    const items: ListPage["items"] = [];
    for (const item of Items ?? []) {
      const live = this.#live(item);
      if (live !== undefined) items.push({ id: live.id, stored: live.stored });
    }
    return LastEvaluatedKey === undefined ? { items } : { items, cursor: encodeCursor(LastEvaluatedKey) };
  }

  async #batchGet(kind: RecordKind, ids: string[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let keys: Record<string, unknown>[] = ids.map((id) => ({ pk: partitionKey(kind, id) }));
    const { client, sdk } = await this.#documentApi();
    for (let attempt = 0; ; attempt += 1) {
      const output: BatchGetCommandOutput = await client.send(
        new sdk.BatchGetCommand({ RequestItems: { [this.#tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      items.push(...(output.Responses?.[this.#tableName] ?? []));
      keys = output.UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
      if (keys.length === 0) return items;
      if (attempt >= this.#retry.maxRetries) throw new StoreThrottledError(kind, keys.length, attempt + 1);
      // AWS: "we strongly recommend that you use an exponential backoff algorithm" for UnprocessedKeys.
      await waitBeforeRetry(this.#retry, attempt);
    }
  }

  /** The document client over the caller's DynamoDB client, with the commands it sends (lib/aws/sdk.ts). */
  #documentApi(): Promise<DocumentApi> {
    this.#documents ??= documentSdk().then((sdk) => ({
      sdk,
      client: sdk.DynamoDBDocumentClient.from(this.#client, { marshallOptions: { removeUndefinedValues: true } }),
    }));
    return this.#documents;
  }

  #live(item: Record<string, unknown>): { id: string; stored: Stored<unknown> } | undefined {
    const parsed = storedItem.parse(item);
    if (isExpired(parsed.expiresAt, this.#clock.now())) return undefined;
    const stored: Stored<unknown> = { value: parsed.value, version: parsed.version };
    if (parsed.expiresAt !== undefined) stored.expiresAt = parsed.expiresAt;
    return { id: parsed.id, stored };
  }
}

function partitionKey(kind: RecordKind, id: string): string {
  return `${kind}#${id}`;
}

function encodeCursor(lastEvaluatedKey: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(lastEvaluatedKey), "utf8").toString("base64url");
}

function decodeCursor(kind: RecordKind, cursor: string): Record<string, unknown> {
  let key: z.infer<typeof cursorKey> | undefined;
  try {
    key = cursorKey.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    key = undefined;
  }
  if (key === undefined || key.kind !== kind) {
    throw new StoreArgumentError(
      `list cursor ${JSON.stringify(cursor)} is not one this store returned for kind ${kind}`,
    );
  }
  return key;
}
