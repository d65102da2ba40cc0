/**
 * Replication pairs and ECS volume calls in the simulator, through the project's cloud client over
 * HTTP: default pairs for protected servers, create/attach/detach/expand/delete with their jobs and
 * error codes, and the drift switches.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { CloudClient } from "../../lib/sdrs/client.ts";
import { CloudApiError } from "../../lib/sdrs/errors.ts";
import { pairVolumeIds } from "../../lib/sdrs/replication-schemas.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { type EstateInput, parseEstate } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";

const estate: EstateInput = {
  servers: [
    {
      id: "s-1",
      name: "app-01",
      az: "az-1",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      volumes: [{ id: "v-sys", bootIndex: 0 }, { id: "v-data" }],
    },
    { id: "s-1-dr", name: "app-01", status: "SHUTOFF", az: "az-2", vpcId: "vpc-1", flavor: "s6.large.2" },
    {
      id: "s-2",
      name: "app-02",
      az: "az-1",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      volumes: [{ id: "v2-sys", bootIndex: 0 }, { id: "v2-data" }],
    },
    { id: "s-2-dr", name: "app-02", status: "SHUTOFF", az: "az-2", vpcId: "vpc-1", flavor: "s6.large.2" },
  ],
  volumes: [
    { id: "v-sys" },
    { id: "v-data", size: 50 },
    { id: "v-new", size: 20, az: "az-1" },
    { id: "v2-sys" },
    { id: "v2-data" },
  ],
  activeDomains: [{ id: "d-1", name: "domain", localAz: "az-1", remoteAz: "az-2" }],
  protectionGroups: [
    { id: "g-1", name: "pg", status: "protected", sourceAz: "az-1", targetAz: "az-2", vpcId: "vpc-1", domainId: "d-1" },
  ],
  protectedInstances: [
    {
      id: "pi-1",
      name: "app-01",
      groupId: "g-1",
      sourceServerId: "s-1",
      targetServerId: "s-1-dr",
      status: "protected",
    },
    {
      id: "pi-2",
      name: "app-02",
      groupId: "g-1",
      sourceServerId: "s-2",
      targetServerId: "s-2-dr",
      status: "protected",
    },
  ],
  replicationPairs: [{ volumeId: "v2-data", status: "fault", faultLevel: "5" }],
};

describe("replication pairs in the simulator", () => {
  let sim: Simulator;
  let client: CloudClient;
  const clock = new ManualClock(Date.UTC(2026, 0, 5));

  beforeEach(async () => {
    sim = await startSimulator({ estate: parseEstate(estate), clock });
    client = new CloudClient(simulatorCloudConfig(sim.url));
  });
  afterEach(() => sim.close());

  async function finish(jobId: string): Promise<string> {
    clock.advance(10 * 60_000);
    const job = await client.getJob(jobId);
    return job.status;
  }

  it("derives one healthy pair per disk of a protected server, attached with its device, and applies the estate's drift", async () => {
    const pairs = await client.listReplications({ serverGroupIds: ["g-1"] });
    expect(pairs).toHaveLength(4);
    const data = pairs.find((pair) => pairVolumeIds(pair).sourceVolumeId === "v-data");
    expect(data).toMatchObject({
      status: "protected",
      replication_status: "active",
      fault_level: "0",
      attachment: [{ protected_instance: "pi-1", device: "/dev/vdb" }],
    });
    expect(data?.record_metadata?.volume_size).toBe(50);
    const faulty = pairs.find((pair) => pairVolumeIds(pair).sourceVolumeId === "v2-data");
    expect(faulty).toMatchObject({ status: "fault", fault_level: "5" });
    expect(
      (await client.listReplications({ protectedInstanceId: "pi-1" }))
        .map((pair) => pairVolumeIds(pair).sourceVolumeId)
        .sort(),
    ).toEqual(["v-data", "v-sys"]);
    expect(
      (await client.listReplications({ serverGroupIds: ["g-1"], queryType: "status_abnormal" })).map((pair) => pair.id),
    ).toEqual([faulty?.id]);
    const instance = await client.getProtectedInstance("pi-1");
    expect(instance.attachment?.map((attached) => attached.device)).toEqual(["/dev/vda", "/dev/vdb"]);
  });

  it("refuses a pair for an in-use disk with SDRS.1801, and pairs an available disk: create → attach on the same device", async () => {
    await expect(
      client.createReplication({ server_group_id: "g-1", volume_id: "v-data", name: "again" }),
    ).rejects.toMatchObject({ code: "SDRS.1811" });
    const attachJob = await client.attachServerVolume("s-1", "v-new");
    expect(await finish(attachJob.jobId)).toBe("SUCCESS");
    await expect(
      client.createReplication({ server_group_id: "g-1", volume_id: "v-new", name: "new" }),
    ).rejects.toMatchObject({ code: "SDRS.1801" });
    expect(await finish((await client.detachServerVolume("s-1", "v-new")).jobId)).toBe("SUCCESS");

    const created = await client.createReplication({ server_group_id: "g-1", volume_id: "v-new", name: "new" });
    expect((await client.getJob(created.jobId)).status).not.toBe("SUCCESS");
    expect(await finish(created.jobId)).toBe("SUCCESS");
    const pairId = (await client.getJob(created.jobId)).entities?.replication_pair_id ?? "";
    const pair = await client.getReplication(pairId);
    expect(pair).toMatchObject({ status: "protected", attachment: [] });
    expect(pairVolumeIds(pair).drVolumeId).toMatch(/-/);

    await expect(client.attachReplication("pi-1", pairId, "/dev/vdb")).rejects.toMatchObject({ code: "SDRS.1603" });
    const attached = await client.attachReplication("pi-1", pairId, "/dev/sdc");
    expect(await finish(attached.jobId)).toBe("SUCCESS");
    expect((await client.getReplication(pairId)).attachment).toEqual([
      { protected_instance: "pi-1", device: "/dev/vdc" },
    ]);
    const dr = sim.state.servers().find((server) => server.id === "s-1-dr");
    expect(dr?.["os-extended-volumes:volumes_attached"].map((volume) => volume.id)).toContain(
      pairVolumeIds(pair).drVolumeId,
    );
    await expect(client.attachReplication("pi-2", pairId, "/dev/vdd")).rejects.toMatchObject({ code: "SDRS.1603" });
  });

  it("detaches a pair (SDRS.1604 when not attached), deletes it only when detached (SDRS.1605), and expands both disks", async () => {
    const [data] = (await client.listReplications({ protectedInstanceId: "pi-1" })).filter(
      (pair) => pairVolumeIds(pair).sourceVolumeId === "v-data",
    );
    const pairId = data?.id ?? "";
    await expect(client.detachReplication("pi-2", pairId)).rejects.toMatchObject({ code: "SDRS.1604" });

    await expect(client.expandReplication(pairId, 40)).rejects.toMatchObject({ code: "SDRS.0201" });
    expect(await finish((await client.expandReplication(pairId, 60)).jobId)).toBe("SUCCESS");
    const grown = await client.getReplication(pairId);
    expect(grown.record_metadata?.volume_size).toBe(60);
    expect(sim.state.volumes().find((volume) => volume.id === pairVolumeIds(grown).drVolumeId)?.size).toBe(60);

    const deleting = client.deleteReplication(pairId);
    await expect(deleting).rejects.toBeInstanceOf(CloudApiError);
    await expect(deleting).rejects.toMatchObject({ code: "SDRS.1605" });
    expect(await finish((await client.detachReplication("pi-1", pairId)).jobId)).toBe("SUCCESS");
    expect(
      (await client.getProtectedInstance("pi-1")).attachment?.map((attached) => attached.replication),
    ).not.toContain(pairId);
    expect(await finish((await client.deleteReplication(pairId)).jobId)).toBe("SUCCESS");
    await expect(client.getReplication(pairId)).rejects.toMatchObject({ code: "SDRS.1608" });
  });

  it("drifts an estate through /__sim/drift: a disk attached through ECS gets no pair, a pair faults, a DR disk is deleted", async () => {
    const drift = async (body: unknown) =>
      (await fetch(`${sim.url}/__sim/drift`, { method: "POST", body: JSON.stringify(body) })).status;
    expect(await drift({ action: "attach-volume", serverId: "s-1", volumeId: "v-ecs", sizeGb: 30 })).toBe(200);
    expect(await drift({ action: "pair-fault", volumeId: "v-sys", faultLevel: "2" })).toBe(200);
    expect(await drift({ action: "delete-dr-disk", volumeId: "v-data" })).toBe(200);
    expect(await drift({ action: "pair-fault", volumeId: "nope", faultLevel: "2" })).toBe(400);
    const pairs = await client.listReplications({ protectedInstanceId: "pi-1" });
    expect(pairs.map((pair) => [pairVolumeIds(pair).sourceVolumeId, pair.status, pair.fault_level]).sort()).toEqual([
      ["v-data", "invalid", "0"],
      ["v-sys", "fault", "2"],
    ]);
    const server = await client.getServer("s-1");
    expect(server["os-extended-volumes:volumes_attached"].map((volume) => volume.id)).toEqual([
      "v-sys",
      "v-data",
      "v-ecs",
    ]);
  });

  it("keeps the EVS and ECS answers in step with drift, ECS attach/detach and pairs: lists, server_id filters, attachments, create rules", async () => {
    const drift = async (body: unknown) =>
      (await fetch(`${sim.url}/__sim/drift`, { method: "POST", body: JSON.stringify(body) })).status;
    const volumeIdsOf = async (filter: { serverId?: string } = {}) =>
      (await client.listVolumes(filter)).map((volume) => volume.id).sort();
    const drDiskOf = async (volumeId: string) => {
      const pair = (await client.listReplications({ protectedInstanceId: "pi-1" })).find(
        (candidate) => pairVolumeIds(candidate).sourceVolumeId === volumeId,
      );
      return pair === undefined ? "" : pairVolumeIds(pair).drVolumeId;
    };

    // A disk attached through ECS outside SDRS: a new EVS volume, in-use on s-1, with the estate's defaults.
    expect(await drift({ action: "attach-volume", serverId: "s-1", volumeId: "v-ecs", sizeGb: 30 })).toBe(200);
    const ecsDisk = (await client.listVolumes({ serverId: "s-1" })).find((volume) => volume.id === "v-ecs");
    expect(ecsDisk).toMatchObject({
      status: "in-use",
      size: 30,
      availability_zone: "az-1",
      attachments: [{ server_id: "s-1" }],
    });
    expect(await volumeIdsOf({ serverId: "s-1" })).toEqual(["v-data", "v-ecs", "v-sys"]);

    // Its DR-site disk deleted: gone from EVS and from the DR-site server.
    const drData = await drDiskOf("v-data");
    expect(await volumeIdsOf()).toContain(drData);
    expect(await drift({ action: "delete-dr-disk", volumeId: "v-data" })).toBe(200);
    expect(await volumeIdsOf()).not.toContain(drData);
    expect(await volumeIdsOf({ serverId: "s-1-dr" })).not.toContain(drData);

    // Detached through ECS: available again, so SDRS accepts a pair for it; the pair's DR disk is listed once made.
    expect(await finish((await client.detachServerVolume("s-1", "v-ecs")).jobId)).toBe("SUCCESS");
    expect(await volumeIdsOf({ serverId: "s-1" })).toEqual(["v-data", "v-sys"]);
    expect((await client.listVolumes()).find((volume) => volume.id === "v-ecs")?.status).toBe("available");
    const created = await client.createReplication({ server_group_id: "g-1", volume_id: "v-ecs", name: "ecs" });
    expect(await finish(created.jobId)).toBe("SUCCESS");
    const pairId = (await client.getJob(created.jobId)).entities?.replication_pair_id ?? "";
    const drEcs = pairVolumeIds(await client.getReplication(pairId)).drVolumeId;
    expect(await volumeIdsOf()).toContain(drEcs);
    expect((await client.getProtectionGroup("g-1")).replication_num).toBe(5);

    // Attached to pi-1: on both servers, under server_id; deleted with its DR disk after detaching: gone everywhere.
    expect(await finish((await client.attachReplication("pi-1", pairId, "/dev/vdc")).jobId)).toBe("SUCCESS");
    expect(await volumeIdsOf({ serverId: "s-1" })).toEqual(["v-data", "v-ecs", "v-sys"]);
    expect(await volumeIdsOf({ serverId: "s-1-dr" })).toContain(drEcs);
    expect(await finish((await client.detachReplication("pi-1", pairId)).jobId)).toBe("SUCCESS");
    expect(await volumeIdsOf({ serverId: "s-1-dr" })).not.toContain(drEcs);
    expect(await finish((await client.deleteReplication(pairId, { deleteTargetVolume: true })).jobId)).toBe("SUCCESS");
    expect(await volumeIdsOf()).not.toContain(drEcs);
    expect((await client.getProtectionGroup("g-1")).replication_num).toBe(4);
  });
});
