/**
 * The errors the cloud client throws. A program switches on `code`; a person reads `message`.
 *
 * - CloudApiError: the cloud answered with an error (or could not be reached, or answered nonsense).
 * - AmbiguousCreateError: a create was sent but its outcome is unknown; never retry it blindly.
 * - RequestValidationError: the client refused a request before sending it, with the SDRS code the
 *   API would have answered.
 */
import type * as z from "../zod.ts";
import type { OperationName } from "./operations.ts";
import { gatewayErrorBody, sdrsCodeForIssue, serviceErrorBody } from "./schemas.ts";

/** Codes of our own, for failures that carry no cloud code. */
export const CLIENT_ERROR_CODES = {
  /** The request never got an HTTP answer (refused, reset, DNS, timeout of a read). */
  networkError: "NETWORK_ERROR",
  /** A read did not answer within the per-request timeout. */
  timeout: "TIMEOUT",
  /** A 2xx answer whose body does not match the documented shape. */
  invalidResponse: "INVALID_RESPONSE",
  /** A non-2xx answer without a recognisable error body. */
  httpError: "HTTP_ERROR",
  ambiguousCreate: "AMBIGUOUS_CREATE",
} as const;

/** 429 (throttled) and 5xx may succeed later; any other 4xx will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * 5xx codes of SDRS's error table that name a fact no retry changes: SDRS.0408 "Null job" is the
 * answer for a job id the service does not know.
 */
const PERMANENT_SERVER_CODES: ReadonlySet<string> = new Set(["SDRS.0408"]);

export interface CloudApiErrorFields {
  /** HTTP status; undefined when no answer arrived. */
  status: number | undefined;
  /** `SDRS.xxxx`, `APIGW.xxxx`, `Ecs.xxxx`, or one of CLIENT_ERROR_CODES. */
  code: string;
  message: string;
  requestId: string | undefined;
  operation: OperationName;
  retryable: boolean;
  /** Attempts made before this error was thrown (1 when not retried). */
  attempts?: number;
  cause?: unknown;
}

/**
 * What every error of the cloud client carries: a stable `code`, the operation, whether a retry may help,
 * and (when the cloud answered) the HTTP status and request id. The subclasses add only what differs.
 */
export abstract class CloudClientError extends Error {
  readonly code: string;
  readonly operation: OperationName;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  protected constructor(
    message: string,
    fields: {
      code: string;
      operation: OperationName;
      retryable: boolean;
      status?: number | undefined;
      requestId?: string | undefined;
      cause?: unknown;
    },
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = fields.code;
    this.operation = fields.operation;
    this.retryable = fields.retryable;
    this.status = fields.status;
    this.requestId = fields.requestId;
  }
}

export class CloudApiError extends CloudClientError {
  override readonly name = "CloudApiError";
  readonly attempts: number;
  /** The cloud's own message, without our prefix. */
  readonly cloudMessage: string;

  constructor(fields: CloudApiErrorFields) {
    const where = fields.status === undefined ? "no HTTP answer" : `HTTP ${fields.status}`;
    const request = fields.requestId === undefined ? "" : ` [request ${fields.requestId}]`;
    const tries = (fields.attempts ?? 1) > 1 ? ` (gave up after ${fields.attempts} attempts)` : "";
    super(`${fields.operation} failed with ${fields.code} (${where}): ${fields.message}${request}${tries}`, fields);
    this.attempts = fields.attempts ?? 1;
    this.cloudMessage = fields.message;
  }

  /** The same error, reporting how many attempts were made. */
  withAttempts(attempts: number): CloudApiError {
    return new CloudApiError({
      status: this.status,
      code: this.code,
      message: this.cloudMessage,
      requestId: this.requestId,
      operation: this.operation,
      retryable: this.retryable,
      attempts,
      cause: this.cause,
    });
  }
}

export type AmbiguityReason = "timeout" | "server_error" | "connection_dropped" | "invalid_response";

const AMBIGUITY_TEXT: Record<AmbiguityReason, string> = {
  timeout: "no answer within the timeout",
  server_error: "the server answered with a 5xx error",
  connection_dropped: "the connection dropped after the request was sent",
  invalid_response: "the answer did not contain a job id",
};

/**
 * A create (single, batch, protection group, enable protection) whose outcome is unknown: the cloud
 * may or may not have applied it. Retrying blindly could protect a server twice (SDRS.1305) or create
 * a second group, so the caller checks the cloud first (e.g. listProtectedInstances for the group).
 */
