/**
 * The transport beneath the typed cloud client: one HTTP request per call, signed with AK/SK (or an
 * IAM token), sent with fetch under a timeout, retried and throttled, logged one line per attempt,
 * and answered with the zod-parsed body.
 *
 * Reads are retried on 429, 5xx, timeouts and network errors (exponential backoff, full jitter,
 * Retry-After, bounded budget). Calls that change the cloud are never retried: an answer that does not
 * say whether such a call was applied (timeout, 5xx, connection dropped after sending) is an
 * AmbiguousCreateError.
 */

import { type Clock, systemClock } from "../clock.ts";
import { parseRetryAfter } from "../http/retry-after.ts";
import { Secret } from "../secret.ts";
import type * as z from "../zod.ts";
import { type IssuedToken, signedHeaders, TokenCache, tokenRequestBody, tokenResponseBody } from "./auth.ts";
import {
  type CloudConfig,
  CloudConfigError,
  type CloudService,
  ENDPOINT_VARIABLES,
  type RetryPolicy,
} from "./config.ts";
import {
  type AmbiguityReason,
  AmbiguousCreateError,
  CLIENT_ERROR_CODES,
  CloudApiError,
  cloudApiErrorFromResponse,
} from "./errors.ts";
import { changesCloud, expandPath, OPERATIONS, type OperationName, serviceOf } from "./operations.ts";
import { nextRetry } from "./retry.ts";

/** One line per HTTP attempt, for logs and metrics; never headers, bodies or secrets. */
export interface RequestLogEntry {
  operation: OperationName;
  /** The API the operation belongs to (sdrs, ecs, evs, as, iam). */
  service: CloudService;
  /** The SDRS job the call reads (showJob) or that a create answered with. */
  jobId?: string;
  method: string;
  /** Undefined when no answer arrived (timeout, network error). */
  status: number | undefined;
  /** 1 for the first attempt of a request. */
  attempt: number;
  durationMs: number;
  requestId: string | undefined;
  /** The error code of a failed attempt (SDRS.xxxx, APIGW.xxxx, NETWORK_ERROR, TIMEOUT …). */
  errorCode?: string;
}

export interface RetryNotice {
  operation: OperationName;
  /** The attempt about to be made after the wait (2 for the first retry). */
  attempt: number;
  delayMs: number;
  /** The code of the attempt that failed (NETWORK_ERROR, TIMEOUT, APIGW.0308, SDRS.xxxx …). */
  errorCode: string;
}

export interface TransportOptions {
  /** Dates the AK/SK signature (X-Sdk-Date) and ages the IAM token; default the system clock. */
  clock?: Clock;
  /** Overrides config.retry, field by field. */
  retry?: Partial<RetryPolicy>;
  /** Overrides config.timeoutMs. */
  timeoutMs?: number;
  /** Waits between retries; tests inject an instant one. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for the backoff jitter. */
  random?: () => number;
  logger?: (entry: RequestLogEntry) => void;
  /** Told before each wait for a retry: which try comes next and when (the CLI shows an outage with it). */
  onRetry?: (retry: RetryNotice) => void;
}

export type QueryValue = string | number | boolean | undefined;
export type Query = Record<string, QueryValue>;

export interface CallSpec<T> {
  operation: OperationName;
  path?: Record<string, string>;
  query?: Query;
  /** Already validated; serialized once, and those exact bytes are signed and sent. */
  body?: unknown;
  response: z.ZodMiniType<T>;
}

export interface CallResult<T> {
  data: T;
  headers: Headers;
}

type AttemptOutcome =
  | { kind: "answer"; status: number; headers: Headers; bodyText: string; requestId: string | undefined }
  | { kind: "error"; status: number; headers: Headers; error: CloudApiError }
  | { kind: "timeout"; cause: unknown }
  | { kind: "network"; sent: boolean; cause: unknown };

/** A failed attempt that may be retried: anything else has been thrown by `#failureOf`. */
type FailedAttempt = Exclude<AttemptOutcome, { kind: "answer" }>;

