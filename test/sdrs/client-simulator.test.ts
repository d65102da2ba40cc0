/**
 * The client against the real SDRS simulator on 127.0.0.1 (port 0): signing, tokens, paging, retries
 * and ambiguous creates as the cloud would exercise them. The simulator's job clock and gateway clock
 * are ManualClocks; the client signs with the gateway clock, as it would sign with real time.
 */
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { CloudClient, type CloudClientOptions, type RequestLogEntry } from "../../lib/sdrs/client.ts";
import type { CloudConfig } from "../../lib/sdrs/config.ts";
import { AmbiguousCreateError, CloudApiError } from "../../lib/sdrs/errors.ts";
import { Secret } from "../../lib/secret.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { type EstateInput, parseEstate } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";

const serverIds = ["s-1", "s-2", "s-3", "s-4", "s-5", "s-6", "s-7"];

/** Every other server is tagged for protection group g-1. */
function serverTags(index: number): Record<string, string> {
  return index % 2 === 0 ? { sdrs_protect: "g-1" } : { team: "web" };
}

const estate: EstateInput = {
  region: "eu-de",
  servers: serverIds.map((id, index) => ({
    id,
    name: `web-0${index + 1}`,
    az: "eu-de-01",
    vpcId: "vpc-1",
    flavor: "s6.large.2",
    tags: serverTags(index),
    volumes: [{ id: `vol-${id}`, bootIndex: 0 }],
  })),
  volumes: serverIds.map((id) => ({ id: `vol-${id}` })),
  keyPairs: [{ name: "kp-1" }],
  scalingGroups: [{ id: "as-1", name: "web-asg", serverIds: ["s-6", "s-7"] }],
  activeDomains: [{ id: "d-1", name: "domain-1", localAz: "eu-de-01", remoteAz: "eu-de-02" }],
  protectionGroups: [
    { id: "g-1", name: "web", sourceAz: "eu-de-01", targetAz: "eu-de-02", vpcId: "vpc-1", domainId: "d-1" },
    { id: "g-2", name: "db", sourceAz: "eu-de-01", targetAz: "eu-de-02", vpcId: "vpc-1", domainId: "d-1" },
    { id: "g-3", name: "batch", sourceAz: "eu-de-01", targetAz: "eu-de-02", vpcId: "vpc-1", domainId: "d-1" },
  ],
  protectedInstances: [
    { id: "pi-5", name: "web-05", groupId: "g-1", sourceServerId: "s-5" },
    { id: "pi-6", name: "web-06", groupId: "g-1", sourceServerId: "s-6" },
    { id: "pi-7", name: "web-07", groupId: "g-2", sourceServerId: "s-7" },
  ],
};

const MINUTE = 60_000;

/** The fields the client's ECS schema requires of a server. */
const minimalServer = {
  name: "web",
  status: "ACTIVE",
  flavor: { id: "s6.large.2" },
  metadata: {},
  "OS-EXT-AZ:availability_zone": "eu-de-01",
};

interface Setup {
  simulator: Simulator;
  client: CloudClient;
  jobClock: ManualClock;
  gatewayClock: ManualClock;
  waits: number[];
  log: RequestLogEntry[];
  /** Path and query of every request the simulator served. */
  requests: string[];
}

let running: Simulator[] = [];

afterEach(async () => {
  await Promise.all(running.map((simulator) => simulator.close()));
  running = [];
});

async function setup(
  options: { auth?: "aksk" | "token"; config?: (config: CloudConfig) => CloudConfig; client?: CloudClientOptions } = {},
): Promise<Setup> {
  const jobClock = new ManualClock();
  const gatewayClock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
  const requests: string[] = [];
  const simulator = await startSimulator({
    logger: (line) => {
      const served = /^GET (\S+) →/.exec(line)?.[1];
      if (served !== undefined) requests.push(served);
    },
    estate: parseEstate(estate),
    clock: jobClock,
    gatewayClock,
    jobDurations: {
      createProtectedInstance: { minMs: MINUTE, maxMs: MINUTE },
      batchCreateProtectedInstances: { minMs: 2 * MINUTE, maxMs: 2 * MINUTE },
      createProtectionGroup: { minMs: MINUTE, maxMs: MINUTE },
      enableProtection: { minMs: MINUTE, maxMs: MINUTE },
    },
  });
  running.push(simulator);
  const waits: number[] = [];
  const log: RequestLogEntry[] = [];
  const base = simulatorCloudConfig(simulator.url, options.auth ?? "aksk");
  const client = new CloudClient(options.config ? options.config(base) : base, {
    clock: gatewayClock,
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 8, maxTotalDelayMs: 60_000 },
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    logger: (entry) => log.push(entry),
    ...options.client,
  });
  return { simulator, client, jobClock, gatewayClock, waits, log, requests };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
}

