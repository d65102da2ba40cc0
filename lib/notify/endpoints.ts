/**
 * Webhook endpoints: where notifications go, with the secret that signs them.
 *
 * The secret is wrapped in a WebhookSecret as soon as it is parsed: JSON, toString and util.inspect show
 * `whsec_[REDACTED]`, and only `reveal()` hands the value to the signer. Validation messages name the field
 * and the rule, never the value.
 */
import { randomBytes } from "node:crypto";
import { Secret } from "../secret.ts";
import * as z from "../zod.ts";
import { type AddressRules, blockedHostReason, type Resolver, resolvedHostReason } from "./address-guard.ts";
import { NOTIFICATION_EVENT_TYPES, type NotificationEventType } from "./events.ts";

const SECRET_PREFIX = "whsec_";
const REDACTED = `${SECRET_PREFIX}[REDACTED]`;
/** Standard Webhooks: symmetric secrets are 24 to 64 bytes, shown base64-encoded after `whsec_`. */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A Standard Webhooks secret: prints as `whsec_[REDACTED]`. */
export class WebhookSecret extends Secret {
  constructor(value: string) {
    super(value, REDACTED);
  }
}

/** Why a secret text is not a usable Standard Webhooks secret, or undefined when it is. Never echoes the value. */
export function secretProblem(text: string): string | undefined {
  if (!text.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}" followed by base64`;
  const encoded = text.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length === 0) return `must be "${SECRET_PREFIX}" followed by standard base64`;
  const bytes = Buffer.from(encoded, "base64").length;
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    return `must decode to ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes (Standard Webhooks), got ${bytes}`;
  }
  return undefined;
}

export const webhookSecret = z.pipe(
  z.union([z.instanceof(WebhookSecret), z.string()], { error: `must be a string "${SECRET_PREFIX}<base64>"` }).check(
    z.superRefine((secret, ctx) => {
      const problem = secretProblem(secret instanceof WebhookSecret ? secret.reveal() : secret);
      if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
    }),
  ),
  z.transform((secret) => (secret instanceof WebhookSecret ? secret : new WebhookSecret(secret))),
);

/** A fresh `whsec_` secret (32 random bytes by default). */
export function generateWebhookSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new RangeError(`bytes: must be an integer from ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES}, got ${bytes}`);
  }
  return `${SECRET_PREFIX}${randomBytes(bytes).toString("base64")}`;
}

// ---------------------------------------------------------------------------------------------
// URL rule
// ---------------------------------------------------------------------------------------------

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain http may reach, and only in local mode. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  const octets = host.split(".");
  return (
    octets.length === 4 &&
    octets[0] === "127" &&
    octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)
  );
}

/** Scheme, host and port only: webhook URLs often carry a token in the path or query, so logs get the origin. */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid url)";
  }
}

export interface EndpointRules extends AddressRules {
  /**
   * Local mode: plain http is allowed to loopback hosts (the local receiver). Never in the cloud, where
   * hosts that are not public are refused unless `allowedPrivateHosts` lists them (address-guard.ts).
   */
  allowLoopbackHttp?: boolean;
}

function urlProblem(text: string, rules: EndpointRules): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username !== "" || url.password !== "")
    return "must not contain credentials (user:password@); authenticate by the signature";
  if (url.protocol === "https:") {
    const blocked = rules.allowLoopbackHttp === true ? undefined : blockedHostReason(url.hostname, rules);
    if (blocked === undefined) return undefined;
    return `must reach a public host: ${blocked} (list hosts or networks you run in SDRS_WEBHOOK_ALLOW_PRIVATE)`;
  }
  if (url.protocol === "http:") {
    if (!isLoopbackHost(url.hostname)) {
      return `must use https; plain http is allowed only to a loopback host (127.0.0.0/8, localhost, ::1), got host ${url.hostname}`;
    }
    if (rules.allowLoopbackHttp !== true) {
      return "must use https; plain http to a loopback host is allowed only in local mode (allowLoopbackHttp)";
    }
    return undefined;
  }
  return `must use https, got ${url.protocol.replace(/:$/, "")}`;
}

// ---------------------------------------------------------------------------------------------
// Event-type filter
// ---------------------------------------------------------------------------------------------

/** An exact event type, or `prefix.*` (e.g. `server.*`) matching every type under that prefix. */
export function eventTypeMatches(pattern: string, type: NotificationEventType): boolean {
  if (pattern.endsWith(".*")) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

const eventTypePattern = z.string().check(
  z.refine((pattern) => NOTIFICATION_EVENT_TYPES.some((type) => eventTypeMatches(pattern, type)), {
    error: (issue) =>
      `unknown event type ${JSON.stringify(issue.input)}: use one of ${NOTIFICATION_EVENT_TYPES.join(", ")} or a prefix such as server.*`,
  }),
);

// ---------------------------------------------------------------------------------------------
// Endpoint schema
// ---------------------------------------------------------------------------------------------

export function webhookEndpointSchema(rules: EndpointRules = {}) {
  return z.object({
    id: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, { error: "must be 1–64 letters, digits, '.', '_' or '-'" })),
    url: z.string({ error: "must be a string" }).check(
      z.superRefine((url, ctx) => {
        const problem = urlProblem(url, rules);
        if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
      }),
    ),
    secret: webhookSecret,
    /** Deliver only these types (exact, or `prefix.*`); absent = every type. */
    eventTypes: z.optional(
      z.array(eventTypePattern).check(z.minLength(1, { error: "must list at least one type, or be left out for all" })),
    ),
    /** false = configured but paused. */
    enabled: z.optional(z.boolean()),
  });
}
export type WebhookEndpoint = z.infer<ReturnType<typeof webhookEndpointSchema>>;