/**
 * Connection errors raised before any byte of the request left: a create that fails with one of
 * these was certainly not applied. Anything else after connecting may have reached the server.
 */
const NOT_SENT_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The job id of a create's answer (`{"job_id": …}`), for the request log; undefined when there is none. */
function answeredJobId(answerText: string): string | undefined {
  try {
    const answer: unknown = JSON.parse(answerText);
    return answer !== null && typeof answer === "object" && "job_id" in answer && typeof answer.job_id === "string"
      ? answer.job_id
      : undefined;
  } catch {
    return undefined;
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return "";
  const pairs = Object.entries(query)
    .filter((pair): pair is [string, string | number | boolean] => pair[1] !== undefined)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  return pairs.length === 0 ? "" : `?${pairs.join("&")}`;
}

function errorCodesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if ("code" in current && typeof current.code === "string") codes.push(current.code);
    current = "cause" in current ? current.cause : undefined;
  }
  return codes;
}

function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    parts.push(current.message);
    current = current.cause;
  }
  return parts.join(": ") || "network error";
}

export class CloudTransport {
  readonly #config: CloudConfig;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #logger: ((entry: RequestLogEntry) => void) | undefined;
  readonly #onRetry: ((retry: RetryNotice) => void) | undefined;
  readonly #tokens: TokenCache | undefined;
  readonly #counts = new Map<OperationName, number>();

  constructor(config: CloudConfig, options: TransportOptions = {}) {
    this.#config = config;
    this.#clock = options.clock ?? systemClock;
    this.#retry = { ...config.retry, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? config.timeoutMs;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
    this.#onRetry = options.onRetry;
    if (config.auth.kind === "token") {
      if (config.endpoints.iam === undefined) {
        throw new CloudConfigError([{ variable: "IAM_ENDPOINT", rule: "required for token auth" }]);
      }
      this.#tokens = new TokenCache(() => this.#issueToken(), this.#clock);
    }
  }

  /** HTTP requests sent so far (every attempt), by operation name. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  resetCounts(): void {
    this.#counts.clear();
  }

  /** Sends one call: signed, retried when that is safe, answered with the parsed body and the headers. */
  async call<T>(spec: CallSpec<T>): Promise<CallResult<T>> {
    const method = OPERATIONS[spec.operation].method;
    const url =
      this.#endpoint(spec.operation) +
      expandPath(spec.operation, { project_id: this.#config.projectId, ...spec.path }) +
      queryString(spec.query);
    const bodyText = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    let attempt = 0;
    let failedAttempts = 0;
    let waitedMs = 0;
    let renewedToken = false;

    for (;;) {
      attempt++;
      const outcome = await this.#attempt(spec.operation, method, url, bodyText, attempt, spec.path?.job_id);
      if (outcome.kind === "answer") return this.#answerOf(spec, outcome);
      // "The token must be updated": fetch a new one and try once more (not applied, so safe for creates).
      if (
        outcome.kind === "error" &&
        outcome.status === 401 &&
        outcome.error.code === "APIGW.0307" &&
        this.#tokens !== undefined &&
        !renewedToken
      ) {
        renewedToken = true;
        this.#tokens.invalidate();
        continue;
      }
      const error = this.#failureOf(spec, outcome);
      failedAttempts++;
      // A 429 or 4xx on a create is unambiguous (not applied), but it is the caller's decision to retry.
      if (changesCloud(spec.operation) || !error.retryable) throw error.withAttempts(attempt);
      const decision = nextRetry({
        attempts: failedAttempts,
        waitedMs,
        retryAfterMs:
          outcome.kind === "error" ? parseRetryAfter(outcome.headers.get("retry-after"), this.#clock.now()) : undefined,
        random: this.#random(),
        policy: this.#retry,
      });
      if (!decision.retry) throw error.withAttempts(attempt);
      this.#onRetry?.({
        operation: spec.operation,
        attempt: attempt + 1,
        delayMs: decision.delayMs,
        errorCode: error.code,
      });
      await this.#sleep(decision.delayMs);
      waitedMs += decision.delayMs;
    }
  }

  #endpoint(operation: OperationName): string {
    const service = serviceOf(operation);
    const endpoint = this.#config.endpoints[service];
    if (endpoint === undefined) {
      throw new CloudConfigError([
        {
          variable: ENDPOINT_VARIABLES[service],
          rule: `required to call ${operation} (set it, or HUAWEICLOUD_REGION to derive it)`,
        },
      ]);
    }
    return endpoint.replace(/\/+$/, "");
  }

