/**
 * Contract tests: the simulator's answers checked from outside, against Huawei's official SDKs.
 *
 * - ECS: the official Node SDK's EcsClient (@huaweicloud/huaweicloud-sdk-ecs), pointed at the
 *   simulator, signs and sends the requests and reads servers, tags and pages. Every field the SDK's
 *   model classes require (their constructor parameters, read from the installed classes) and every
 *   field of the official Go models (official-models.ts) is checked: present when required, of the
 *   model's type when present.
 * - EVS and SDRS: every answer the product uses is compared with the Go models' field lists.
 *
 * The test prints how many answers and field values it checked (the figures of the closing note).
 */
import { BasicCredentials } from "@huaweicloud/huaweicloud-sdk-core";
import {
  EcsClient,
  ListServersDetailsRequest,
  ServerAddress,
  ServerDetail,
  ServerExtendVolumeAttachment,
  ServerFlavor,
  ServerImage,
  ServerSecurityGroup,
  ServerTag,
  ShowServerRequest,
  ShowServerTagsRequest,
} from "@huaweicloud/huaweicloud-sdk-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../lib/clock.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import type { Simulator } from "../../lib/sim/server.ts";
import { ECS_MODELS, EVS_MODELS, type GoModel, SDRS_MODELS } from "./official-models.ts";
import {
  batchCreate,
  call,
  groupId,
  jobIdOf,
  path,
  sampleEstate,
  serverId,
  singleCreate,
  startTestSimulator,
} from "./sim-client.ts";

interface Tally {
  answers: number;
  values: number;
  issues: number;
}

const tally: Record<"ECS" | "EVS" | "SDRS", Tally> = {
  ECS: { answers: 0, values: 0, issues: 0 },
  EVS: { answers: 0, values: 0, issues: 0 },
  SDRS: { answers: 0, values: 0, issues: 0 },
};

interface CheckOptions {
  /**
   * SDRS answers `null` for a string it has no value for (e.g. `error_code` of a running job, as in
   * the API reference's examples); Go decodes a JSON null into the zero value, so it is no mismatch.
   * ECS and EVS answer every required field with a value.
   */
  nullForRequired: boolean;
  tally: Tally;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Issues of `value` against the type `type` of the model list (`[]` empty when it conforms). */
function checkType(
  models: Record<string, GoModel>,
  type: string,
  value: unknown,
  where: string,
  options: CheckOptions,
): string[] {
  options.tally.values += 1;
  if (type === "any") return [];
  if (type.endsWith("[]")) {
    if (!Array.isArray(value)) return [`${where}: ${describeValue(value)} where the model has ${type}`];
    return value.flatMap((item, index) => checkType(models, type.slice(0, -2), item, `${where}[${index}]`, options));
  }
  const mapOf = /^map<(.+)>$/.exec(type)?.[1];
  if (mapOf !== undefined) {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return [`${where}: ${describeValue(value)} where the model has ${type}`];
    return Object.entries(value).flatMap(([key, item]) => checkType(models, mapOf, item, `${where}.${key}`, options));
  }
  if (type === "string" || type === "boolean" || type === "number") {
    return typeof value === type
      ? []
      : [`${where}: ${describeValue(value)} ${JSON.stringify(value)} where the model has ${type}`];
  }
  if (type === "integer")
    return Number.isInteger(value)
      ? []
      : [`${where}: ${describeValue(value)} ${JSON.stringify(value)} where the model has integer`];
  const model = models[type];
  if (model === undefined) return [`${where}: model ${type} is not in the list`];
  return checkModel(models, type, value, where, options);
}

function checkModel(
  models: Record<string, GoModel>,
  name: string,
  value: unknown,
  where: string,
  options: CheckOptions,
): string[] {
  const model = models[name];
  if (model === undefined) return [`${where}: model ${name} is not in the list`];
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return [`${where}: ${describeValue(value)} where the model has ${name}`];
  const record = value as Record<string, unknown>;
  return Object.entries(model.fields).flatMap(([key, type]) => {
    const optional = key.endsWith("?");
    const field = optional ? key.slice(0, -1) : key;
    if (!(field in record) || record[field] === undefined)
      return optional ? [] : [`${where}.${field}: missing (required ${type}, ${model.source})`];
    if (record[field] === null)
      return optional || options.nullForRequired ? [] : [`${where}.${field}: null (required ${type}, ${model.source})`];
    return checkType(models, type, record[field], `${where}.${field}`, options);
  });
}

/** Checks one answer against a model and counts it. */
function conform(
  service: keyof typeof tally,
  models: Record<string, GoModel>,
  name: string,
  answer: unknown,
): string[] {
  tally[service].answers += 1;
  const issues = checkModel(models, name, answer, name, { nullForRequired: service === "SDRS", tally: tally[service] });
  tally[service].issues += issues.length;
  return issues;
}

/**
 * The fields an official Node SDK model class requires: the parameters its constructor assigns
 * (`this['OS-EXT-AZ:availability_zone'] = oSEXTAZAvailabilityZone`), read from the installed class.
 */
function requiredBySdk(model: { toString(): string }): string[] {
  const constructorBody = /constructor\([^)]*\)\s*\{([\s\S]*?)\n {4}\}/.exec(model.toString())?.[1] ?? "";
  return [...constructorBody.matchAll(/this\['([^']+)'\] = /g)].flatMap((match) =>
    match[1] === undefined ? [] : [match[1]],
  );
}

