/**
 * The field rules of the SDRS create calls, each exactly as its API page writes it: some limits are in
 * bytes (UTF-8), some in characters. One table, from which the request schemas (lib/sdrs/schemas.ts)
 * are built; the client, the targets configuration, the planner and the simulator all check through
 * those schemas, so a limit is stated once.
 *
 * Also the one shape of a server id and of a flavor name, for every door a server comes in by: the
 * onboarding API, the CLI's servers file, inventory events and the targets file.
 */
import * as z from "../zod.ts";

export type LengthUnit = "bytes" | "characters";

export interface FieldRule {
  /** The API page (call) the rule is written on. */
  call: "create protected instance" | "batch create protected instances" | "create protection group";
  /** The request field, as the page names it. */
  field: string;
  min: number;
  max: number;
  unit: LengthUnit;
  /** The page states a range ("1 to 59 characters"): so does the message, for an empty value too. */
  range?: true;
}

/** UTF-8 bytes or Unicode code points (what the pages call characters), as the rule says. */
export function lengthIn(text: string, unit: LengthUnit): number {
  return unit === "bytes" ? Buffer.byteLength(text, "utf8") : [...text].length;
}

/**
 * Create protected instance (single): "The name can contain a maximum of 64 bytes", "The description can
 * contain a maximum of 64 bytes". Batch create: "Each protected instance name prefix can contain 1 to 59
 * characters", "The description can contain a maximum of 64 characters". Create protection group: name
 * and description "a maximum of 64 bytes". Tags (single and batch): key "up to 36 Unicode characters",
 * value "up to 43 Unicode characters".
 */
export const FIELD_RULES = {
  protectedInstanceName: { call: "create protected instance", field: "name", min: 1, max: 64, unit: "bytes" },
  protectedInstanceDescription: {
    call: "create protected instance",
    field: "description",
    min: 0,
    max: 64,
    unit: "bytes",
  },
  batchNamePrefix: {
    call: "batch create protected instances",
    field: "name_prefix",
    min: 1,
    max: 59,
    unit: "characters",
    range: true,
  },
  batchDescription: {
    call: "batch create protected instances",
    field: "description",
    min: 0,
    max: 64,
    unit: "characters",
  },
  protectionGroupName: { call: "create protection group", field: "name", min: 1, max: 64, unit: "bytes" },
  protectionGroupDescription: { call: "create protection group", field: "description", min: 0, max: 64, unit: "bytes" },
  tagKey: { call: "create protected instance", field: "tags.key", min: 1, max: 36, unit: "characters" },
  tagValue: { call: "create protected instance", field: "tags.value", min: 0, max: 43, unit: "characters" },
} as const satisfies Record<string, FieldRule>;

export type FieldRuleName = keyof typeof FIELD_RULES;

/** "must be at most 64 bytes", or for a stated range "must be 1 to 59 characters". */
export function lengthRuleText(rule: FieldRule): string {
  return rule.range ? `must be ${rule.min} to ${rule.max} ${rule.unit}` : `must be at most ${rule.max} ${rule.unit}`;
}

/** A string schema holding the rule's length in its own unit (an empty value breaks a minimum of 1). */
export function lengthChecked(rule: FieldRule): z.ZodMiniString {
  const text = lengthRuleText(rule);
  const emptyText = rule.range ? text : "must not be empty";
  return z.string().check(
    z.minLength(rule.min, { error: emptyText }),
    z.refine((value) => lengthIn(value, rule.unit) <= rule.max, { error: text }),
  );
}

// ---------------------------------------------------------------------------------------------
// Server ids and flavor names
// ---------------------------------------------------------------------------------------------

/** ECS server ids are UUIDs; ids of other shapes the cloud may use are letters, digits and hyphens. */
const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
/** ECS flavor names such as s6.large.2, c7n.xlarge.4 or physical.s4.large. */
const FLAVOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const SERVER_ID_RULE =
  "a server id is 1–64 letters, digits or hyphens, such as 403b603d-1d91-42cc-a357-81f3c2daf43f";
export const FLAVOR_RULE = "a flavor name is 1–128 letters, digits, '.', '_' or '-', such as s6.large.2";

export function isServerId(value: string): boolean {
  return SERVER_ID.test(value);
}

export function isFlavorName(value: string): boolean {
  return FLAVOR_NAME.test(value);
}

export const ecsServerId = z
  .string()
  .check(
    z.refine(isServerId, { error: (issue) => `${JSON.stringify(issue.input)} is not a server id (${SERVER_ID_RULE})` }),
  );
export const ecsFlavorName = z.string().check(
  z.refine(isFlavorName, {
    error: (issue) => `${JSON.stringify(issue.input)} is not a flavor name (${FLAVOR_RULE})`,
  }),
);
