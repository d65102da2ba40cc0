import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { CloudConfigError, loadCloudConfig } from "../../lib/sdrs/config.ts";
import { Secret } from "../../lib/secret.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";

const SK = "sk-very-secret-value-1234";
const PASSWORD = "p4ssw0rd-very-secret";

const aksk = {
  HUAWEICLOUD_SDK_AK: "AKEXAMPLE",
  HUAWEICLOUD_SDK_SK: SK,
  HUAWEICLOUD_SDK_PROJECT_ID: "0123456789abcdef0123456789abcdef",
  HUAWEICLOUD_REGION: "eu-de",
};

function configError(env: Record<string, string | undefined>): CloudConfigError {
  try {
    loadCloudConfig(env);
  } catch (error) {
    if (error instanceof CloudConfigError) return error;
    throw error;
  }
  throw new Error("expected a CloudConfigError");
}

describe("loadCloudConfig", () => {
  it("derives every endpoint from HUAWEICLOUD_REGION on Huawei Cloud by default", () => {
    const config = loadCloudConfig(aksk);
    expect(config.endpoints).toEqual({
      sdrs: "https://sdrs.eu-de.myhuaweicloud.com",
      ecs: "https://ecs.eu-de.myhuaweicloud.com",
      evs: "https://evs.eu-de.myhuaweicloud.com",
      as: "https://as.eu-de.myhuaweicloud.com",
      iam: "https://iam.eu-de.myhuaweicloud.com",
    });
    expect(config.auth).toMatchObject({ kind: "aksk", accessKey: "AKEXAMPLE" });
    expect(config.auth.kind === "aksk" && config.auth.secretKey.reveal()).toBe(SK);
    expect(config.batchLimit).toBe(5);
    expect(config.retry).toEqual({ maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20_000, maxTotalDelayMs: 60_000 });
    expect(config.timeoutMs).toBe(30_000);
  });

  it("derives Open Telekom Cloud endpoints with HUAWEICLOUD_CLOUD=otc.t-systems.com", () => {
    const config = loadCloudConfig({ ...aksk, HUAWEICLOUD_CLOUD: "otc.t-systems.com" });
    expect(config.endpoints.sdrs).toBe("https://sdrs.eu-de.otc.t-systems.com");
  });

  it("lets an explicit endpoint win over the derived one", () => {
    const config = loadCloudConfig({ ...aksk, SDRS_ENDPOINT: "https://sdrs.example.test" });
    expect(config.endpoints.sdrs).toBe("https://sdrs.example.test");
    expect(config.endpoints.ecs).toBe("https://ecs.eu-de.myhuaweicloud.com");
  });

  it("works with explicit endpoints and no region, leaving AS and IAM unset", () => {
    const { HUAWEICLOUD_REGION: _, ...withoutRegion } = aksk;
    const config = loadCloudConfig({
      ...withoutRegion,
      SDRS_ENDPOINT: "http://127.0.0.1:8080",
      ECS_ENDPOINT: "http://127.0.0.1:8080",
      EVS_ENDPOINT: "http://127.0.0.1:8080",
    });
    expect(config.endpoints).toEqual({
      sdrs: "http://127.0.0.1:8080",
      ecs: "http://127.0.0.1:8080",
      evs: "http://127.0.0.1:8080",
    });
  });

  it("reads temporary credentials' security token", () => {
    const config = loadCloudConfig({ ...aksk, HUAWEICLOUD_SDK_SECURITY_TOKEN: "sts-token" });
    expect(config.auth.kind === "aksk" && config.auth.securityToken?.reveal()).toBe("sts-token");
  });

  it("reads the batch limit and the retry knobs", () => {
    const config = loadCloudConfig({
      ...aksk,
      SDRS_BATCH_LIMIT: "10",
      SDRS_RETRY_MAX_ATTEMPTS: "6",
      SDRS_RETRY_BASE_DELAY_MS: "100",
      SDRS_RETRY_MAX_DELAY_MS: "5000",
      SDRS_RETRY_BUDGET_MS: "30000",
      SDRS_REQUEST_TIMEOUT_MS: "15000",
    });
    expect(config.batchLimit).toBe(10);
    expect(config.retry).toEqual({ maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5000, maxTotalDelayMs: 30_000 });
    expect(config.timeoutMs).toBe(15_000);
  });

  it("treats empty variables as unset", () => {
    expect(loadCloudConfig({ ...aksk, SDRS_BATCH_LIMIT: "", SDRS_ENDPOINT: " " }).batchLimit).toBe(5);
  });

  it("reads IAM token auth", () => {
    const config = loadCloudConfig({
      HUAWEICLOUD_AUTH: "token",
      HUAWEICLOUD_USERNAME: "ops",
      HUAWEICLOUD_PASSWORD: PASSWORD,
      HUAWEICLOUD_DOMAIN_NAME: "acme",
      HUAWEICLOUD_SDK_PROJECT_ID: "p",
      HUAWEICLOUD_REGION: "eu-de",
    });
    expect(config.auth).toMatchObject({ kind: "token", userName: "ops", domainName: "acme" });
  });

  it("names a missing project id with what it is for", () => {
    const { HUAWEICLOUD_SDK_PROJECT_ID: _, ...env } = aksk;
    const error = configError(env);
    expect(error.code).toBe("INVALID_CLOUD_CONFIG");
    expect(error.message).toBe("HUAWEICLOUD_SDK_PROJECT_ID: required (the project id to call SDRS in)");
  });

  it("names every missing AK/SK variable and endpoint at once", () => {
    const error = configError({ HUAWEICLOUD_SDK_PROJECT_ID: "p" });
    expect(error.issues.map((issue) => issue.variable)).toEqual([
      "HUAWEICLOUD_SDK_AK",
      "HUAWEICLOUD_SDK_SK",
      "SDRS_ENDPOINT",
      "ECS_ENDPOINT",
      "EVS_ENDPOINT",
    ]);
    expect(error.message).toContain("SDRS_ENDPOINT: required unless HUAWEICLOUD_REGION is set (the SDRS endpoint URL)");
  });

  it("names the token variables missing when HUAWEICLOUD_AUTH=token", () => {
    const error = configError({
      HUAWEICLOUD_AUTH: "token",
      HUAWEICLOUD_SDK_PROJECT_ID: "p",
      HUAWEICLOUD_REGION: "eu-de",
    });
    expect(error.issues.map((issue) => issue.variable)).toEqual([
      "HUAWEICLOUD_USERNAME",
      "HUAWEICLOUD_PASSWORD",
      "HUAWEICLOUD_DOMAIN_NAME",
    ]);
    expect(error.message).toContain("HUAWEICLOUD_PASSWORD: required when HUAWEICLOUD_AUTH=token");
  });

  it("requires IAM_ENDPOINT for token auth without a region", () => {
    const error = configError({
      HUAWEICLOUD_AUTH: "token",
      HUAWEICLOUD_USERNAME: "ops",
      HUAWEICLOUD_PASSWORD: PASSWORD,
      HUAWEICLOUD_DOMAIN_NAME: "acme",
      HUAWEICLOUD_SDK_PROJECT_ID: "p",
      SDRS_ENDPOINT: "http://127.0.0.1:1",
      ECS_ENDPOINT: "http://127.0.0.1:1",
      EVS_ENDPOINT: "http://127.0.0.1:1",
    });
    expect(error.issues).toEqual([
      { variable: "IAM_ENDPOINT", rule: expect.stringContaining("required when HUAWEICLOUD_AUTH=token") },
    ]);
  });

  it.each([
    ["SDRS_BATCH_LIMIT", "five", 'SDRS_BATCH_LIMIT: must be a whole number from 1 to 1000 (got "five")'],
    ["SDRS_BATCH_LIMIT", "0", 'SDRS_BATCH_LIMIT: must be a whole number from 1 to 1000 (got "0")'],
    ["SDRS_RETRY_MAX_ATTEMPTS", "2.5", 'SDRS_RETRY_MAX_ATTEMPTS: must be a whole number from 1 to 20 (got "2.5")'],
    ["HUAWEICLOUD_CLOUD", "aws.amazon.com", "HUAWEICLOUD_CLOUD: must be one of myhuaweicloud.com, otc.t-systems.com"],
    ["HUAWEICLOUD_AUTH", "oauth", "HUAWEICLOUD_AUTH: must be aksk or token"],
    ["HUAWEICLOUD_REGION", "EU DE", "HUAWEICLOUD_REGION: must be a region id such as eu-de or ap-southeast-1"],
    ["SDRS_ENDPOINT", "ftp://sdrs.example.test", "SDRS_ENDPOINT: must be an http(s) URL"],
  ])("rejects %s=%j naming the variable and the rule", (variable, value, message) => {
    expect(configError({ ...aksk, [variable]: value }).message).toBe(message);
  });

  it("never puts a secret's value in an error or in the printed configuration", () => {
    const error = configError({ ...aksk, HUAWEICLOUD_SDK_PROJECT_ID: undefined, HUAWEICLOUD_PASSWORD: PASSWORD });
    expect(error.message).not.toContain(SK);
    const config = loadCloudConfig(aksk);
    expect(JSON.stringify(config)).not.toContain(SK);
    expect(inspect(config, { depth: 10 })).not.toContain(SK);
    expect(`${new Secret(SK)}`).toBe("[redacted]");
  });
});

describe("simulatorCloudConfig", () => {
  it("uses the simulator's default credentials with every endpoint at its URL", () => {
    const config = simulatorCloudConfig("http://127.0.0.1:4567/");
    expect(config.projectId).toBe(SIMULATOR_DEFAULTS.projectId);
    expect(config.auth).toMatchObject({ kind: "aksk", accessKey: SIMULATOR_DEFAULTS.accessKey });
    expect(config.auth.kind === "aksk" && config.auth.secretKey.reveal()).toBe(SIMULATOR_DEFAULTS.secretKey);
    expect(Object.values(config.endpoints)).toEqual(Array(5).fill("http://127.0.0.1:4567"));
  });

  it("offers the simulator's IAM user for token auth", () => {
    expect(simulatorCloudConfig("http://127.0.0.1:4567", "token").auth).toMatchObject({
      kind: "token",
      userName: SIMULATOR_DEFAULTS.userName,
      domainName: SIMULATOR_DEFAULTS.domainName,
    });
  });
});
