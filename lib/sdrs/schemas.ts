/**
 * zod schemas for the SDRS, ECS and EVS calls this project makes: the single source of truth for the
 * client (which refuses a bad request before sending it), the simulator (which answers with the same
 * SDRS error codes as the real API) and the planner (which reads the typed values).
 *
 * Request rules come from the seed API pages (create protected instance, batch create, create
 * protection group); response shapes from the SDRS API reference. Responses are parsed
 * loosely (unknown fields kept) because the cloud adds fields over time; requests strictly.
 */
import * as z from "../zod.ts";
import { ecsFlavorName, FIELD_RULES, type FieldRule, lengthChecked, lengthIn, lengthRuleText } from "./field-rules.ts";

/** SDRS batch create: "A maximum of five servers are supported by default." */
export const DEFAULT_BATCH_LIMIT = 5;

// ---------------------------------------------------------------------------------------------
// Field rules shared by the create calls
// ---------------------------------------------------------------------------------------------

const NAME_CHARS = /^[A-Za-z0-9._-]+$/;
/** Tag keys and values: no non-printable ASCII (0–31) and none of * < > \ = , | / */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the forbidden range is the documented rule
const TAG_FORBIDDEN = /[\u0000-\u001f*<>\\=,|/]/;

const NAME_CHARACTERS_RULE = "may contain only letters, digits, decimal points (.), underscores (_) and hyphens (-)";
const NO_ANGLE_BRACKETS = "must not contain < or >";

function nameOf(rule: FieldRule) {
  return lengthChecked(rule).check(z.refine((name) => NAME_CHARS.test(name), { error: NAME_CHARACTERS_RULE }));
}

function descriptionOf(rule: FieldRule) {
  return lengthChecked(rule).check(z.refine((text) => !/[<>]/.test(text), { error: NO_ANGLE_BRACKETS }));
}

/** Create protected instance: the name, at most 64 bytes of letters, digits, `.`, `_`, `-`. */
export const resourceName = nameOf(FIELD_RULES.protectedInstanceName);
/** Create protection group: the name, the same rule. */
export const protectionGroupName = nameOf(FIELD_RULES.protectionGroupName);

/** Batch create: the service appends "-0001"-style suffixes, so the prefix is 1–59 characters. */
export const namePrefix = nameOf(FIELD_RULES.batchNamePrefix);

/** Create protected instance: at most 64 bytes, without `<` or `>`. */
export const description = descriptionOf(FIELD_RULES.protectedInstanceDescription);
/** Batch create: at most 64 characters, without `<` or `>`. */
export const batchDescription = descriptionOf(FIELD_RULES.batchDescription);
/** Create protection group: at most 64 bytes, without `<` or `>`. */
export const protectionGroupDescription = descriptionOf(FIELD_RULES.protectionGroupDescription);

/** Adds an issue at every item whose key an earlier item of the list already had. */
function flagRepeatedKeys<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  ctx: z.core.$RefinementCtx,
  issueAt: (key: string, index: number) => { path: (string | number)[]; message: string },
): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (seen.has(key)) ctx.addIssue({ code: "custom", ...issueAt(key, index) });
    seen.add(key);
  });
}

const NO_FORBIDDEN_TAG_CHARACTERS = "must not contain control characters or any of * < > \\ = , | /";

export const resourceTag = z.strictObject({
  key: lengthChecked(FIELD_RULES.tagKey).check(
    z.refine((key) => key.trim() !== "", { error: "must not be blank" }),
    z.refine((key) => !TAG_FORBIDDEN.test(key), { error: NO_FORBIDDEN_TAG_CHARACTERS }),
  ),
  value: z
    .string({
      error: (issue) => (issue.input === undefined || issue.input === null ? "must not be null" : "must be a string"),
    })
    .check(
      z.refine((value) => lengthIn(value, FIELD_RULES.tagValue.unit) <= FIELD_RULES.tagValue.max, {
        error: lengthRuleText(FIELD_RULES.tagValue),
      }),
      z.refine((value) => !TAG_FORBIDDEN.test(value), { error: NO_FORBIDDEN_TAG_CHARACTERS }),
    ),
});
export type ResourceTag = z.infer<typeof resourceTag>;

