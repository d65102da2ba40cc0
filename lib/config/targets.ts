/**
 * Targets configuration: what a protect-tag value means. A target names a protection group (by id, or
 * by name plus the fields to create it with the seed's create-protection-group call), the options for
 * the create calls, whether to enable protection once the group has members, and who is notified.
 *
 * Read from a JSON file (SDRS_TARGETS_FILE) and/or inline JSON (SDRS_TARGETS_JSON, for Lambda), zod-validated
 * with errors naming the field. Webhook secrets may be given inline or as `{ "env": "VAR" }`, so the file
 * itself can be committed without them.
 */
import { readFileSync } from "node:fs";
import { creationOptions } from "../planning/creation-options.ts";
import { DEFAULT_BATCH_LIMIT, protectionGroupDescription, protectionGroupName } from "../sdrs/schemas.ts";
import * as z from "../zod.ts";

export const DEFAULT_PROTECT_TAG_KEY = "sdrs_protect";

const secretValue = z.union([
  z.string().check(z.startsWith("whsec_", { error: "must start with whsec_ (Standard Webhooks secret format)" })),
  z.strictObject({ env: z.string().check(z.minLength(1)) }),
]);

export const webhookEndpointConfig = z.strictObject({
  id: z
    .string()
    .check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, { error: "must be 1–64 characters of letters, digits, . _ -" })),
  url: z.string().check(z.url({ error: "must be an absolute URL" })),
  secret: secretValue,
  eventTypes: z.optional(z.array(z.string())),
});
export type WebhookEndpointConfig = z.infer<typeof webhookEndpointConfig>;

export const protectionGroupRef = z.union([
  z.strictObject({ id: z.string().check(z.minLength(1)) }),
  z.strictObject({
    name: protectionGroupName,
    /** Create the group when no group of this name exists (seed: create protection group). */
    create: z.optional(
      z.strictObject({
        description: z.optional(protectionGroupDescription),
        sourceAvailabilityZone: z.string().check(z.minLength(1)),
        targetAvailabilityZone: z.string().check(z.minLength(1)),
        domainId: z.string().check(z.minLength(1)),
        sourceVpcId: z.string().check(z.minLength(1)),
      }),
    ),
  }),
]);
export type ProtectionGroupRef = z.infer<typeof protectionGroupRef>;

export const targetConfig = z.strictObject({
  protectionGroup: protectionGroupRef,
  creation: z._default(creationOptions, {}),
  /** Enable protection (start-server-group) once the group's first protected instances exist. */
  enableProtection: z._default(z.boolean(), false),
  /**
   * What reconcile does with a coverage gap (docs/coverage.md): `report` notifies it; `repair` also runs
   * the safe repairs (enable protection of a group with members, expand a pair whose disk grew).
   */
  coverage: z._default(z.enum(["report", "repair"]), "report"),
});
export type TargetConfig = z.infer<typeof targetConfig>;

export const targetsConfig = z.strictObject({
  protectTagKey: z._default(
    z.string().check(
      z.regex(/^[A-Za-z0-9_-]{1,36}$/, {
        error: "must be 1–36 characters of letters, digits, _ or - (ECS tag key rule)",
      }),
    ),
    DEFAULT_PROTECT_TAG_KEY,
  ),
  batchLimit: z._default(z.int().check(z.gte(1), z.lte(100)), DEFAULT_BATCH_LIMIT),
  sharedDiskPolicy: z._default(z.enum(["batch-together", "block"]), "batch-together"),
  /** Retry a failed batch server by server when the job does not say which server failed. */
  retryFailedBatchIndividually: z._default(z.boolean(), true),
  targets: z.record(
    z.string().check(z.regex(/^[A-Za-z0-9_-]{1,43}$/, { error: "target names must be valid ECS tag values" })),
    targetConfig,
  ),
  webhooks: z._default(z.array(webhookEndpointConfig), []),
  sns: z.optional(z.strictObject({ topicArn: z.string().check(z.minLength(1)) })),
});
export type TargetsConfig = z.infer<typeof targetsConfig>;

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  override name = "ConfigError";
}

function formatIssues(source: string, error: z.core.$ZodError): string {
  return `${source} is invalid:\n${error.issues.map((issue) => `  - ${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`).join("\n")}`;
}

export function parseTargetsConfig(raw: unknown, source = "targets configuration"): TargetsConfig {
  const parsed = targetsConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(source, parsed.error));
  return parsed.data;
}

/** SDRS_TARGETS_JSON wins over SDRS_TARGETS_FILE; with neither, `fallbackFile` (the CLI passes the sample). */
export function loadTargetsConfig(env: NodeJS.ProcessEnv = process.env, fallbackFile?: string): TargetsConfig {
  if (env.SDRS_TARGETS_JSON) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.SDRS_TARGETS_JSON);
    } catch (error) {
      throw new ConfigError(`SDRS_TARGETS_JSON: not valid JSON (${(error as Error).message})`);
    }
    return parseTargetsConfig(raw, "SDRS_TARGETS_JSON");
  }
  const file = env.SDRS_TARGETS_FILE ?? fallbackFile;
  if (!file)
    throw new ConfigError("SDRS_TARGETS_FILE or SDRS_TARGETS_JSON: one is required (the targets configuration)");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      `SDRS_TARGETS_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return parseTargetsConfig(raw, file);
}

/** A webhook secret resolved from its `{ env }` indirection; the error never contains a secret. */
export function resolveSecret(secret: WebhookEndpointConfig["secret"], env: NodeJS.ProcessEnv, field: string): string {
  if (typeof secret === "string") return secret;
  const value = env[secret.env];
  if (!value) throw new ConfigError(`${field}: environment variable ${secret.env} is not set`);
  if (!value.startsWith("whsec_")) throw new ConfigError(`${field}: ${secret.env} must hold a whsec_ secret`);
  return value;
}

/** Protection group id → the configured target that names it by id. */
export function configuredGroupTargets(config: Pick<TargetsConfig, "targets">): Map<string, string> {
  const groups = new Map<string, string>();
  for (const [name, target] of Object.entries(config.targets)) {
    if ("id" in target.protectionGroup) groups.set(target.protectionGroup.id, name);
  }
  return groups;
}
