/**
 * Test peers for the notifier: a scripted webhook endpoint on 127.0.0.1 (answers a given sequence of
 * statuses and records what it received) and a recording stand-in for the queue port, whose real adapters
 * are built and tested in lib/queue.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { NotificationEvent } from "../../lib/notify/events.ts";

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  /** Never answer (to exercise the request timeout). */
  hang?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ScriptedEndpoint {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Answers each request with the next scripted response; the last one repeats. */
export async function startScriptedEndpoint(script: ScriptedResponse[], path = "/hook"): Promise<ScriptedEndpoint> {
  const requests: RecordedRequest[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const next = script[Math.min(requests.length - 1, script.length - 1)] ?? { status: 200 };
      if (next.hang === true) {
        hanging.push(response);
        return;
      }
      response.writeHead(next.status, next.headers ?? {});
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SentMessage {
  queue: string;
  body: unknown;
  delaySeconds: number | undefined;
}

export class RecordingSender {
  readonly sent: SentMessage[] = [];

  async send(queue: "notify", body: unknown, options?: { delaySeconds?: number }): Promise<void> {
    // Round-trip through JSON as a real queue would.
    this.sent.push({ queue, body: JSON.parse(JSON.stringify(body)), delaySeconds: options?.delaySeconds });
  }

  take(): SentMessage[] {
    return this.sent.splice(0, this.sent.length);
  }
}

export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // 24 bytes, Standard Webhooks test vector secret
export const OTHER_SECRET = "whsec_c2Vjb25kLXRlc3Qtc2VjcmV0LWZvci13ZWJob29rcw==";

export const protectedEvent = {
  type: "server.protected",
  timestamp: "2026-01-01T00:05:00.000Z",
  data: {
    serverId: "7d2e5c1a-0b3f-4c8e-9a6d-1f2e3d4c5b6a",
    serverName: "web-01",
    target: "web",
    protectionGroupId: "pg-web-0001",
    protectedInstanceId: "pi-0001",
    protectedInstanceName: "web-0001",
    jobId: "job-0001",
    requestIds: ["req-1"],
    warnings: [],
  },
} satisfies NotificationEvent;

export const ineligibleEvent = {
  type: "server.ineligible",
  timestamp: "2026-01-01T00:01:00.000Z",
  data: {
    serverId: "0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
    target: "web",
    verdict: "ineligible",
    reasons: [
      {
        code: "INELIGIBLE_VPC_MISMATCH",
        message: "server is in VPC vpc-b, protection group pg-web is in vpc-a",
        remedy: "move the server or tag it for a group in its VPC",
        sdrsCode: "SDRS.1304",
      },
    ],
    requestIds: ["req-1"],
  },
} satisfies NotificationEvent;