export const resourceTags = z.array(resourceTag).check(
  z.maxLength(10, { error: "at most 10 tags are allowed" }),
  z.superRefine((tags, ctx) =>
    flagRepeatedKeys(
      tags,
      (tag) => tag.key,
      ctx,
      (key, index) => ({ path: [index, "key"], message: `duplicate tag key "${key}": keys must be unique` }),
    ),
  ),
);

export const tenancy = z.enum(["shared", "dedicated"], { error: "must be shared or dedicated" });
export type Tenancy = z.infer<typeof tenancy>;

type DedicatedHostFields = { tenancy?: string | undefined; dedicated_host_id?: string | undefined };

/** `dedicated_host_id` "takes effect only when tenancy is set to dedicated". */
function checkDedicatedHost(body: DedicatedHostFields, ctx: z.core.$RefinementCtx) {
  if (body.dedicated_host_id !== undefined && body.tenancy !== "dedicated") {
    ctx.addIssue({
      code: "custom",
      path: ["dedicated_host_id"],
      message: "is allowed only when tenancy is dedicated",
    });
  }
}

const id = z.string().check(z.minLength(1, { error: "must not be empty" }));

type NullishText = z.ZodMiniOptional<z.ZodMiniNullable<z.ZodMiniString>>;
type OptionalText = z.ZodMiniOptional<z.ZodMiniString>;

/** Answer fields the cloud may leave out or send as null, read as text: `{ name: z.string().nullish(), … }`. */
export function nullishText<const N extends string>(...names: N[]): Record<N, NullishText> {
  return Object.fromEntries(names.map((name) => [name, z.nullish(z.string())])) as Record<N, NullishText>;
}

/** Answer fields the cloud may leave out, read as text: `{ name: z.string().optional(), … }`. */
function optionalText<const N extends string>(...names: N[]): Record<N, OptionalText> {
  return Object.fromEntries(names.map((name) => [name, z.optional(z.string())])) as Record<N, OptionalText>;
}

// ---------------------------------------------------------------------------------------------
// Create protected instance: POST /v1/{project_id}/protected-instances
// ---------------------------------------------------------------------------------------------

export const createProtectedInstanceBody = z
  .strictObject({
    server_group_id: id,
    server_id: id,
    name: resourceName,
    description: z.optional(description),
    cluster_id: z.optional(id),
    primary_subnet_id: z.optional(id),
    primary_ip_address: z.optional(z.ipv4({ error: "must be an IPv4 address" })),
    flavorRef: z.optional(ecsFlavorName),
    tenancy: z.optional(tenancy),
    dedicated_host_id: z.optional(id),
    tags: z.optional(resourceTags),
  })
  .check(
    z.superRefine((body, ctx) => {
      checkDedicatedHost(body, ctx);
      // "This parameter is valid only when primary_subnet_id is specified." (SDRS.1380)
      if (body.primary_ip_address !== undefined && body.primary_subnet_id === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["primary_ip_address"],
          message: "is allowed only together with primary_subnet_id",
        });
      }
    }),
  );
export type CreateProtectedInstanceBody = z.infer<typeof createProtectedInstanceBody>;

export const createProtectedInstanceRequest = z.strictObject({ protected_instance: createProtectedInstanceBody });
export type CreateProtectedInstanceRequest = z.infer<typeof createProtectedInstanceRequest>;

// ---------------------------------------------------------------------------------------------
// Batch create protected instances: POST /v1/{project_id}/protected-instances/batch
// ---------------------------------------------------------------------------------------------

export const batchServer = z.strictObject({ server_id: id, flavorRef: z.optional(ecsFlavorName) });
export type BatchServer = z.infer<typeof batchServer>;

