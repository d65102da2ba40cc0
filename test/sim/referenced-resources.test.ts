/**
 * A create that names DR-site resources (subnet, IP, dedicated host, DSS pool, flavor) is accepted only
 * when they exist and fit the group's DR site; the DR-site server is then created with them.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { parseEstate } from "../../lib/sim/estate.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { call, errorCodeOf, jobIdOf, path, singleCreate } from "./sim-client.ts";

const estate = parseEstate({
  activeDomains: [{ id: "d1", name: "dom", localAz: "az1", remoteAz: "az2" }],
  protectionGroups: [{ id: "g1", name: "pg", sourceAz: "az1", targetAz: "az2", vpcId: "vpc1", domainId: "d1" }],
  vpcs: [{ id: "vpc1" }, { id: "vpc2" }],
  subnets: [
    { id: "sub-app", vpcId: "vpc1", cidr: "10.1.0.0/24" },
    { id: "sub-other-vpc", vpcId: "vpc2", cidr: "10.2.0.0/24" },
  ],
  flavors: [{ id: "s6.large.2" }, { id: "s6.xlarge.2", azs: ["az1"] }, { id: "c7.large.2", azs: ["az2"] }],
  dedicatedHosts: [{ id: "deh-dr", az: "az2" }],
  dssPools: [{ id: "pool-dr", az: "az2" }],
  servers: ["s1", "s2", "s3"].map((id, index) => ({
    id,
    name: `web-${index}`,
    az: "az1",
    vpcId: "vpc1",
    subnetId: "sub-app",
    ip: `10.1.0.${10 + index}`,
    flavor: "s6.large.2",
    volumes: [{ id: `v-${id}`, bootIndex: 0 }],
  })),
  volumes: ["s1", "s2", "s3"].map((id) => ({ id: `v-${id}` })),
});

async function withSimulator(
  use: (sim: Awaited<ReturnType<typeof startSimulator>>, clock: ManualClock) => Promise<void>,
) {
  const clock = new ManualClock();
  const sim = await startSimulator({
    estate,
    clock,
    jobDurations: { createProtectedInstance: { minMs: 60_000, maxMs: 60_000 } },
  });
  try {
    await use(sim, clock);
  } finally {
    await sim.close();
  }
}

describe("referenced resources of a create", () => {
  it("accepts existing resources of the DR site and creates the DR-site server with that subnet and IP", async () => {
    await withSimulator(async (sim, clock) => {
      const body = singleCreate("s1", "g1", {
        primary_subnet_id: "sub-app",
        primary_ip_address: "10.1.0.50",
        flavorRef: "c7.large.2",
        tenancy: "dedicated",
        dedicated_host_id: "deh-dr",
        cluster_id: "pool-dr",
      });
      const jobId = jobIdOf(await call(sim, "POST", path.protectedInstances, { body }));
      // The IP is held for the job: a second create asking for it is refused before the job ends.
      const again = await call(sim, "POST", path.protectedInstances, {
        body: singleCreate("s2", "g1", { primary_subnet_id: "sub-app", primary_ip_address: "10.1.0.50" }),
      });
      expect(errorCodeOf(again)).toBe("SDRS.1334");
      clock.advance(120_000);
      const job = (await call(sim, "GET", path.job(jobId))).json as {
        status: string;
        entities: { native_server_id?: string };
      };
      expect(job.status).toBe("SUCCESS");
      const drServer = sim.state.servers().find((server) => server.id === job.entities.native_server_id);
      expect(drServer?.["OS-EXT-AZ:availability_zone"]).toBe("az2");
      expect(drServer?.flavor.id).toBe("c7.large.2");
      expect(Object.values(drServer?.addresses ?? {})[0]?.[0]?.addr).toBe("10.1.0.50");
      expect(drServer?.network_interfaces).toMatchObject([{ subnet_id: "sub-app", ip_addresses: ["10.1.0.50"] }]);
    });
  });

  it.each([
    ["a subnet that does not exist", { primary_subnet_id: "sub-none" }, "SDRS.1335", "subnet sub-none does not exist"],
    ["a subnet of another VPC", { primary_subnet_id: "sub-other-vpc" }, "SDRS.1335", "is in VPC vpc2"],
    [
      "an IP outside the subnet",
      { primary_subnet_id: "sub-app", primary_ip_address: "10.1.1.5" },
      "SDRS.0219",
      "not inside subnet sub-app (10.1.0.0/24)",
    ],
    [
      "an IP a server uses",
      { primary_subnet_id: "sub-app", primary_ip_address: "10.1.0.12" },
      "SDRS.1334",
      "in use by server s3",
    ],
    [
      "a dedicated host that does not exist",
      { tenancy: "dedicated", dedicated_host_id: "deh-none" },
      "SDRS.1372",
      "does not exist",
    ],
    ["a DSS pool that does not exist", { cluster_id: "pool-none" }, "SDRS.1381", "does not exist"],
    ["a flavor that does not exist", { flavorRef: "x9.nosuch.2" }, "SDRS.1353", "no such flavor"],
    [
      "a flavor the DR-site AZ does not offer",
      { flavorRef: "s6.xlarge.2" },
      "SDRS.1353",
      "not offered in the DR-site AZ az2",
    ],
  ])("refuses %s with %s", async (_label, extra, code, text) => {
    await withSimulator(async (sim) => {
      const result = await call(sim, "POST", path.protectedInstances, { body: singleCreate("s1", "g1", extra) });
      expect(result.status).toBe(400);
      expect(result.json).toMatchObject({ error: { code, message: expect.stringContaining(text) } });
    });
  });

  it("a batch's primary_subnet_id is checked too", async () => {
    await withSimulator(async (sim) => {
      const result = await call(sim, "POST", path.batch, {
        body: {
          protected_instances: {
            server_group_id: "g1",
            name_prefix: "pi",
            primary_subnet_id: "sub-other-vpc",
            servers: [{ server_id: "s1" }],
          },
        },
      });
      expect(errorCodeOf(result)).toBe("SDRS.1335");
    });
  });
});
