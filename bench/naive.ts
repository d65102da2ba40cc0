/**
 * The naive baseline: what a Terraform user gets with one `huaweicloud_sdrs_protected_instance` resource
 * per tagged server (reference facts §8, terraform-provider-huaweicloud):
 *
 * - no eligibility pre-check: one single create per server, and the API refuses what it refuses;
 * - `WaitForJobSuccess`: sleep 5 s → GET the job → sleep 5 s → evaluate, so a GET 5 s after the create and
 *   every 10 s after that, until SUCCESS, FAIL or the resource's 10-minute create timeout;
 * - on SUCCESS, `GetJobEntity` (a second GET of the job) and the read-back GET of the protected instance;
 * - `terraform apply` works on at most 10 resources at a time (its default `-parallelism=10`).
 *
 * It runs against the same simulator on a ManualClock: a small discrete-event loop jumps the clock to the
 * next due step, so the run is deterministic for a seed.
 */
import { ManualClock } from "../lib/clock.ts";
import { CloudClient } from "../lib/sdrs/client.ts";
import { CloudApiError } from "../lib/sdrs/errors.ts";
import { simulatorCloudConfig } from "../lib/sim/cloud-config.ts";
import type { Estate } from "../lib/sim/estate.ts";
import { type SimulatorOptions, startSimulator } from "../lib/sim/server.ts";
import { BENCH_EPOCH } from "./pipeline-run.ts";

/** terraform-provider-huaweicloud's job wait (golangsdk.WaitFor): GET 5 s after the create, then every 10 s. */
export const TERRAFORM_CADENCE = { firstCheckSeconds: 5, intervalSeconds: 10 } as const;
/** `huaweicloud_sdrs_protected_instance` create timeout (schema.DefaultTimeout(10 * time.Minute)). */
export const TERRAFORM_CREATE_TIMEOUT_SECONDS = 600;
/** `terraform apply -parallelism` default. */
export const TERRAFORM_PARALLELISM = 10;
/** WaitFor sleeps this long after each GET before it looks at the answer. */
const EVALUATE_AFTER_SECONDS = 5;

export interface NaiveServer {
  id: string;
  name: string;
  /** The group the user's resource names; undefined: the tag names no group, so there is no resource. */
  groupId: string | undefined;
}

export type NaiveOutcome =
  | { kind: "protected"; jobId: string; protectedInstanceId: string }
  /** The create call was answered 4xx. */
  | { kind: "refused"; errorCode: string }
  | { kind: "jobFailed"; jobId: string; errorCode: string }
  | { kind: "timedOut"; jobId: string }
  | { kind: "notAttempted" };

export interface NaiveRunOptions {
  estate: Estate;
  servers: readonly NaiveServer[];
  seed: number;
  parallelism?: number;
  /** The simulator's job durations (default its realistic ranges). */
  jobDurations?: SimulatorOptions["jobDurations"];
}

export interface NaiveRunResult {
  outcomes: Record<string, NaiveOutcome>;
  requests: Record<string, number>;
  /** Simulated ms from the start to the last resource that ended protected. */
  lastProtectedAtMs: number;
  /** Simulated ms from the first create to the last resource done. */
  virtualMs: number;
  wallMs: number;
}

/** One resource's create: the next step is due at `at` (epoch ms). */
interface Pending {
  at: number;
  /** Orders steps due at the same instant by when they were scheduled. */
  seq: number;
  server: NaiveServer;
  run: () => Promise<Step>;
}

type Step = { wait: number; run: () => Promise<Step> } | { done: NaiveOutcome };

function errorCodeOf(error: unknown): string {
  if (error instanceof CloudApiError) return error.code;
  throw error;
}

export async function runNaive(options: NaiveRunOptions): Promise<NaiveRunResult> {
  const clock = new ManualClock(BENCH_EPOCH);
  const sim = await startSimulator({
    estate: options.estate,
    clock,
    seed: options.seed,
    ...(options.jobDurations ? { jobDurations: options.jobDurations } : {}),
  });
  const cloud = new CloudClient(simulatorCloudConfig(sim.url), { sleep: async () => {} });
  const parallelism = options.parallelism ?? TERRAFORM_PARALLELISM;
  const seconds = (value: number) => value * 1000;

  /** The resource's create: POST, then the job wait, then the entity read and the read-back. */
  function create(server: NaiveServer, groupId: string): () => Promise<Step> {
    return async () => {
      let jobId: string;
      try {
        ({ jobId } = await cloud.createProtectedInstance({
          server_group_id: groupId,
          server_id: server.id,
          name: server.name,
        }));
      } catch (error) {
        return { done: { kind: "refused", errorCode: errorCodeOf(error) } };
      }
      const submittedAt = clock.now();
      const poll = async (): Promise<Step> => {
        const job = await cloud.getJob(jobId);
        return {
          wait: seconds(EVALUATE_AFTER_SECONDS),
          run: async () => {
            if (job.status === "SUCCESS") {
              const entity = await cloud.getJob(jobId);
              const protectedInstanceId = entity.entities?.protected_instance_id ?? "";
              await cloud.getProtectedInstance(protectedInstanceId);
              return { done: { kind: "protected", jobId, protectedInstanceId } };
            }
            if (job.status === "FAIL")
              return { done: { kind: "jobFailed", jobId, errorCode: job.error_code ?? "(none)" } };
            if (clock.now() - submittedAt >= seconds(TERRAFORM_CREATE_TIMEOUT_SECONDS))
              return { done: { kind: "timedOut", jobId } };
            return { wait: seconds(TERRAFORM_CADENCE.intervalSeconds - EVALUATE_AFTER_SECONDS), run: poll };
          },
        };
      };
      return { wait: seconds(TERRAFORM_CADENCE.firstCheckSeconds), run: poll };
    };
  }

  const outcomes: Record<string, NaiveOutcome> = {};
  const waiting = [...options.servers];
  const pending: Pending[] = [];
  let seq = 0;
  let lastProtectedAtMs = 0;
  const schedule = (server: NaiveServer, at: number, run: () => Promise<Step>) => {
    pending.push({ at, seq: seq++, server, run });
  };
  /** Starts resources until `parallelism` are in flight; resources without a group finish at once. */
  const fill = () => {
    while (pending.length < parallelism) {
      const server = waiting.shift();
      if (server === undefined) return;
      if (server.groupId === undefined) outcomes[server.id] = { kind: "notAttempted" };
      else schedule(server, clock.now(), create(server, server.groupId));
    }
  };

  try {
    const wallStart = performance.now();
    fill();
    while (pending.length > 0) {
      pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = pending.shift();
      if (next === undefined) break;
      if (next.at > clock.now()) clock.set(next.at);
      const step = await next.run();
      if ("done" in step) {
        outcomes[next.server.id] = step.done;
        if (step.done.kind === "protected") lastProtectedAtMs = clock.now() - BENCH_EPOCH;
        fill();
      } else {
        schedule(next.server, clock.now() + step.wait, step.run);
      }
    }
    return {
      outcomes,
      requests: sim.counts(),
      lastProtectedAtMs,
      virtualMs: clock.now() - BENCH_EPOCH,
      wallMs: performance.now() - wallStart,
    };
  } finally {
    await sim.close();
  }
}
