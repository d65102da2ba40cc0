/** A target that names a protection group which does not exist yet, with protection to be enabled. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, serverId, startHarness } from "./harness.ts";

const PG_NEW = {
  name: "pg-new",
  create: {
    sourceAvailabilityZone: "eu-de-01",
    targetAvailabilityZone: "eu-de-02",
    domainId: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
    sourceVpcId: "a33598f5-aa68-46c6-a3b8-6892d7e5a418",
  },
};

describe("a target whose protection group is created on demand", () => {
  let harness: Harness;
  const servers = ["web-01", "web-02"].map((name) => ({ id: serverId(name), tags: { sdrs_protect: "fresh" } }));

  beforeAll(async () => {
    harness = await startHarness({
      targets: { targets: { fresh: { protectionGroup: PG_NEW, enableProtection: true } } },
    });
    for (const server of servers) harness.sim.setServerTags(server.id, server.tags);
    await harness.tagEvents(servers);
    expect((await harness.runtime.runUntilIdle({ maxIterations: 500 })).ended).toBe("idle");
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("creates the group once, though two servers asked for it", () => {
    expect(harness.sim.counts().createProtectionGroup).toBe(1);
    expect(harness.sim.state.protectionGroups().filter((group) => group.name === "pg-new")).toHaveLength(1);
  });

  it("protects both servers in the new group, in one batch call, and enables protection once", () => {
    const group = harness.sim.state.protectionGroups().find((group) => group.name === "pg-new");
    expect(group?.status).toBe("protected");
    const events = harness.receiver.events().map((received) => received.event);
    expect(events.map((event) => event.type).sort()).toEqual([
      "protection_group.protection_enabled",
      "server.protected",
      "server.protected",
    ]);
    for (const event of events) {
      if (event.type === "server.protected")
        expect(event.data).toMatchObject({ target: "fresh", protectionGroupId: group?.id });
      if (event.type === "protection_group.protection_enabled")
        expect(event.data).toMatchObject({ target: "fresh", protectionGroupId: group?.id });
    }
    expect(harness.sim.counts()).toMatchObject({ batchCreateProtectedInstances: 1, protectionGroupAction: 1 });
  });
});
