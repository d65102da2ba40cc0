/**
 * The one DynamoDB table behind the state port, as data: serverless.yml's resource, local/tests'
 * createTable and the adapter all read these names, so they cannot drift apart.
 *
 * Item: `pk` = "<kind>#<id>" (partition key), `kind`, `id`, `value` (map), `version` (number),
 * `expiresAt` (number, epoch seconds: the table's TTL attribute). The GSI `byKind` (partition `kind`,
 * sort `id`, all attributes projected) lets `list(kind)` Query instead of Scan. Its partitions are hot
 * per kind (every server record shares `kind = "server"`), which is fine at this service's rates:
 * one GSI partition takes about 1,000 writes per second.
 */
import type {
  AttributeDefinition,
  CreateTableCommandInput,
  DynamoDBClient,
  GlobalSecondaryIndex,
  KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import { dynamoDbSdk } from "./sdk.ts";

export const STATE_TABLE = {
  partitionKey: "pk",
  kindAttribute: "kind",
  idAttribute: "id",
  valueAttribute: "value",
  versionAttribute: "version",
  /** DynamoDB's TTL deletes items whose value (epoch seconds) has passed, within a few days: reads filter too. */
  ttlAttribute: "expiresAt",
  kindIndexName: "byKind",
  billingMode: "PAY_PER_REQUEST",
} as const;

const attributeDefinitions: AttributeDefinition[] = [
  { AttributeName: STATE_TABLE.partitionKey, AttributeType: "S" },
  { AttributeName: STATE_TABLE.kindAttribute, AttributeType: "S" },
  { AttributeName: STATE_TABLE.idAttribute, AttributeType: "S" },
];

const keySchema: KeySchemaElement[] = [{ AttributeName: STATE_TABLE.partitionKey, KeyType: "HASH" }];

const globalSecondaryIndexes: GlobalSecondaryIndex[] = [
  {
    IndexName: STATE_TABLE.kindIndexName,
    KeySchema: [
      { AttributeName: STATE_TABLE.kindAttribute, KeyType: "HASH" },
      { AttributeName: STATE_TABLE.idAttribute, KeyType: "RANGE" },
    ],
    Projection: { ProjectionType: "ALL" },
  },
];

/** The CreateTable request for a table named `tableName`. */
export function stateTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: STATE_TABLE.billingMode,
    AttributeDefinitions: attributeDefinitions,
    KeySchema: keySchema,
    GlobalSecondaryIndexes: globalSecondaryIndexes,
  };
}

/** `Properties` of an `AWS::DynamoDB::Table` CloudFormation resource (serverless.yml `resources:`). */
export function stateTableCloudFormation(tableName: string) {
  return {
    Type: "AWS::DynamoDB::Table",
    Properties: {
      ...stateTableInput(tableName),
      TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
    },
  } as const;
}

export interface CreateTableOptions {
  /** How long to wait for the table to become ACTIVE. Default 30 s. */
  timeoutMs?: number;
  /** Pause between DescribeTable polls. Default 100 ms. */
  pollIntervalMs?: number;
}

/**
 * Creates the state table (for tests and local DynamoDB endpoints), waits until it is ACTIVE and
 * enables TTL. Emulators without UpdateTimeToLive (dynalite) are tolerated: the adapter filters expired
 * items on every read anyway.
 */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  options: CreateTableOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand } = await dynamoDbSdk();
  await client.send(new CreateTableCommand(stateTableInput(tableName)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === "ACTIVE");
    if (Table?.TableStatus === "ACTIVE" && indexesActive) break;
    if (Date.now() > deadline) {
      throw new Error(
        `DynamoDB table "${tableName}" did not become ACTIVE within ${timeoutMs} ms (status ${Table?.TableStatus})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === "UnknownOperationException")) throw error;
  }
}