/** The batch body; `limit` is the per-call server limit (5 by default, raised per account by the cloud). */
export function batchCreateBody(limit = DEFAULT_BATCH_LIMIT) {
  return z
    .strictObject({
      name_prefix: namePrefix,
      description: z.optional(batchDescription),
      server_group_id: id,
      cluster_id: z.optional(id),
      primary_subnet_id: z.optional(id),
      servers: z
        .array(batchServer)
        .check(
          z.minLength(1, { error: "must list at least 1 server" }),
          z.maxLength(limit, { error: `must list at most ${limit} servers` }),
        ),
      tenancy: z.optional(tenancy),
      dedicated_host_id: z.optional(id),
      tags: z.optional(resourceTags),
    })
    .check(
      z.superRefine((body, ctx) => {
        checkDedicatedHost(body, ctx);
        flagRepeatedKeys(
          body.servers,
          (server) => server.server_id,
          ctx,
          (serverId, index) => ({
            path: ["servers", index, "server_id"],
            message: `duplicate server ${serverId}: each server may appear once`,
          }),
        );
      }),
    );
}
export type BatchCreateBody = z.infer<ReturnType<typeof batchCreateBody>>;

export function batchCreateRequest(limit = DEFAULT_BATCH_LIMIT) {
  return z.strictObject({ protected_instances: batchCreateBody(limit) });
}
export type BatchCreateRequest = z.infer<ReturnType<typeof batchCreateRequest>>;

// ---------------------------------------------------------------------------------------------
// Create protection group: POST /v1/{project_id}/server-groups
// ---------------------------------------------------------------------------------------------

export const createProtectionGroupBody = z.strictObject({
  name: protectionGroupName,
  description: z.optional(protectionGroupDescription),
  source_availability_zone: id,
  target_availability_zone: id,
  domain_id: id,
  source_vpc_id: id,
  dr_type: z.optional(z.literal("migration", { error: "must be migration" })),
  /** Not in the parameter table, but in the seed's example request. */
  server_type: z.optional(z.literal("ECS", { error: "must be ECS" })),
});
export type CreateProtectionGroupBody = z.infer<typeof createProtectionGroupBody>;
export const createProtectionGroupRequest = z.strictObject({ server_group: createProtectionGroupBody });
export type CreateProtectionGroupRequest = z.infer<typeof createProtectionGroupRequest>;

/** Enable protection: POST /v1/{project_id}/server-groups/{id}/action with this body. */
export const startServerGroupRequest = z.strictObject({ "start-server-group": z.strictObject({}) });

/** Every asynchronous SDRS call answers with a job id. */
export const jobAccepted = z.looseObject({ job_id: z.string().check(z.minLength(1)) });
export type JobAccepted = z.infer<typeof jobAccepted>;

// ---------------------------------------------------------------------------------------------
// Jobs: GET /v1/{project_id}/jobs/{job_id}
// ---------------------------------------------------------------------------------------------

export const jobStatus = z.enum(["INIT", "RUNNING", "SUCCESS", "FAIL"]);
export type JobStatus = z.infer<typeof jobStatus>;

const jobEntityFields = {
  ...optionalText(
    "server_group_id",
    "protected_instance_id",
    "native_server_id",
    "replication_pair_id",
    "volume_ids",
    "nic_id",
  ),
  /** Not in the SDK model; our simulator (and possibly the cloud) names the server a sub-job is for. */
  server_id: z.optional(z.string()),
};

/** What a job and each of its sub-jobs report after `status` and `entities`. */
const jobProgressFields = {
  job_id: z.string(),
  /** An open string: sub-jobs and batch jobs use undocumented types. */
  job_type: z.nullish(z.string()),
  ...nullishText("begin_time", "end_time", "error_code", "fail_reason"),
};

export const subJob = z.looseObject({
  status: jobStatus,
  entities: z.nullish(z.looseObject(jobEntityFields)),
  ...jobProgressFields,
});
export type SubJob = z.infer<typeof subJob>;

export const job = z.looseObject({
  status: jobStatus,
  entities: z.nullish(z.looseObject({ ...jobEntityFields, sub_jobs: z.optional(z.array(subJob)) })),
  ...jobProgressFields,
});
export type Job = z.infer<typeof job>;

// ---------------------------------------------------------------------------------------------
// Protection groups
// ---------------------------------------------------------------------------------------------

