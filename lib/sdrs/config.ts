/**
 * Cloud client configuration, read from the environment once at the edge and validated with zod.
 * An error names the variable and the rule, never a secret's value.
 */

import { Secret } from "../secret.ts";
import * as z from "../zod.ts";
import { DEFAULT_BATCH_LIMIT } from "./schemas.ts";

const secret = z.instanceof(Secret);
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

export const CLOUD_DOMAINS = ["myhuaweicloud.com", "otc.t-systems.com"] as const;
export type CloudDomain = (typeof CLOUD_DOMAINS)[number];

export const retryPolicySchema = z.strictObject({
  /** Attempts per read, the first included. */
  maxAttempts: z.int().check(z.gte(1), z.lte(20)),
  /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs·2^(n-1))). */
  baseDelayMs: z.number().check(z.gte(0)),
  /** Cap of one backoff wait (a longer Retry-After is still honoured, within the budget). */
  maxDelayMs: z.number().check(z.gte(0)),
  /** Budget: the sum of all waits of one request; a wait that would exceed it ends the retries. */
  maxTotalDelayMs: z.number().check(z.gte(0)),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxTotalDelayMs: 60_000,
};
export const DEFAULT_TIMEOUT_MS = 30_000;

export const cloudAuthSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("aksk"),
    accessKey: z.string().check(z.minLength(1)),
    secretKey: secret,
    /** Temporary credentials (STS) come with a security token, sent and signed as X-Security-Token. */
    securityToken: z.optional(secret),
  }),
  z.strictObject({
    kind: z.literal("token"),
    userName: z.string().check(z.minLength(1)),
    password: secret,
    domainName: z.string().check(z.minLength(1)),
  }),
]);
export type CloudAuth = z.infer<typeof cloudAuthSchema>;

export const cloudConfigSchema = z.strictObject({
  projectId: z.string().check(z.minLength(1)),
  auth: cloudAuthSchema,
  endpoints: z.strictObject({
    sdrs: httpUrl,
    ecs: httpUrl,
    evs: httpUrl,
    /** Auto Scaling; only needed to read AS membership (a warning, not a blocker). */
    as: z.optional(httpUrl),
    /** IAM; required for token auth. */
    iam: z.optional(httpUrl),
  }),
  /** Servers per SDRS batch create ("A maximum of five servers are supported by default"). */
  batchLimit: z.int().check(z.gte(1), z.lte(1000)),
  retry: retryPolicySchema,
  /** Per-request timeout. */
  timeoutMs: z.int().check(z.gte(1)),
});
export type CloudConfig = z.infer<typeof cloudConfigSchema>;
export type CloudService = keyof CloudConfig["endpoints"];

