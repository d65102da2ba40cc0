/**
 * The shape of a benchmark run's results: what `npm run bench -- --json` prints and what
 * bench/results/latest.json holds. Parsed before it is written, so a program can trust the fields.
 */
import * as z from "../lib/zod.ts";

const count = z.int().check(z.nonnegative());
const measure = z.number().check(z.nonnegative());

export const machineInfo = z.object({
  cores: count,
  cpuModel: z.string(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  totalMemoryGiB: measure,
});
export type MachineInfo = z.infer<typeof machineInfo>;

/** Requests the simulator received during one approach's run, grouped. */
export const requestTally = z.object({
  /** POSTs that create something: single and batch protected-instance creates (group creates/actions too). */
  createCalls: count,
  /** GET /v1/{project_id}/jobs/{job_id}. */
  jobStatusCalls: count,
  /** Every other request: ECS/EVS/AS/SDRS reads (and IAM tokens, none with AK/SK). */
  readCalls: count,
  totalRequests: count,
  byOperation: z.record(z.string(), count),
});
export type RequestTally = z.infer<typeof requestTally>;

export const approachResult = z.object({
  approach: z.enum(["ours", "naive"]),
  requests: requestTally,
  /** SDRS jobs created for protected instances. */
  jobs: count,
  /** Servers that ended with a protected instance created in this run. */
  serversProtected: count,
  /** Servers already protected in their group, recognised without a create call (ours only). */
  serversAlreadyProtected: count,
  /** Refused after a create call: the call answered 4xx, or its job ended FAIL. */
  serversRefusedLate: count,
  /** Refused before any create call: our ineligible verdicts (naive: none). */
  serversRefusedBeforeAnyCall: count,
  /** Neither protected nor refused when the run ended (a job still unresolved at the pipeline's timeout). */
  serversUnknown: count,
  /** Tagged, but the tag names no protection group: no resource to write (naive only). */
  serversNotAttempted: count,
  /** SDRS error codes of the late refusals, with how many servers got each. */
  lateRefusalCodes: z.record(z.string(), count),
  requestsPerProtectedServer: measure,
  /** Simulated seconds from the start to the last server protected. */
  simulatedSecondsToLastProtected: measure,
  /** Simulated seconds until the approach had nothing left to do. */
  simulatedSecondsToEnd: measure,
  wallMs: measure,
});
export type ApproachResult = z.infer<typeof approachResult>;

/** ours ÷ naive; null where naive is 0. */
const ratio = z.nullable(z.number().check(z.nonnegative()));

export const apiCallsResult = z.object({
  estate: z.string(),
  estateServers: count,
  taggedServers: count,
  ours: approachResult,
  naive: approachResult,
  ratios: z.object({
    createCalls: ratio,
    jobStatusCalls: ratio,
    readCalls: ratio,
    totalRequests: ratio,
    requestsPerProtectedServer: ratio,
  }),
});
export type ApiCallsResult = z.infer<typeof apiCallsResult>;

export const polledJobKind = z.enum(["single", "batch"]);
export type PolledJobKind = z.infer<typeof polledJobKind>;

export const pollingRow = z.object({
  strategy: z.string(),
  description: z.string(),
  kind: polledJobKind,
  jobs: count,
  meanChecksPerJob: measure,
  /** meanChecksPerJob ÷ that of the Terraform cadence for the same jobs. */
  checksVsTerraform: measure,
  maxChecksPerJob: count,
  meanDetectionDelaySeconds: measure,
  p95DetectionDelaySeconds: measure,
});
export type PollingRow = z.infer<typeof pollingRow>;

export const runtimePollingRow = z.object({
  approach: z.enum(["ours", "naive"]),
  estate: z.string(),
  jobs: count,
  jobStatusCalls: count,
  checksPerJob: measure,
  /** Ours only: from the job records (the naive baseline keeps none). */
  meanDetectionDelaySeconds: z.optional(measure),
});
export type RuntimePollingRow = z.infer<typeof runtimePollingRow>;

export const pollingResult = z.object({
  jobsPerKind: count,
  seed: z.int(),
  rows: z.array(pollingRow),
  /** The same quantities measured in the part-1 runs. */
  measuredInRuns: z.array(runtimePollingRow),
});
export type PollingResult = z.infer<typeof pollingResult>;

export const plannerRow = z.object({
  servers: count,
  sharedDiskClusters: count,
  eligible: count,
  calls: count,
  runs: count,
  medianMs: measure,
  minMs: measure,
  maxMs: measure,
  serversPerSecond: measure,
  plansPerSecond: measure,
});
export type PlannerRow = z.infer<typeof plannerRow>;

export const endToEndRow = z.object({
  estate: z.string(),
  servers: count,
  runs: count,
  wallMsMedian: measure,
  wallMsMin: measure,
  wallMsMax: measure,
  simulatedSeconds: measure,
  simulatedSecondsToLastProtected: measure,
  /** Simulated time ÷ wall time. */
  speedup: measure,
  /** Every run gave the same request counts and outcomes. */
  deterministic: z.boolean(),
});
export type EndToEndRow = z.infer<typeof endToEndRow>;

/** One Lambda bundle after `osls package` (scripts/check-bundles.ts). */
export const bundleRow = z.object({
  bundle: z.string(),
  zipKB: z.number(),
  codeKB: z.number(),
  importMs: z.number(),
  importCpuMs: z.number(),
  handler: z.boolean(),
});

/** One wave run (bench/wave-run.ts) as the scale curve records it. */
export const scaleRow = z.object({
  mode: z.enum(["events", "bulk"]),
  servers: z.number(),
  tagged: z.number(),
  eligible: z.number(),
  outcomes: z.record(z.string(), z.number()),
  ineligibleCodes: z.record(z.string(), z.number()),
  duplicateInstances: z.number(),
  notificationsPerServer: z.object({ min: z.number(), max: z.number() }),
  requests: z.record(z.string(), z.number()),
  totalRequests: z.number(),
  callsPerProtectedServer: z.number(),
  floorRequests: z.number(),
  jobs: z.number(),
  checksPerJobMedian: z.number(),
  checksPerJobMean: z.number(),
  statusRequestsPerJob: z.number(),
  detectionLagMeanSeconds: z.number(),
  detectionLagP95Seconds: z.number(),
  wallMs: z.number(),
  cpuMs: z.number(),
  peakRssMiB: z.number(),
  simulatedSeconds: z.number(),
  ended: z.string(),
  warnings: z.number(),
});
export type ScaleRow = z.infer<typeof scaleRow>;

/** log(cost₂ / cost₁) / log(n₂ / n₁) between two sizes of one mode: 1 = linear. */
export const growthRow = z.object({
  mode: z.enum(["events", "bulk"]),
  from: z.number(),
  to: z.number(),
  wall: z.number(),
  cpu: z.number(),
  requests: z.number(),
});

export const scaleResult = z.object({
  seed: z.number(),
  rows: z.array(scaleRow),
  growth: z.array(growthRow),
  naive: z.optional(
    z.object({
      servers: z.number(),
      protected: z.number(),
      totalRequests: z.number(),
      callsPerProtectedServer: z.number(),
      jobStatusCallsPerJob: z.number(),
    }),
  ),
});
export type ScaleResult = z.infer<typeof scaleResult>;
export type GrowthRow = z.infer<typeof growthRow>;

export const benchResults = z.object({
  schemaVersion: z.literal(1),
  startedAt: z.iso.datetime(),
  durationMs: measure,
  machine: machineInfo,
  seed: z.int(),
  apiCalls: z.array(apiCallsResult),
  /** Absent when the suite was not run (`--only`). */
  polling: z.optional(pollingResult),
  planner: z.optional(z.object({ note: z.string(), rows: z.array(plannerRow) })),
  endToEnd: z.array(endToEndRow),
  /** Absent in results recorded before bundles were measured (bench/results/sample.json). */
  bundles: z.optional(z.object({ note: z.string(), rows: z.array(bundleRow) })),
  /** The scale curve over wave estates (bench/scale.ts). */
  scale: z.optional(scaleResult),
});
export type BenchResults = z.infer<typeof benchResults>;