export const protectionGroupStatus = z.enum([
  "creating",
  "available",
  "protected",
  "deleting",
  "error-deleting",
  "error",
  "starting",
  "error-starting",
  "reprotecting",
  "error-reprotecting",
  "stopping",
  "error-stopping",
  "reversing",
  "error-reversing",
  "failing-over",
  "failed-over",
  "error-failing-over",
  "failed-over-back",
  "error-failing-over-back",
  "error-failing-back",
]);
export type ProtectionGroupStatus = z.infer<typeof protectionGroupStatus>;

export const protectionGroup = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.nullish(z.string()),
  /** Open string: a status this version does not know must not make the group unreadable. */
  status: z.string(),
  progress: z.nullish(z.number()),
  source_availability_zone: z.string(),
  target_availability_zone: z.string(),
  ...nullishText("domain_id", "domain_name"),
  /** `source`: production AZ is source_availability_zone; `target`: it is target_availability_zone. */
  priority_station: z.enum(["source", "target"]),
  protected_instance_num: z.nullish(z.int()),
  replication_num: z.nullish(z.int()),
  disaster_recovery_drill_num: z.nullish(z.int()),
  ...nullishText("protected_status", "replication_status", "health_status"),
  source_vpc_id: z.string(),
  ...nullishText(
    "target_vpc_id",
    "test_vpc_id",
    "dr_type",
    "created_at",
    "updated_at",
    "protection_type",
    "replication_model",
    "server_type",
  ),
});
export type ProtectionGroup = z.infer<typeof protectionGroup>;

export const protectionGroupResponse = z.looseObject({ server_group: protectionGroup });
export const protectionGroupList = z.looseObject({
  server_groups: z.array(protectionGroup),
  count: z.nullish(z.int()),
});

/** The AZ that currently runs production for a group (reference facts §10.3). */
export function productionAvailabilityZone(
  group: Pick<ProtectionGroup, "priority_station" | "source_availability_zone" | "target_availability_zone">,
) {
  return group.priority_station === "target" ? group.target_availability_zone : group.source_availability_zone;
}

// ---------------------------------------------------------------------------------------------
// Protected instances
// ---------------------------------------------------------------------------------------------

export const protectedInstance = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.nullish(z.string()),
  server_group_id: z.string(),
  status: z.string(),
  progress: z.nullish(z.number()),
  /** Production ECS id. */
  source_server: z.string(),
  /** DR-site ECS id, created by SDRS. */
  target_server: z.nullish(z.string()),
  ...nullishText("created_at", "updated_at", "priority_station"),
  attachment: z.nullish(z.array(z.looseObject({ replication: z.string(), device: z.string() }))),
  tags: z.nullish(z.array(z.looseObject({ key: z.string(), value: z.string() }))),
  metadata: z.nullish(z.record(z.string(), z.string())),
});
export type ProtectedInstance = z.infer<typeof protectedInstance>;

export const protectedInstanceResponse = z.looseObject({ protected_instance: protectedInstance });
export const protectedInstanceList = z.looseObject({
  protected_instances: z.array(protectedInstance),
  count: z.nullish(z.int()),
});

/** `server_group_ids` / `protected_instance_ids` list filters take at most 30 ids (SDRS.0226). */
export const MAX_IDS_PER_LIST_FILTER = 30;

// ---------------------------------------------------------------------------------------------
// Active-active domains: GET /v1/{project_id}/active-domains
// ---------------------------------------------------------------------------------------------

export const activeDomain = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.nullish(z.string()),
  sold_out: z.nullish(z.boolean()),
  local_replication_cluster: z.looseObject({ availability_zone: z.string() }),
  remote_replication_cluster: z.looseObject({ availability_zone: z.string() }),
});
export type ActiveDomain = z.infer<typeof activeDomain>;
export const activeDomainList = z.looseObject({ domains: z.array(activeDomain) });

// ---------------------------------------------------------------------------------------------
// ECS: GET /v1/{project_id}/cloudservers/{id}, /cloudservers/detail, /cloudservers/{id}/tags
// ---------------------------------------------------------------------------------------------

export const serverStatus = z.string();

export const attachedVolume = z.looseObject({
  id: z.string(),
  /** "0" = system disk. */
  bootIndex: z.nullish(z.string()),
  ...nullishText("device", "delete_on_termination"),
});

