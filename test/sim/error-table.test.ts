/**
 * Huawei's SDRS error table (lib/sim/sdrs-error-codes.tsv, a copy of the public table) walked: every
 * SDRS code the simulator's source can answer with is in the table, and each is produced here by a
 * request that breaks the rule the table's message describes, answered with the table's HTTP status.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../lib/clock.ts";
import { SDRS_ERROR_TABLE } from "../../lib/sim/api-error.ts";
import { parseEstate } from "../../lib/sim/estate.ts";
import type { Simulator } from "../../lib/sim/server.ts";
import {
  batchCreate,
  type CallResult,
  call,
  errorCodeOf,
  groupId,
  jobIdOf,
  PROJECT,
  path,
  sampleEstate,
  serverId,
  singleCreate,
  startTestSimulator,
} from "./sim-client.ts";

const PG_WEB = groupId("pg-web");
const PG_DB = groupId("pg-db");
const SEED_SUBNET = "a32217fh-3413-c313-6342-3124d3491502";

/** Detached disks for the replication-pair scenarios: seven in the production AZ, one in the DR AZ. */
const FREE_DISKS = Array.from({ length: 7 }, (_, index) => `free-disk-${index}`);
const DR_AZ_DISK = "free-disk-dr-az";
const SHARED_DISK = "shared-disk-untagged";

/** The disk at `index` of a sample-estate server. */
function diskOf(name: string, index = 0): string {
  const disk = sampleEstate.servers.find((server) => server.name === name)?.volumes[index]?.id;
  if (disk === undefined) throw new Error(`sample estate: server ${name} has no disk ${index}`);
  return disk;
}

/**
 * The sample estate plus a DSS pool and a dedicated host in each AZ and a flavor catalogue; for the
 * replication pairs, detached disks, a shared disk on the protected drift-untagged-01 and a pair in
 * `error` on drift-retagged-01's disk.
 */
const estate = parseEstate({
  ...sampleEstate,
  servers: sampleEstate.servers.map((server) =>
    server.id === serverId("drift-untagged-01")
      ? { ...server, volumes: [...server.volumes, { id: SHARED_DISK, bootIndex: -1 }] }
      : server,
  ),
  volumes: [
    ...sampleEstate.volumes,
    ...FREE_DISKS.map((id) => ({ id, az: "eu-de-01" })),
    { id: DR_AZ_DISK, az: "eu-de-02" },
    { id: SHARED_DISK, multiattach: true },
  ],
  replicationPairs: [...sampleEstate.replicationPairs, { volumeId: diskOf("drift-retagged-01"), status: "error" }],
  dedicatedHosts: [...sampleEstate.dedicatedHosts, { id: "deh-prod", az: "eu-de-01" }],
  dssPools: [
    { id: "pool-dr", az: "eu-de-02" },
    { id: "pool-prod", az: "eu-de-01" },
  ],
  flavors: [
    { id: "s6.large.2", azs: ["eu-de-01", "eu-de-02"] },
    { id: "s6.xlarge.2", azs: ["eu-de-01"] },
    { id: "g6.xlarge.4" },
  ],
});

/** SDRS codes written in the simulator's source and in the request rules it applies. */
function codesInSource(): Set<string> {
  const files = [
    ...readdirSync(fileURLToPath(new URL("../../lib/sim/", import.meta.url)))
      .filter((name) => name.endsWith(".ts"))
      .map((name) => new URL(`../../lib/sim/${name}`, import.meta.url)),
    new URL("../../lib/sdrs/schemas.ts", import.meta.url),
  ];
  return new Set(
    files.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/"(SDRS\.\d{4})"/g)].map((match) => match[1] ?? ""),
    ),
  );
}

/** An answer, the code a job ended with, or a replication pair's `failure_detail`. */
type Scenario = (
  sim: Simulator,
  clock: ManualClock,
) => Promise<CallResult | { jobCode: string | undefined } | { failureDetail: string | undefined }>;

const create = (body: unknown) => (sim: Simulator) => call(sim, "POST", path.protectedInstances, { body });
const batch = (body: unknown) => (sim: Simulator) => call(sim, "POST", path.batch, { body });
const web01 = serverId("web-01");
const single = (extra: Record<string, unknown>) => create(singleCreate(web01, PG_WEB, extra));
const group = (extra: Record<string, unknown>) => (sim: Simulator) =>
  call(sim, "POST", path.protectionGroups, {
    body: {
      server_group: {
        name: "pg-new",
        source_availability_zone: "eu-de-01",
        target_availability_zone: "eu-de-02",
        domain_id: "fb4bb8e3-a574-4437-a156-78c916aeea4d",
        source_vpc_id: "a33598f5-aa68-46c6-a3b8-6892d7e5a418",
        ...extra,
      },
    },
  });