/** The environment variables, what each is for (quoted when it is missing) and whether it is secret. */
export const CLOUD_ENV = {
  HUAWEICLOUD_AUTH: { purpose: "aksk (default) or token", secret: false },
  HUAWEICLOUD_SDK_AK: { purpose: "the access key (AK) to sign requests with", secret: false },
  HUAWEICLOUD_SDK_SK: { purpose: "the secret key (SK) to sign requests with", secret: true },
  HUAWEICLOUD_SDK_SECURITY_TOKEN: { purpose: "the security token of temporary credentials", secret: true },
  HUAWEICLOUD_SDK_PROJECT_ID: { purpose: "the project id to call SDRS in", secret: false },
  HUAWEICLOUD_USERNAME: { purpose: "the IAM user name for token auth", secret: false },
  HUAWEICLOUD_PASSWORD: { purpose: "the IAM user's password for token auth", secret: true },
  HUAWEICLOUD_DOMAIN_NAME: { purpose: "the IAM account (domain) name for token auth", secret: false },
  HUAWEICLOUD_REGION: { purpose: "the region, e.g. eu-de, to derive endpoints from", secret: false },
  HUAWEICLOUD_CLOUD: { purpose: "myhuaweicloud.com (default) or otc.t-systems.com", secret: false },
  SDRS_ENDPOINT: { purpose: "the SDRS endpoint URL", secret: false },
  ECS_ENDPOINT: { purpose: "the ECS endpoint URL", secret: false },
  EVS_ENDPOINT: { purpose: "the EVS endpoint URL", secret: false },
  AS_ENDPOINT: { purpose: "the Auto Scaling endpoint URL", secret: false },
  IAM_ENDPOINT: { purpose: "the IAM endpoint URL", secret: false },
  SDRS_BATCH_LIMIT: { purpose: "servers per SDRS batch create", secret: false },
  SDRS_RETRY_MAX_ATTEMPTS: { purpose: "attempts per read request", secret: false },
  SDRS_RETRY_BASE_DELAY_MS: { purpose: "backoff base delay in ms", secret: false },
  SDRS_RETRY_MAX_DELAY_MS: { purpose: "cap of one backoff wait in ms", secret: false },
  SDRS_RETRY_BUDGET_MS: { purpose: "total backoff budget per request in ms", secret: false },
  SDRS_REQUEST_TIMEOUT_MS: { purpose: "per-request timeout in ms", secret: false },
} as const;
export type CloudEnvVariable = keyof typeof CLOUD_ENV;

export interface ConfigIssue {
  variable: CloudEnvVariable;
  rule: string;
}

export class CloudConfigError extends Error {
  override readonly name = "CloudConfigError";
  readonly code = "INVALID_CLOUD_CONFIG";
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map((issue) => `${issue.variable}: ${issue.rule}`).join("; "));
    this.issues = issues;
  }
}

/** The variable that sets each service's endpoint. */
export const ENDPOINT_VARIABLES = {
  sdrs: "SDRS_ENDPOINT",
  ecs: "ECS_ENDPOINT",
  evs: "EVS_ENDPOINT",
  as: "AS_ENDPOINT",
  iam: "IAM_ENDPOINT",
} as const satisfies Record<CloudService, CloudEnvVariable>;

/** Unset and empty both mean "not configured" (deploy tools often write empty strings). */
const optionalText = z.pipe(
  z.optional(z.string()),
  z.transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim())),
);

function wholeNumber(min: number, max: number, fallback: number) {
  return z.pipe(
    optionalText,
    z.transform((value, ctx) => {
      if (value === undefined) return fallback;
      const number = Number(value);
      if (!/^\d+$/.test(value) || number < min || number > max) {
        // A zod/mini transform's context has no addIssue: the issue classic's addIssue would record.
        ctx.issues.push({
          code: "custom",
          message: `must be a whole number from ${min} to ${max} (got "${value}")`,
          input: value,
        });
        return z.NEVER;
      }
      return number;
    }),
  );
}

const envUrl = z.pipe(optionalText, z.optional(httpUrl));