export const ecsServer = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: serverStatus,
  locked: z.nullish(z.boolean()),
  ...nullishText("key_name", "enterprise_project_id"),
  tags: z.nullish(z.array(z.string())),
  flavor: z.looseObject({
    id: z.string(),
    ...nullishText("name", "vcpus", "ram", "disk"),
  }),
  metadata: z.looseObject(
    optionalText("vpc_id", "os_type", "EcmResStatus", "lockSource", "charging_mode", "image_name"),
  ),
  "OS-EXT-AZ:availability_zone": z.string(),
  "os-extended-volumes:volumes_attached": z._default(z.array(attachedVolume), []),
  "os:scheduler_hints": z.nullish(
    z.looseObject({
      group: z.nullish(z.array(z.string())),
      tenancy: z.nullish(z.array(z.string())),
      dedicated_host_id: z.nullish(z.array(z.string())),
    }),
  ),
  "OS-EXT-SRV-ATTR:root_device_name": z.nullish(z.string()),
  addresses: z.nullish(z.record(z.string(), z.array(z.looseObject({ addr: z.string() })))),
  sys_tags: z.nullish(z.array(z.looseObject({ key: z.string(), value: z.string() }))),
});
export type EcsServer = z.infer<typeof ecsServer>;

export const ecsServerResponse = z.looseObject({ server: ecsServer });
export const ecsServerList = z.looseObject({ servers: z.array(ecsServer), count: z.nullish(z.int()) });
/**
 * `server_id=…` answers an id that does not exist with an entry whose fields are null but `id` and
 * `fault` (ECS ListServersDetails); the client drops such an entry: the server is missing.
 */
export const ecsServerListById = z.looseObject({
  servers: z.array(z.union([ecsServer, z.looseObject({ id: z.string(), fault: z.looseObject({}) })])),
  count: z.nullish(z.int()),
});

export const ecsServerTags = z.looseObject({ tags: z.array(z.looseObject({ key: z.string(), value: z.string() })) });

/** Nova key pairs: GET /v2.1/{project_id}/os-keypairs */
export const keypair = z.looseObject({ name: z.string(), fingerprint: z.nullish(z.string()) });
export type Keypair = z.infer<typeof keypair>;
export const keypairList = z.looseObject({ keypairs: z.array(z.looseObject({ keypair })) });

// ---------------------------------------------------------------------------------------------
// EVS: GET /v2/{project_id}/cloudvolumes/detail?server_id=…
// ---------------------------------------------------------------------------------------------

export const volumeAttachment = z.looseObject({
  server_id: z.string(),
  ...nullishText("attachment_id", "attached_at", "device", "host_name", "id", "volume_id"),
});

export const evsVolume = z.looseObject({
  id: z.string(),
  name: z.nullish(z.string()),
  status: z.string(),
  size: z.nullish(z.number()),
  availability_zone: z.nullish(z.string()),
  /** The authoritative shared-disk flag. */
  multiattach: z.nullish(z.boolean()),
  /** Legacy, typed as a string or a boolean depending on the doc. */
  shareable: z.nullish(z.union([z.boolean(), z.string()])),
  ...nullishText("bootable", "volume_type", "service_type"),
  attachments: z._default(z.array(volumeAttachment), []),
  /** `__system__encrypted: "1"` marks an encrypted disk; `__system__frozen: "true"` a frozen one. */
  metadata: z.nullish(z.record(z.string(), z.string())),
});
export type EvsVolume = z.infer<typeof evsVolume>;
export const evsVolumeList = z.looseObject({
  volumes: z.array(evsVolume),
  count: z.nullish(z.int()),
  /** On a page that is not the last: `[{href, rel: "next"}]`, href resuming after its last volume. */
  volumes_links: z.nullish(z.array(z.looseObject({ href: z.string(), rel: z.string() }))),
});

export function isSharedVolume(volume: Pick<EvsVolume, "multiattach" | "shareable">): boolean {
  return volume.multiattach === true || volume.shareable === true || volume.shareable === "true";
}

