/**
 * The Lambda events at the edge: whatever the invoker hands a function (a test console, a misrouted
 * trigger, null), it gets an answer, never a throw. The API answers 400, an SQS record that is no message
 * goes to the dead-letter queue, an event without records is logged and acknowledged.
 */
import type { SQSEvent, SQSRecord } from "aws-lambda";
import type { QueueName } from "../queue/queue.ts";
import * as z from "../zod.ts";
import type { ApiRequest, ApiResponse } from "./api.ts";
import type { PipelineDeps } from "./deps.ts";

/** API Gateway HTTP API (payload 2.0): the fields the onboarding API reads. */
const apiGatewayEvent = z.looseObject({
  rawPath: z.string(),
  requestContext: z.looseObject({
    requestId: z.optional(z.string()),
    http: z.looseObject({ method: z.string().check(z.minLength(1)) }),
  }),
  headers: z.optional(z.record(z.string(), z.string())),
  body: z.optional(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});

export type ApiGatewayRequest =
  | { ok: true; request: ApiRequest; requestId?: string }
  | { ok: false; response: ApiResponse };

/** An API Gateway event → the transport-free request, or the 400 that answers a malformed event. */
export function apiRequestFromEvent(event: unknown): ApiGatewayRequest {
  const parsed = apiGatewayEvent.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join(".") || "(event)";
    return {
      ok: false,
      response: {
        statusCode: 400,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          error: {
            code: "INVALID_EVENT",
            message: `not an API Gateway HTTP API event: ${field}: ${issue?.message ?? "invalid"}`,
          },
        }),
      },
    };
  }
  const { rawPath, requestContext, headers, body, isBase64Encoded } = parsed.data;
  const text = body !== undefined && isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
  return {
    ok: true,
    request: { method: requestContext.http.method, path: rawPath, headers: headers ?? {}, body: text },
    ...(requestContext.requestId ? { requestId: requestContext.requestId } : {}),
  };
}

const sqsRecord = z.looseObject({ messageId: z.string().check(z.minLength(1)), body: z.string() });

/**
 * The SQS records that can be processed. A record without a message id or body cannot be reported as a
 * batch item failure: it goes to the dead-letter queue as JSON, with the reason. An event without a
 * `Records` array holds nothing to process: logged, and answered with no failures.
 */
export async function sqsRecordsOf(event: unknown, queue: QueueName, deps: PipelineDeps): Promise<SQSEvent> {
  const records: unknown =
    event !== null && typeof event === "object" ? (event as { Records?: unknown }).Records : undefined;
  if (!Array.isArray(records)) {
    deps.log.error("not an SQS event: no Records array; nothing to process", { queue });
    return { Records: [] };
  }
  const valid: SQSRecord[] = [];
  for (const record of records) {
    const parsed = sqsRecord.safeParse(record);
    if (parsed.success) {
      valid.push(parsed.data as unknown as SQSRecord);
      continue;
    }
    const reason = `not an SQS record: ${parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(record)"}: ${issue.message}`).join("; ")}`;
    await deps.deadLetter(queue, safeJson(record), reason);
    deps.log.error("malformed SQS record: sent to the dead-letter queue", { queue, reason });
  }
  return { Records: valid };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
