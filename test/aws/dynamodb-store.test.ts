import { DescribeTableCommand, type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbStore } from "../../lib/aws/dynamodb-store.ts";
import { createTable, STATE_TABLE, stateTableCloudFormation } from "../../lib/aws/table-definition.ts";
import { ManualClock } from "../../lib/clock.ts";
import { describeVersionedStoreContract } from "../state/store-contract.ts";
import { startDynalite } from "./peers.ts";

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let tables = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
});

/** A fresh table per test keeps the contract's tests independent without restarting dynalite. */
async function freshTable(client: DynamoDBClient): Promise<string> {
  tables += 1;
  const tableName = `state-${tables}`;
  await createTable(client, tableName, { pollIntervalMs: 5 });
  return tableName;
}

describeVersionedStoreContract("DynamoDB (dynalite)", async () => {
  const clock = new ManualClock(Date.now());
  const store = new DynamoDbStore({ client: dynamo.client, tableName: await freshTable(dynamo.client), clock });
  return { store, clock, close: async () => {} };
});

describe("DynamoDB state table", () => {
  it("is created with pk as key, the byKind GSI projecting all attributes, and on-demand billing", async () => {
    const tableName = await freshTable(dynamo.client);
    const { Table } = await dynamo.client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.KeySchema).toEqual([{ AttributeName: "pk", KeyType: "HASH" }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema, index.Projection])).toEqual(
      [
        [
          "byKind",
          [
            { AttributeName: "kind", KeyType: "HASH" },
            { AttributeName: "id", KeyType: "RANGE" },
          ],
          { ProjectionType: "ALL" },
        ],
      ],
    );
  });

  it("describes the same table for CloudFormation, with expiresAt as the TTL attribute", () => {
    const resource = stateTableCloudFormation("sdrs-autoprotect-state");
    expect(resource.Type).toBe("AWS::DynamoDB::Table");
    expect(resource.Properties.TableName).toBe("sdrs-autoprotect-state");
    expect(resource.Properties.TimeToLiveSpecification).toEqual({ AttributeName: "expiresAt", Enabled: true });
    expect(resource.Properties.GlobalSecondaryIndexes?.[0]?.IndexName).toBe(STATE_TABLE.kindIndexName);
  });

  it("stores an item as pk, kind, id, value map, version and expiresAt", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const tableName = await freshTable(dynamo.client);
    const store = new DynamoDbStore({ client: dynamo.client, tableName, clock });
    await store.put("event", "trace-7", { eventId: "trace-7" }, { expectedVersion: null, expiresAt: 1_767_229_300 });
    const { Item } = await dynamo.client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: "event#trace-7" } } }),
    );
    expect(Item).toEqual({
      pk: { S: "event#trace-7" },
      kind: { S: "event" },
      id: { S: "trace-7" },
      value: { M: { eventId: { S: "trace-7" } } },
      version: { N: "1" },
      expiresAt: { N: "1767229300" },
    });
  });

  it("retries BatchGetItem UnprocessedKeys until every id is read", async () => {
    const clock = new ManualClock(Date.now());
    const tableName = await freshTable(dynamo.client);
    const store = new DynamoDbStore({ client: dynamo.client, tableName, clock, retryBaseDelayMs: 1 });
    const ids = Array.from({ length: 150 }, (_, index) => `srv-${index}`);
    await Promise.all(ids.map((id) => store.put("server", id, { serverId: id }, { expectedVersion: null })));

    // Play DynamoDB under throttling: the first two responses hand half their keys back as UnprocessedKeys.
    // An initialize-step middleware sees the document client's (unmarshalled) output, so keys are plain values.
    let throttled = 0;
    const middlewareName = "throttle-batch-get";
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const output = result.output as {
          Responses?: Record<string, Record<string, unknown>[]>;
          UnprocessedKeys?: Record<string, { Keys: Record<string, unknown>[] }>;
        };
        const responses = output.Responses?.[tableName];
        if (context.commandName === "BatchGetItemCommand" && responses !== undefined && throttled < 2) {
          throttled += 1;
          const handedBack = responses.splice(0, Math.ceil(responses.length / 2));
          output.UnprocessedKeys = { [tableName]: { Keys: handedBack.map((item) => ({ pk: item.pk })) } };
        }
        return result;
      },
      { step: "initialize", name: middlewareName },
    );
    try {
      const found = await store.getMany("server", ids);
      expect(throttled).toBe(2);
      expect([...found.keys()].sort()).toEqual([...ids].sort());
    } finally {
      dynamo.client.middlewareStack.remove(middlewareName);
    }
  });

  it("fails with STORE_THROTTLED when UnprocessedKeys outlast every retry", async () => {
    const tableName = await freshTable(dynamo.client);
    const store = new DynamoDbStore({ client: dynamo.client, tableName, retryBaseDelayMs: 1, maxRetries: 2 });
    await store.put("server", "srv-1", { serverId: "srv-1" }, { expectedVersion: null });
    const middlewareName = "always-throttle";
    dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === "BatchGetItemCommand") {
          const output = result.output as { Responses?: Record<string, unknown[]>; UnprocessedKeys?: unknown };
          output.Responses = { [tableName]: [] };
          output.UnprocessedKeys = { [tableName]: { Keys: [{ pk: "server#srv-1" }] } };
        }
        return result;
      },
      { step: "initialize", name: middlewareName },
    );
    try {
      await expect(store.getMany("server", ["srv-1"])).rejects.toMatchObject({ code: "STORE_THROTTLED" });
    } finally {
      dynamo.client.middlewareStack.remove(middlewareName);
    }
  });
});