// ---------------------------------------------------------------------------------------------
// Auto Scaling: which servers are AS members (AS membership is a warning for SDRS)
// ---------------------------------------------------------------------------------------------

export const scalingGroup = z.looseObject({ scaling_group_id: z.string(), scaling_group_name: z.nullish(z.string()) });
export type ScalingGroup = z.infer<typeof scalingGroup>;
export const scalingGroupList = z.looseObject({
  scaling_groups: z.array(scalingGroup),
  total_number: z.nullish(z.int()),
});

export const scalingGroupInstance = z.looseObject({ instance_id: z.string(), life_cycle_state: z.nullish(z.string()) });
export type ScalingGroupInstance = z.infer<typeof scalingGroupInstance>;
export const scalingGroupInstanceList = z.looseObject({
  scaling_group_instances: z.array(scalingGroupInstance),
  total_number: z.nullish(z.int()),
});

// ---------------------------------------------------------------------------------------------
// Error envelopes
// ---------------------------------------------------------------------------------------------

/** SDRS/ECS: {"error"|"badrequest"|"itemNotFound": {"code","message"}}. */
export const serviceErrorBody = z.looseObject({ code: z.string(), message: z.string() });
/** API gateway / IAM: {"error_code","error_msg","request_id"}. */
export const gatewayErrorBody = z.looseObject({
  error_code: z.string(),
  error_msg: z.string(),
  request_id: z.optional(z.string()),
});

// ---------------------------------------------------------------------------------------------
// Request issues → SDRS codes (what the real API answers for each broken rule)
// ---------------------------------------------------------------------------------------------

/**
 * The SDRS error code the API returns for a request that breaks a field rule. The simulator answers
 * with it; the client reports it alongside the field and rule when it refuses a request itself.
 */
export function sdrsCodeForIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  const field = path.at(-1);
  if (path[0] === "servers" || path[1] === "servers") {
    if (issue.code === "too_big" && field === "servers") return "SDRS.1362";
    if (issue.code === "custom" && issue.message.startsWith("duplicate server")) return "SDRS.1361";
    if (field === "server_id") return "SDRS.1360";
  }
  const tagsAt = path.lastIndexOf("tags");
  if (tagsAt >= 0) return tagCode(issue, path.slice(tagsAt + 1));
  if (field === "servers" && issue.code === "too_big") return "SDRS.1362";
  if (field === "name" || field === "name_prefix") return "SDRS.0202";
  if (field === "description") return "SDRS.0212";
  if (field === "primary_ip_address") return issue.code === "custom" ? "SDRS.1380" : "SDRS.0219";
  if (field === "tenancy") return "SDRS.0228";
  // "dedicated_host_id cannot be specified when tenancy is set to shared" (tenancy defaults to shared).
  if (field === "dedicated_host_id") return issue.code === "custom" ? "SDRS.1371" : "SDRS.0227";
  if (field === "cluster_id") return "SDRS.0218";
  if (field === "server_id") return "SDRS.0210";
  if (field === "server_group_id") return "SDRS.0207";
  if (field === "source_availability_zone" || field === "target_availability_zone") return "SDRS.0203";
  if (field === "source_vpc_id") return "SDRS.0204";
  if (field === "domain_id") return "SDRS.0205";
  return "SDRS.0201";
}

/** The tag rules of SDRS's error table (SDRS.2203–2209); `rest` is the path below `tags`. */
function tagCode(issue: z.core.$ZodIssue, rest: string[]): string {
  const [index, part] = rest;
  if (index === undefined) return issue.code === "too_big" ? "SDRS.2203" : "SDRS.0201";
  if (issue.code === "custom" && issue.message.startsWith("duplicate tag key")) return "SDRS.2209";
  if (part === "key")
    return issue.code === "too_small" || issue.message === "must not be blank" ? "SDRS.2205" : "SDRS.2204";
  if (part === "value") return issue.message === "must not be null" ? "SDRS.2208" : "SDRS.2207";
  return "SDRS.0201";
}

/** "servers.2.server_id: duplicate server …" — the field and the rule, for people. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)";
  return `${field}: ${issue.message}`;
}
