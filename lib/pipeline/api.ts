/**
 * The onboarding HTTP API, independent of its transport: API Gateway (HTTP API v2, AWS_IAM auth) in
 * the cloud, a loopback server with a bearer token in local mode. Both call handleApiRequest.
 *
 *   POST /onboarding-requests      {target, servers: [id | {serverId, flavorRef?}]}  → 202 | 400 | 409 | 422
 *   GET  /onboarding-requests/{id}                                                  → 200 | 404
 */
import type { PipelineDeps } from "./deps.ts";
import {
  acceptOnboardingRequest,
  getOnboardingRequest,
  IdempotencyKeyError,
  IdempotencyKeyInUseError,
  InvalidRequestError,
  parseOnboardingRequest,
} from "./intake.ts";

export interface ApiRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string | undefined;
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

function json(statusCode: number, body: unknown): ApiResponse {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function error(
  statusCode: number,
  code: string,
  message: string,
  issues?: { field: string; rule: string }[],
): ApiResponse {
  return json(statusCode, { error: { code, message, ...(issues ? { issues } : {}) } });
}

function header(request: ApiRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(request.headers).find(([key]) => key.toLowerCase() === wanted)?.[1];
}

export async function handleApiRequest(request: ApiRequest, deps: PipelineDeps): Promise<ApiResponse> {
  const path = request.path.replace(/\/+$/, "");
  if (path === "/onboarding-requests") {
    if (request.method !== "POST")
      return error(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}; use POST`);
    let raw: unknown;
    try {
      raw = JSON.parse(request.body ?? "");
    } catch {
      return error(400, "INVALID_JSON", "the body must be a JSON object {target, servers}");
    }
    const idempotencyKey = header(request, "idempotency-key");
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      return error(400, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key must be 1–255 printable ASCII characters");
    }
    try {
      const body = parseOnboardingRequest(raw);
      const accepted = await acceptOnboardingRequest(body, idempotencyKey ? { idempotencyKey } : {}, deps);
      return json(202, { ...accepted, statusPath: `/onboarding-requests/${accepted.requestId}` });
    } catch (caught) {
      if (caught instanceof InvalidRequestError) return error(400, caught.code, caught.message, caught.issues);
      if (caught instanceof IdempotencyKeyError) {
        const answer = json(caught.status, {
          error: { code: caught.code, message: caught.message, idempotencyKey: caught.idempotencyKey },
        });
        if (caught instanceof IdempotencyKeyInUseError)
          answer.headers["retry-after"] = String(caught.retryAfterSeconds);
        return answer;
      }
      throw caught;
    }
  }
  const match = /^\/onboarding-requests\/([A-Za-z0-9._:-]{1,128})$/.exec(path);
  if (match?.[1]) {
    if (request.method !== "GET")
      return error(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}; use GET`);
    const status = await getOnboardingRequest(match[1], deps);
    return status ? json(200, status) : error(404, "REQUEST_NOT_FOUND", `no onboarding request ${match[1]}`);
  }
  return error(404, "NOT_FOUND", `no route for ${request.method} ${path}`);
}
