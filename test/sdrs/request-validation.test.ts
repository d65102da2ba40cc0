import { describe, expect, it } from "vitest";
import { CloudClient } from "../../lib/sdrs/client.ts";
import { RequestValidationError } from "../../lib/sdrs/errors.ts";
import {
  type BatchCreateBody,
  batchCreateRequest,
  type CreateProtectedInstanceBody,
  createProtectedInstanceRequest,
  createProtectionGroupRequest,
  jobAccepted,
} from "../../lib/sdrs/schemas.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import {
  SEED_BATCH_CREATE,
  SEED_CREATE_PROTECTION_GROUP,
  SEED_JOB_ACCEPTED,
  SEED_SINGLE_CREATE,
  SEED_SINGLE_CREATE_WITH_TAGS,
} from "./fixtures/seed-examples.ts";

/** Drops the trailing commas the two seed examples have before a closing brace or bracket. */
function withoutTrailingCommas(text: string): string {
  return text.replace(/,(\s*[}\]])/g, "$1");
}

describe("the seed example requests", () => {
  it("the single and batch create examples are not valid JSON as published (trailing comma)", () => {
    expect(() => JSON.parse(SEED_SINGLE_CREATE)).toThrow(SyntaxError);
    expect(() => JSON.parse(SEED_BATCH_CREATE)).toThrow(SyntaxError);
  });

  it("accepts the single create example once its trailing comma is removed", () => {
    const parsed = createProtectedInstanceRequest.safeParse(JSON.parse(withoutTrailingCommas(SEED_SINGLE_CREATE)));
    expect(parsed.error).toBeUndefined();
    expect(parsed.data?.protected_instance).toMatchObject({ tenancy: "dedicated", primary_ip_address: "192.168.0.5" });
  });

  it("accepts the batch create example once its trailing comma is removed", () => {
    const parsed = batchCreateRequest().safeParse(JSON.parse(withoutTrailingCommas(SEED_BATCH_CREATE)));
    expect(parsed.error).toBeUndefined();
    expect(parsed.data?.protected_instances.servers).toHaveLength(2);
  });

  it("accepts the single create example with tags", () => {
    const parsed = createProtectedInstanceRequest.safeParse(JSON.parse(SEED_SINGLE_CREATE_WITH_TAGS));
    expect(parsed.error).toBeUndefined();
    expect(parsed.data?.protected_instance.tags).toEqual([
      { key: "key1", value: "value1" },
      { key: "key", value: "value3" },
    ]);
  });

  it("accepts the create protection group example", () => {
    const parsed = createProtectionGroupRequest.safeParse(JSON.parse(SEED_CREATE_PROTECTION_GROUP));
    expect(parsed.error).toBeUndefined();
    expect(parsed.data?.server_group.server_type).toBe("ECS");
  });

  it("reads the job id of the create answer example", () => {
    expect(jobAccepted.parse(JSON.parse(SEED_JOB_ACCEPTED)).job_id).toBe("0000000062db92d70162db9d200f00bb");
  });
});

// Nothing listens on port 9 (discard): a request that got sent would fail with NETWORK_ERROR, not a validation error.
const client = () => new CloudClient(simulatorCloudConfig("http://127.0.0.1:9"));

const single: CreateProtectedInstanceBody = {
  server_group_id: "523ab8ad-3759-4933-9436-4cf4ebb20867",
  server_id: "403b603d-1d91-42cc-a357-81f3c2daf43f",
  name: "web-01",
};
const batch: BatchCreateBody = {
  name_prefix: "web",
  server_group_id: "523ab8ad-3759-4933-9436-4cf4ebb20867",
  servers: [{ server_id: "s-1" }, { server_id: "s-2" }],
};
const tags = (count: number) => Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: "v" }));
/** Test inputs that break a type on purpose (tenancy "public") go through here, as callers with JSON would. */
const untyped = <T>(value: unknown): T => value as T;

interface RuleCase {
  rule: string;
  call: (client: CloudClient) => Promise<unknown>;
  code: string;
  field: string;
  text: string;
}

