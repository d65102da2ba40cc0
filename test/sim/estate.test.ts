import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EstateError, loadEstate, parseEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";

const minimal = {
  activeDomains: [{ id: "d1", name: "dom", localAz: "az1", remoteAz: "az2" }],
  protectionGroups: [{ id: "g1", name: "pg", sourceAz: "az1", targetAz: "az2", vpcId: "vpc1", domainId: "d1" }],
  servers: [
    { id: "s1", name: "web", az: "az1", vpcId: "vpc1", flavor: "s6.large.2", volumes: [{ id: "v1", bootIndex: 0 }] },
  ],
  volumes: [{ id: "v1" }],
};

function issuesOf(value: unknown): string[] {
  try {
    parseEstate(value, "test");
  } catch (error) {
    if (error instanceof EstateError) return error.issues;
    throw error;
  }
  return [];
}

describe("estate format", () => {
  it("fills defaults for what a person leaves out", () => {
    const estate = parseEstate(minimal);
    expect(estate.servers[0]).toMatchObject({
      status: "ACTIVE",
      osType: "Linux",
      locked: false,
      frozen: false,
      tags: {},
    });
    expect(estate.volumes[0]).toMatchObject({
      size: 40,
      multiattach: false,
      encrypted: false,
      frozen: false,
      serviceType: "EVS",
    });
    expect(estate.protectionGroups[0]).toMatchObject({ status: "available", priorityStation: "source" });
    expect(estate.region).toBe("eu-de");
  });

  it.each([
    [
      "a server listing an undefined volume",
      { ...minimal, servers: [{ ...minimal.servers[0], volumes: [{ id: "v9" }] }] },
      'servers[0] (web).volumes[0].id: volume "v9" is not defined in volumes',
    ],
    [
      "a volume on two servers without multiattach",
      { ...minimal, servers: [...minimal.servers, { ...minimal.servers[0], id: "s2", name: "web-2" }] },
      "volumes[0] (v1).multiattach: attached to 2 servers (s1, s2) but multiattach is false",
    ],
    [
      "a protected instance in an undefined group",
      { ...minimal, protectedInstances: [{ id: "p1", name: "pi", groupId: "g9", sourceServerId: "s1" }] },
      'protectedInstances[0] (pi).groupId: protection group "g9" is not defined in protectionGroups',
    ],
    [
      "a protected instance whose target server is undefined",
      {
        ...minimal,
        protectedInstances: [{ id: "p1", name: "pi", groupId: "g1", sourceServerId: "s1", targetServerId: "s9" }],
      },
      'protectedInstances[0] (pi).targetServerId: server "s9" is not defined in servers',
    ],
    [
      "two protected instances on one server",
      {
        ...minimal,
        protectedInstances: [
          { id: "p1", name: "pi-1", groupId: "g1", sourceServerId: "s1" },
          { id: "p2", name: "pi-2", groupId: "g1", sourceServerId: "s1" },
        ],
      },
      'protectedInstances[1] (pi-2).sourceServerId: server "s1" is already used by protected instance p1',
    ],
    [
      "a group in an undefined domain",
      { ...minimal, protectionGroups: [{ ...minimal.protectionGroups[0], domainId: "d9" }] },
      'protectionGroups[0] (pg).domainId: active-active domain "d9" is not defined in activeDomains',
    ],
    [
      "a scaling group with an undefined member",
      { ...minimal, scalingGroups: [{ id: "as1", name: "as", serverIds: ["s9"] }] },
      'scalingGroups[0] (as).serverIds[0]: server "s9" is not defined in servers',
    ],
    [
      "a duplicate server id",
      { ...minimal, servers: [...minimal.servers, { ...minimal.servers[0], name: "twin", volumes: [] }] },
      'servers[1] (twin).id: duplicate id "s1"',
    ],
    [
      "a dedicated host without tenancy dedicated",
      { ...minimal, servers: [{ ...minimal.servers[0], dedicatedHostId: "deh" }] },
      "servers[0] (web).dedicatedHostId: is allowed only when tenancy is dedicated",
    ],
    [
      "a shared disk attached to servers in different AZs",
      {
        ...minimal,
        servers: [
          { ...minimal.servers[0], volumes: [{ id: "v1", bootIndex: 0 }, { id: "shared" }] },
          { id: "s2", name: "db", az: "az2", vpcId: "vpc1", flavor: "s6.large.2", volumes: [{ id: "shared" }] },
        ],
        volumes: [{ id: "v1" }, { id: "shared", multiattach: true }],
      },
      "volumes[1] (shared): attached to servers in different AZs (s1 in az1, s2 in az2): EVS attaches a disk only to servers in its AZ",
    ],
    [
      "a disk attached to a server in another AZ than the disk's",
      { ...minimal, volumes: [{ id: "v1", az: "az2" }] },
      'servers[0] (web).volumes[0].id: volume "v1" is in AZ az2, the server in AZ az1: EVS attaches a disk only to servers in its AZ',
    ],
    [
      "a protected instance whose production server does not exist",
      { ...minimal, protectedInstances: [{ id: "p1", name: "pi", groupId: "g1", sourceServerId: "s9" }] },
      'protectedInstances[0] (pi).sourceServerId: server "s9" is not defined in servers',
    ],
    [
      "a duplicate volume id",
      { ...minimal, volumes: [{ id: "v1" }, { id: "v1", name: "again" }] },
      'volumes[1] (again).id: duplicate id "v1"',
    ],
    [
      "a duplicate protected instance id",
      {
        ...minimal,
        servers: [...minimal.servers, { ...minimal.servers[0], id: "s2", name: "web-2", volumes: [] }],
        protectedInstances: [
          { id: "p1", name: "pi-1", groupId: "g1", sourceServerId: "s1" },
          { id: "p1", name: "pi-2", groupId: "g1", sourceServerId: "s2" },
        ],
      },
      'protectedInstances[1] (pi-2).id: duplicate id "p1"',
    ],
    [
      "a server in a subnet that is not defined",
      { ...minimal, servers: [{ ...minimal.servers[0], subnetId: "sub9" }] },
      'servers[0] (web).subnetId: subnet "sub9" is not defined in subnets',
    ],
    [
      "a server whose subnet is in another VPC",
      {
        ...minimal,
        subnets: [{ id: "sub1", vpcId: "vpc2", cidr: "10.0.0.0/24" }],
        servers: [{ ...minimal.servers[0], subnetId: "sub1" }],
      },
      'servers[0] (web).subnetId: subnet "sub1" is in VPC "vpc2", the server in VPC "vpc1"',
    ],
    [
      "a server IP outside its subnet",
      {
        ...minimal,
        subnets: [{ id: "sub1", vpcId: "vpc1", cidr: "10.0.0.0/24" }],
        servers: [{ ...minimal.servers[0], subnetId: "sub1", ip: "10.0.1.5" }],
      },
      'servers[0] (web).ip: 10.0.1.5 is not inside subnet "sub1" (10.0.0.0/24)',
    ],
    [
      "two servers with one IP in a VPC",
      {
        ...minimal,
        servers: [
          { ...minimal.servers[0], ip: "192.168.0.9" },
          { ...minimal.servers[0], id: "s2", name: "web-2", ip: "192.168.0.9", volumes: [] },
        ],
      },
      'servers[1] (web-2).ip: 192.168.0.9 is already the IP of server s1 in VPC "vpc1"',
    ],
    [
      "a server in an undefined security group",
      { ...minimal, servers: [{ ...minimal.servers[0], securityGroupIds: ["sg9"] }] },
      'servers[0] (web).securityGroupIds[0]: security group "sg9" is not defined in securityGroups',
    ],
    [
      "a server booting from an image not in images",
      { ...minimal, images: [{ id: "img1", name: "Ubuntu" }], servers: [{ ...minimal.servers[0], imageId: "img9" }] },
      'servers[0] (web).imageId: image "img9" is not defined in images',
    ],
    [
      "a disk in an undefined DSS pool",
      { ...minimal, volumes: [{ id: "v1", dssPoolId: "pool9" }] },
      'volumes[0] (v1).dssPoolId: DSS pool "pool9" is not defined in dssPools',
    ],
    [
      "an unknown server status",
      { ...minimal, servers: [{ ...minimal.servers[0], status: "RUNNING" }] },
      expect.stringMatching(/^servers\.0\.status: /),
    ],
  ])("rejects %s, naming the entity and field", (_label, estate, issue) => {
    expect(issuesOf(estate)).toContainEqual(issue);
  });

  it("loadEstate reports a file that is not JSON with ESTATE_INVALID", () => {
    const file = join(mkdtempSync(join(tmpdir(), "estate-")), "broken.json");
    writeFileSync(file, "{ servers: ");
    expect(() => loadEstate(file)).toThrow(expect.objectContaining({ code: "ESTATE_INVALID" }));
  });
});