const SDK_MODELS = {
  ServerDetail,
  ServerFlavor,
  ServerAddress,
  ServerImage,
  ServerSecurityGroup,
  ServerExtendVolumeAttachment,
  ServerTag,
} as const;

/** Required-by-the-Node-SDK fields missing from an ECS server (nested models included). */
function missingSdkFields(server: Record<string, unknown>, where: string): string[] {
  const missing = (model: keyof typeof SDK_MODELS, value: unknown, at: string) =>
    requiredBySdk(SDK_MODELS[model]).flatMap((field) =>
      typeof value === "object" && value !== null && field in value
        ? []
        : [`${at}.${field}: missing (required by ${model} of the Node SDK)`],
    );
  const addresses = Object.entries((server.addresses ?? {}) as Record<string, unknown[]>).flatMap(([vpc, list]) =>
    list.flatMap((address, index) => missing("ServerAddress", address, `${where}.addresses.${vpc}[${index}]`)),
  );
  const volumes = ((server["os-extended-volumes:volumes_attached"] ?? []) as unknown[]).flatMap((volume, index) =>
    missing("ServerExtendVolumeAttachment", volume, `${where}.volumes_attached[${index}]`),
  );
  const groups = ((server.security_groups ?? []) as unknown[]).flatMap((group, index) =>
    missing("ServerSecurityGroup", group, `${where}.security_groups[${index}]`),
  );
  return [
    ...missing("ServerDetail", server, where),
    ...missing("ServerFlavor", server.flavor, `${where}.flavor`),
    ...missing("ServerImage", server.image, `${where}.image`),
    ...addresses,
    ...volumes,
    ...groups,
  ];
}

