/**
 * Detection over real peers on 127.0.0.1: the simulator (ManualClock), a Standard Webhooks receiver and
 * the local runtime. A disk attached through ECS to a protected server is reported by one reconcile or
 * by its CTS trace, notified once; its removal is notified as restored; safe repairs run when asked.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { parseTargetsConfig } from "../../lib/config/targets.ts";
import { nextCoverageRecord } from "../../lib/coverage/detect.ts";
import { coverageOf } from "../../lib/coverage/verdict.ts";
import type { NotificationEvent } from "../../lib/notify/events.ts";
import { generateWebhookSecret, startWebhookReceiver, type WebhookReceiver } from "../../lib/notify/receiver.ts";
import { type LocalRuntime, startLocalRuntime } from "../../lib/runtime/local.ts";
import { CloudClient } from "../../lib/sdrs/client.ts";
import type { EcsServer } from "../../lib/sdrs/schemas.ts";
import { simulatorCloudConfig } from "../../lib/sim/cloud-config.ts";
import { type EstateInput, parseEstate } from "../../lib/sim/estate.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";

function estate(groupStatus: "protected" | "available"): EstateInput {
  return {
    servers: [
      {
        id: "5e000000-0000-4000-8000-000000000001",
        name: "db-01",
        az: "az-1",
        vpcId: "vpc-1",
        flavor: "s6.large.2",
        tags: { sdrs_protect: "db" },
        volumes: [{ id: "v-sys", bootIndex: 0 }, { id: "v-data" }],
      },
      { id: "s-1-dr", name: "db-01", status: "SHUTOFF", az: "az-2", vpcId: "vpc-1", flavor: "s6.large.2" },
    ],
    volumes: [{ id: "v-sys" }, { id: "v-data" }, { id: "7e000000-0000-4000-8000-000000000003", size: 100, az: "az-1" }],
    activeDomains: [{ id: "d-1", name: "domain", localAz: "az-1", remoteAz: "az-2" }],
    protectionGroups: [
      {
        id: "g-1",
        name: "pg-db",
        status: groupStatus,
        sourceAz: "az-1",
        targetAz: "az-2",
        vpcId: "vpc-1",
        domainId: "d-1",
      },
    ],
    protectedInstances: [
      {
        id: "pi-1",
        name: "db-01",
        groupId: "g-1",
        sourceServerId: "5e000000-0000-4000-8000-000000000001",
        targetServerId: "s-1-dr",
        status: groupStatus === "protected" ? "protected" : "available",
      },
    ],
  };
}

/** A CTS trace of ECS attachVolume, as forwarded into EventBridge. */
function attachVolumeTrace(traceId: string, serverId: string, volumeId: string): unknown {
  return {
    version: "0",
    id: `eb-${traceId}`,
    "detail-type": "CTS trace",
    source: "huaweicloud.cts",
    account: "000000000000",
    time: "2026-01-05T10:00:00Z",
    region: "eu-de",
    resources: [],
    detail: {
      trace_id: traceId,
      trace_name: "attachVolume",
      trace_rating: "normal",
      service_type: "ECS",
      resource_type: "ecs",
      resource_id: serverId,
      request: JSON.stringify({ volumeAttachment: { volumeId } }),
    },
  };
}

interface Peers {
  clock: ManualClock;
  sim: Simulator;
  receiver: WebhookReceiver;
  runtime: LocalRuntime;
  client: CloudClient;
}

let peers: Peers | undefined;

async function start(groupStatus: "protected" | "available", coverage: "report" | "repair" = "report"): Promise<Peers> {
  const clock = new ManualClock(Date.UTC(2026, 0, 5));
  const sim = await startSimulator({ estate: parseEstate(estate(groupStatus)), clock });
  const secret = generateWebhookSecret();
  const receiver = await startWebhookReceiver({ secret });
  const runtime = await startLocalRuntime({
    database: ":memory:",
    cloudConfig: simulatorCloudConfig(sim.url),
    targets: parseTargetsConfig({
      targets: { db: { protectionGroup: { id: "g-1" }, coverage } },
      webhooks: [{ id: "local", url: receiver.url, secret: { env: "SDRS_WEBHOOK_SECRET" } }],
    }),
    clock,
    env: { SDRS_WEBHOOK_SECRET: secret },
    notifySchedule: [1, 5, 30],
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    cloudClient: { sleep: async () => {} },
  });
  peers = { clock, sim, receiver, runtime, client: new CloudClient(simulatorCloudConfig(sim.url)) };
  return peers;
}

