/**
 * A tiny signed `fetch` for the simulator tests: AK/SK-signs with lib/sdrs/signer.ts exactly as a
 * client must (host, x-project-id, x-sdk-date, content-type signed; the exact body bytes hashed).
 * Deliberately independent of the project's cloud client.
 */

import { ManualClock } from "../../lib/clock.ts";
import { jobAccepted } from "../../lib/sdrs/schemas.ts";
import { signRequest } from "../../lib/sdrs/signer.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { type Estate, loadEstate, SAMPLE_ESTATE_PATH } from "../../lib/sim/estate.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../../lib/sim/server.ts";

export const PROJECT = SIMULATOR_DEFAULTS.projectId;

export interface CallOptions {
  /** A JSON value, or a raw string sent as is. */
  body?: unknown;
  accessKey?: string;
  secretKey?: string;
  /** Signing time; default now. */
  date?: Date;
  /** Use an IAM token instead of AK/SK. */
  token?: string;
  /** Send no credentials at all. */
  anonymous?: boolean;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  headers: Headers;
  json: unknown;
}

export async function call(
  sim: Pick<Simulator, "url">,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const url = new URL(path, sim.url);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Project-Id": PROJECT,
    ...options.headers,
  };
  let sent: Record<string, string> = { ...headers };
  if (options.token !== undefined) {
    sent["X-Auth-Token"] = options.token;
  } else if (options.anonymous !== true) {
    const signed = signRequest(
      { method, url, headers: { ...headers, Host: url.host }, body },
      {
        accessKey: options.accessKey ?? SIMULATOR_DEFAULTS.accessKey,
        secretKey: options.secretKey ?? SIMULATOR_DEFAULTS.secretKey,
      },
      options.date ?? new Date(),
    );
    sent = { ...sent, ...signed };
  }
  const response = await fetch(url, { method, headers: sent, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

export const sampleEstate: Estate = loadEstate(SAMPLE_ESTATE_PATH);

/** Sample-estate servers by name (DR-site copies share their production server's name: first wins). */
export function serverId(name: string, estate: Estate = sampleEstate): string {
  const server = estate.servers.find((candidate) => candidate.name === name);
  if (server === undefined) throw new Error(`no server named ${name} in the estate`);
  return server.id;
}

export function groupId(name: string, estate: Estate = sampleEstate): string {
  const group = estate.protectionGroups.find((candidate) => candidate.name === name);
  if (group === undefined) throw new Error(`no protection group named ${name} in the estate`);
  return group.id;
}

/** A simulator on the sample estate with a ManualClock and fixed job durations, for deterministic tests. */
export async function startTestSimulator(
  overrides: Partial<SimulatorOptions> = {},
): Promise<{ sim: Simulator; clock: ManualClock }> {
  const clock = new ManualClock();
  const sim = await startSimulator({
    estate: sampleEstate,
    clock,
    seed: 7,
    jobDurations: {
      createProtectedInstance: { minMs: 60_000, maxMs: 60_000 },
      batchCreateProtectedInstances: { minMs: 60_000, maxMs: 120_000 },
      createProtectionGroup: { minMs: 30_000, maxMs: 30_000 },
      enableProtection: { minMs: 40_000, maxMs: 40_000 },
    },
    ...overrides,
  });
  return { sim, clock };
}

export const path = {
  protectedInstances: `/v1/${PROJECT}/protected-instances`,
  batch: `/v1/${PROJECT}/protected-instances/batch`,
  protectionGroups: `/v1/${PROJECT}/server-groups`,
  job: (jobId: string) => `/v1/${PROJECT}/jobs/${jobId}`,
  protectionGroup: (id: string) => `/v1/${PROJECT}/server-groups/${id}`,
  action: (id: string) => `/v1/${PROJECT}/server-groups/${id}/action`,
  protectedInstance: (id: string) => `/v1/${PROJECT}/protected-instances/${id}`,
  server: (id: string) => `/v1/${PROJECT}/cloudservers/${id}`,
  servers: `/v1/${PROJECT}/cloudservers/detail`,
  serverTags: (id: string) => `/v1/${PROJECT}/cloudservers/${id}/tags`,
  keypairs: `/v2.1/${PROJECT}/os-keypairs`,
  volumes: `/v2/${PROJECT}/cloudvolumes/detail`,
  activeDomains: `/v1/${PROJECT}/active-domains`,
  scalingGroups: `/autoscaling-api/v1/${PROJECT}/scaling_group`,
  scalingGroupInstances: (id: string) => `/autoscaling-api/v1/${PROJECT}/scaling_group_instance/${id}/list`,
  tokens: "/v3/auth/tokens",
};

/** The job id of an accepted create (fails the test with the answer when it was not accepted). */
export function jobIdOf(result: CallResult): string {
  const parsed = jobAccepted.safeParse(result.json);
  if (!parsed.success) throw new Error(`expected {job_id}, got ${result.status} ${JSON.stringify(result.json)}`);
  return parsed.data.job_id;
}

/** `{"error": {"code"}}`, `{"itemNotFound": {"code"}}` or the gateway's `{"error_code"}`. */
export function errorCodeOf(result: CallResult): string | undefined {
  const body = result.json;
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.error_code === "string") return record.error_code;
  for (const envelope of ["error", "badrequest", "itemNotFound"]) {
    const inner = record[envelope];
    if (typeof inner === "object" && inner !== null && typeof (inner as Record<string, unknown>).code === "string") {
      return (inner as Record<string, string>).code;
    }
  }
  return undefined;
}

export function singleCreate(serverIdValue: string, group: string, extra: Record<string, unknown> = {}) {
  return { protected_instance: { server_group_id: group, server_id: serverIdValue, name: "pi-test", ...extra } };
}

export function batchCreate(serverIds: string[], group: string, extra: Record<string, unknown> = {}) {
  return {
    protected_instances: {
      name_prefix: "batch",
      server_group_id: group,
      servers: serverIds.map((id) => ({ server_id: id })),
      ...extra,
    },
  };
}
