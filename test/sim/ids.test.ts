/**
 * Simulator ids never collide: a DR-site server (or any other new resource) never gets the id of a server,
 * volume or group of the estate, even when the seeded id stream would draw one.
 */
import { afterEach, describe, expect, it } from "vitest";
import { job } from "../../lib/sdrs/schemas.ts";
import type { Simulator } from "../../lib/sim/server.ts";
import {
  call,
  groupId,
  jobIdOf,
  path,
  sampleEstate,
  serverId,
  singleCreate,
  startTestSimulator,
} from "./sim-client.ts";

const PG_WEB = groupId("pg-web");

async function drServerIdOf(sim: Simulator, clock: { advance(ms: number): void }): Promise<string> {
  const jobId = jobIdOf(
    await call(sim, "POST", path.protectedInstances, { body: singleCreate(serverId("web-01"), PG_WEB) }),
  );
  clock.advance(600_000);
  return job.parse((await call(sim, "GET", path.job(jobId))).json).entities?.native_server_id ?? "";
}

describe("simulator ids", () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it("gives a DR-site server a fresh id even when the seed would draw an estate server's id", async () => {
    const first = await startTestSimulator({ seed: 21 });
    sim = first.sim;
    const drawn = await drServerIdOf(first.sim, first.clock);
    expect(drawn).toMatch(/^[0-9a-f-]{36}$/);
    await first.sim.close();

    // The same seed and calls, with an estate server that already has the id the stream draws.
    const template = sampleEstate.servers.find((server) => server.name === "web-02");
    if (!template) throw new Error("no web-02 in the sample estate");
    const estate = {
      ...sampleEstate,
      servers: [...sampleEstate.servers, { ...structuredClone(template), id: drawn, name: "taken-id", tags: {} }],
    };
    const second = await startTestSimulator({ seed: 21, estate });
    sim = second.sim;
    const fresh = await drServerIdOf(second.sim, second.clock);
    expect(fresh).not.toBe(drawn);
    expect(estate.servers.map((server) => server.id)).not.toContain(fresh);
  });
});