const cloudEnvSchema = z.object({
  HUAWEICLOUD_AUTH: z.pipe(
    optionalText,
    z._default(z.enum(["aksk", "token"], { error: "must be aksk or token" }), "aksk"),
  ),
  HUAWEICLOUD_SDK_AK: optionalText,
  HUAWEICLOUD_SDK_SK: optionalText,
  HUAWEICLOUD_SDK_SECURITY_TOKEN: optionalText,
  // Checked in resolve, with the credentials and endpoints, so that every missing variable is named at once.
  HUAWEICLOUD_SDK_PROJECT_ID: optionalText,
  HUAWEICLOUD_USERNAME: optionalText,
  HUAWEICLOUD_PASSWORD: optionalText,
  HUAWEICLOUD_DOMAIN_NAME: optionalText,
  HUAWEICLOUD_REGION: z.pipe(
    optionalText,
    z.optional(
      z
        .string()
        .check(z.regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { error: "must be a region id such as eu-de or ap-southeast-1" })),
    ),
  ),
  HUAWEICLOUD_CLOUD: z.pipe(
    optionalText,
    z._default(z.enum(CLOUD_DOMAINS, { error: `must be one of ${CLOUD_DOMAINS.join(", ")}` }), "myhuaweicloud.com"),
  ),
  SDRS_ENDPOINT: envUrl,
  ECS_ENDPOINT: envUrl,
  EVS_ENDPOINT: envUrl,
  AS_ENDPOINT: envUrl,
  IAM_ENDPOINT: envUrl,
  SDRS_BATCH_LIMIT: wholeNumber(1, 1000, DEFAULT_BATCH_LIMIT),
  SDRS_RETRY_MAX_ATTEMPTS: wholeNumber(1, 20, DEFAULT_RETRY_POLICY.maxAttempts),
  SDRS_RETRY_BASE_DELAY_MS: wholeNumber(0, 600_000, DEFAULT_RETRY_POLICY.baseDelayMs),
  SDRS_RETRY_MAX_DELAY_MS: wholeNumber(0, 600_000, DEFAULT_RETRY_POLICY.maxDelayMs),
  SDRS_RETRY_BUDGET_MS: wholeNumber(0, 3_600_000, DEFAULT_RETRY_POLICY.maxTotalDelayMs),
  SDRS_REQUEST_TIMEOUT_MS: wholeNumber(1, 900_000, DEFAULT_TIMEOUT_MS),
});
type CloudEnv = z.infer<typeof cloudEnvSchema>;

/** `https://<service>.<region>.<cloud>`, the public endpoint pattern of both clouds. */
export function regionalEndpoint(service: CloudService, region: string, cloud: CloudDomain): string {
  return `https://${service}.${region}.${cloud}`;
}

function isCloudEnvVariable(name: unknown): name is CloudEnvVariable {
  return typeof name === "string" && Object.hasOwn(CLOUD_ENV, name);
}

/**
 * zod quotes the offending input in some messages; a secret variable's issue is replaced by a
 * rule that cannot contain its value.
 */
function issueFor(variable: CloudEnvVariable, message: string): ConfigIssue {
  return { variable, rule: CLOUD_ENV[variable].secret ? "is invalid" : message };
}