const cases: RuleCase[] = [
  {
    rule: "a name longer than 64 bytes",
    call: (c) => c.createProtectedInstance({ ...single, name: "n".repeat(65) }),
    code: "SDRS.0202",
    field: "protected_instance.name",
    text: "must be at most 64 bytes",
  },
  {
    rule: "a name with characters other than letters, digits, . _ -",
    call: (c) => c.createProtectedInstance({ ...single, name: "web server!" }),
    code: "SDRS.0202",
    field: "protected_instance.name",
    text: "may contain only letters, digits",
  },
  {
    rule: "a 60-character name_prefix",
    call: (c) => c.batchCreateProtectedInstances({ ...batch, name_prefix: "p".repeat(60) }),
    code: "SDRS.0202",
    field: "protected_instances.name_prefix",
    text: "must be 1 to 59 characters",
  },
  {
    rule: "a description containing <",
    call: (c) => c.createProtectedInstance({ ...single, description: "a <b> tag" }),
    code: "SDRS.0212",
    field: "protected_instance.description",
    text: "must not contain < or >",
  },
  {
    rule: "11 tags",
    call: (c) => c.createProtectedInstance({ ...single, tags: tags(11) }),
    code: "SDRS.2203",
    field: "protected_instance.tags",
    text: "at most 10 tags are allowed",
  },
  {
    rule: "a duplicate tag key",
    call: (c) =>
      c.createProtectedInstance({
        ...single,
        tags: [
          { key: "env", value: "a" },
          { key: "env", value: "b" },
        ],
      }),
    code: "SDRS.2209",
    field: "protected_instance.tags.1.key",
    text: 'duplicate tag key "env"',
  },
  {
    rule: "a 37-character tag key",
    call: (c) => c.batchCreateProtectedInstances({ ...batch, tags: [{ key: "k".repeat(37), value: "v" }] }),
    code: "SDRS.2204",
    field: "protected_instances.tags.0.key",
    text: "must be at most 36 characters",
  },
  {
    rule: "a forbidden character in a tag value",
    call: (c) => c.createProtectedInstance({ ...single, tags: [{ key: "owner", value: "a=b" }] }),
    code: "SDRS.2207",
    field: "protected_instance.tags.0.value",
    text: "must not contain control characters",
  },
  {
    rule: 'tenancy "public"',
    call: (c) => c.createProtectedInstance(untyped({ ...single, tenancy: "public" })),
    code: "SDRS.0228",
    field: "protected_instance.tenancy",
    text: "must be shared or dedicated",
  },
  {
    rule: "dedicated_host_id without tenancy dedicated",
    call: (c) => c.createProtectedInstance({ ...single, tenancy: "shared", dedicated_host_id: "deh-1" }),
    code: "SDRS.1371",
    field: "protected_instance.dedicated_host_id",
    text: "is allowed only when tenancy is dedicated",
  },
  {
    rule: "primary_ip_address without primary_subnet_id",
    call: (c) => c.createProtectedInstance({ ...single, primary_ip_address: "192.168.0.5" }),
    code: "SDRS.1380",
    field: "protected_instance.primary_ip_address",
    text: "is allowed only together with primary_subnet_id",
  },
  {
    rule: "6 servers in one batch (limit 5)",
    call: (c) =>
      c.batchCreateProtectedInstances({
        ...batch,
        servers: Array.from({ length: 6 }, (_, index) => ({ server_id: `s-${index}` })),
      }),
    code: "SDRS.1362",
    field: "protected_instances.servers",
    text: "must list at most 5 servers",
  },
  {
    rule: "the same server twice in one batch",
    call: (c) => c.batchCreateProtectedInstances({ ...batch, servers: [{ server_id: "s-1" }, { server_id: "s-1" }] }),
    code: "SDRS.1361",
    field: "protected_instances.servers.1.server_id",
    text: "duplicate server s-1",
  },
];

describe("requests refused before sending", () => {
  it.each(cases)("refuses $rule with $code, naming $field", async ({ call, code, field, text }) => {
    const cloud = client();
    const error = await call(cloud).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(RequestValidationError);
    if (!(error instanceof RequestValidationError)) return;
    expect(error.code).toBe(code);
    expect(error.issues[0]).toMatchObject({ field, code });
    expect(error.issues[0]?.rule).toContain(text);
    expect(error.message).toContain(`${field}: ${text}`);
    expect(cloud.counts()).toEqual({});
  });

  it("names every broken rule of a request, not only the first", async () => {
    const error = await client()
      .createProtectedInstance({ ...single, name: "bad name!", description: "<x>" })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RequestValidationError);
    if (!(error instanceof RequestValidationError)) return;
    expect(error.issues.map((issue) => issue.field)).toEqual([
      "protected_instance.name",
      "protected_instance.description",
    ]);
  });

  it("validates batches against the configured limit", async () => {
    const config = { ...simulatorCloudConfig("http://127.0.0.1:9"), batchLimit: 2 };
    const error = await new CloudClient(config)
      .batchCreateProtectedInstances({
        ...batch,
        servers: [{ server_id: "a" }, { server_id: "b" }, { server_id: "c" }],
      })
      .catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: "SDRS.1362", message: expect.stringContaining("must list at most 2 servers") });
  });

  it("refuses a protected-instance listing filtered by more than one kind of id", async () => {
    const cloud = client();
    const error = await cloud
      .listProtectedInstances({ serverGroupId: "g-1", protectedInstanceIds: ["pi-1"] })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(RequestValidationError);
    expect(error).toMatchObject({
      code: "SDRS.0201",
      message: expect.stringContaining("serverGroupId, protectedInstanceIds"),
    });
    expect(cloud.counts()).toEqual({});
  });
});
