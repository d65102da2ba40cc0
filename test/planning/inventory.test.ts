/**
 * readInventory against the project's SDRS simulator on 127.0.0.1 (port 0), through the real client:
 * which calls it makes, and the facts it hands to eligibility.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readInventory } from "../../lib/planning/inventory.ts";
import { CloudClient } from "../../lib/sdrs/client.ts";
import type { CloudConfig } from "../../lib/sdrs/config.ts";
import { CloudApiError } from "../../lib/sdrs/errors.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { type EstateInput, parseEstate } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";

const estate: EstateInput = {
  region: "eu-de",
  servers: [
    {
      id: "web-1",
      name: "web-1",
      az: "eu-de-01",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      volumes: [{ id: "web-1-sys", bootIndex: 0 }],
    },
    {
      id: "web-2",
      name: "web-2",
      az: "eu-de-01",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      volumes: [{ id: "web-2-sys", bootIndex: 0 }],
    },
    {
      id: "win-1",
      name: "win-1",
      az: "eu-de-01",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      osType: "Windows",
      keyName: "kp-present",
      volumes: [{ id: "win-1-sys", bootIndex: 0 }],
    },
    {
      id: "win-2",
      name: "win-2",
      az: "eu-de-01",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      osType: "Windows",
      keyName: "kp-deleted",
      volumes: [{ id: "win-2-sys", bootIndex: 0 }],
    },
    {
      id: "file-1",
      name: "file-1",
      az: "eu-de-01",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      volumes: [{ id: "file-1-sys", bootIndex: 0 }, { id: "shared-1" }],
    },
    {
      id: "file-2",
      name: "file-2",
      az: "eu-de-01",
      vpcId: "vpc-1",
      flavor: "s6.large.2",
      volumes: [{ id: "file-2-sys", bootIndex: 0 }, { id: "shared-1" }],
    },
  ],
  volumes: [
    ...["web-1", "web-2", "win-1", "win-2", "file-1", "file-2"].map((serverId) => ({ id: `${serverId}-sys` })),
    { id: "shared-1", multiattach: true },
  ],
  keyPairs: [{ name: "kp-present" }],
  scalingGroups: [{ id: "as-1", name: "web-asg", serverIds: ["web-2"] }],
  activeDomains: [{ id: "d-1", name: "domain-1", localAz: "eu-de-01", remoteAz: "eu-de-02" }],
  protectionGroups: [
    { id: "g-1", name: "web", sourceAz: "eu-de-01", targetAz: "eu-de-02", vpcId: "vpc-1", domainId: "d-1" },
  ],
  protectedInstances: [{ id: "pi-1", name: "web-1", groupId: "g-1", sourceServerId: "web-1" }],
};

let running: Simulator[] = [];

afterEach(async () => {
  await Promise.all(running.map((simulator) => simulator.close()));
  running = [];
});

async function setup(config: (base: CloudConfig) => CloudConfig = (base) => base) {
  const simulator = await startSimulator({ estate: parseEstate(estate) });
  running.push(simulator);
  const client = new CloudClient(config(simulatorCloudConfig(simulator.url)), {
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxTotalDelayMs: 100 },
    sleep: async () => {},
  });
  return { simulator, client };
}

const ALL = ["web-1", "web-2", "win-1", "win-2", "file-1", "file-2"];

describe("readInventory", () => {
  it("reads many servers with one list call per kind of resource", async () => {
    const { simulator, client } = await setup();
    const inventory = await readInventory(client, { protectionGroupId: "g-1", serverIds: ALL });
    expect(simulator.counts()).toEqual({
      showProtectionGroup: 1,
      listProtectedInstances: 1,
      listServersDetails: 1,
      listVolumes: 1,
      listKeypairs: 1,
      listScalingGroups: 1,
      listScalingGroupInstances: 1,
    });
    expect(inventory.protectionGroup?.id).toBe("g-1");
    expect(inventory.protectedInstances.map((instance) => [instance.id, instance.source_server])).toEqual([
      ["pi-1", "web-1"],
    ]);
    expect(inventory.servers.map((facts) => facts.serverId)).toEqual(ALL);
    expect(inventory.advisoryFailures).toEqual([]);
  });

  it("reads a few servers one by one (GET and EVS list per server)", async () => {
    const { simulator, client } = await setup();
    await readInventory(client, { protectionGroupId: "g-1", serverIds: ["web-1", "web-2"] });
    expect(simulator.counts()).toEqual({
      showProtectionGroup: 1,
      listProtectedInstances: 1,
      showServer: 2,
      listVolumes: 2,
      listScalingGroups: 1,
      listScalingGroupInstances: 1,
    });
  });

  it("gives each server its attached volumes, a shared volume with every attachment", async () => {
    for (const perServerReadsUpTo of [0, 10]) {
      const { client } = await setup();
      const inventory = await readInventory(
        client,
        { protectionGroupId: "g-1", serverIds: ["file-1", "file-2", "web-1"] },
        { perServerReadsUpTo },
      );
      const volumesOf = (serverId: string) =>
        inventory.servers
          .find((facts) => facts.serverId === serverId)
          ?.volumes.map((volume) => [volume.id, volume.multiattach, volume.attachments.map((a) => a.server_id).sort()]);
      expect(volumesOf("file-1")).toEqual([
        ["file-1-sys", false, ["file-1"]],
        ["shared-1", true, ["file-1", "file-2"]],
      ]);
      expect(volumesOf("web-1")).toEqual([["web-1-sys", false, ["web-1"]]]);
    }
  });

  it("checks key pairs of Windows key-pair servers only, with one list", async () => {
    const { client } = await setup();
    const inventory = await readInventory(client, { protectionGroupId: "g-1", serverIds: ALL });
    const keypairs = Object.fromEntries(inventory.servers.map((facts) => [facts.serverId, facts.keypairExists]));
    expect(keypairs).toEqual({
      "web-1": undefined,
      "web-2": undefined,
      "win-1": true,
      "win-2": false,
      "file-1": undefined,
      "file-2": undefined,
    });
  });

  it("marks Auto Scaling members with their group", async () => {
    const { client } = await setup();
    const inventory = await readInventory(client, { protectionGroupId: "g-1", serverIds: ALL });
    expect(
      inventory.servers
        .filter((facts) => facts.autoScalingGroupId !== undefined)
        .map((facts) => [facts.serverId, facts.autoScalingGroupId]),
    ).toEqual([["web-2", "as-1"]]);
  });

  it("reports a missing server and a missing group as undefined, listing or not", async () => {
    for (const perServerReadsUpTo of [0, 10]) {
      const { client } = await setup();
      const inventory = await readInventory(
        client,
        { protectionGroupId: "g-missing", serverIds: ["web-1", "gone"] },
        { perServerReadsUpTo },
      );
      expect(inventory.protectionGroup).toBeUndefined();
      expect(inventory.servers).toEqual([
        expect.objectContaining({ serverId: "web-1" }),
        { serverId: "gone", volumes: [] },
      ]);
      expect(inventory.servers[0]?.server?.name).toBe("web-1");
    }
  });

  it("makes no server reads for an empty request", async () => {
    const { simulator, client } = await setup();
    const inventory = await readInventory(client, { protectionGroupId: "g-1", serverIds: [] });
    expect(inventory.servers).toEqual([]);
    expect(simulator.counts()).toEqual({ showProtectionGroup: 1 });
  });

  it("leaves Auto Scaling unknown when it cannot be read for good (no AS endpoint), and says so", async () => {
    const { client } = await setup((base) => ({ ...base, endpoints: { ...base.endpoints, as: undefined } }));
    const inventory = await readInventory(client, { protectionGroupId: "g-1", serverIds: ["web-2"] });
    expect(inventory.servers[0]?.autoScalingGroupId).toBeUndefined();
    expect(inventory.advisoryFailures).toEqual([{ operation: "listScalingGroups", code: "INVALID_CLOUD_CONFIG" }]);
  });

  it("lets a failure retrying may fix propagate, so the caller retries", async () => {
    const { simulator, client } = await setup();
    simulator.faults.set({ serverError: { next: 5, status: 503, operations: ["listKeypairs"] } });
    await expect(readInventory(client, { protectionGroupId: "g-1", serverIds: ["win-1"] })).rejects.toBeInstanceOf(
      CloudApiError,
    );
  });
});