/** The code a create's job ends with. */
const jobEnding =
  (body: unknown, target = path.protectedInstances): Scenario =>
  async (sim, clock) => {
    const jobId = jobIdOf(await call(sim, "POST", target, { body }));
    clock.advance(10 * 60_000);
    const job = (await call(sim, "GET", path.job(jobId))).json as { status: string; error_code: string | null };
    return { jobCode: job.status === "FAIL" ? (job.error_code ?? undefined) : undefined };
  };

const replications = `/v1/${PROJECT}/replications`;
const replication = (id: string) => `${replications}/${id}`;
const instanceId = (name: string) =>
  sampleEstate.protectedInstances.find((instance) => instance.name === name)?.id ?? `no instance ${name}`;
const createPair = (group: string, volumeId: string) => (sim: Simulator) =>
  call(sim, "POST", replications, {
    body: { replication: { server_group_id: group, volume_id: volumeId, name: `pair-${volumeId}` } },
  });
const attachPair = (instance: string, pairId: string) => (sim: Simulator) =>
  call(sim, "POST", `${path.protectedInstance(instanceId(instance))}/attachreplication`, {
    body: { replicationAttachment: { replication_id: pairId, device: "/dev/vdc" } },
  });
const detachPair = (instance: string, pairId: string) => (sim: Simulator) =>
  call(sim, "DELETE", `${path.protectedInstance(instanceId(instance))}/detachreplication/${pairId}`);

/** The replication pair of a production disk, as SDRS lists it. */
async function pairOf(
  sim: Simulator,
  group: string,
  volumeId: string,
): Promise<{ id: string; failure_detail?: string }> {
  const listed = (await call(sim, "GET", `${replications}?server_group_id=${group}`)).json as {
    replications: { id: string; volume_ids: string; failure_detail?: string }[];
  };
  const pair = listed.replications.find((candidate) => candidate.volume_ids.split(",")[0] === volumeId);
  if (pair === undefined) throw new Error(`no replication pair for disk ${volumeId} in ${group}`);
  return pair;
}
const withPair =
  (group: string, volumeId: string, request: (pairId: string) => (sim: Simulator) => Promise<CallResult>) =>
  async (sim: Simulator): Promise<CallResult> =>
    request((await pairOf(sim, group, volumeId)).id)(sim);

