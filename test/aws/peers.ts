/**
 * Real protocol peers for the AWS adapters, started on 127.0.0.1 with port 0 by the tests: dynalite
 * (DynamoDB) and local-aws-sqs (SQS). Clients get dummy credentials; nothing leaves the machine.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import dynalite from "dynalite";
import { createSqsServer } from "local-aws-sqs";

const dummyAws = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startDynalite(): Promise<{ client: DynamoDBClient; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const client = new DynamoDBClient({ ...dummyAws, endpoint: `http://127.0.0.1:${portOf(server)}` });
  return {
    client,
    async close() {
      client.destroy();
      await closeServer(server);
    },
  };
}

export async function startLocalSqs(): Promise<{ client: SQSClient; close(): Promise<void> }> {
  // emulateQueueCreationLifecycle off: tests create many queues and never wait AWS's 60 s after deletes.
  const server = await createSqsServer({ port: 0, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
  const client = new SQSClient({ ...dummyAws, endpoint: `http://127.0.0.1:${portOf(server)}` });
  return {
    client,
    async close() {
      client.destroy();
      await closeServer(server);
    },
  };
}
