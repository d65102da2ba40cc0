/**
 * Benchmark 1: API calls to protect an estate, our pipeline vs the naive Terraform-style baseline, both
 * against the simulator with the same estate and seed. Counts come from the simulator (every request it
 * received, by operation), so they are deterministic and independent of machine speed.
 */
import type { Estate } from "../lib/sim/estate.ts";
import { groupForTag, type TaggedServer } from "./estates.ts";
import { type NaiveRunResult, runNaive } from "./naive.ts";
import { type PipelineRunResult, runPipeline } from "./pipeline-run.ts";
import type { ApiCallsResult, ApproachResult, RequestTally } from "./results.ts";

/** Operations that create something (lib/sdrs/client.ts never retries these). */
const CREATE_OPERATIONS: ReadonlySet<string> = new Set([
  "createProtectedInstance",
  "batchCreateProtectedInstances",
  "createProtectionGroup",
  "protectionGroupAction",
]);
const JOB_STATUS_OPERATION = "showJob";

export function tallyRequests(byOperation: Readonly<Record<string, number>>): RequestTally {
  let createCalls = 0;
  let jobStatusCalls = 0;
  let totalRequests = 0;
  for (const [operation, requests] of Object.entries(byOperation)) {
    totalRequests += requests;
    if (CREATE_OPERATIONS.has(operation)) createCalls += requests;
    else if (operation === JOB_STATUS_OPERATION) jobStatusCalls += requests;
  }
  return {
    createCalls,
    jobStatusCalls,
    readCalls: totalRequests - createCalls - jobStatusCalls,
    totalRequests,
    byOperation: sortedByKey(byOperation),
  };
}

/** Keys in order, so two result files diff line by line. */
function sortedByKey(counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function perServer(total: number, servers: number): number {
  return servers === 0 ? 0 : total / servers;
}

export function summarizeOurs(run: PipelineRunResult): ApproachResult {
  const requests = tallyRequests(run.requests);
  const lateRefusalCodes: Record<string, number> = {};
  let protectedNew = 0;
  let adopted = 0;
  let refusedLate = 0;
  let ineligible = 0;
  let unresolved = 0;
  for (const outcome of Object.values(run.servers)) {
    if (outcome.status === "protected") {
      if (outcome.adopted) adopted += 1;
      else protectedNew += 1;
    } else if (outcome.status === "failed") {
      refusedLate += 1;
      increment(lateRefusalCodes, outcome.errorCode ?? "(none)");
    } else if (outcome.status === "ineligible") {
      ineligible += 1;
    } else {
      unresolved += 1;
    }
  }
  return {
    approach: "ours",
    requests,
    jobs: run.jobChecks.jobs,
    serversProtected: protectedNew,
    serversAlreadyProtected: adopted,
    serversRefusedLate: refusedLate,
    serversRefusedBeforeAnyCall: ineligible,
    serversUnknown: unresolved,
    serversNotAttempted: 0,
    lateRefusalCodes: sortedByKey(lateRefusalCodes),
    requestsPerProtectedServer: perServer(requests.totalRequests, protectedNew + adopted),
    simulatedSecondsToLastProtected: run.lastProtectedAtMs / 1000,
    simulatedSecondsToEnd: run.summary.virtualMs / 1000,
    wallMs: run.wallMs,
  };
}

export function summarizeNaive(run: NaiveRunResult): ApproachResult {
  const requests = tallyRequests(run.requests);
  const lateRefusalCodes: Record<string, number> = {};
  let protectedNew = 0;
  let refusedLate = 0;
  let timedOut = 0;
  let notAttempted = 0;
  let jobs = 0;
  for (const outcome of Object.values(run.outcomes)) {
    if ("jobId" in outcome) jobs += 1;
    switch (outcome.kind) {
      case "protected":
        protectedNew += 1;
        break;
      case "refused":
      case "jobFailed":
        refusedLate += 1;
        increment(lateRefusalCodes, outcome.errorCode);
        break;
      case "timedOut":
        timedOut += 1;
        break;
      case "notAttempted":
        notAttempted += 1;
        break;
    }
  }
  return {
    approach: "naive",
    requests,
    jobs,
    serversProtected: protectedNew,
    serversAlreadyProtected: 0,
    serversRefusedLate: refusedLate,
    serversRefusedBeforeAnyCall: 0,
    serversUnknown: timedOut,
    serversNotAttempted: notAttempted,
    lateRefusalCodes: sortedByKey(lateRefusalCodes),
    requestsPerProtectedServer: perServer(requests.totalRequests, protectedNew),
    simulatedSecondsToLastProtected: run.lastProtectedAtMs / 1000,
    simulatedSecondsToEnd: run.virtualMs / 1000,
    wallMs: run.wallMs,
  };
}

/** ours ÷ naive, or null where naive is 0 (no ratio to speak of). */
export function ratioOf(ours: number, naive: number): number | null {
  return naive === 0 ? null : ours / naive;
}

export function compareApproaches(
  estate: string,
  estateServers: number,
  taggedServers: number,
  ours: ApproachResult,
  naive: ApproachResult,
): ApiCallsResult {
  return {
    estate,
    estateServers,
    taggedServers,
    ours,
    naive,
    ratios: {
      createCalls: ratioOf(ours.requests.createCalls, naive.requests.createCalls),
      jobStatusCalls: ratioOf(ours.requests.jobStatusCalls, naive.requests.jobStatusCalls),
      readCalls: ratioOf(ours.requests.readCalls, naive.requests.readCalls),
      totalRequests: ratioOf(ours.requests.totalRequests, naive.requests.totalRequests),
      requestsPerProtectedServer: ratioOf(ours.requestsPerProtectedServer, naive.requestsPerProtectedServer),
    },
  };
}

export interface ApiCallsRun {
  result: ApiCallsResult;
  /** The raw runs, for the polling and end-to-end figures. */
  ours: PipelineRunResult;
  naive: NaiveRunResult;
}

/** Protects `tagged` of `estate` both ways, each against a fresh simulator with the same seed. */
export async function measureApiCalls(
  label: string,
  estate: Estate,
  tagged: readonly TaggedServer[],
  seed: number,
): Promise<ApiCallsRun> {
  const ours = await runPipeline({ estate, serverIds: tagged.map((server) => server.id), seed });
  const naive = await runNaive({
    estate,
    servers: tagged.map((server) => ({
      id: server.id,
      name: server.name,
      groupId: groupForTag(server.target, estate),
    })),
    seed,
  });
  return {
    result: compareApproaches(label, estate.servers.length, tagged.length, summarizeOurs(ours), summarizeNaive(naive)),
    ours,
    naive,
  };
}