function resolve(env: CloudEnv): CloudConfig | ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const need = (variable: CloudEnvVariable, value: string | undefined, why: string): string => {
    if (value === undefined)
      issues.push({ variable, rule: `required${why === "" ? "" : ` ${why}`} (${CLOUD_ENV[variable].purpose})` });
    return value ?? "";
  };

  const projectId = need("HUAWEICLOUD_SDK_PROJECT_ID", env.HUAWEICLOUD_SDK_PROJECT_ID, "");
  let auth: CloudAuth;
  if (env.HUAWEICLOUD_AUTH === "token") {
    const why = "when HUAWEICLOUD_AUTH=token";
    auth = {
      kind: "token",
      userName: need("HUAWEICLOUD_USERNAME", env.HUAWEICLOUD_USERNAME, why),
      password: new Secret(need("HUAWEICLOUD_PASSWORD", env.HUAWEICLOUD_PASSWORD, why)),
      domainName: need("HUAWEICLOUD_DOMAIN_NAME", env.HUAWEICLOUD_DOMAIN_NAME, why),
    };
  } else {
    const why = "for AK/SK auth";
    auth = {
      kind: "aksk",
      accessKey: need("HUAWEICLOUD_SDK_AK", env.HUAWEICLOUD_SDK_AK, why),
      secretKey: new Secret(need("HUAWEICLOUD_SDK_SK", env.HUAWEICLOUD_SDK_SK, why)),
      ...(env.HUAWEICLOUD_SDK_SECURITY_TOKEN === undefined
        ? {}
        : { securityToken: new Secret(env.HUAWEICLOUD_SDK_SECURITY_TOKEN) }),
    };
  }

  const region = env.HUAWEICLOUD_REGION;
  const endpoint = (service: CloudService): string | undefined =>
    env[ENDPOINT_VARIABLES[service]] ??
    (region === undefined ? undefined : regionalEndpoint(service, region, env.HUAWEICLOUD_CLOUD));
  const requiredEndpoint = (service: "sdrs" | "ecs" | "evs"): string =>
    need(ENDPOINT_VARIABLES[service], endpoint(service), "unless HUAWEICLOUD_REGION is set");
  const endpoints: CloudConfig["endpoints"] = {
    sdrs: requiredEndpoint("sdrs"),
    ecs: requiredEndpoint("ecs"),
    evs: requiredEndpoint("evs"),
  };
  const as = endpoint("as");
  if (as !== undefined) endpoints.as = as;
  const iam = endpoint("iam");
  if (iam !== undefined) endpoints.iam = iam;
  if (auth.kind === "token" && iam === undefined) {
    issues.push({
      variable: "IAM_ENDPOINT",
      rule: `required when HUAWEICLOUD_AUTH=token unless HUAWEICLOUD_REGION is set (${CLOUD_ENV.IAM_ENDPOINT.purpose})`,
    });
  }
  if (issues.length > 0) return issues;

  return {
    projectId,
    auth,
    endpoints,
    batchLimit: env.SDRS_BATCH_LIMIT,
    retry: {
      maxAttempts: env.SDRS_RETRY_MAX_ATTEMPTS,
      baseDelayMs: env.SDRS_RETRY_BASE_DELAY_MS,
      maxDelayMs: env.SDRS_RETRY_MAX_DELAY_MS,
      maxTotalDelayMs: env.SDRS_RETRY_BUDGET_MS,
    },
    timeoutMs: env.SDRS_REQUEST_TIMEOUT_MS,
  };
}

/**
 * Reads the cloud configuration from the environment. Endpoints come from SDRS_ENDPOINT,
 * ECS_ENDPOINT, … or, for any not set, from HUAWEICLOUD_REGION + HUAWEICLOUD_CLOUD.
 * Throws CloudConfigError listing every missing or invalid variable.
 */
export function loadCloudConfig(env: Record<string, string | undefined> = process.env): CloudConfig {
  const parsed = cloudEnvSchema.safeParse(env);
  if (!parsed.success) {
    const invalid = parsed.error.issues.flatMap((issue) => {
      const variable = issue.path[0];
      return isCloudEnvVariable(variable) ? [issueFor(variable, issue.message)] : [];
    });
    // Every fault at once: what is missing besides what is invalid (the invalid variables left out).
    const rest = cloudEnvSchema.safeParse(
      Object.fromEntries(Object.entries(env).filter(([name]) => !invalid.some((issue) => issue.variable === name))),
    );
    const resolved = rest.success ? resolve(rest.data) : [];
    const isInvalid = (variable: string) => invalid.some((issue) => issue.variable === variable);
    // Not "required" when it would come from an invalid variable: endpoints from the region, credentials from the auth kind.
    const derivedFromInvalid = (variable: string) =>
      (variable.endsWith("_ENDPOINT") && (isInvalid("HUAWEICLOUD_REGION") || isInvalid("HUAWEICLOUD_CLOUD"))) ||
      (variable !== "HUAWEICLOUD_SDK_PROJECT_ID" && !variable.endsWith("_ENDPOINT") && isInvalid("HUAWEICLOUD_AUTH"));
    const missing = Array.isArray(resolved)
      ? resolved.filter((issue) => !isInvalid(issue.variable) && !derivedFromInvalid(issue.variable))
      : [];
    throw new CloudConfigError([...invalid, ...missing]);
  }
  const resolved = resolve(parsed.data);
  if (Array.isArray(resolved)) throw new CloudConfigError(resolved);
  return cloudConfigSchema.parse(resolved);
}
