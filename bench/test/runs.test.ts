/**
 * The two approaches the benchmark compares, run for real against the SDRS simulator on 127.0.0.1 with a
 * ManualClock: the naive Terraform-style baseline, and our pipeline through the local runtime.
 */
import { describe, expect, it } from "vitest";
import { tallyRequests } from "../api-calls.ts";
import { groupForTag, sampleEstate, scaledEstate, taggedServers } from "../estates.ts";
import { type NaiveServer, runNaive } from "../naive.ts";
import { runPipeline } from "../pipeline-run.ts";

const estate = sampleEstate();
const tagged = taggedServers(estate);

function pick(...names: string[]) {
  return names.map((name) => {
    const server = tagged.find((candidate) => candidate.name === name);
    if (server === undefined) throw new Error(`no tagged server ${name} in the sample estate`);
    return server;
  });
}

describe("the naive baseline", () => {
  const servers: NaiveServer[] = pick("web-01", "web-02", "file-a-1", "analytics-01").map((server) => ({
    id: server.id,
    name: server.name,
    groupId: groupForTag(server.target, estate),
  }));
  /** Every single create's job takes exactly 60 s. */
  const jobDurations = { createProtectedInstance: { minMs: 60_000, maxMs: 60_000 } };

  it("creates each server singly, polls at 5, 15 … 65 s, then reads the job entity and the instance back", async () => {
    const run = await runNaive({ estate, servers, seed: 1, jobDurations });
    const [web01, web02, fileA1, analytics] = servers;
    expect(run.outcomes[web01?.id ?? ""]?.kind).toBe("protected");
    expect(run.outcomes[web02?.id ?? ""]?.kind).toBe("protected");
    // A disk shared with file-a-2: the single create refuses it.
    expect(run.outcomes[fileA1?.id ?? ""]).toEqual({ kind: "refused", errorCode: "SDRS.1408" });
    // The tag names a target no group stands for: there is no resource to write.
    expect(run.outcomes[analytics?.id ?? ""]).toEqual({ kind: "notAttempted" });
    // 7 polls + the GetJobEntity GET per job.
    expect(run.requests).toEqual({ createProtectedInstance: 3, showJob: 16, showProtectedInstance: 2 });
    // The last poll at 65 s, evaluated 5 s later.
    expect({ lastProtectedAtMs: run.lastProtectedAtMs, virtualMs: run.virtualMs }).toEqual({
      lastProtectedAtMs: 70_000,
      virtualMs: 70_000,
    });
  });

  it("works on at most `parallelism` resources at a time", async () => {
    const run = await runNaive({ estate, servers, seed: 1, jobDurations, parallelism: 1 });
    expect({ lastProtectedAtMs: run.lastProtectedAtMs, virtualMs: run.virtualMs }).toEqual({
      lastProtectedAtMs: 140_000,
      virtualMs: 140_000,
    });
    expect(run.requests.showJob).toBe(16);
  });
});

describe("our pipeline run", () => {
  it("protects eligible servers in one batch call and reports the ineligible one without a call", async () => {
    const servers = pick("web-01", "web-02", "dev-web-01");
    const run = await runPipeline({ estate, serverIds: servers.map((server) => server.id), seed: 11 });
    expect(run.summary.ended).toBe("idle");
    expect(servers.map((server) => run.servers[server.id]?.status)).toEqual(["protected", "protected", "ineligible"]);
    const requests = tallyRequests(run.requests);
    expect(run.requests.batchCreateProtectedInstances).toBe(1);
    expect(requests.createCalls).toBe(1);
    expect(run.jobChecks.jobs).toBe(1);
    // Looks at the shared in-flight view cost no request of their own; the job is read only where needed.
    expect(run.jobChecks.checks).toBeGreaterThanOrEqual(1);
    expect(requests.jobStatusCalls).toBeLessThanOrEqual(1);
    expect(run.notifications).toBeGreaterThanOrEqual(3);
    expect(run.warnings).toBe(0);
  });

  it("gives the same requests and outcomes for the same seed", async () => {
    const serverIds = pick("web-01", "web-03", "file-a-1", "file-a-2", "vault-01").map((server) => server.id);
    const first = await runPipeline({ estate, serverIds, seed: 5 });
    const second = await runPipeline({ estate, serverIds, seed: 5 });
    expect(second.requests).toEqual(first.requests);
    expect(second.servers).toEqual(first.servers);
    expect(second.summary.virtualMs).toBe(first.summary.virtualMs);
  });

  it("protects every clone of the scaled estate with the fewest batch calls", async () => {
    const { estate: scaled, cloneIds } = scaledEstate(estate, 26);
    const run = await runPipeline({ estate: scaled, serverIds: cloneIds, seed: 11 });
    expect(Object.values(run.servers).every((outcome) => outcome.status === "protected")).toBe(true);
    expect(tallyRequests(run.requests).createCalls).toBe(Math.ceil(26 / 5));
  });
});