export class AmbiguousCreateError extends CloudClientError {
  override readonly name = "AmbiguousCreateError";
  declare readonly code: typeof CLIENT_ERROR_CODES.ambiguousCreate;
  /** The request body exactly as it was sent, to look the result up by. */
  readonly requestBody: unknown;
  readonly reason: AmbiguityReason;

  constructor(fields: {
    operation: OperationName;
    requestBody: unknown;
    reason: AmbiguityReason;
    status?: number | undefined;
    requestId?: string | undefined;
    cause?: unknown;
  }) {
    super(
      `${fields.operation}: outcome unknown (${AMBIGUITY_TEXT[fields.reason]}); check whether it was applied before trying again`,
      {
        ...fields,
        code: CLIENT_ERROR_CODES.ambiguousCreate,
        retryable: false,
      },
    );
    this.requestBody = fields.requestBody;
    this.reason = fields.reason;
  }
}

export interface RequestIssue {
  /** Dotted path in the request body, e.g. `protected_instances.servers.5`. */
  field: string;
  /** The broken rule, e.g. `must be at most 64 bytes`. */
  rule: string;
  /** The SDRS code the API returns for this issue. */
  code: string;
}

/** A request the client refused to send because it breaks a documented field rule. */
export class RequestValidationError extends CloudClientError {
  override readonly name = "RequestValidationError";
  /** `code`: the SDRS code of the first issue, as the API would answer (e.g. SDRS.1362). */
  readonly issues: RequestIssue[];

  constructor(operation: OperationName, issues: RequestIssue[]) {
    const code = issues[0]?.code ?? "SDRS.0201";
    // Same "field: rule" form as describeIssue, so the client and the simulator word issues alike.
    const list = issues.map((issue) => `${issue.field}: ${issue.rule}`).join("; ");
    super(`${operation} request refused before sending (${code}): ${list}`, { code, operation, retryable: false });
    this.issues = issues;
  }

  static fromZod(operation: OperationName, error: z.core.$ZodError): RequestValidationError {
    return new RequestValidationError(
      operation,
      error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)",
        rule: issue.message,
        code: sdrsCodeForIssue(issue),
      })),
    );
  }
}

export function isCloudClientError(error: unknown): error is CloudClientError {
  return error instanceof CloudClientError;
}

// ---------------------------------------------------------------------------------------------
// Reading error bodies
// ---------------------------------------------------------------------------------------------

export interface CloudErrorBody {
  code: string;
  message: string;
  requestId: string | undefined;
}

/**
 * Finds the code and message in any documented error body, mirroring the Huawei Go SDK
 * (core/sdkerr/errors.go): top-level `error_code` + `error_msg` (API gateway, IAM), else `code` +
 * `message`, else the first nested object that has them (`error`, `badrequest`, `itemNotFound`).
 */
export function readErrorBody(body: unknown, depth = 0): CloudErrorBody | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body) || depth > 3) return undefined;
  const gateway = gatewayErrorBody.safeParse(body);
  if (gateway.success) {
    return { code: gateway.data.error_code, message: gateway.data.error_msg, requestId: gateway.data.request_id };
  }
  const service = serviceErrorBody.safeParse(body);
  if (service.success) {
    const requestId = "request_id" in body && typeof body.request_id === "string" ? body.request_id : undefined;
    return { code: service.data.code, message: service.data.message, requestId };
  }
  for (const nested of Object.values(body)) {
    const found = readErrorBody(nested, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The longest part of an unrecognised error body we quote in a message. */
const QUOTED_BODY_LIMIT = 200;

/** A CloudApiError for a non-2xx answer; `headerRequestId` (X-Request-Id) wins over the body's. */
export function cloudApiErrorFromResponse(fields: {
  operation: OperationName;
  status: number;
  bodyText: string;
  headerRequestId: string | undefined;
}): CloudApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fields.bodyText);
  } catch {
    parsed = undefined;
  }
  const found = readErrorBody(parsed);
  const text = fields.bodyText.trim();
  return new CloudApiError({
    status: fields.status,
    code: found?.code ?? CLIENT_ERROR_CODES.httpError,
    message:
      found?.message ??
      (text === "" ? "empty error body" : `unrecognised error body: ${text.slice(0, QUOTED_BODY_LIMIT)}`),
    requestId: fields.headerRequestId ?? found?.requestId,
    operation: fields.operation,
    retryable: isRetryableStatus(fields.status) && !(found !== undefined && PERMANENT_SERVER_CODES.has(found.code)),
  });
}
