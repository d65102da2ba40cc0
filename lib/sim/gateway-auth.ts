/**
 * The API gateway's authentication, as the simulator enforces it (reference facts §7):
 * AK/SK "SDK-HMAC-SHA256" signatures verified over the exact body bytes received, X-Sdk-Date within
 * 15 minutes of the gateway's wall time, optional X-Security-Token, and IAM tokens from
 * POST /v3/auth/tokens (24 h). Time here is the gateway's wall clock, never the simulated job clock.
 *
 * Secrets (SK, passwords, tokens) never appear in any answer.
 */
import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Clock } from "../clock.ts";
import { parseAuthorization, parseSdkDate, verifySignature } from "../sdrs/signer.ts";
import * as z from "../zod.ts";
import { type ApiError, gatewayError } from "./api-error.ts";

export interface SimulatorCredentials {
  accessKey: string;
  secretKey: string;
  projectId: string;
  userName: string;
  password: string;
  domainName: string;
  /** IAM project name accepted in a token request's scope (besides the id); the region, e.g. eu-de. */
  projectName?: string | undefined;
  /** When set, AK/SK requests must carry this X-Security-Token (temporary credentials). */
  securityToken?: string | undefined;
}

/** "X-Sdk-Date must be within 15 minutes of the gateway time" (reference §7.2). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;
/** IAM tokens are valid for 24 h (reference §7.1). */
export const TOKEN_LIFETIME_MS = 24 * 3_600_000;

const VERIFY_FAILED = "Incorrect IAM authentication information: verify aksk signature fail";

export interface IncomingApiRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : value;
}

/** The headers as signed: every value a string (node joins repeated headers with ", "). */
function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(",") : value;
  }
  return flat;
}

const tokenRequest = z.looseObject({
  auth: z.looseObject({
    identity: z.looseObject({
      methods: z
        .array(z.string())
        .check(z.refine((methods) => methods.includes("password"), { error: 'must include "password"' })),
      password: z.looseObject({
        user: z.looseObject({
          name: z.string(),
          password: z.string(),
          domain: z.looseObject({ name: z.string() }),
        }),
      }),
    }),
    scope: z.looseObject({
      project: z.union([z.looseObject({ id: z.string() }), z.looseObject({ name: z.string() })], {
        error: "must name the project by id or name (SDRS is project-scoped)",
      }),
    }),
  }),
});

/** IAM's own flat error body (its codes are the simulator's choice: IAM.0011 bad body, IAM.0004 bad password). */
function iamError(status: number, code: string, message: string): ApiError {
  return gatewayError(status, code, message);
}

export class Gateway {
  readonly #credentials: SimulatorCredentials;
  readonly #wallClock: Clock;
  /** token → expiry (gateway wall time, epoch ms). */
  readonly #tokens = new Map<string, number>();

  constructor(credentials: SimulatorCredentials, wallClock: Clock) {
    this.#credentials = credentials;
    this.#wallClock = wallClock;
  }

  get projectId(): string {
    return this.#credentials.projectId;
  }

  /** undefined when the request is authenticated; otherwise the gateway's 401. */
  authenticate(request: IncomingApiRequest): ApiError | undefined {
    const token = header(request.headers, "x-auth-token");
    const authorization = header(request.headers, "authorization");
    if (authorization === undefined && token !== undefined) return this.#checkToken(token);
    if (authorization === undefined) {
      return gatewayError(
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: neither Authorization (AK/SK) nor X-Auth-Token was sent",
      );
    }
    const parsed = parseAuthorization(authorization);
    if (parsed === undefined) return gatewayError(401, "APIGW.0301", VERIFY_FAILED);
    const sdkDate = header(request.headers, "x-sdk-date");
    const date = sdkDate === undefined ? undefined : parseSdkDate(sdkDate);
    // Reference §7.2: the published skew example shows APIGW.0303, IAM AK/SK is documented with 0301;
    // the simulator answers 0301 (uncertain).
    if (date === undefined) {
      return gatewayError(
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: X-Sdk-Date is missing or invalid (expected YYYYMMDDTHHMMSSZ)",
      );
    }
    if (Math.abs(this.#wallClock.now() - date.getTime()) > MAX_CLOCK_SKEW_MS) {
      return gatewayError(
        401,
        "APIGW.0301",
        `Incorrect IAM authentication information: X-Sdk-Date ${sdkDate} is expired or invalid: it must be within 15 minutes of the gateway time`,
      );
    }
    if (parsed.accessKey !== this.#credentials.accessKey) return gatewayError(401, "APIGW.0301", VERIFY_FAILED);
    const valid = verifySignature(
      { method: request.method, url: request.url, headers: flatHeaders(request.headers), body: request.body },
      parsed,
      this.#credentials.secretKey,
    );
    if (!valid) return gatewayError(401, "APIGW.0301", VERIFY_FAILED);
    const expectedSecurityToken = this.#credentials.securityToken;
    if (expectedSecurityToken !== undefined && header(request.headers, "x-security-token") !== expectedSecurityToken) {
      return gatewayError(
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: X-Security-Token is missing or invalid",
      );
    }
    return undefined;
  }

  #checkToken(token: string): ApiError | undefined {
    const expiresAt = this.#tokens.get(token);
    if (expiresAt === undefined)
      return gatewayError(401, "APIGW.0301", "Incorrect IAM authentication information: decrypt token fail");
    if (this.#wallClock.now() >= expiresAt) return gatewayError(401, "APIGW.0307", "The token must be updated.");
    return undefined;
  }

  /** POST /v3/auth/tokens: 201, the token in X-Subject-Token, `{token: {expires_at, …}}` in the body. */
  issueToken(raw: unknown): { token: string; body: unknown } | ApiError {
    const parsed = tokenRequest.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined ? "(body)" : issue.path.map(String).join(".") || "(body)";
      return iamError(400, "IAM.0011", `Request body is invalid: ${where}: ${issue?.message ?? "invalid"}`);
    }
    const { identity, scope } = parsed.data.auth;
    const user = identity.password.user;
    const credentials = this.#credentials;
    if (
      user.name !== credentials.userName ||
      user.password !== credentials.password ||
      user.domain.name !== credentials.domainName
    ) {
      return iamError(401, "IAM.0004", "The username or password is wrong.");
    }
    const project = scope.project;
    const projectMatches =
      "id" in project && typeof project.id === "string"
        ? project.id === credentials.projectId
        : "name" in project && project.name === (credentials.projectName ?? "eu-de");
    if (!projectMatches)
      return iamError(401, "IAM.0004", "The project in scope.project does not exist or the user has no access to it.");
    const token = `MIIsim${randomBytes(96).toString("base64url")}`;
    const issuedAt = this.#wallClock.now();
    const expiresAt = issuedAt + TOKEN_LIFETIME_MS;
    this.#tokens.set(token, expiresAt);
    // IAM renders microseconds: 2019-02-13T06:52:13.855000Z.
    const iamTime = (epochMs: number) => new Date(epochMs).toISOString().replace("Z", "000Z");
    const domain = { id: `domain-${credentials.domainName}`, name: credentials.domainName };
    return {
      token,
      body: {
        token: {
          expires_at: iamTime(expiresAt),
          issued_at: iamTime(issuedAt),
          methods: ["password"],
          project: { id: credentials.projectId, name: credentials.projectName ?? "eu-de", domain },
          user: { id: `user-${credentials.userName}`, name: credentials.userName, domain },
          roles: [{ id: "0", name: "op_fine_grained" }],
          catalog: [],
        },
      },
    };
  }
}