/** One request per code, breaking the rule the table's message describes. */
const SCENARIOS: Record<string, Scenario> = {
  "SDRS.0013": async (sim) => {
    sim.faults.set({ serverError: { next: 1, status: 500, operations: ["listProtectionGroups"] } });
    return call(sim, "GET", path.protectionGroups);
  },
  "SDRS.0201": create("{not json"),
  "SDRS.0202": single({ name: "my instance" }),
  "SDRS.0203": group({ target_availability_zone: "eu-de-03" }),
  "SDRS.0204": group({ source_vpc_id: "vpc-unknown" }),
  "SDRS.0205": group({ domain_id: "00000000-0000-4000-8000-000000000000" }),
  "SDRS.0207": create(singleCreate(web01, "no-such-group")),
  "SDRS.0208": (sim) => call(sim, "GET", path.protectedInstance("no-such-instance")),
  "SDRS.0210": create(singleCreate("", PG_WEB)),
  "SDRS.0211": createPair(PG_WEB, "no-such-disk"),
  "SDRS.0212": single({ description: "a <b> tag" }),
  "SDRS.0213": detachPair("billing-db-01", "no-such-pair"),
  "SDRS.0214": async (sim) => {
    await createPair(PG_WEB, FREE_DISKS[0] as string)(sim);
    // Deleted while its create job still runs.
    return withPair(
      PG_WEB,
      FREE_DISKS[0] as string,
      (pairId) => (target) => call(target, "DELETE", replication(pairId)),
    )(sim);
  },
  "SDRS.0218": single({ cluster_id: "" }),
  "SDRS.0219": single({ primary_subnet_id: SEED_SUBNET, primary_ip_address: "10.0.0.5" }),
  "SDRS.0221": (sim) => call(sim, "GET", `${path.protectionGroups}?limit=1001`),
  "SDRS.0222": (sim) => call(sim, "GET", `${path.protectedInstances}?offset=-1`),
  "SDRS.0225": create(singleCreate(serverId("archive-01"), PG_WEB)),
  "SDRS.0226": (sim) =>
    call(
      sim,
      "GET",
      `${path.protectedInstances}?protected_instance_ids=${encodeURIComponent(JSON.stringify(Array.from({ length: 31 }, (_, index) => `pi-${index}`)))}`,
    ),
  "SDRS.0227": single({ tenancy: "dedicated", dedicated_host_id: "" }),
  "SDRS.0228": single({ tenancy: "public" }),
  "SDRS.0408": (sim) => call(sim, "GET", path.job("0".repeat(32))),
  "SDRS.1002": (sim) => call(sim, "POST", path.action(PG_WEB), { body: { "start-server-group": {} } }),
  "SDRS.1013": (sim) => call(sim, "GET", path.protectionGroup("no-such-group")),
  "SDRS.1017": (sim) => call(sim, "POST", path.action(PG_DB), { body: { "start-server-group": {} } }),
  "SDRS.1303": create(singleCreate(serverId("web-az2-01"), PG_WEB)),
  "SDRS.1304": create(singleCreate(serverId("dev-web-01"), PG_WEB)),
  "SDRS.1305": create(singleCreate(serverId("billing-db-01"), PG_DB)),
  "SDRS.1306": jobEnding(singleCreate(serverId("win-legacy-01"), PG_WEB)),
  "SDRS.1323": create(singleCreate(web01, groupId("pg-reporting"))),
  "SDRS.1326": create(singleCreate("no-such-server", PG_WEB)),
  "SDRS.1333": create(singleCreate(serverId("broken-01"), PG_WEB)),
  "SDRS.1334": async (sim) => {
    const web02 = (await call(sim, "GET", path.server(serverId("web-02")))).json as {
      server: { addresses: Record<string, { addr: string }[]> };
    };
    const inUse = Object.values(web02.server.addresses)[0]?.[0]?.addr;
    return single({ primary_subnet_id: SEED_SUBNET, primary_ip_address: inUse })(sim);
  },
  "SDRS.1335": single({ primary_subnet_id: "no-such-subnet" }),
  "SDRS.1339": create(singleCreate(serverId("scratch-01"), PG_WEB)),
  "SDRS.1350": async (sim, clock) => {
    sim.faults.set({ failJob: { serverIds: [web01] } });
    return jobEnding(singleCreate(web01, PG_WEB))(sim, clock);
  },
  "SDRS.1353": single({ flavorRef: "x9.nosuch.2" }),
  "SDRS.1356": create(singleCreate(serverId("ml-gpu-01"), PG_WEB)),
  "SDRS.1357": create(singleCreate(serverId("locked-01"), PG_WEB)),
  "SDRS.1358": batch(batchCreate([serverId("legacy-02")], groupId("pg-small"))),
  "SDRS.1359": create(singleCreate(serverId("order-locked-01"), PG_WEB)),
  "SDRS.1360": batch(batchCreate([web01, "no-such-server"], PG_WEB)),
  "SDRS.1361": batch(batchCreate([web01, web01], PG_WEB)),
  "SDRS.1362": batch(
    batchCreate(
      sampleEstate.servers.slice(0, 6).map((server) => server.id),
      PG_WEB,
    ),
  ),
  "SDRS.1366": create(singleCreate(serverId("licensed-01"), PG_WEB)),
  "SDRS.1371": single({ tenancy: "shared", dedicated_host_id: "0bc41598-1b5a-4bd2-872a-82e6abb82e68" }),
  "SDRS.1372": single({ tenancy: "dedicated", dedicated_host_id: "no-such-host" }),
  "SDRS.1373": single({ tenancy: "dedicated", dedicated_host_id: "deh-prod" }),
  "SDRS.1375": create(singleCreate(serverId("ha-node-01"), PG_WEB, { tenancy: "dedicated" })),
  "SDRS.1380": single({ primary_ip_address: "192.168.0.5" }),
  "SDRS.1381": single({ cluster_id: "no-such-pool" }),
  "SDRS.1383": single({ cluster_id: "pool-prod" }),
  "SDRS.1408": create(singleCreate(serverId("file-a-1"), PG_WEB)),
  "SDRS.1601": withPair(PG_DB, diskOf("drift-fault-01", 1), (pairId) => attachPair("drift-fault-01", pairId)),
  "SDRS.1603": withPair(PG_DB, diskOf("billing-db-01"), (pairId) => attachPair("billing-db-01", pairId)),
  "SDRS.1604": withPair(PG_DB, diskOf("drift-disk-01"), (pairId) => detachPair("drift-fault-01", pairId)),
  "SDRS.1605": withPair(PG_DB, diskOf("billing-db-01"), (pairId) => (sim) => call(sim, "DELETE", replication(pairId))),
  "SDRS.1606": async (sim) => ({
    failureDetail: (await pairOf(sim, PG_DB, diskOf("drift-retagged-01"))).failure_detail,
  }),
  "SDRS.1608": (sim) => call(sim, "GET", replication("no-such-pair")),
  "SDRS.1611": withPair(PG_DB, diskOf("billing-db-01"), (pairId) => attachPair("legacy-01", pairId)),
  "SDRS.1801": createPair(PG_WEB, diskOf("web-01")),
  "SDRS.1802": jobEnding(singleCreate(serverId("vault-01"), PG_WEB)),
  "SDRS.1809": createPair(PG_DB, FREE_DISKS[1] as string),
  "SDRS.1810": createPair(PG_WEB, DR_AZ_DISK),
  "SDRS.1811": createPair(PG_WEB, diskOf("billing-db-01")),
  // The disk grew from 50 to 80 GB outside SDRS: 60 GB is more than the pair records but less than the disk.
  "SDRS.1814": withPair(
    PG_DB,
    diskOf("drift-grown-01", 1),
    (pairId) => (sim) =>
      call(sim, "POST", `${replication(pairId)}/action`, { body: { "extend-replication": { new_size: 60 } } }),
  ),
  "SDRS.1818": withPair(
    PG_DB,
    SHARED_DISK,
    (pairId) => (sim) =>
      call(sim, "POST", `${replication(pairId)}/action`, { body: { "extend-replication": { new_size: 100 } } }),
  ),
  "SDRS.1822": withPair(PG_DB, diskOf("drift-untagged-01"), (pairId) => detachPair("drift-untagged-01", pairId)),
  "SDRS.1826": async (sim) => {
    // Pairs made from detached disks stay unattached; the create after the limit is refused.
    let result: CallResult | undefined;
    for (const disk of FREE_DISKS.slice(2)) {
      result = await createPair(PG_WEB, disk)(sim);
      if (result.status !== 200) return result;
    }
    return result as CallResult;
  },
  "SDRS.2203": single({ tags: Array.from({ length: 11 }, (_, index) => ({ key: `k${index}`, value: "v" })) }),
  "SDRS.2204": single({ tags: [{ key: "a=b", value: "v" }] }),
  "SDRS.2205": single({ tags: [{ key: " ", value: "v" }] }),
  "SDRS.2207": single({ tags: [{ key: "k", value: "a|b" }] }),
  "SDRS.2208": single({ tags: [{ key: "k", value: null }] }),
  "SDRS.2209": single({
    tags: [
      { key: "k", value: "1" },
      { key: "k", value: "2" },
    ],
  }),
};

