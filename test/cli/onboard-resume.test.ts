/**
 * `sdrs-autoprotect onboard` killed or interrupted mid-run, then the same command again: one protected
 * instance per server, nothing created twice, the state kept. The interrupted runs are spawned; the
 * simulator (`sim --fast`) and the runs that resume are in process (test/cli/helpers.ts).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { onboardResultSchema } from "../../lib/cli/report/requests.ts";
import { runCli, spawnCli } from "./helpers.ts";
import { createCalls, idOf, setFaults, until, useOnboardFixture } from "./onboard-fixture.ts";

const { directory, file, startSim, spawned } = useOnboardFixture("sdrs-onboard-resume-test-");

// Spawned, because what is tested is a process that dies (SIGKILL) or gets a real SIGINT mid-run: in
// process, the interrupted run would go on in the background, next to the run that resumes its state file.
describe("sdrs-autoprotect onboard killed or interrupted, then run again (spawned; the simulator and the second run in process)", () => {
  it("resumes a run killed while its create call was in flight: one protected instance per server, no second create, no SDRS.1305", async () => {
    const sim = await startSim();
    const servers = ["intranet-01", "intranet-02", "web-03"].map(idOf);
    const json = file(
      "servers.json",
      JSON.stringify({
        servers: [servers[0], { serverId: servers[1] }, { serverId: servers[2], flavorRef: "s6.large.2" }],
      }),
    );
    const state = join(directory, "killed.sqlite");
    const args = ["onboard", "--target", "web", "--file", json, "--state", state, "--json"];
    // Every answer takes 0.8 s: the run is killed after the simulator took the create call and before it answered.
    await setFaults(sim, { latencyMs: 800 });
    const killed = spawnCli(args, sim.env);
    spawned.push(killed);
    await until(async () => createCalls(await sim.counts()) > 0, "the first create call", 30_000);
    killed.child.kill("SIGKILL");
    expect((await killed.finished).signal).toBe("SIGKILL");
    await setFaults(sim, null);

    const resumed = await runCli(args, sim.env);
    expect(resumed.stderr).toMatch(
      /Resuming onboarding request [0-9a-f-]{36} \(the same target and servers as before\): 3 servers for target web; \d+ messages? of the interrupted run released, 3 servers picked up again/,
    );
    expect(resumed.code).toBe(0);
    const result = onboardResultSchema.parse(JSON.parse(resumed.stdout));
    expect(result.summary).toEqual({ servers: 3, protected: 3, failed: 0, ineligible: 0, unknown: 0, notFinished: 0 });
    expect(result.servers.some((server) => server.errorCode === "SDRS.1305")).toBe(false);
    for (const serverId of servers) {
      const instances = await sim.protectedInstancesOf(serverId);
      expect(instances).toHaveLength(1);
      expect(result.servers.find((server) => server.serverId === serverId)?.protectedInstanceId).toBe(instances[0]?.id);
    }
    expect(createCalls(await sim.counts())).toBe(1);
  });

  it("stops on Ctrl+C with exit 130, keeps the state, and the same command finishes the work", async () => {
    const sim = await startSim();
    const csv = file("one.csv", `${idOf("web-04")}\n`);
    const state = join(directory, "interrupted.sqlite");
    const args = ["onboard", "--target", "web", "--file", csv, "--state", state];
    const interrupted = spawnCli(args, sim.env);
    spawned.push(interrupted);
    await until(async () => createCalls(await sim.counts()) > 0, "the create call", 30_000);
    interrupted.child.kill("SIGINT");
    const stopped = await interrupted.finished;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain("sdrs-autoprotect: interrupted (SIGINT)");
    expect(stopped.stderr).toContain(`state kept in ${state}: run the same command again to resume`);

    const finished = await runCli(args, sim.env);
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain("1 server: 1 protected, 0 failed, 0 ineligible, 0 unknown");
    expect(await sim.protectedInstancesOf(idOf("web-04"))).toHaveLength(1);
    expect(createCalls(await sim.counts())).toBe(1);
  });
});
