/**
 * The planner's inputs and outputs. Inputs reuse the SDRS/ECS/EVS response schemas from
 * lib/sdrs/schemas.ts (what inventory reading returns); outputs are the verdicts people read and the
 * create calls the pipeline sends.
 */

import {
  type BatchCreateRequest,
  type CreateProtectedInstanceRequest,
  DEFAULT_BATCH_LIMIT,
  ecsServer,
  evsVolume,
  protectedInstance,
  protectionGroup,
} from "../sdrs/schemas.ts";
import * as z from "../zod.ts";
import { creationOptions } from "./creation-options.ts";

/** What inventory reading knows about one server of the request. */
export const serverFacts = z.object({
  serverId: z.string().check(z.minLength(1, { error: "must not be empty" })),
  /** undefined: the server was not found. */
  server: z.optional(ecsServer),
  /** Its attached volumes, with their attachments (a shared volume lists every server it is attached to). */
  volumes: z._default(z.array(evsVolume), []),
  /** Whether the server's key pair exists; undefined: not checked (a warning for Windows key-pair servers). */
  keypairExists: z.optional(z.boolean()),
  /** The Auto Scaling group the server is a member of, if any. */
  autoScalingGroupId: z.optional(z.string()),
});
export type ServerFacts = z.infer<typeof serverFacts>;
export type ServerFactsInput = z.input<typeof serverFacts>;

/**
 * Shared disks in a batch. `batch-together`: allowed when every server the disk is attached to is in the
 * same batch (HW 2022 / OTC Swiss pages; SDRS.1408 otherwise). `block`: never (current Huawei page,
 * updated 2025-11-26). See reference §3.4.
 */
export const sharedDiskPolicy = z.enum(["batch-together", "block"]);
export type SharedDiskPolicy = z.infer<typeof sharedDiskPolicy>;

export const planInput = z
  .object({
    /** The target protection group's id (also when the group was not found). */
    protectionGroupId: z.string().check(z.minLength(1, { error: "must not be empty" })),
    /** undefined: the target protection group was not found. */
    protectionGroup: z.optional(protectionGroup),
    /** The target's name in the targets configuration; the default batch name prefix is derived from it. */
    targetName: z.optional(z.string()),
    servers: z.array(serverFacts),
    /** ALL protected instances of the project, not just the target group's. */
    protectedInstances: z._default(z.array(protectedInstance), []),
    /** The target's creation options, for every server without its own entry in serverCreationOptions. */
    creationOptions: z._default(creationOptions, {}),
    /** Per-server creation options (replace, not merge with, creationOptions). */
    serverCreationOptions: z._default(z.record(z.string(), creationOptions), {}),
    /** Per-server DR flavor (server id → flavor id); wins over creationOptions.flavorMap. */
    flavorOverrides: z._default(z.record(z.string(), z.string().check(z.minLength(1))), {}),
    /** Servers per batch create call: 5 by default, raised per account by the cloud. */
    batchLimit: z._default(z.int().check(z.gte(1)), DEFAULT_BATCH_LIMIT),
    sharedDiskPolicy: z._default(sharedDiskPolicy, "batch-together"),
    /**
     * What the target's DR site offers, when read before planning: the flavors of the DR-site AZ and
     * the CIDR of each subnet. A rule that needs a fact not given here is not applied.
     */
    drSite: z._default(
      z.object({
        flavorIds: z.optional(z.array(z.string())),
        subnetCidrs: z.optional(z.record(z.string(), z.cidrv4())),
      }),
      {},
    ),
  })
  .check(
    z.superRefine((input, ctx) => {
      if (input.protectionGroup !== undefined && input.protectionGroup.id !== input.protectionGroupId) {
        ctx.addIssue({
          code: "custom",
          path: ["protectionGroup", "id"],
          message: `protection group ${input.protectionGroup.id} does not match protectionGroupId ${input.protectionGroupId}`,
        });
      }
      const seen = new Set<string>();
      input.servers.forEach((facts, index) => {
        if (seen.has(facts.serverId)) {
          ctx.addIssue({
            code: "custom",
            path: ["servers", index, "serverId"],
            message: `duplicate server ${facts.serverId}: each server may appear once in a request`,
          });
        }
        seen.add(facts.serverId);
      });
    }),
  );
export type PlanInput = z.infer<typeof planInput>;
export type PlanInputArg = z.input<typeof planInput>;

export const reason = z.object({
  /** Stable, for programs: INELIGIBLE_*, DEFERRED_* or WARN_* (see rules.ts). */
  code: z.string(),
  /** For people: names the values that failed and the rule. */
  message: z.string(),
  remedy: z.string(),
  /** The SDRS error code the API (or the job) would answer with, where one is documented. */
  sdrsCode: z.optional(z.string()),
  /** Machine-readable particulars (ids of the protected instance, peers, volumes …). */
  details: z.optional(z.record(z.string(), z.union([z.string(), z.array(z.string())]))),
});
export type Reason = z.infer<typeof reason>;

/** adopt: already a protected instance in the target's group; the run records it protected without a create call. */
export const verdictKind = z.enum(["eligible", "adopt", "ineligible", "deferred"]);
export type VerdictKind = z.infer<typeof verdictKind>;

export const verdict = z.object({
  serverId: z.string(),
  serverName: z.optional(z.string()),
  verdict: verdictKind,
  /** Why the server is ineligible or deferred; empty when eligible. */
  reasons: z.array(reason),
  /** Reported, not blocking. */
  warnings: z.array(reason),
  /** Deferred only: when to look again. */
  retryAfterSeconds: z.optional(z.int().check(z.positive())),
  /** Servers linked to this one through shared disks (itself included, sorted); only when it has a shared disk. */
  sharedDiskCluster: z.optional(z.array(z.string())),
  /** adopt only: the protected instance adopted. */
  protectedInstanceId: z.optional(z.string()),
});
export type Verdict = z.infer<typeof verdict>;

export type PlannedCall =
  | { kind: "single"; serverIds: [string]; request: CreateProtectedInstanceRequest }
  | { kind: "batch"; serverIds: string[]; request: BatchCreateRequest };

export interface PlanResult {
  verdicts: Verdict[];
  calls: PlannedCall[];
}
