/**
 * Creation options: how the protected instances of one target are created. Embedded by the targets
 * configuration (lib/config/targets.ts), so this module is self-contained: the field rules are the
 * SDRS create-call rules from lib/sdrs/schemas.ts, checked when the configuration is read rather than
 * when SDRS answers 400.
 */

import { ownValue } from "../own.ts";
import { ecsFlavorName, ecsServerId } from "../sdrs/field-rules.ts";
import { description, namePrefix, resourceTags, tenancy } from "../sdrs/schemas.ts";
import * as z from "../zod.ts";

const id = z.string().check(z.minLength(1, { error: "must not be empty" }));

export const creationOptions = z
  .strictObject({
    /** Batch create `name_prefix` (1–59 characters); derived from the target name when absent. */
    namePrefix: z.optional(namePrefix),
    /** Used by single and batch creates alike: the stricter rule holds (64 bytes, so also 64 characters). */
    description: z.optional(description),
    /** Subnet (neutron network id) of the DR server's primary NIC. */
    primarySubnetId: z.optional(id),
    /** Production server id → primary NIC IPv4 of its DR server. Only the single create carries it. */
    primaryIpAddresses: z.optional(z.record(ecsServerId, z.ipv4({ error: "must be an IPv4 address" }))),
    /** DSS storage pool for the DR-site disks. */
    clusterId: z.optional(id),
    tenancy: z.optional(tenancy),
    dedicatedHostId: z.optional(id),
    tags: z.optional(resourceTags),
    /** Production flavor id → DR flavor id; servers whose flavor is not listed keep the production flavor. */
    flavorMap: z.optional(z.record(ecsFlavorName, ecsFlavorName)),
  })
  .check(
    z.superRefine((options, ctx) => {
      // "dedicated_host_id takes effect only when tenancy is set to dedicated" (SDRS.0227).
      if (options.dedicatedHostId !== undefined && options.tenancy !== "dedicated") {
        ctx.addIssue({
          code: "custom",
          path: ["dedicatedHostId"],
          message: "is allowed only when tenancy is dedicated",
        });
      }
      // "primary_ip_address is valid only when primary_subnet_id is specified" (SDRS.1380).
      if (
        options.primaryIpAddresses !== undefined &&
        Object.keys(options.primaryIpAddresses).length > 0 &&
        options.primarySubnetId === undefined
      ) {
        ctx.addIssue({ code: "custom", path: ["primaryIpAddresses"], message: "requires primarySubnetId (SDRS.1380)" });
      }
    }),
  );
export type CreationOptions = z.infer<typeof creationOptions>;

/**
 * The fields a batch create body carries once for all its servers: servers may share a batch call only
 * when these are equal. (flavorRef is per server in a batch; primary_ip_address exists only on the
 * single create.)
 */
const BATCH_FIELDS = [
  "namePrefix",
  "description",
  "primarySubnetId",
  "clusterId",
  "tenancy",
  "dedicatedHostId",
  "tags",
] as const;
type BatchField = (typeof BATCH_FIELDS)[number];

function batchFieldValue(options: CreationOptions, field: BatchField): unknown {
  if (field === "tags") {
    // Tags are a set: the same tags in another order are the same request.
    return options.tags === undefined
      ? null
      : [...options.tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return options[field] ?? null;
}

/** Equal keys ⇔ the options allow the servers to share one batch create call. */
export function batchCompatibilityKey(options: CreationOptions): string {
  return JSON.stringify(BATCH_FIELDS.map((field) => batchFieldValue(options, field)));
}

/** The batch fields in which two servers' options differ, for messages. */
export function differingBatchFields(a: CreationOptions, b: CreationOptions): BatchField[] {
  return BATCH_FIELDS.filter(
    (field) => JSON.stringify(batchFieldValue(a, field)) !== JSON.stringify(batchFieldValue(b, field)),
  );
}

/**
 * Where a plan finds each server's creation options and DR flavor (the fields of the plan input, types.ts,
 * which embeds this module's schema: so the shape is named here rather than imported from there).
 */
export interface CreationChoices {
  /** The target's creation options, for every server without its own entry. */
  creationOptions: CreationOptions;
  /** Per-server creation options (replace, not merge with, creationOptions). */
  serverCreationOptions: Readonly<Record<string, CreationOptions>>;
  /** Per-server DR flavor (server id → flavor id); wins over creationOptions.flavorMap. */
  flavorOverrides: Readonly<Record<string, string>>;
}

/** A server's creation options: its own entry if it has one, else the target's. */
export function creationOptionsFor(
  input: Pick<CreationChoices, "creationOptions" | "serverCreationOptions">,
  serverId: string,
): CreationOptions {
  return ownValue(input.serverCreationOptions, serverId) ?? input.creationOptions;
}

/** The DR flavor for a server: its override, else the flavorMap entry for its production flavor, else none (same flavor). */
export function drFlavorFor(
  input: CreationChoices,
  serverId: string,
  productionFlavorId: string | undefined,
): string | undefined {
  const override = ownValue(input.flavorOverrides, serverId);
  if (override !== undefined) return override;
  if (productionFlavorId === undefined) return undefined;
  return ownValue(creationOptionsFor(input, serverId).flavorMap, productionFlavorId);
}