describe("the sample estate", () => {
  const estate = loadEstate(SAMPLE_ESTATE_PATH);
  const caseOf = (note: string | undefined) => /case=(\S+)/.exec(note ?? "")?.[1];
  const cases = estate.servers.map((server) => caseOf(server._note));

  it("parses, with dozens of servers", () => {
    expect(estate.servers.length).toBeGreaterThanOrEqual(40);
  });

  it("covers every eligibility case of the seeds and the reference checklist", () => {
    for (const required of [
      "plain",
      "shutoff",
      "shared-disk-cluster-2",
      "shared-disk-cluster-3",
      "shared-disk-cluster-6",
      "shared-disk-untagged-peer",
      "other-vpc",
      "other-az",
      "other-az-priority-target",
      "already-protected",
      "dr-site-target",
      "instance-still-creating",
      "status-error",
      "status-build",
      "status-suspended",
      "locked",
      "locked-by-order",
      "frozen-server",
      "flavor-gpu",
      "flavor-fpga",
      "flavor-c6",
      "flavor-kunpeng",
      "flavor-large-memory",
      "flavor-disk-intensive",
      "encrypted-disk",
      "frozen-volume",
      "no-system-disk",
      "windows-keypair-missing",
      "windows-keypair-exists",
      "auto-scaling-member",
      "enterprise-project",
      "dedicated-host",
      "ecs-group-member",
      "untagged",
      "raw-group-id",
      "unknown-target",
      "group-full",
    ]) {
      expect(cases, required).toContain(required);
    }
  });

  it("has about 18 plainly eligible tagged servers and the five groups of the brief", () => {
    const plainlyEligible = estate.servers.filter(
      (server) =>
        server.tags.sdrs_protect !== undefined &&
        /case=(plain|shutoff|raw-group-id|windows-keypair-exists|shared-disk-cluster-[23])\b/.test(server._note ?? ""),
    );
    expect(plainlyEligible.length).toBeGreaterThanOrEqual(18);
    expect(estate.protectionGroups.map((group) => [group.name, group.status, group.priorityStation])).toEqual([
      ["pg-web", "available", "source"],
      ["pg-db", "protected", "target"],
      ["pg-reporting", "creating", "source"],
      ["pg-broken", "error", "source"],
      ["pg-erp", "failed-over", "source"],
      ["pg-small", "available", "source"],
    ]);
  });
});
