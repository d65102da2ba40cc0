/**
 * Request authentication: AK/SK signing (SDK-HMAC-SHA256) or an IAM token (reference facts §7).
 * The signing and token-body functions are pure; TokenCache holds the one piece of state, the token.
 */

import type { Clock } from "../clock.ts";
import type { Secret } from "../secret.ts";
import * as z from "../zod.ts";
import type { CloudAuth } from "./config.ts";
import { signRequest } from "./signer.ts";

export interface OutgoingRequest {
  method: string;
  url: string;
  /** The exact JSON text that is sent; signing hashes these bytes. */
  body: string | undefined;
}

export const JSON_CONTENT_TYPE = "application/json";

/**
 * AK/SK headers for one request. Signs `content-type` (when there is a body), `host`,
 * `x-project-id`, `x-sdk-date` and, for temporary credentials, `x-security-token`. Host is signed
 * as `hostname[:port]` of the URL, which is what fetch sends, so it is not returned.
 */
export function signedHeaders(
  request: OutgoingRequest,
  credentials: { accessKey: string; secretKey: string; securityToken?: string | undefined },
  projectId: string,
  now: Date,
): Record<string, string> {
  const headers: Record<string, string> = { "X-Project-Id": projectId };
  if (request.body !== undefined) headers["Content-Type"] = JSON_CONTENT_TYPE;
  if (credentials.securityToken !== undefined) headers["X-Security-Token"] = credentials.securityToken;
  const signature = signRequest(
    {
      method: request.method,
      url: request.url,
      headers: { ...headers, Host: new URL(request.url).host },
      body: request.body,
    },
    { accessKey: credentials.accessKey, secretKey: credentials.secretKey },
    now,
  );
  return { ...headers, ...signature };
}

/** IAM password auth scoped to the project: SDRS is a project-level service (reference facts §7.1). */
export function tokenRequestBody(auth: Extract<CloudAuth, { kind: "token" }>, projectId: string) {
  return {
    auth: {
      identity: {
        methods: ["password"],
        password: {
          user: { name: auth.userName, password: auth.password.reveal(), domain: { name: auth.domainName } },
        },
      },
      scope: { project: { id: projectId } },
    },
  };
}

/** The part of the IAM answer we read; the token itself is in the X-Subject-Token header. */
export const tokenResponseBody = z.looseObject({
  token: z.looseObject({
    /** e.g. 2019-02-13T06:52:13.855000Z */
    expires_at: z.string().check(z.refine((text) => !Number.isNaN(Date.parse(text)), { error: "must be a timestamp" })),
  }),
});

export interface IssuedToken {
  token: Secret;
  /** Epoch ms. */
  expiresAt: number;
}

/** IAM tokens live 24 h; refreshing 5 minutes early keeps a request from arriving with an expired one. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Caches one IAM token and refreshes it before it expires (or when told it was rejected). Concurrent
 * callers share one token request.
 */
export class TokenCache {
  readonly #issue: () => Promise<IssuedToken>;
  readonly #clock: Clock;
  readonly #marginMs: number;
  #current: { token: Secret; refreshAt: number } | undefined;
  #pending: Promise<Secret> | undefined;

  constructor(issue: () => Promise<IssuedToken>, clock: Clock, marginMs = TOKEN_REFRESH_MARGIN_MS) {
    this.#issue = issue;
    this.#clock = clock;
    this.#marginMs = marginMs;
  }

  async get(): Promise<Secret> {
    const current = this.#current;
    if (current !== undefined && this.#clock.now() < current.refreshAt) return current.token;
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Drops the cached token (the gateway answered 401 APIGW.0307 "The token must be updated"). */
  invalidate(): void {
    this.#current = undefined;
  }

  /** The token in use, to keep it out of error messages. */
  current(): Secret | undefined {
    return this.#current?.token;
  }

  async #refresh(): Promise<Secret> {
    const issuedAt = this.#clock.now();
    const issued = await this.#issue();
    // A token shorter-lived than twice the margin is refreshed at half its life instead.
    const margin = Math.min(this.#marginMs, Math.max(0, issued.expiresAt - issuedAt) / 2);
    this.#current = { token: issued.token, refreshAt: issued.expiresAt - margin };
    return issued.token;
  }
}
