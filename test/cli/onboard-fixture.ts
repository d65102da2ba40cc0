/**
 * What the onboard tests share: the sample estate's ids, servers files in a temporary directory, and
 * `sdrs-autoprotect sim --fast` run in process, with the runs, receivers and spawned processes a test
 * started ended after it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect } from "vitest";
import type { WebhookReceiver } from "../../lib/notify/receiver.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import * as z from "../../lib/zod.ts";
import { killSpawned, type Running, type Spawned, simulatorEnv, startCli } from "./helpers.ts";

const estate = loadEstate(SAMPLE_ESTATE_PATH);
export function idOf(name: string): string {
  const server = estate.servers.find((candidate) => candidate.name === name);
  if (server === undefined) throw new Error(`no server ${name} in the sample estate`);
  return server.id;
}

export interface Sim {
  url: string;
  /** The CLI's environment pointing at this simulator, with job checks shortened for its seconds-long jobs. */
  env: Record<string, string>;
  counts(): Promise<Record<string, number>>;
  protectedInstancesOf(serverId: string): Promise<{ id: string; source_server: string }[]>;
  /** The simulator's run, to stop it mid-run (an outage). */
  process: Running;
}

export interface OnboardFixture {
  directory: string;
  /** Writes a file into the temporary directory (a fresh name each call) and returns its path. */
  file(name: string, text: string): string;
  startSim(): Promise<Sim>;
  /** In-process runs to stop, spawned processes to kill and receivers to close after each test. */
  running: Running[];
  spawned: Spawned[];
  receivers: WebhookReceiver[];
}

/** Call at the top of a test file: registers the clean-up after each test and the directory's removal. */
export function useOnboardFixture(prefix: string): OnboardFixture {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const running: Running[] = [];
  const spawned: Spawned[] = [];
  const receivers: WebhookReceiver[] = [];
  afterEach(async () => {
    for (const cli of spawned.splice(0)) killSpawned(cli);
    for (const cli of running.splice(0)) await cli.stop();
    for (const receiver of receivers.splice(0)) await receiver.close();
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  let fileCount = 0;
  const file = (name: string, text: string): string => {
    fileCount += 1;
    const path = join(directory, `${fileCount}-${name}`);
    writeFileSync(path, text);
    return path;
  };

  const startSim = async (): Promise<Sim> => {
    const cli = startCli(["sim", "--fast"]);
    running.push(cli);
    const url = await cli.firstLine;
    const env = simulatorEnv(url, {
      // --fast jobs take 1–5 s: look after 1 s instead of the 60–90 s real SDRS needs.
      SDRS_JOB_FIRST_CHECK_SECONDS: "1",
      SDRS_JOB_RETRY_BASE_SECONDS: "1",
      SDRS_AMBIGUOUS_CHECK_SECONDS: "1",
    });
    const state = z.object({ protectedInstances: z.array(z.object({ id: z.string(), source_server: z.string() })) });
    return {
      url,
      env,
      process: cli,
      counts: async () => z.record(z.string(), z.number()).parse(await (await fetch(`${url}/__sim/counts`)).json()),
      protectedInstancesOf: async (serverId) =>
        state
          .parse(await (await fetch(`${url}/__sim/state`)).json())
          .protectedInstances.filter((instance) => instance.source_server === serverId),
    };
  };

  return { directory, file, startSim, running, spawned, receivers };
}

export async function setFaults(sim: Sim, faults: unknown): Promise<void> {
  const response = await fetch(`${sim.url}/__sim/faults`, {
    method: faults === null ? "DELETE" : "POST",
    ...(faults === null ? {} : { body: JSON.stringify(faults) }),
  });
  expect(response.status).toBe(200);
}

/** Resolves once `condition` holds, polling every 20 ms (the run advances on its own). */
export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const createCalls = (counts: Record<string, number>) =>
  (counts.batchCreateProtectedInstances ?? 0) + (counts.createProtectedInstance ?? 0);
