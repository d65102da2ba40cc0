import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { job, protectedInstanceList } from "../../lib/sdrs/schemas.ts";
import type { Simulator } from "../../lib/sim/server.ts";
import {
  batchCreate,
  call,
  errorCodeOf,
  groupId,
  jobIdOf,
  path,
  serverId,
  singleCreate,
  startTestSimulator,
} from "./sim-client.ts";

const PG_WEB = groupId("pg-web");

describe("fault injection", () => {
  let sim: Simulator;
  let clock: ManualClock;
  beforeEach(async () => {
    ({ sim, clock } = await startTestSimulator());
  });
  afterEach(() => sim.close());

  const getJob = async (jobId: string) => job.parse((await call(sim, "GET", path.job(jobId))).json);

  it("throttle next: N answers 429 APIGW.0308 with Retry-After, then serves again", async () => {
    sim.faults.set({ throttle: { next: 2, retryAfterSeconds: 3 } });
    for (let i = 0; i < 2; i++) {
      const throttled = await call(sim, "GET", path.activeDomains);
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get("retry-after")).toBe("3");
      expect(throttled.json).toMatchObject({
        error_code: "APIGW.0308",
        error_msg: expect.stringMatching(
          /^The throttling threshold has been reached: policy user over ratelimit,limit:/,
        ),
        request_id: expect.any(String),
      });
    }
    expect((await call(sim, "GET", path.activeDomains)).status).toBe(200);
    expect(sim.faults.current().throttle?.next).toBe(0);
  });

  it("throttle limited to operations leaves other operations alone", async () => {
    sim.faults.set({ throttle: { probability: 1, operations: ["showJob"] } });
    expect((await call(sim, "GET", path.activeDomains)).status).toBe(200);
    expect((await call(sim, "GET", path.job("0".repeat(32)))).status).toBe(429);
  });

  it("throttle ratePerSecond admits that many requests per second of gateway time", async () => {
    const gatewayClock = new ManualClock(Date.now());
    const { sim: limited } = await startTestSimulator({ gatewayClock });
    try {
      limited.faults.set({ throttle: { ratePerSecond: 3 } });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(limited, "GET", path.activeDomains)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      gatewayClock.advance(1_000);
      expect((await call(limited, "GET", path.activeDomains)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it.each([
    [500, { error: { code: "SDRS.0013", message: expect.any(String) } }],
    [502, { error_code: "APIGW.0201" }],
    [503, { error_code: "APIGW.0201" }],
    [504, { error_code: "APIGW.0201" }],
  ] as const)("serverError status %i answers without applying the request", async (status, body) => {
    sim.faults.set({ serverError: { next: 1, status, operations: ["createProtectedInstance"] } });
    const failed = await call(sim, "POST", path.protectedInstances, { body: singleCreate(serverId("web-01"), PG_WEB) });
    expect(failed.status).toBe(status);
    expect(failed.json).toMatchObject(body);
    expect(sim.state.protectedInstances().filter((instance) => instance.server_group_id === PG_WEB)).toEqual([]);
    const retried = await call(sim, "POST", path.protectedInstances, {
      body: singleCreate(serverId("web-01"), PG_WEB),
    });
    expect(retried.status).toBe(200);
  });

  it("latencyMs delays every answer", async () => {
    sim.faults.set({ latencyMs: 150 });
    const started = performance.now();
    expect((await call(sim, "GET", path.activeDomains)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("dropAfterCreate applies the create, then drops the connection: an ambiguous create", async () => {
    sim.faults.set({ dropAfterCreate: { next: 1 } });
    const web01 = serverId("web-01");
    await expect(call(sim, "POST", path.protectedInstances, { body: singleCreate(web01, PG_WEB) })).rejects.toThrow();
    expect(sim.state.protectedInstances().filter((instance) => instance.source_server === web01)).toMatchObject([
      { status: "creating" },
    ]);
    expect(sim.state.jobs()).toHaveLength(1);
    const retry = await call(sim, "POST", path.protectedInstances, { body: singleCreate(web01, PG_WEB) });
    expect(errorCodeOf(retry)).toBe("SDRS.1305");
  });

  it("dropAfterCreate does not consume a create that was rejected", async () => {
    sim.faults.set({ dropAfterCreate: { next: 1 } });
    const rejected = await call(sim, "POST", path.protectedInstances, {
      body: singleCreate(serverId("broken-01"), PG_WEB),
    });
    expect(rejected.status).toBe(400);
    expect(sim.faults.current().dropAfterCreate?.next).toBe(1);
  });

  it("failJob with serverIds fails only those servers' sub-jobs; wholeBatch fails them all", async () => {
    const [a, b] = [serverId("web-01"), serverId("web-02")];
    sim.faults.set({ failJob: { serverIds: [b] } });
    const partial = jobIdOf(await call(sim, "POST", path.batch, { body: batchCreate([a, b], PG_WEB) }));
    clock.advance(120_000);
    const partialJob = await getJob(partial);
    expect(partialJob.status).toBe("FAIL");
    expect(partialJob.entities?.sub_jobs?.map((sub) => sub.status)).toEqual(["SUCCESS", "FAIL"]);
    expect(partialJob.entities?.sub_jobs?.[1]).toMatchObject({
      error_code: "SDRS.1350",
      fail_reason: expect.any(String),
    });

    sim.faults.set({
      failJob: { serverIds: [serverId("web-04")], wholeBatch: true, errorCode: "SDRS.1306", failReason: "no capacity" },
    });
    const whole = jobIdOf(
      await call(sim, "POST", path.batch, { body: batchCreate([serverId("web-03"), serverId("web-04")], PG_WEB) }),
    );
    clock.advance(120_000);
    const wholeJob = await getJob(whole);
    expect(wholeJob).toMatchObject({ status: "FAIL", error_code: "SDRS.1306" });
    expect(wholeJob.entities?.sub_jobs?.map((sub) => [sub.status, sub.fail_reason])).toEqual([
      ["FAIL", "no capacity"],
      ["FAIL", "no capacity"],
    ]);
  });

  it("failJob without serverIds fails group creation too (group ends in error)", async () => {
    sim.faults.set({ failJob: {} });
    const vpc = sim.state.protectionGroups()[0]?.source_vpc_id ?? "";
    const created = await call(sim, "POST", path.protectionGroups, {
      body: {
        server_group: {
          name: "pg-x",
          source_availability_zone: "eu-de-01",
          target_availability_zone: "eu-de-02",
          domain_id: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
          source_vpc_id: vpc,
        },
      },
    });
    clock.advance(60_000);
    const done = await getJob(jobIdOf(created));
    expect(done.status).toBe("FAIL");
    expect(sim.state.protectionGroups().find((group) => group.id === done.entities?.server_group_id)?.status).toBe(
      "error",
    );
  });

  it("jobsNeverFinish holds matching jobs RUNNING while set; clearing lets them finish", async () => {
    const held = serverId("web-01");
    sim.faults.set({ jobsNeverFinish: { serverIds: [held] } });
    const heldJob = jobIdOf(await call(sim, "POST", path.protectedInstances, { body: singleCreate(held, PG_WEB) }));
    const freeJob = jobIdOf(
      await call(sim, "POST", path.protectedInstances, { body: singleCreate(serverId("web-02"), PG_WEB) }),
    );
    clock.advance(24 * 3_600_000);
    expect((await getJob(heldJob)).status).toBe("RUNNING");
    expect((await getJob(freeJob)).status).toBe("SUCCESS");

    sim.faults.clear();
    expect((await getJob(heldJob)).status).toBe("SUCCESS");
  });

  it("jobsNeverFinish: true holds every job", async () => {
    sim.faults.set({ jobsNeverFinish: true });
    const jobId = jobIdOf(
      await call(sim, "POST", path.protectedInstances, { body: singleCreate(serverId("web-03"), PG_WEB) }),
    );
    clock.advance(3_600_000);
    expect((await getJob(jobId)).status).toBe("RUNNING");
  });

  it("rejects invalid fault settings", () => {
    expect(() => sim.faults.set({ serverError: { status: 418 as 500 } })).toThrow();
  });
});

describe("counts and the HTTP control plane (/__sim)", () => {
  let sim: Simulator;
  beforeEach(async () => {
    ({ sim } = await startTestSimulator());
  });
  afterEach(() => sim.close());

  const control = async (method: string, target: string, body?: unknown) => {
    const response = await fetch(new URL(target, sim.url), {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as unknown };
  };

  it("counts every request by operation name, including rejected ones", async () => {
    await call(sim, "GET", path.activeDomains);
    await call(sim, "GET", path.activeDomains);
    await call(sim, "POST", path.protectedInstances, { body: "{" });
    await call(sim, "GET", path.job("x"), { secretKey: "wrong" });
    expect(sim.counts()).toEqual({ listActiveDomains: 2, createProtectedInstance: 1, showJob: 1 });
    expect((await control("GET", "/__sim/counts")).json).toEqual({
      listActiveDomains: 2,
      createProtectedInstance: 1,
      showJob: 1,
    });
    sim.resetCounts();
    expect(sim.counts()).toEqual({});
  });

  it("sets, shows and clears faults over HTTP", async () => {
    const set = await control("POST", "/__sim/faults", { throttle: { next: 1 } });
    expect(set).toEqual({ status: 200, json: { throttle: { next: 1 } } });
    expect((await call(sim, "GET", path.activeDomains)).status).toBe(429);
    sim.faults.set({ throttle: { next: 1 } });
    expect((await control("DELETE", "/__sim/faults")).status).toBe(200);
    expect(sim.faults.current()).toEqual({});
    expect((await call(sim, "GET", path.activeDomains)).status).toBe(200);
    const invalid = await control("POST", "/__sim/faults", { throttle: { next: -1 } });
    expect(invalid.status).toBe(400);
  });

  it("serves the state and lets tags be changed", async () => {
    const untagged = serverId("intranet-01");
    const tagged = await control("PUT", `/__sim/servers/${untagged}/tags`, { sdrs_protect: "web", owner: "it" });
    expect(tagged).toEqual({
      status: 200,
      json: {
        tags: [
          { key: "sdrs_protect", value: "web" },
          { key: "owner", value: "it" },
        ],
      },
    });
    const tags = await call(sim, "GET", path.serverTags(untagged));
    expect(tags.json).toEqual({
      tags: [
        { key: "sdrs_protect", value: "web" },
        { key: "owner", value: "it" },
      ],
    });
    const state = (await control("GET", "/__sim/state")).json as { servers: { id: string; tags: string[] }[] };
    expect(state.servers.find((server) => server.id === untagged)?.tags).toEqual(["sdrs_protect=web", "owner=it"]);
    expect((await control("PUT", "/__sim/servers/nope/tags", { a: "b" })).status).toBe(404);
    expect((await control("PUT", `/__sim/servers/${untagged}/tags`, { a: 1 })).status).toBe(400);
  });

  it("does not count control-plane requests", async () => {
    await control("GET", "/__sim/state");
    expect(sim.counts()).toEqual({});
    const listed = protectedInstanceList.parse((await call(sim, "GET", path.protectedInstances)).json);
    expect(listed.count).toBe(10);
  });
});
