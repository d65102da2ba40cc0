import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ManualClock } from "../../lib/clock.ts";
import {
  ecsServerResponse,
  job,
  protectedInstanceList,
  protectedInstanceResponse,
  protectionGroupResponse,
} from "../../lib/sdrs/schemas.ts";
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
const PG_DB = groupId("pg-db");

describe("jobs progress by the simulator clock (ManualClock, no timers)", () => {
  let sim: Simulator;
  let clock: ManualClock;
  beforeEach(async () => {
    ({ sim, clock } = await startTestSimulator());
  });
  afterEach(() => sim.close());

  const getJob = async (jobId: string) => job.parse((await call(sim, "GET", path.job(jobId))).json);
  const instancesOf = async (group: string) =>
    protectedInstanceList.parse((await call(sim, "GET", `${path.protectedInstances}?server_group_id=${group}`)).json)
      .protected_instances;

  it("single create: INIT → RUNNING → SUCCESS with a DR-site server in the group's other AZ", async () => {
    const web01 = serverId("web-01");
    const jobId = jobIdOf(
      await call(sim, "POST", path.protectedInstances, { body: singleCreate(web01, PG_WEB, { name: "web-01-pi" }) }),
    );

    expect(await getJob(jobId)).toMatchObject({
      status: "INIT",
      job_type: "createProtectedInstanceNoCG",
      end_time: null,
      error_code: null,
    });
    const [creating] = await instancesOf(PG_WEB);
    expect(creating).toMatchObject({
      name: "web-01-pi",
      status: "creating",
      source_server: web01,
      target_server: null,
    });

    clock.advance(5_000);
    expect((await getJob(jobId)).status).toBe("RUNNING");
    clock.advance(54_999);
    expect((await getJob(jobId)).status).toBe("RUNNING");
    clock.advance(1);
    const done = await getJob(jobId);
    expect(done).toMatchObject({
      status: "SUCCESS",
      error_code: null,
      fail_reason: null,
      end_time: "2026-01-01T00:01:00.000Z",
    });
    const instanceId = done.entities?.protected_instance_id ?? "";
    const drServerId = done.entities?.native_server_id ?? "";

    const instance = protectedInstanceResponse.parse(
      (await call(sim, "GET", path.protectedInstance(instanceId))).json,
    ).protected_instance;
    expect(instance).toMatchObject({
      status: "available",
      source_server: web01,
      target_server: drServerId,
      progress: 100,
    });
    const drServer = ecsServerResponse.parse((await call(sim, "GET", path.server(drServerId))).json).server;
    expect(drServer).toMatchObject({ name: "web-01", status: "SHUTOFF", "OS-EXT-AZ:availability_zone": "eu-de-02" });
    expect(drServer.id).not.toBe(web01);
    const group = protectionGroupResponse.parse(
      (await call(sim, "GET", path.protectionGroup(PG_WEB))).json,
    ).server_group;
    expect(group.protected_instance_num).toBe(1);
  });

  it("a DR-site server of a priority_station=target group is created in its source AZ", async () => {
    const jobId = jobIdOf(
      await call(sim, "POST", path.protectedInstances, { body: singleCreate(serverId("db-01"), PG_DB) }),
    );
    clock.advance(60_000);
    const done = await getJob(jobId);
    const drServer = ecsServerResponse.parse(
      (await call(sim, "GET", path.server(done.entities?.native_server_id ?? ""))).json,
    ).server;
    expect(drServer["OS-EXT-AZ:availability_zone"]).toBe("eu-de-01");
    const instance = protectedInstanceResponse.parse(
      (await call(sim, "GET", path.protectedInstance(done.entities?.protected_instance_id ?? ""))).json,
    );
    expect(instance.protected_instance.status).toBe("protected");
  });

  it("batch create: sub_jobs per server, names <prefix>-0001…, all instances available at the end", async () => {
    const servers = [serverId("web-03"), serverId("web-04"), serverId("api-01")];
    const created = await call(sim, "POST", path.batch, { body: batchCreate(servers, PG_WEB, { name_prefix: "web" }) });
    expect(created.status).toBe(202);
    const jobId = jobIdOf(created);

    const initial = await getJob(jobId);
    expect(initial.job_type).toBe("batchCreateProtectedInstancesNoCG");
    expect(initial.entities?.sub_jobs?.map((sub) => [sub.entities?.server_id, sub.status, sub.job_type])).toEqual(
      servers.map((id) => [id, "INIT", "createProtectedInstanceNoCG"]),
    );
    expect(
      (await instancesOf(PG_WEB)).map((instance) => [instance.name, instance.source_server, instance.status]),
    ).toEqual([
      ["web-0001", servers[0], "creating"],
      ["web-0002", servers[1], "creating"],
      ["web-0003", servers[2], "creating"],
    ]);

    clock.advance(120_000);
    const done = await getJob(jobId);
    expect(done.status).toBe("SUCCESS");
    const subJobs = done.entities?.sub_jobs ?? [];
    expect(subJobs.every((sub) => sub.status === "SUCCESS" && sub.job_id.length === 32)).toBe(true);
    const instances = await instancesOf(PG_WEB);
    expect(instances.map((instance) => instance.status)).toEqual(["available", "available", "available"]);
    expect(subJobs.map((sub) => [sub.entities?.protected_instance_id, sub.entities?.native_server_id])).toEqual(
      instances.map((instance) => [instance.id, instance.target_server]),
    );
    const drServers = sim.state
      .servers()
      .filter((server) => instances.some((instance) => instance.target_server === server.id));
    expect(drServers.map((server) => server.status)).toEqual(["SHUTOFF", "SHUTOFF", "SHUTOFF"]);
  });

  it("a failed sub-job fails the batch; its instance is rolled back so a retry can succeed", async () => {
    const good = serverId("web-05");
    const failing = serverId("api-gw-01");
    sim.faults.set({
      failJob: { serverIds: [failing], errorCode: "SDRS.1350", failReason: "DR server quota exceeded" },
    });
    const jobId = jobIdOf(await call(sim, "POST", path.batch, { body: batchCreate([good, failing], PG_WEB) }));
    clock.advance(120_000);

    const done = await getJob(jobId);
    expect(done).toMatchObject({ status: "FAIL", error_code: "SDRS.1350" });
    expect(done.fail_reason).toContain("1 of 2 sub-jobs failed");
    expect(
      done.entities?.sub_jobs?.map((sub) => [sub.entities?.server_id, sub.status, sub.error_code ?? null]),
    ).toEqual([
      [good, "SUCCESS", null],
      [failing, "FAIL", "SDRS.1350"],
    ]);
    expect((await instancesOf(PG_WEB)).map((instance) => instance.source_server)).toEqual([good]);

    sim.faults.clear();
    const retry = await call(sim, "POST", path.protectedInstances, { body: singleCreate(failing, PG_WEB) });
    expect(retry.status).toBe(200);
    clock.advance(60_000);
    expect((await getJob(jobIdOf(retry))).status).toBe("SUCCESS");
  });

  it("an encrypted disk fails the job with SDRS.1802 and leaves no instance", async () => {
    const vault = serverId("vault-01");
    const jobId = jobIdOf(await call(sim, "POST", path.protectedInstances, { body: singleCreate(vault, PG_WEB) }));
    clock.advance(60_000);
    expect(await getJob(jobId)).toMatchObject({ status: "FAIL", error_code: "SDRS.1802" });
    expect(await instancesOf(PG_WEB)).toEqual([]);
  });

  it("after success, a second create for the same server is rejected with SDRS.1305", async () => {
    const web01 = serverId("web-01");
    jobIdOf(await call(sim, "POST", path.protectedInstances, { body: singleCreate(web01, PG_WEB) }));
    clock.advance(60_000);
    const again = await call(sim, "POST", path.protectedInstances, { body: singleCreate(web01, PG_WEB) });
    expect(again.status).toBe(400);
    expect(errorCodeOf(again)).toBe("SDRS.1305");
  });

  it("the DR-site server created for an instance cannot be protected itself (SDRS.1305)", async () => {
    const jobId = jobIdOf(
      await call(sim, "POST", path.protectedInstances, { body: singleCreate(serverId("db-02"), PG_DB) }),
    );
    clock.advance(60_000);
    const drServerId = (await getJob(jobId)).entities?.native_server_id ?? "";
    const again = await call(sim, "POST", path.protectedInstances, { body: singleCreate(drServerId, PG_WEB) });
    expect(errorCodeOf(again)).toBe("SDRS.1305");
  });

  it("create protection group: createProtectionGroupNoCG, group creating → available", async () => {
    const vpc = sim.state.protectionGroups().find((group) => group.id === PG_WEB)?.source_vpc_id ?? "";
    const body = {
      server_group: {
        name: "pg-new",
        source_availability_zone: "eu-de-02",
        target_availability_zone: "eu-de-01",
        domain_id: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
        source_vpc_id: vpc,
      },
    };
    const created = await call(sim, "POST", path.protectionGroups, { body });
    expect(created.status).toBe(200);
    const jobId = jobIdOf(created);
    const running = await getJob(jobId);
    expect(running).toMatchObject({ status: "INIT", job_type: "createProtectionGroupNoCG" });
    const newGroupId = running.entities?.server_group_id ?? "";
    const before = protectionGroupResponse.parse(
      (await call(sim, "GET", path.protectionGroup(newGroupId))).json,
    ).server_group;
    expect(before).toMatchObject({
      name: "pg-new",
      status: "creating",
      priority_station: "source",
      protected_instance_num: 0,
    });

    clock.advance(30_000);
    expect(await getJob(jobId)).toMatchObject({ status: "SUCCESS", entities: { server_group_id: newGroupId } });
    const after = protectionGroupResponse.parse(
      (await call(sim, "GET", path.protectionGroup(newGroupId))).json,
    ).server_group;
    expect(after.status).toBe("available");
  });

  it("enable protection: startProtectionGroupNoCG, group starting → protected, instances protected", async () => {
    jobIdOf(await call(sim, "POST", path.protectedInstances, { body: singleCreate(serverId("web-01"), PG_WEB) }));
    clock.advance(60_000);
    const started = await call(sim, "POST", path.action(PG_WEB), { body: { "start-server-group": {} } });
    expect(started.status).toBe(200);
    const jobId = jobIdOf(started);
    expect(await getJob(jobId)).toMatchObject({ status: "INIT", job_type: "startProtectionGroupNoCG" });
    expect(
      protectionGroupResponse.parse((await call(sim, "GET", path.protectionGroup(PG_WEB))).json).server_group.status,
    ).toBe("starting");

    clock.advance(40_000);
    expect((await getJob(jobId)).status).toBe("SUCCESS");
    expect(
      protectionGroupResponse.parse((await call(sim, "GET", path.protectionGroup(PG_WEB))).json).server_group.status,
    ).toBe("protected");
    expect((await instancesOf(PG_WEB)).map((instance) => instance.status)).toEqual(["protected"]);
  });

  it("job ids that do not exist answer as SDRS's error table says: 500 SDRS.0408 (Null job)", async () => {
    const result = await call(sim, "GET", path.job("0".repeat(32)));
    expect(result.status).toBe(500);
    expect(result.json).toEqual({ error: { code: "SDRS.0408", message: `job ${"0".repeat(32)} does not exist` } });
  });

  it("durations are drawn from jobDurations and repeat for the same seed", async () => {
    const durations = async () => {
      const { sim: seeded, clock: seededClock } = await startTestSimulator({
        seed: 42,
        jobDurations: { createProtectedInstance: { minMs: 60_000, maxMs: 180_000 } },
      });
      try {
        const ends: number[] = [];
        for (const name of ["web-01", "web-02", "web-03"]) {
          const jobId = jobIdOf(
            await call(seeded, "POST", path.protectedInstances, { body: singleCreate(serverId(name), PG_WEB) }),
          );
          seededClock.advance(600_000);
          const done = job.parse((await call(seeded, "GET", path.job(jobId))).json);
          ends.push(Date.parse(done.end_time ?? "") - Date.parse(done.begin_time ?? ""));
        }
        return ends;
      } finally {
        await seeded.close();
      }
    };
    const first = await durations();
    expect(first.every((ms) => ms >= 60_000 && ms <= 180_000)).toBe(true);
    expect(await durations()).toEqual(first);
  });
});