  #ambiguous(
    spec: CallSpec<unknown>,
    reason: AmbiguityReason,
    answer: { status?: number; requestId?: string | undefined; cause: unknown },
  ) {
    return new AmbiguousCreateError({ operation: spec.operation, requestBody: spec.body, reason, ...answer });
  }

  /** A 2xx answer parsed with the call's schema; one that does not parse is an error (ambiguous for a create). */
  #answerOf<T>(spec: CallSpec<T>, outcome: Extract<AttemptOutcome, { kind: "answer" }>): CallResult<T> {
    const parsed = this.#parseAnswer(spec, outcome.bodyText, outcome.requestId);
    if (parsed.success) return { data: parsed.data, headers: outcome.headers };
    if (changesCloud(spec.operation)) {
      throw this.#ambiguous(spec, "invalid_response", {
        status: outcome.status,
        requestId: outcome.requestId,
        cause: parsed.error,
      });
    }
    throw parsed.error;
  }

  /** The error of a failed attempt; throws at once when a call that changes the cloud may have been applied. */
  #failureOf(spec: CallSpec<unknown>, outcome: FailedAttempt): CloudApiError {
    const isCreate = changesCloud(spec.operation);
    if (outcome.kind === "error") {
      if (isCreate && outcome.status >= 500) {
        throw this.#ambiguous(spec, "server_error", {
          status: outcome.status,
          requestId: outcome.error.requestId,
          cause: outcome.error,
        });
      }
      return outcome.error;
    }
    if (outcome.kind === "timeout") {
      if (isCreate) throw this.#ambiguous(spec, "timeout", { cause: outcome.cause });
      return new CloudApiError({
        status: undefined,
        code: CLIENT_ERROR_CODES.timeout,
        message: `no answer within ${this.#timeoutMs} ms`,
        requestId: undefined,
        operation: spec.operation,
        retryable: true,
        cause: outcome.cause,
      });
    }
    if (isCreate && outcome.sent) throw this.#ambiguous(spec, "connection_dropped", { cause: outcome.cause });
    return new CloudApiError({
      status: undefined,
      code: CLIENT_ERROR_CODES.networkError,
      message: this.#redact(describeNetworkError(outcome.cause)),
      requestId: undefined,
      operation: spec.operation,
      retryable: true,
      cause: outcome.cause,
    });
  }

  #parseAnswer<T>(
    spec: CallSpec<T>,
    bodyText: string,
    requestId: string | undefined,
  ): { success: true; data: T } | { success: false; error: CloudApiError } {
    const invalid = (message: string, cause?: unknown) => ({
      success: false as const,
      error: new CloudApiError({
        status: 200,
        code: CLIENT_ERROR_CODES.invalidResponse,
        message,
        requestId,
        operation: spec.operation,
        retryable: false,
        cause,
      }),
    });
    let json: unknown;
    try {
      json = bodyText === "" ? {} : JSON.parse(bodyText);
    } catch (cause) {
      return invalid("the answer is not JSON", cause);
    }
    const parsed = spec.response.safeParse(json);
    if (parsed.success) return { success: true, data: parsed.data };
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(body)"}: ${issue.message}`)
      .join("; ");
    return invalid(`the answer does not match the documented shape: ${issues}`, parsed.error);
  }

  async #attempt(
    operation: OperationName,
    method: string,
    url: string,
    bodyText: string | undefined,
    attempt: number,
    jobId: string | undefined,
  ): Promise<AttemptOutcome> {
    const headers = await this.#authHeaders(operation, method, url, bodyText);
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
    const started = performance.now();
    const log = (
      status: number | undefined,
      requestId: string | undefined,
      errorCode?: string,
      answeredJobId?: string,
    ) =>
      this.#logger?.({
        operation,
        service: serviceOf(operation),
        ...((answeredJobId ?? jobId) === undefined ? {} : { jobId: answeredJobId ?? jobId }),
        method,
        status,
        attempt,
        durationMs: Math.round(performance.now() - started),
        requestId,
        ...(errorCode === undefined ? {} : { errorCode }),
      });
    try {
      // Plain fetch: retries, backoff and answer parsing are this transport's own (retry.ts, call), so a
      // wrapper such as ky would add nothing but its size and its load time (it probes Request at import).
      const response = await fetch(url, {
        method,
        headers,
        body: bodyText,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const answerText = await response.text();
      const requestId = response.headers.get("x-request-id") ?? undefined;
      if (response.ok) {
        log(response.status, requestId, undefined, changesCloud(operation) ? answeredJobId(answerText) : undefined);
        return { kind: "answer", status: response.status, headers: response.headers, bodyText: answerText, requestId };
      }
      const error = cloudApiErrorFromResponse({
        operation,
        status: response.status,
        bodyText: this.#redact(answerText),
        headerRequestId: requestId,
      });
      log(response.status, requestId, error.code);
      return { kind: "error", status: response.status, headers: response.headers, error };
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "TimeoutError") {
        log(undefined, undefined, CLIENT_ERROR_CODES.timeout);
        return { kind: "timeout", cause };
      }
      log(undefined, undefined, CLIENT_ERROR_CODES.networkError);
      const sent = !errorCodesOf(cause).some((code) => NOT_SENT_ERROR_CODES.has(code));
      return { kind: "network", sent, cause };
    }
  }

  async #authHeaders(
    operation: OperationName,
    method: string,
    url: string,
    bodyText: string | undefined,
  ): Promise<Record<string, string>> {
    const contentType: Record<string, string> = bodyText === undefined ? {} : { "Content-Type": "application/json" };
    if (operation === "createToken") return contentType;
    const auth = this.#config.auth;
    if (auth.kind === "aksk") {
      return signedHeaders(
        { method, url, body: bodyText },
        { accessKey: auth.accessKey, secretKey: auth.secretKey.reveal(), securityToken: auth.securityToken?.reveal() },
        this.#config.projectId,
        new Date(this.#clock.now()),
      );
    }
    const token = await this.#requireTokens().get();
    return { ...contentType, "X-Project-Id": this.#config.projectId, "X-Auth-Token": token.reveal() };
  }

  #requireTokens(): TokenCache {
    if (this.#tokens === undefined) throw new Error("token auth is not configured");
    return this.#tokens;
  }

  /** POST {IAM}/v3/auth/tokens: 201, token in X-Subject-Token, expiry in the body. */
  async #issueToken(): Promise<IssuedToken> {
    if (this.#config.auth.kind !== "token") throw new Error("token auth is not configured");
    const { data, headers } = await this.call({
      operation: "createToken",
      body: tokenRequestBody(this.#config.auth, this.#config.projectId),
      response: tokenResponseBody,
    });
    const token = headers.get("x-subject-token");
    if (token === null || token === "") {
      throw new CloudApiError({
        status: 201,
        code: CLIENT_ERROR_CODES.invalidResponse,
        message: "the IAM answer has no X-Subject-Token header",
        requestId: headers.get("x-request-id") ?? undefined,
        operation: "createToken",
        retryable: false,
      });
    }
    return { token: new Secret(token), expiresAt: Date.parse(data.token.expires_at) };
  }

  /** Removes every secret this transport knows from text that came from the wire. */
  #redact(text: string): string {
    const auth = this.#config.auth;
    const secrets =
      auth.kind === "aksk" ? [auth.secretKey, auth.securityToken] : [auth.password, this.#tokens?.current()];
    return secrets.reduce<string>((redacted, secret) => {
      const value = secret?.reveal();
      return value === undefined || value === "" ? redacted : redacted.split(value).join("[redacted]");
    }, text);
  }
}