/** A port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("authentication", () => {
  it("a request signed with the configured AK/SK succeeds", async () => {
    const { client, simulator } = await setup();
    const group = await client.getProtectionGroup("g-1");
    expect(group).toMatchObject({ id: "g-1", name: "web", source_vpc_id: "vpc-1", priority_station: "source" });
    expect(simulator.counts()).toEqual({ showProtectionGroup: 1 });
    expect(client.counts()).toEqual({ showProtectionGroup: 1 });
  });

  it("signs the exact body bytes of a create", async () => {
    const { client } = await setup();
    const { jobId } = await client.createProtectedInstance({
      server_group_id: "g-1",
      server_id: "s-1",
      name: "web-01",
      description: "ünïcode ✓",
    });
    expect(jobId).toMatch(/\S/);
  });

  it("the same request with a wrong SK gets CloudApiError 401 APIGW.0301, not retried, SK not in the message", async () => {
    const wrongSk = "definitely-the-wrong-secret-key";
    const { client, simulator } = await setup({
      config: (config) => ({
        ...config,
        auth: { kind: "aksk", accessKey: SIMULATOR_DEFAULTS.accessKey, secretKey: new Secret(wrongSk) },
      }),
    });
    const error = await failure(client.getProtectionGroup("g-1"));
    expect(error).toBeInstanceOf(CloudApiError);
    expect(error).toMatchObject({
      status: 401,
      code: "APIGW.0301",
      retryable: false,
      operation: "showProtectionGroup",
    });
    expect(error instanceof CloudApiError && error.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(String(error)).not.toContain(wrongSk);
    expect(simulator.counts()).toEqual({ showProtectionGroup: 1 });
  });

  it("token auth fetches one IAM token and reuses it for every call", async () => {
    const { client, simulator } = await setup({ auth: "token" });
    await Promise.all([client.getProtectionGroup("g-1"), client.listActiveDomains(), client.getServer("s-1")]);
    await client.getJob(
      (await client.createProtectedInstance({ server_group_id: "g-1", server_id: "s-2", name: "web-02" })).jobId,
    );
    expect(simulator.counts()).toMatchObject({
      createToken: 1,
      showProtectionGroup: 1,
      createProtectedInstance: 1,
      showJob: 1,
    });
    expect(client.counts().createToken).toBe(1);
  });

  it("token auth refreshes the token 5 minutes before it expires", async () => {
    const { client, simulator, gatewayClock } = await setup({ auth: "token" });
    await client.listActiveDomains();
    gatewayClock.advance(24 * 60 * MINUTE - 5 * MINUTE - 1);
    await client.listActiveDomains();
    expect(simulator.counts().createToken).toBe(1);
    gatewayClock.advance(1);
    await client.listActiveDomains();
    expect(simulator.counts().createToken).toBe(2);
  });

  it("token auth fetches a new token once on 401 APIGW.0307 (token expired on the gateway's clock)", async () => {
    // The client keeps its own clock, so it still believes the token fresh when the gateway says it expired.
    const clientClock = new ManualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const { client, simulator, gatewayClock } = await setup({ auth: "token", client: { clock: clientClock } });
    await client.listActiveDomains();
    gatewayClock.advance(25 * 60 * MINUTE);
    const domains = await client.listActiveDomains();
    expect(domains.map((domain) => domain.id)).toEqual(["d-1"]);
    expect(simulator.counts()).toEqual({ createToken: 2, listActiveDomains: 3 });
  });

  it("a wrong IAM password surfaces as the IAM error, without the password", async () => {
    const { client } = await setup({
      auth: "token",
      config: (config) => ({
        ...config,
        auth: {
          kind: "token",
          userName: SIMULATOR_DEFAULTS.userName,
          password: new Secret("not-the-password"),
          domainName: SIMULATOR_DEFAULTS.domainName,
        },
      }),
    });
    const error = await failure(client.listActiveDomains());
    expect(error).toMatchObject({ status: 401, code: "IAM.0004", operation: "createToken", retryable: false });
    expect(String(error)).not.toContain("not-the-password");
  });
});

describe("reads", () => {
  it("reads every page of servers (ECS by marker) and of protected instances (SDRS by offset)", async () => {
    const { client, simulator, requests } = await setup({ client: { pageSize: 2 } });
    const servers = await client.listServers();
    expect(servers.map((server) => server.id)).toEqual(serverIds);
    expect(
      requests
        .filter((request) => request.includes("/cloudservers/detail"))
        .map((request) => new URL(request, "http://sim").search),
    ).toEqual(["?limit=2", "?limit=2&marker=s-2", "?limit=2&marker=s-4", "?limit=2&marker=s-6"]);
    const instances = await client.listProtectedInstances();
    expect(instances.map((instance) => instance.id).sort()).toEqual(["pi-5", "pi-6", "pi-7"]);
    const groups = await client.listProtectionGroups();
    expect(groups.map((group) => group.id).sort()).toEqual(["g-1", "g-2", "g-3"]);
    // 7 servers by 2: 2+2+2+1; 3 instances: 2+1; 3 groups: 2+1.
    expect(simulator.counts()).toEqual({ listServersDetails: 4, listProtectedInstances: 2, listProtectionGroups: 2 });
  });

  it("stops after a full last page with one empty page", async () => {
    const { client, simulator } = await setup({ client: { pageSize: 3 } });
    expect(await client.listProtectionGroups()).toHaveLength(3);
    expect(simulator.counts()).toEqual({ listProtectionGroups: 2 });
  });

  it("reads every page of volumes by marker, stopping at the page without a volumes_links next link", async () => {
    const { client, simulator, requests } = await setup({ client: { pageSize: 3 } });
    expect((await client.listVolumes()).map((volume) => volume.id)).toEqual(serverIds.map((id) => `vol-${id}`));
    expect(
      requests
        .filter((request) => request.includes("/cloudvolumes/detail"))
        .map((request) => new URL(request, "http://sim").search),
    ).toEqual(["?limit=3", "?limit=3&marker=vol-s-3", "?limit=3&marker=vol-s-6"]);
    expect(simulator.counts()).toEqual({ listVolumes: 3 });
  });

  it("a full last page of volumes without a next link ends the listing with no extra request", async () => {
    const { client, simulator } = await setup({ client: { pageSize: 7 } });
    expect(await client.listVolumes()).toHaveLength(7);
    expect(simulator.counts()).toEqual({ listVolumes: 1 });
  });

  it("refuses to loop when a service ignores the marker and answers the same page again", async () => {
    const sameServers = ["s-1", "s-2"].map((id) => ({ ...minimalServer, id }));
    const fake = createHttpServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ count: 7, servers: sameServers }));
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const address = fake.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      const { client } = await setup({
        client: { pageSize: 2 },
        config: (config) => ({ ...config, endpoints: { ...config.endpoints, ecs: `http://127.0.0.1:${port}` } }),
      });
      const error = await failure(client.listServers());
      expect(error).toBeInstanceOf(CloudApiError);
      expect(error).toMatchObject({ code: "INVALID_RESPONSE", operation: "listServersDetails", retryable: false });
      expect(String(error)).toContain("paging did not advance");
    } finally {
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });

  it("lists servers by id (ECS server_id, 100 per request), skipping an id that does not exist, across pages", async () => {
    const { client, simulator, requests } = await setup({ client: { pageSize: 2 } });
    const servers = await client.listServers({ serverIds: ["s-3", "missing", "s-1", "s-3", "s-6"] });
    expect(servers.map((server) => server.id)).toEqual(["s-3", "s-1", "s-6"]);
    // Pages of 2 over 4 ids: the page holding the missing entry still counts as full, so paging goes on
    // (two full pages, then the empty one that ends it) and s-6 is not lost.
    expect(simulator.counts()).toEqual({ listServersDetails: 3 });
    expect(requests.every((request) => request.includes("server_id=s-3%2Cmissing%2Cs-1%2Cs-6"))).toBe(true);
  });

  it("lists volumes by id (EVS ids=['a','b'], 60 per request)", async () => {
    const { client, simulator } = await setup();
    const ids = [...Array.from({ length: 60 }, (_, index) => `missing-${index}`), "vol-s-2", "vol-s-5"];
    expect((await client.listVolumes({ ids })).map((volume) => volume.id).sort()).toEqual(["vol-s-2", "vol-s-5"]);
    expect(simulator.counts()).toEqual({ listVolumes: 2 });
  });

  it("filters servers by tag across pages", async () => {
    const { client } = await setup({ client: { pageSize: 1 } });
    const tagged = await client.listServers({ tags: "sdrs_protect=g-1" });
    expect(tagged.map((server) => server.id)).toEqual(["s-1", "s-3", "s-5", "s-7"]);
  });

  it("lists protected instances by group, and by id lists sent 30 per request", async () => {
    const { client, simulator } = await setup();
    expect(
      (await client.listProtectedInstances({ serverGroupId: "g-1" })).map((instance) => instance.source_server).sort(),
    ).toEqual(["s-5", "s-6"]);
    const manyIds = [...Array.from({ length: 59 }, (_, index) => `missing-${index}`), "pi-5", "pi-7", "pi-7"];
    const found = await client.listProtectedInstances({ protectedInstanceIds: manyIds });
    expect(found.map((instance) => instance.id).sort()).toEqual(["pi-5", "pi-7"]);
    const byGroups = await client.listProtectedInstances({ serverGroupIds: ["g-2", "g-3"] });
    expect(byGroups.map((instance) => instance.id)).toEqual(["pi-7"]);
    expect(await client.listProtectedInstances({ serverGroupIds: [] })).toEqual([]);
    // 1 by group + 61 distinct ids in 3 chunks of ≤30 + 1 by group ids; the empty list sends nothing.
    expect(simulator.counts()).toEqual({ listProtectedInstances: 5 });
  });

  it("reads servers, tags, key pairs, volumes, scaling groups and active domains", async () => {
    const { client } = await setup({ client: { pageSize: 2 } });
    expect(await client.getServer("s-1")).toMatchObject({
      id: "s-1",
      metadata: { vpc_id: "vpc-1" },
      "OS-EXT-AZ:availability_zone": "eu-de-01",
    });
    expect(await client.getServerTags("s-1")).toEqual([{ key: "sdrs_protect", value: "g-1" }]);
    expect((await client.listKeypairs()).map((keypair) => keypair.name)).toEqual(["kp-1"]);
    expect((await client.listVolumes()).map((volume) => volume.id)).toEqual(serverIds.map((id) => `vol-${id}`));
    expect((await client.listVolumes({ serverId: "s-3" })).map((volume) => volume.id)).toEqual(["vol-s-3"]);
    expect(await client.listVolumes({ multiattach: true })).toEqual([]);
    expect((await client.listScalingGroups()).map((group) => group.scaling_group_id)).toEqual(["as-1"]);
    expect((await client.listScalingGroupInstances("as-1")).map((instance) => instance.instance_id)).toEqual([
      "s-6",
      "s-7",
    ]);
    expect((await client.listActiveDomains())[0]).toMatchObject({
      id: "d-1",
      local_replication_cluster: { availability_zone: "eu-de-01" },
    });
    expect(await client.getProtectedInstance("pi-5")).toMatchObject({
      id: "pi-5",
      source_server: "s-5",
      server_group_id: "g-1",
    });
  });

  it("a job SDRS does not know is CloudApiError 500 SDRS.0408 (Null job), not retried", async () => {
    const { client, simulator } = await setup();
    const error = await failure(client.getJob("0".repeat(32)));
    expect(error).toMatchObject({
      status: 500,
      code: "SDRS.0408",
      operation: "showJob",
      retryable: false,
      attempts: 1,
    });
    expect(simulator.counts()).toEqual({ showJob: 1 });
  });

  it("a missing server is CloudApiError 404 Ecs.0114, not retried", async () => {
    const { client, simulator } = await setup();
    const error = await failure(client.getServer("nope"));
    expect(error).toMatchObject({ status: 404, code: "Ecs.0114", retryable: false, attempts: 1 });
    expect(simulator.counts()).toEqual({ showServer: 1 });
  });
});

describe("retries of reads", () => {
  it("retries a 429 after the Retry-After the gateway sent, then succeeds", async () => {
    const { client, simulator, waits } = await setup();
    simulator.faults.set({ throttle: { next: 2, retryAfterSeconds: 3, operations: ["showProtectionGroup"] } });
    expect((await client.getProtectionGroup("g-1")).id).toBe("g-1");
    expect(simulator.counts()).toEqual({ showProtectionGroup: 3 });
    expect(waits).toEqual([3000, 3000]);
  });

  it("retries a 503 with jittered exponential backoff, then succeeds", async () => {
    const { client, simulator, waits, log } = await setup({
      client: { retry: { baseDelayMs: 100, maxDelayMs: 10_000 } },
    });
    simulator.faults.set({ serverError: { next: 3, status: 503, operations: ["showJob", "showProtectionGroup"] } });
    await client.getProtectionGroup("g-1");
    expect(simulator.counts()).toEqual({ showProtectionGroup: 4 });
    // random 0.5 × 100·2^(n-1): 50, 100, 200.
    expect(waits).toEqual([50, 100, 200]);
    expect(log.map((entry) => [entry.attempt, entry.status])).toEqual([
      [1, 503],
      [2, 503],
      [3, 503],
      [4, 200],
    ]);
  });

  it("gives up after maxAttempts with the last error, reporting the attempts", async () => {
    const { client, simulator } = await setup({ client: { retry: { maxAttempts: 3, baseDelayMs: 1 } } });
    simulator.faults.set({ serverError: { next: 10, status: 503 } });
    const error = await failure(client.getJob("job-1"));
    expect(error).toBeInstanceOf(CloudApiError);
    expect(error).toMatchObject({ status: 503, code: "APIGW.0201", retryable: true, attempts: 3 });
    expect(simulator.counts()).toEqual({ showJob: 3 });
  });

  it("gives up when Retry-After would overrun the total delay budget", async () => {
    const { client, simulator, waits } = await setup({ client: { retry: { maxTotalDelayMs: 10_000 } } });
    simulator.faults.set({ throttle: { next: 5, retryAfterSeconds: 60 } });
    const error = await failure(client.listActiveDomains());
    expect(error).toMatchObject({ status: 429, code: "APIGW.0308", retryable: true, attempts: 1 });
    expect(waits).toEqual([]);
    expect(simulator.counts()).toEqual({ listActiveDomains: 1 });
  });

  it("times a slow read out and retries it, then reports TIMEOUT", async () => {
    const { client, simulator } = await setup({ client: { timeoutMs: 50, retry: { maxAttempts: 2 } } });
    simulator.faults.set({ latencyMs: 400 });
    const error = await failure(client.listActiveDomains());
    expect(error).toMatchObject({ code: "TIMEOUT", status: undefined, retryable: true, attempts: 2 });
  });

  it("retries a refused connection and reports NETWORK_ERROR", async () => {
    const config = simulatorCloudConfig(`http://127.0.0.1:${await closedPort()}`);
    const waits: number[] = [];
    const client = new CloudClient(config, {
      retry: { maxAttempts: 2, baseDelayMs: 1 },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const error = await failure(client.listActiveDomains());
    expect(error).toMatchObject({ code: "NETWORK_ERROR", retryable: true, attempts: 2 });
    expect(client.counts()).toEqual({ listActiveDomains: 2 });
  });
});

describe("creates", () => {
  const body = { server_group_id: "g-1", server_id: "s-1", name: "web-01" };

  it("creates a protected instance and follows its job to SUCCESS on the simulator's clock", async () => {
    const { client, jobClock } = await setup();
    const { jobId } = await client.createProtectedInstance(body);
    expect((await client.getJob(jobId)).status).toMatch(/^(INIT|RUNNING)$/);
    jobClock.advance(MINUTE + 1);
    const job = await client.getJob(jobId);
    expect(job.status).toBe("SUCCESS");
    const instanceId = job.entities?.protected_instance_id;
    expect(instanceId).toBeDefined();
    expect(await client.getProtectedInstance(instanceId ?? "")).toMatchObject({
      source_server: "s-1",
      status: "available",
    });
  });

  it("batch-creates (202 accepted), then enables protection of the group", async () => {
    const { client, jobClock } = await setup();
    const batch = await client.batchCreateProtectedInstances({
      name_prefix: "web",
      server_group_id: "g-3",
      servers: [{ server_id: "s-1" }, { server_id: "s-2" }],
    });
    jobClock.advance(2 * MINUTE + 1);
    expect((await client.getJob(batch.jobId)).status).toBe("SUCCESS");
    const { jobId } = await client.enableProtection("g-3");
    jobClock.advance(MINUTE + 1);
    expect((await client.getJob(jobId)).status).toBe("SUCCESS");
    expect((await client.getProtectionGroup("g-3")).status).toBe("protected");
  });

  it("creates a protection group from an active-active domain", async () => {
    const { client, jobClock } = await setup();
    const { jobId } = await client.createProtectionGroup({
      name: "app",
      source_availability_zone: "eu-de-01",
      target_availability_zone: "eu-de-02",
      domain_id: "d-1",
      source_vpc_id: "vpc-1",
    });
    jobClock.advance(MINUTE + 1);
    const job = await client.getJob(jobId);
    expect(job.status).toBe("SUCCESS");
    expect((await client.getProtectionGroup(job.entities?.server_group_id ?? "")).name).toBe("app");
  });

  it("a create the cloud refuses (400 SDRS.1305) is thrown as is", async () => {
    const { client } = await setup();
    const error = await failure(client.createProtectedInstance({ ...body, server_id: "s-5" }));
    expect(error).toMatchObject({ status: 400, code: "SDRS.1305", retryable: false });
  });

  it("a throttled create (429) is not retried: CloudApiError, retryable, one request", async () => {
    const { client, simulator, waits } = await setup();
    simulator.faults.set({ throttle: { next: 1, retryAfterSeconds: 1 } });
    const error = await failure(client.createProtectedInstance(body));
    expect(error).toBeInstanceOf(CloudApiError);
    expect(error).toMatchObject({ status: 429, code: "APIGW.0308", retryable: true });
    expect(simulator.counts()).toEqual({ createProtectedInstance: 1 });
    expect(waits).toEqual([]);
  });

  it("a create answered 5xx is ambiguous and not retried", async () => {
    const { client, simulator } = await setup();
    simulator.faults.set({ serverError: { next: 1, status: 500 } });
    const error = await failure(
      client.batchCreateProtectedInstances({
        name_prefix: "web",
        server_group_id: "g-1",
        servers: [{ server_id: "s-1" }],
      }),
    );
    expect(error).toBeInstanceOf(AmbiguousCreateError);
    expect(error).toMatchObject({ reason: "server_error", status: 500, operation: "batchCreateProtectedInstances" });
    expect(simulator.counts()).toEqual({ batchCreateProtectedInstances: 1 });
  });

  it("a create that times out is ambiguous", async () => {
    const { client, simulator } = await setup({ client: { timeoutMs: 50 } });
    simulator.faults.set({ latencyMs: 400 });
    const error = await failure(client.createProtectedInstance(body));
    expect(error).toMatchObject({ code: "AMBIGUOUS_CREATE", reason: "timeout" });
    expect(client.counts()).toEqual({ createProtectedInstance: 1 });
  });

  it("a create whose connection drops after sending is AmbiguousCreateError, sent once, and the server appears once the job ends", async () => {
    const { client, simulator, jobClock } = await setup();
    simulator.faults.set({ dropAfterCreate: { next: 1 } });
    const error = await failure(client.createProtectedInstance(body));
    expect(error).toBeInstanceOf(AmbiguousCreateError);
    expect(error).toMatchObject({
      code: "AMBIGUOUS_CREATE",
      reason: "connection_dropped",
      retryable: false,
      operation: "createProtectedInstance",
      requestBody: { protected_instance: body },
    });
    expect(simulator.counts()).toEqual({ createProtectedInstance: 1 });

    jobClock.advance(MINUTE + 1);
    const instances = await client.listProtectedInstances({ serverGroupId: "g-1" });
    expect(instances.find((instance) => instance.source_server === "s-1")).toMatchObject({ status: "available" });
    // Trying again now is refused by the cloud: the server is already protected.
    await expect(client.createProtectedInstance(body)).rejects.toMatchObject({ code: "SDRS.1305" });
  });

  it("a create against a refused connection is a plain NETWORK_ERROR (certainly not applied)", async () => {
    const client = new CloudClient(simulatorCloudConfig(`http://127.0.0.1:${await closedPort()}`));
    const error = await failure(client.createProtectedInstance(body));
    expect(error).toBeInstanceOf(CloudApiError);
    expect(error).toMatchObject({ code: "NETWORK_ERROR", retryable: true });
    expect(client.counts()).toEqual({ createProtectedInstance: 1 });
  });
});

describe("request log", () => {
  it("logs one entry per attempt without headers or secrets", async () => {
    const { client, simulator, log } = await setup();
    simulator.faults.set({ throttle: { next: 1 } });
    await client.getProtectionGroup("g-1");
    expect(log).toEqual([
      expect.objectContaining({
        operation: "showProtectionGroup",
        method: "GET",
        status: 429,
        attempt: 1,
        errorCode: "APIGW.0308",
      }),
      expect.objectContaining({ operation: "showProtectionGroup", method: "GET", status: 200, attempt: 2 }),
    ]);
    expect(log[1]?.requestId).toMatch(/^[0-9a-f]{32}$/);
    const text = JSON.stringify(log);
    expect(text).not.toContain(SIMULATOR_DEFAULTS.secretKey);
    expect(text).not.toMatch(/authorization|x-sdk-date/i);
  });
});
