import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activeDomainList,
  ecsServerList,
  ecsServerResponse,
  ecsServerTags,
  evsVolumeList,
  keypairList,
  protectedInstanceList,
  protectionGroupList,
  protectionGroupResponse,
  scalingGroupInstanceList,
  scalingGroupList,
} from "../../lib/sdrs/schemas.ts";
import type { Simulator } from "../../lib/sim/server.ts";
import { call, errorCodeOf, groupId, path, sampleEstate, serverId, startTestSimulator } from "./sim-client.ts";

const PG_DB = groupId("pg-db");
const PG_SMALL = groupId("pg-small");
const encodeIds = (ids: string[]) => encodeURIComponent(JSON.stringify(ids));

describe("read endpoints", () => {
  let sim: Simulator;
  beforeAll(async () => {
    ({ sim } = await startTestSimulator());
  });
  afterAll(() => sim.close());

  describe("protection groups", () => {
    it("renders a group as the API does, with the production AZ given by priority_station", async () => {
      const result = await call(sim, "GET", path.protectionGroup(PG_DB));
      const group = protectionGroupResponse.parse(result.json).server_group;
      expect(group).toMatchObject({
        id: PG_DB,
        name: "pg-db",
        status: "protected",
        priority_station: "target",
        source_availability_zone: "eu-de-01",
        target_availability_zone: "eu-de-02",
        domain_id: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
        protected_instance_num: 8,
        dr_type: "migration",
        server_type: "ECS",
      });
      expect(group.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    });

    it("answers a missing group with 400 SDRS.1013", async () => {
      const result = await call(sim, "GET", path.protectionGroup("nope"));
      expect(result.status).toBe(400);
      expect(result.json).toEqual({ error: { code: "SDRS.1013", message: "protection group nope does not exist" } });
    });

    it("lists with filters and paging; count is the number matching", async () => {
      const all = protectionGroupList.parse((await call(sim, "GET", path.protectionGroups)).json);
      expect(all.server_groups.map((group) => group.name)).toEqual([
        "pg-web",
        "pg-db",
        "pg-reporting",
        "pg-broken",
        "pg-erp",
        "pg-small",
      ]);
      const available = protectionGroupList.parse(
        (await call(sim, "GET", `${path.protectionGroups}?status=available`)).json,
      );
      expect(available.server_groups.map((group) => group.name)).toEqual(["pg-web", "pg-small"]);
      const page = protectionGroupList.parse(
        (await call(sim, "GET", `${path.protectionGroups}?limit=2&offset=1`)).json,
      );
      expect(page).toMatchObject({ count: 6 });
      expect(page.server_groups.map((group) => group.name)).toEqual(["pg-db", "pg-reporting"]);
      const byName = protectionGroupList.parse((await call(sim, "GET", `${path.protectionGroups}?name=small`)).json);
      expect(byName.server_groups.map((group) => group.id)).toEqual([PG_SMALL]);
      const byAz = protectionGroupList.parse(
        (await call(sim, "GET", `${path.protectionGroups}?availability_zone=eu-de-02`)).json,
      );
      expect(byAz.server_groups.map((group) => group.id)).toEqual([PG_DB]);
    });

    it.each([
      ["limit=1001", "SDRS.0221"],
      ["limit=-1", "SDRS.0221"],
      ["limit=ten", "SDRS.0221"],
      ["offset=-1", "SDRS.0222"],
    ])("rejects %s with 400 %s", async (query, code) => {
      const result = await call(sim, "GET", `${path.protectionGroups}?${query}`);
      expect(result.status).toBe(400);
      expect(errorCodeOf(result)).toBe(code);
    });
  });

  describe("protected instances", () => {
    it("lists by server_group_id, by a URL-encoded server_group_ids array, and by protected_instance_ids", async () => {
      const ofDb = protectedInstanceList.parse(
        (await call(sim, "GET", `${path.protectedInstances}?server_group_id=${PG_DB}`)).json,
      );
      expect(ofDb.protected_instances.map((instance) => [instance.name, instance.status])).toEqual([
        ["billing-db-01", "protected"],
        ["crm-db-01", "creating"],
        // The coverage drift cases (docs/coverage.md).
        ["drift-disk-01", "protected"],
        ["drift-fault-01", "protected"],
        ["drift-invalid-01", "protected"],
        ["drift-grown-01", "protected"],
        ["drift-untagged-01", "protected"],
        ["drift-retagged-01", "protected"],
      ]);
      const both = protectedInstanceList.parse(
        (await call(sim, "GET", `${path.protectedInstances}?server_group_ids=${encodeIds([PG_DB, PG_SMALL])}`)).json,
      );
      expect(both.count).toBe(9);
      const singleQuoted = encodeURIComponent(`['${PG_SMALL}']`);
      const small = protectedInstanceList.parse(
        (await call(sim, "GET", `${path.protectedInstances}?server_group_ids=${singleQuoted}`)).json,
      );
      expect(small.protected_instances.map((instance) => instance.name)).toEqual(["legacy-01"]);
      const legacyId = small.protected_instances[0]?.id ?? "";
      const byId = protectedInstanceList.parse(
        (await call(sim, "GET", `${path.protectedInstances}?protected_instance_ids=${encodeIds([legacyId])}`)).json,
      );
      expect(byId.protected_instances.map((instance) => instance.id)).toEqual([legacyId]);
      const byStatus = protectedInstanceList.parse(
        (await call(sim, "GET", `${path.protectedInstances}?status=creating`)).json,
      );
      expect(byStatus.protected_instances.map((instance) => instance.name)).toEqual(["crm-db-01"]);
      const page = protectedInstanceList.parse(
        (await call(sim, "GET", `${path.protectedInstances}?limit=1&offset=2`)).json,
      );
      expect(page.protected_instances.map((instance) => instance.name)).toEqual(["legacy-01"]);
      expect(page.count).toBe(10);
    });

    it("renders source_server, target_server and replication attachments", async () => {
      const ofDb = protectedInstanceList.parse(
        (await call(sim, "GET", `${path.protectedInstances}?server_group_id=${PG_DB}`)).json,
      );
      const billing = ofDb.protected_instances[0];
      expect(billing).toMatchObject({
        source_server: serverId("billing-db-01"),
        target_server: sampleEstate.servers.filter((server) => server.name === "billing-db-01")[1]?.id,
        priority_station: "target",
      });
      expect(billing?.attachment).toEqual([{ replication: expect.any(String), device: "/dev/vda" }]);
    });

    it("rejects more than 30 ids with 400 SDRS.0226", async () => {
      const ids = Array.from({ length: 31 }, (_, index) => `id-${index}`);
      const result = await call(sim, "GET", `${path.protectedInstances}?server_group_ids=${encodeIds(ids)}`);
      expect(result.status).toBe(400);
      expect(errorCodeOf(result)).toBe("SDRS.0226");
      expect(
        errorCodeOf(await call(sim, "GET", `${path.protectedInstances}?protected_instance_ids=${encodeIds(ids)}`)),
      ).toBe("SDRS.0226");
    });

    it("answers a missing protected instance with 400 SDRS.0208 in the itemNotFound envelope", async () => {
      const result = await call(sim, "GET", path.protectedInstance("nope"));
      expect(result.status).toBe(400);
      expect(result.json).toEqual({
        itemNotFound: { code: "SDRS.0208", message: "protected instance nope does not exist" },
      });
    });
  });

  it("lists active-active domains", async () => {
    const domains = activeDomainList.parse((await call(sim, "GET", path.activeDomains)).json).domains;
    expect(domains[0]).toMatchObject({
      id: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
      local_replication_cluster: { availability_zone: "eu-de-01" },
      remote_replication_cluster: { availability_zone: "eu-de-02" },
      sold_out: false,
    });
  });

  describe("ECS", () => {
    it("renders a server with tags as key=value, VPC, AZ, flavor, disks and scheduler hints", async () => {
      const server = ecsServerResponse.parse((await call(sim, "GET", path.server(serverId("web-01")))).json).server;
      expect(server).toMatchObject({
        name: "web-01",
        status: "ACTIVE",
        locked: false,
        key_name: "kp-linux-ops",
        tags: ["sdrs_protect=web", "app=shop", "env=prod"],
        flavor: { id: "s6.large.2", name: "s6.large.2", vcpus: "2", ram: "4096" },
        metadata: { vpc_id: sampleEstate.vpcs[0]?.id, os_type: "Linux" },
        "OS-EXT-AZ:availability_zone": "eu-de-01",
        "os:scheduler_hints": {},
      });
      expect(server["os-extended-volumes:volumes_attached"]).toEqual([
        { id: expect.any(String), bootIndex: "0", device: "/dev/vda", delete_on_termination: "true" },
      ]);
    });

    it("renders frozen, locked, DeH and ECS-group servers in the documented fields", async () => {
      const show = async (name: string) =>
        ecsServerResponse.parse((await call(sim, "GET", path.server(serverId(name)))).json).server;
      expect((await show("arrears-01")).metadata.EcmResStatus).toBe("freeze");
      expect(await show("order-locked-01")).toMatchObject({ locked: true, metadata: { lockSource: "ORDER" } });
      expect((await show("licensed-01"))["os:scheduler_hints"]).toMatchObject({
        tenancy: ["dedicated"],
        dedicated_host_id: [expect.any(String)],
      });
      expect((await show("ha-node-01"))["os:scheduler_hints"]).toEqual({ group: [expect.any(String)] });
      expect(await show("finance-01")).toMatchObject({
        enterprise_project_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(
        (await show("scratch-01"))["os-extended-volumes:volumes_attached"].map((volume) => volume.bootIndex),
      ).toEqual(["-1"]);
    });

    it("answers a missing server with 404 Ecs.0114", async () => {
      const result = await call(sim, "GET", path.server("abc"));
      expect(result.status).toBe(404);
      expect(result.json).toEqual({ error: { code: "Ecs.0114", message: "Instance[abc] could not be found." } });
    });

    it("lists 25 per page by default; offset is a 1-based page number", async () => {
      const first = ecsServerList.parse((await call(sim, "GET", path.servers)).json);
      expect(first.count).toBe(sampleEstate.servers.length);
      expect(first.servers).toHaveLength(25);
      const pageZero = ecsServerList.parse((await call(sim, "GET", `${path.servers}?offset=0`)).json);
      expect(pageZero.servers.map((server) => server.id)).toEqual(first.servers.map((server) => server.id));
      const third = ecsServerList.parse((await call(sim, "GET", `${path.servers}?offset=3`)).json);
      expect(third.servers.map((server) => server.id)).toEqual(
        sampleEstate.servers.slice(50).map((server) => server.id),
      );
      const big = ecsServerList.parse((await call(sim, "GET", `${path.servers}?limit=1000`)).json);
      expect(big.servers).toHaveLength(sampleEstate.servers.length);
      expect((await call(sim, "GET", `${path.servers}?limit=1001`)).status).toBe(400);
    });

    it("filters by tags: key=value, or key alone", async () => {
      const db = ecsServerList.parse(
        (await call(sim, "GET", `${path.servers}?limit=1000&tags=${encodeURIComponent("sdrs_protect=db")}`)).json,
      );
      const expectedDb = sampleEstate.servers
        .filter((server) => server.tags.sdrs_protect === "db")
        .map((server) => server.id);
      expect(db.servers.map((server) => server.id)).toEqual(expectedDb);
      const anyTarget = ecsServerList.parse(
        (await call(sim, "GET", `${path.servers}?limit=1000&tags=sdrs_protect`)).json,
      );
      expect(anyTarget.count).toBe(sampleEstate.servers.filter((server) => "sdrs_protect" in server.tags).length);
    });

    it("reads a server's tags as {key, value} pairs", async () => {
      const tags = ecsServerTags.parse((await call(sim, "GET", path.serverTags(serverId("web-01")))).json);
      expect(tags.tags).toEqual([
        { key: "sdrs_protect", value: "web" },
        { key: "app", value: "shop" },
        { key: "env", value: "prod" },
      ]);
      expect((await call(sim, "GET", path.serverTags("abc"))).status).toBe(404);
    });

    it("lists key pairs", async () => {
      const keypairs = keypairList.parse((await call(sim, "GET", path.keypairs)).json);
      expect(keypairs.keypairs.map((entry) => entry.keypair.name)).toEqual(["kp-linux-ops", "kp-windows-ops"]);
    });
  });

  describe("EVS", () => {
    it("lists a server's disks with multiattach and attachments to every server sharing them", async () => {
      const volumes = evsVolumeList
        .parse((await call(sim, "GET", `${path.volumes}?server_id=${serverId("file-a-1")}`)).json)
        .volumes.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
      expect(volumes.map((volume) => [volume.name, volume.multiattach, volume.bootable])).toEqual([
        ["file-a-1-sys", false, "true"],
        ["file-a-shared", true, "false"],
      ]);
      expect(volumes[1]?.attachments.map((attachment) => attachment.server_id)).toEqual([
        serverId("file-a-1"),
        serverId("file-a-2"),
      ]);
    });

    it("filters shared disks and marks encrypted and frozen ones in metadata", async () => {
      const shared = evsVolumeList.parse((await call(sim, "GET", `${path.volumes}?multiattach=true`)).json).volumes;
      expect(shared.map((volume) => volume.name)).toEqual([
        "file-a-shared",
        "cache-b-shared",
        "ora-c-shared",
        "hpc-d-shared",
        "nfs-e-shared",
      ]);
      expect(shared.find((volume) => volume.name === "hpc-d-shared")?.attachments).toHaveLength(6);
      const vault = evsVolumeList.parse(
        (await call(sim, "GET", `${path.volumes}?server_id=${serverId("vault-01")}`)).json,
      ).volumes;
      expect(vault[1]?.metadata).toEqual({ __system__encrypted: "1" });
      const archive = evsVolumeList.parse(
        (await call(sim, "GET", `${path.volumes}?server_id=${serverId("archive-01")}`)).json,
      ).volumes;
      expect(archive[1]?.metadata).toEqual({ __system__frozen: "true" });
    });

    it("pages with limit and offset", async () => {
      const page = evsVolumeList.parse((await call(sim, "GET", `${path.volumes}?limit=2&offset=1`)).json);
      expect(page.volumes.map((volume) => volume.id)).toEqual(
        sampleEstate.volumes.slice(1, 3).map((volume) => volume.id),
      );
      // The estate's volumes, plus the DR-site disks created for protected servers that list none, less a deleted one.
      expect(page.count).toBe(sim.state.volumes().length);
      expect(page.count).toBeGreaterThan(sampleEstate.volumes.length);
    });
  });

  describe("Auto Scaling", () => {
    it("lists scaling groups and their member servers", async () => {
      const groups = scalingGroupList.parse((await call(sim, "GET", path.scalingGroups)).json);
      expect(groups.scaling_groups.map((group) => group.scaling_group_name)).toEqual(["as-shop-frontend"]);
      const id = groups.scaling_groups[0]?.scaling_group_id ?? "";
      const members = scalingGroupInstanceList.parse((await call(sim, "GET", path.scalingGroupInstances(id))).json);
      expect(members.scaling_group_instances).toEqual([
        expect.objectContaining({ instance_id: serverId("shop-as-01"), life_cycle_state: "INSERVICE" }),
      ]);
      expect((await call(sim, "GET", path.scalingGroupInstances("nope"))).status).toBe(404);
    });
  });
});