afterEach(async () => {
  if (peers === undefined) return;
  await peers.runtime.close();
  await peers.receiver.close();
  await peers.sim.close();
  peers = undefined;
});

function coverageEvents(receiver: WebhookReceiver): NotificationEvent[] {
  return receiver
    .events()
    .map(({ event }) => event as NotificationEvent)
    .filter((event) => event.type.startsWith("server.coverage_"));
}

async function settleJob(p: Peers, jobId: string): Promise<void> {
  p.clock.advance(10 * 60_000);
  expect((await p.client.getJob(jobId)).status).toBe("SUCCESS");
}

describe("coverage detection", () => {
  it("reports a disk attached through ECS within one reconcile, notifies it once, and notifies its removal as restored", async () => {
    const p = await start("protected");
    expect((await p.runtime.reconcile()).coverage).toEqual({
      servers: 1,
      gaps: 0,
      degraded: 0,
      restored: 0,
      repairs: [],
    });

    await settleJob(
      p,
      (
        await p.client.attachServerVolume(
          "5e000000-0000-4000-8000-000000000001",
          "7e000000-0000-4000-8000-000000000003",
        )
      ).jobId,
    );
    expect((await p.runtime.reconcile()).coverage).toMatchObject({ servers: 1, gaps: 1, degraded: 1 });
    await p.runtime.runUntilIdle();
    expect((await p.runtime.reconcile()).coverage).toMatchObject({ servers: 1, gaps: 1, degraded: 0 });
    await p.runtime.runUntilIdle();

    const [degraded, ...rest] = coverageEvents(p.receiver);
    expect(rest).toEqual([]);
    expect(degraded).toMatchObject({
      type: "server.coverage_degraded",
      data: {
        serverId: "5e000000-0000-4000-8000-000000000001",
        target: "db",
        state: "partially",
        disksAttached: 3,
        disksReplicated: 2,
        change: 1,
        previousCodes: [],
      },
    });
    expect(degraded?.type === "server.coverage_degraded" ? degraded.data.gaps : []).toEqual([
      expect.objectContaining({
        code: "COVERAGE_DISK_UNREPLICATED",
        volumeId: "7e000000-0000-4000-8000-000000000003",
        device: "/dev/vdc",
        sizeGb: 100,
      }),
    ]);

    await settleJob(
      p,
      (
        await p.client.detachServerVolume(
          "5e000000-0000-4000-8000-000000000001",
          "7e000000-0000-4000-8000-000000000003",
        )
      ).jobId,
    );
    expect((await p.runtime.reconcile()).coverage).toMatchObject({ gaps: 0, restored: 1 });
    await p.runtime.runUntilIdle();
    expect(
      coverageEvents(p.receiver).map((event) => [
        event.type,
        event.type.startsWith("server.coverage_") ? (event.data as { change: number }).change : 0,
      ]),
    ).toEqual([
      ["server.coverage_degraded", 1],
      ["server.coverage_restored", 2],
    ]);
  });

  it("re-checks the server of an ECS attachVolume CTS trace (and only once for a repeated trace)", async () => {
    const p = await start("protected");
    await p.runtime.reconcile();
    await settleJob(
      p,
      (
        await p.client.attachServerVolume(
          "5e000000-0000-4000-8000-000000000001",
          "7e000000-0000-4000-8000-000000000003",
        )
      ).jobId,
    );
    const first = await p.runtime.inventoryEvent(
      attachVolumeTrace("t-1", "5e000000-0000-4000-8000-000000000001", "7e000000-0000-4000-8000-000000000003"),
    );
    expect(first).toMatchObject({ status: "rechecked", coverage: { servers: 1, degraded: 1 } });
    expect(
      await p.runtime.inventoryEvent(
        attachVolumeTrace("t-1", "5e000000-0000-4000-8000-000000000001", "7e000000-0000-4000-8000-000000000003"),
      ),
    ).toMatchObject({ status: "duplicate" });
    await p.runtime.runUntilIdle();
    expect(coverageEvents(p.receiver).map((event) => event.type)).toEqual(["server.coverage_degraded"]);
  });

  it("re-checks through a pair fault: a drift switch, then reconcile names the pair with its fault_level", async () => {
    const p = await start("protected");
    await p.runtime.reconcile();
    const response = await fetch(`${p.sim.url}/__sim/drift`, {
      method: "POST",
      body: JSON.stringify({ action: "pair-fault", volumeId: "v-data", faultLevel: "5" }),
    });
    expect(response.status).toBe(200);
    await p.runtime.reconcile();
    await p.runtime.runUntilIdle();
    const [event] = coverageEvents(p.receiver);
    expect(event?.type === "server.coverage_degraded" ? event.data.gaps : []).toEqual([
      expect.objectContaining({ code: "COVERAGE_PAIR_FAULT", faultLevel: "5", volumeId: "v-data" }),
    ]);
  });

  it("only reports a group never started under coverage: report, and enables protection under coverage: repair", async () => {
    const reported = await start("available");
    expect((await reported.runtime.reconcile()).coverage).toMatchObject({ degraded: 1, repairs: [] });
    await reported.runtime.close();
    await reported.receiver.close();
    await reported.sim.close();
    peers = undefined;

    const p = await start("available", "repair");
    const first = await p.runtime.reconcile();
    expect(first.coverage).toMatchObject({
      degraded: 1,
      repairs: [
        {
          kind: "enable-protection",
          serverId: "5e000000-0000-4000-8000-000000000001",
          resourceId: "g-1",
          jobId: expect.any(String),
        },
      ],
    });
    p.clock.advance(10 * 60_000);
    expect((await p.runtime.reconcile()).coverage).toMatchObject({ gaps: 0, restored: 1, repairs: [] });
  });
});

