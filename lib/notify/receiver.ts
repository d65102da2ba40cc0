/**
 * A local webhook receiver: what `npm start` and `sdrs-autoprotect webhooks listen` point the notifier at.
 *
 * It verifies every delivery with the Standard Webhooks reference library (`Webhook.verify`: signature and
 * a timestamp within ±5 min of this machine's clock), answers 401 otherwise, acknowledges a repeated
 * `webhook-id` without recording it twice, and checks the payload against our event schema.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { readBoundedBody } from "../http/body.ts";
import { secretProblem } from "./endpoints.ts";
import { type NotificationEvent, notificationEvent } from "./events.ts";

export { generateWebhookSecret } from "./endpoints.ts";

const MAX_BODY_BYTES = 1024 * 1024;

export interface ReceivedWebhook {
  webhookId: string;
  /** `webhook-timestamp` as ISO. */
  sentAt: string;
  receivedAt: string;
  event: NotificationEvent;
}

export interface RejectedWebhook {
  httpStatus: number;
  reason: string;
  webhookId?: string;
}

export interface WebhookReceiverOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The endpoint's `whsec_…` secret. */
  secret: string;
  /** Called once per new verified event; if it throws, the delivery is answered 500 and not recorded, so it is retried. */
  onEvent?: (received: ReceivedWebhook) => void | Promise<void>;
  onRejected?: (rejection: RejectedWebhook) => void;
}

export interface WebhookReceiver {
  url: string;
  /** Verified events in arrival order, each webhook-id once. */
  events(): ReceivedWebhook[];
  close(): Promise<void>;
}

export class WebhookReceiverConfigError extends Error {
  readonly code = "INVALID_WEBHOOK_RECEIVER";

  constructor(message: string) {
    super(message);
    this.name = "WebhookReceiverConfigError";
  }
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return readBoundedBody(request, MAX_BODY_BYTES);
}

function headerText(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(" ") : value;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const problem = secretProblem(options.secret);
  if (problem !== undefined) throw new WebhookReceiverConfigError(`secret: ${problem}`);
  const verifier = new Webhook(options.secret);
  const received: ReceivedWebhook[] = [];
  const seen = new Set<string>();

  function answer(response: ServerResponse, httpStatus: number, body: Record<string, unknown>): void {
    response.writeHead(httpStatus, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  }

  function reject(response: ServerResponse, rejection: RejectedWebhook): void {
    options.onRejected?.(rejection);
    answer(response, rejection.httpStatus, { error: rejection.reason });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "POST") {
      response.setHeader("allow", "POST");
      return reject(response, { httpStatus: 405, reason: "only POST is accepted" });
    }
    const body = await readBody(request);
    if (body === undefined)
      return reject(response, { httpStatus: 413, reason: `body larger than ${MAX_BODY_BYTES} bytes` });

    const webhookId = headerText(request, "webhook-id");
    const headers = {
      "webhook-id": webhookId ?? "",
      "webhook-timestamp": headerText(request, "webhook-timestamp") ?? "",
      "webhook-signature": headerText(request, "webhook-signature") ?? "",
    };
    const withId = webhookId !== undefined ? { webhookId } : {};
    const text = body.toString("utf8");
    try {
      verifier.verify(text, headers, { jsonParse: false });
    } catch (error) {
      const reason = error instanceof WebhookVerificationError ? error.message : "signature verification failed";
      return reject(response, { httpStatus: 401, reason, ...withId });
    }
    if (webhookId === undefined) return reject(response, { httpStatus: 401, reason: "Missing required headers" });

    // After verification only: an unverified request must learn nothing, not even whether an id was seen.
    if (seen.has(webhookId)) return answer(response, 200, { status: "duplicate" });

    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return reject(response, { httpStatus: 400, reason: "body is not JSON", webhookId });
    }
    const parsed = notificationEvent.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined ? "(body)" : issue.path.map(String).join(".") || "(body)";
      return reject(response, {
        httpStatus: 400,
        reason: `not a notification event: ${where}: ${issue?.message ?? "invalid"}`,
        webhookId,
      });
    }
    const record: ReceivedWebhook = {
      webhookId,
      sentAt: new Date(Number(headers["webhook-timestamp"]) * 1000).toISOString(),
      receivedAt: new Date().toISOString(),
      event: parsed.data,
    };
    // Claimed before onEvent so a concurrent duplicate is not recorded twice; released if onEvent fails.
    seen.add(webhookId);
    try {
      await options.onEvent?.(record);
    } catch {
      seen.delete(webhookId);
      return answer(response, 500, { error: "event handler failed" });
    }
    received.push(record);
    answer(response, 200, { status: "received" });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) answer(response, 500, { error: "receiver error" });
      else response.end();
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", rejectListen);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/`,
    events: () => [...received],
    close: () =>
      new Promise<void>((resolve, rejectClose) => {
        server.close((error) => (error ? rejectClose(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