export function webhookEndpointListSchema(rules: EndpointRules = {}) {
  return z.array(webhookEndpointSchema(rules)).check(
    z.superRefine((endpoints, ctx) => {
      const seen = new Set<string>();
      endpoints.forEach((endpoint, index) => {
        if (seen.has(endpoint.id)) {
          ctx.addIssue({
            code: "custom",
            path: [index, "id"],
            message: `duplicate endpoint id "${endpoint.id}": ids must be unique`,
          });
        }
        seen.add(endpoint.id);
      });
    }),
  );
}

/** The endpoint's filter lets this type through (absent filter = every type). */
export function endpointSubscribes(endpoint: WebhookEndpoint, type: NotificationEventType): boolean {
  return endpoint.eventTypes === undefined || endpoint.eventTypes.some((pattern) => eventTypeMatches(pattern, type));
}

/** Subscribed and not paused in configuration (runtime disabling after a 410 is the dispatcher's EndpointState). */
export function endpointAccepts(endpoint: WebhookEndpoint, type: NotificationEventType): boolean {
  return endpoint.enabled !== false && endpointSubscribes(endpoint, type);
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

export class WebhookEndpointConfigError extends Error {
  readonly code = "INVALID_WEBHOOK_ENDPOINT";
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[]) {
    super(`${source}: ${issues.join("; ")}`);
    this.name = "WebhookEndpointConfigError";
    this.issues = issues;
  }
}

function describe(source: string, error: z.core.$ZodError): WebhookEndpointConfigError {
  // Built from path + message only: zod issues here never carry the input, so no secret can leak.
  const issues = error.issues.map((issue) => {
    const field = issue.path
      .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`))
      .join("");
    return `${field === "" ? "(value)" : field}: ${issue.message}`;
  });
  return new WebhookEndpointConfigError(source, issues);
}

/** Parse a list of endpoints (e.g. from JSON config); throws WebhookEndpointConfigError naming each field and rule. */
export function parseWebhookEndpoints(
  value: unknown,
  rules: EndpointRules = {},
  source = "webhook endpoints",
): WebhookEndpoint[] {
  const result = webhookEndpointListSchema(rules).safeParse(value);
  if (!result.success) throw describe(source, result.error);
  return result.data;
}

/**
 * Endpoints from the environment: `WEBHOOK_ENDPOINTS` (a JSON array of endpoints), or one endpoint from
 * `WEBHOOK_URL` + `WEBHOOK_SECRET` (+ optional comma-separated `WEBHOOK_EVENT_TYPES`, id `default`).
 * Neither set → no endpoints.
 */
export function webhookEndpointsFromEnv(
  env: Record<string, string | undefined>,
  rules: EndpointRules = {},
): WebhookEndpoint[] {
  const list = env.WEBHOOK_ENDPOINTS;
  if (list !== undefined && list.trim() !== "") {
    let value: unknown;
    try {
      value = JSON.parse(list);
    } catch {
      throw new WebhookEndpointConfigError("WEBHOOK_ENDPOINTS", ["(value): must be a JSON array of endpoints"]);
    }
    return parseWebhookEndpoints(value, rules, "WEBHOOK_ENDPOINTS");
  }
  const url = env.WEBHOOK_URL;
  const secret = env.WEBHOOK_SECRET;
  if ((url === undefined || url === "") && (secret === undefined || secret === "")) return [];
  const eventTypes = env.WEBHOOK_EVENT_TYPES?.split(",")
    .map((type) => type.trim())
    .filter((type) => type !== "");
  const endpoint = {
    id: "default",
    url: url ?? "",
    secret: secret ?? "",
    ...(eventTypes !== undefined && eventTypes.length > 0 ? { eventTypes } : {}),
  };
  const result = webhookEndpointSchema(rules).safeParse(endpoint);
  if (!result.success) {
    const names: Record<string, string> = {
      url: "WEBHOOK_URL",
      secret: "WEBHOOK_SECRET",
      eventTypes: "WEBHOOK_EVENT_TYPES",
    };
    const issues = result.error.issues.map(
      (issue) => `${names[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}`,
    );
    throw new WebhookEndpointConfigError("webhook environment", issues);
  }
  return [result.data];
}

/**
 * The load-time check of cloud mode: every endpoint's host is resolved and refused when any of its addresses
 * is not public (and not allowed). Throws WebhookEndpointConfigError naming each endpoint and the address.
 */
export async function verifyWebhookHosts(
  endpoints: readonly WebhookEndpoint[],
  rules: AddressRules,
  resolver?: Resolver,
): Promise<void> {
  const issues: string[] = [];
  for (const endpoint of endpoints) {
    const reason = await resolvedHostReason(new URL(endpoint.url).hostname, rules, resolver);
    if (reason !== undefined)
      issues.push(
        `${endpoint.id}.url: must reach a public host: ${reason} (list hosts or networks you run in SDRS_WEBHOOK_ALLOW_PRIVATE)`,
      );
  }
  if (issues.length > 0) throw new WebhookEndpointConfigError("webhook endpoints", issues);
}