describe("nextCoverageRecord", () => {
  const server = {
    id: "5e000000-0000-4000-8000-000000000001",
    name: "db-01",
    "os-extended-volumes:volumes_attached": [{ id: "v-1", device: "/dev/vda" }],
  } as unknown as EcsServer;
  const covered = coverageOf({
    server,
    target: "db",
    expectedGroupId: "g-1",
    instance: {
      id: "pi-1",
      server_group_id: "g-1",
      status: "protected",
      source_server: "5e000000-0000-4000-8000-000000000001",
      attachment: [{ replication: "p-1", device: "/dev/vda" }],
    } as never,
    group: { id: "g-1", name: "pg", status: "protected" } as never,
    groupPairs: [{ id: "p-1", status: "protected", volume_ids: "v-1,v-1-dr", server_group_id: "g-1", attachment: [] }],
    volumeSizes: new Map(),
  });
  const uncovered = {
    ...covered,
    gaps: [
      {
        code: "COVERAGE_PAIR_FAULT" as const,
        message: "m",
        remedy: "r",
        repair: "manual" as const,
        volumeId: "v-1",
        faultLevel: "2",
      },
    ],
  };
  const now = "2026-01-05T10:00:00.000Z";

  it("remembers a covered server silently, counts a change, and writes nothing while the verdict stays the same", () => {
    const first = nextCoverageRecord(undefined, covered, now);
    expect(first).toMatchObject({ change: 0, notified: 0, fingerprint: "" });
    expect(first?.pendingEvent).toBeUndefined();
    const degraded = nextCoverageRecord(first, uncovered, now);
    expect(degraded).toMatchObject({
      change: 1,
      notified: 0,
      codes: ["COVERAGE_PAIR_FAULT"],
      pendingEvent: { type: "server.coverage_degraded" },
    });
    expect(nextCoverageRecord(degraded, uncovered, now)).toBeUndefined();
    // After a crash before `notified` was set, the pending event stays until a later sweep sends it.
    expect(degraded?.notified).toBeLessThan(degraded?.change ?? 0);
  });
});