describe("the SDRS error table", () => {
  it("every SDRS code in the simulator's source is in the table, and every one has a scenario here", () => {
    const codes = [...codesInSource()].sort();
    expect(codes.filter((code) => !SDRS_ERROR_TABLE.has(code))).toEqual([]);
    expect(codes).toEqual(Object.keys(SCENARIOS).sort());
  });

  it("the tag, description, IP and dedicated-host rules answer with the specific code, not SDRS.0201", () => {
    for (const code of [
      "SDRS.0212",
      "SDRS.0219",
      "SDRS.1371",
      "SDRS.2203",
      "SDRS.2204",
      "SDRS.2205",
      "SDRS.2207",
      "SDRS.2208",
      "SDRS.2209",
    ]) {
      expect(SCENARIOS[code], code).toBeDefined();
    }
  });

  describe("each code answered with the table's HTTP status", () => {
    let sim: Simulator;
    let clock: ManualClock;
    beforeAll(async () => {
      ({ sim, clock } = await startTestSimulator({ estate }));
    });
    afterAll(() => sim.close());

    it.each(Object.keys(SCENARIOS).sort())("%s", async (code) => {
      const scenario = SCENARIOS[code];
      if (scenario === undefined) throw new Error(`no scenario for ${code}`);
      sim.faults.clear();
      const result = await scenario(sim, clock);
      if ("jobCode" in result) {
        expect(result.jobCode).toBe(code);
        return;
      }
      if ("failureDetail" in result) {
        expect(result.failureDetail).toBe(code);
        return;
      }
      expect({ code: errorCodeOf(result), status: result.status }).toEqual({
        code,
        status: SDRS_ERROR_TABLE.get(code)?.status,
      });
    });
  });
});