describe("contract: the simulator answers as the official SDK models declare", () => {
  let sim: Simulator;
  let clock: ManualClock;
  let ecs: EcsClient;
  beforeAll(async () => {
    ({ sim, clock } = await startTestSimulator());
    const credentials = new BasicCredentials()
      .withAk(SIMULATOR_DEFAULTS.accessKey)
      .withSk(SIMULATOR_DEFAULTS.secretKey)
      .withProjectId(SIMULATOR_DEFAULTS.projectId);
    ecs = EcsClient.newBuilder().withCredential(credentials).withEndpoint(sim.url).build();
  });
  afterAll(async () => {
    await sim.close();
    console.log(
      `contract figures: ${Object.entries(tally)
        .map(
          ([service, { answers, values, issues }]) =>
            `${service} ${answers} answers, ${values} field values, ${issues} issues`,
        )
        .join("; ")} (an issue is a missing required field or a type mismatch)`,
    );
  });

  it("the Node SDK's model classes require what the Go models require", () => {
    for (const [name, model] of Object.entries(SDK_MODELS)) {
      const goRequired = Object.keys(ECS_MODELS[name]?.fields ?? {}).filter((field) => !field.endsWith("?"));
      expect(requiredBySdk(model).length, name).toBeGreaterThan(0);
      expect(goRequired, name).toEqual(expect.arrayContaining(requiredBySdk(model)));
    }
  });

  it("EcsClient pages every server of the estate by marker; every server has every required field, typed", async () => {
    const seen: string[] = [];
    const issues: string[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 20; page++) {
      const request = new ListServersDetailsRequest().withLimit(7);
      if (marker !== undefined) request.withMarker(marker);
      const answer = await ecs.listServersDetails(request);
      const { httpStatusCode: _status, ...body } = answer as unknown as Record<string, unknown>;
      issues.push(...conform("ECS", ECS_MODELS, "ListServersDetailsResponse", body));
      const servers = (answer.servers ?? []) as unknown as Record<string, unknown>[];
      for (const [index, server] of servers.entries())
        issues.push(...missingSdkFields(server, `page ${page} servers[${index}]`));
      seen.push(...servers.map((server) => String(server.id)));
      if (servers.length < 7) break;
      marker = String(servers[servers.length - 1]?.id);
    }
    expect(issues).toEqual([]);
    expect(seen).toEqual(sampleEstate.servers.map((server) => server.id));
  });

  it("EcsClient reads one server, servers by server_id and by tags, and a server's tags", async () => {
    const issues: string[] = [];
    const web01 = serverId("web-01");
    const shown = (await ecs.showServer(new ShowServerRequest(web01))) as unknown as Record<string, unknown>;
    issues.push(...conform("ECS", ECS_MODELS, "ShowServerResponse", { server: shown.server }));
    issues.push(...missingSdkFields(shown.server as Record<string, unknown>, "server"));
    const byId = await ecs.listServersDetails(
      new ListServersDetailsRequest().withServerId(`${web01},${serverId("db-01")}`),
    );
    expect((byId.servers ?? []).map((server) => server.id)).toEqual([web01, serverId("db-01")]);
    issues.push(
      ...conform("ECS", ECS_MODELS, "ListServersDetailsResponse", { count: byId.count, servers: byId.servers }),
    );
    const tagged = await ecs.listServersDetails(
      new ListServersDetailsRequest().withTags("sdrs_protect=web").withLimit(1000),
    );
    expect((tagged.servers ?? []).length).toBeGreaterThan(0);
    issues.push(
      ...conform("ECS", ECS_MODELS, "ListServersDetailsResponse", { count: tagged.count, servers: tagged.servers }),
    );
    const tags = await ecs.showServerTags(new ShowServerTagsRequest(web01));
    issues.push(...conform("ECS", ECS_MODELS, "ShowServerTagsResponse", { tags: tags.tags }));
    for (const [index, tag] of (tags.tags ?? []).entries()) {
      issues.push(
        ...requiredBySdk(ServerTag).flatMap((field) => (field in tag ? [] : [`tags[${index}].${field}: missing`])),
      );
    }
    expect(tags.tags).toContainEqual({ key: "sdrs_protect", value: "web" });
    expect(issues).toEqual([]);
  });

  it("EVS: every volume page (full, partial with volumes_links, by server) matches ListVolumesResponse", async () => {
    const issues: string[] = [];
    for (const query of [
      "",
      "?limit=10",
      `?limit=10&marker=${sampleEstate.volumes[9]?.id}`,
      `?server_id=${serverId("file-a-1")}`,
      "?multiattach=true",
    ]) {
      const answer = await call(sim, "GET", `${path.volumes}${query}`);
      expect(answer.status).toBe(200);
      issues.push(...conform("EVS", EVS_MODELS, "ListVolumesResponse", answer.json));
    }
    expect(issues).toEqual([]);
  });

  it("SDRS: groups, protected instances, jobs (running and finished), domains and create answers match the Go models", async () => {
    const issues: string[] = [];
    const reads: [string, string][] = [
      [path.protectionGroups, "ListProtectionGroupsResponse"],
      [path.protectionGroup(groupId("pg-db")), "ShowProtectionGroupResponse"],
      [path.protectedInstances, "ListProtectedInstancesResponse"],
      [path.activeDomains, "ListActiveActiveDomainsResponse"],
    ];
    for (const [url, model] of reads) {
      const answer = await call(sim, "GET", url);
      expect(answer.status, url).toBe(200);
      issues.push(...conform("SDRS", SDRS_MODELS, model, answer.json));
    }
    const created = await call(sim, "POST", path.protectedInstances, {
      body: singleCreate(serverId("web-02"), groupId("pg-web")),
    });
    issues.push(...conform("SDRS", SDRS_MODELS, "CreateProtectedInstanceResponse", created.json));
    const jobId = jobIdOf(created);
    const running = await call(sim, "GET", path.job(jobId));
    expect(running.json).toMatchObject({ status: expect.stringMatching(/^(INIT|RUNNING)$/) });
    issues.push(...conform("SDRS", SDRS_MODELS, "ShowJobStatusResponse", running.json));
    clock.advance(10 * 60_000);
    const finished = await call(sim, "GET", path.job(jobId));
    expect(finished.json).toMatchObject({ status: "SUCCESS" });
    issues.push(...conform("SDRS", SDRS_MODELS, "ShowJobStatusResponse", finished.json));
    const batch = await call(sim, "POST", path.batch, {
      body: batchCreate([serverId("web-03"), serverId("web-04")], groupId("pg-web")),
    });
    const batchJob = await call(sim, "GET", path.job(jobIdOf(batch)));
    issues.push(...conform("SDRS", SDRS_MODELS, "ShowJobStatusResponse", batchJob.json));
    const instances = (await call(sim, "GET", path.protectedInstances)).json as {
      protected_instances: { id: string }[];
    };
    for (const instance of instances.protected_instances.slice(0, 5)) {
      const shown = await call(sim, "GET", path.protectedInstance(instance.id));
      issues.push(...conform("SDRS", SDRS_MODELS, "ShowProtectedInstanceResponse", shown.json));
    }
    expect(issues).toEqual([]);
  });
});
