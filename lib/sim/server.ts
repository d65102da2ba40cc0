/**
 * The SDRS simulator: a local stand-in for Huawei Cloud / OTC SDRS, ECS, EVS, IAM (tokens) and Auto
 * Scaling reads on one base URL, over node:http. Requests are routed and counted by the operation names
 * of lib/sdrs/operations.ts, authenticated like the API gateway, validated with the zod schemas of
 * lib/sdrs/schemas.ts, and answered with the codes and shapes the real services use (README, "The SDRS simulator").
 *
 * A loopback control plane under /__sim (no auth) exposes counts, faults, state and server tags.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { type Clock, systemClock } from "../clock.ts";
import { matchOperation, type OperationName } from "../sdrs/operations.ts";
import {
  DEFAULT_BATCH_LIMIT,
  type EcsServer,
  type EvsVolume,
  type Job,
  type ProtectedInstance,
  type ProtectionGroup,
} from "../sdrs/schemas.ts";
import { type ApiError, gatewayError, isApiError, sdrsError, serviceError } from "./api-error.ts";
import { SIMULATOR_DEFAULTS } from "./defaults.ts";
import type { Estate } from "./estate.ts";
import { CREATE_OPERATIONS, type FaultController, Faults, faultSettingsSchema } from "./faults.ts";
import { Gateway, type SimulatorCredentials } from "./gateway-auth.ts";
import { seededRandom } from "./random.ts";
import * as reads from "./reads.ts";
import { serversAttachedTo } from "./indexes.ts";
import { renderJob, renderProtectedInstance, renderProtectionGroup, renderServer, renderVolume } from "./render.ts";
import { DEFAULT_JOB_DURATIONS, type JobDurations, SimulatedProject } from "./world.ts";
import { readBoundedBody } from "../http/body.ts";

export type { FaultController, FaultSettings } from "./faults.ts";
export type { SimulatorCredentials } from "./gateway-auth.ts";

export interface SimulatorOptions {
  estate: Estate;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Jobs progress by this clock (a ManualClock in tests). Default: system time. */
  clock?: Clock;
  /**
   * The API gateway's wall clock, for X-Sdk-Date skew and token expiry. Default: system time — never the
   * job clock, so an accelerated run still checks signatures against real time.
   */
  gatewayClock?: Clock;
  /** Accepted AK/SK, project id, IAM user/password/domain; defaults from SIMULATOR_DEFAULTS. */
  credentials?: Partial<SimulatorCredentials>;
  /** Uniform ranges, drawn with `seed`. Defaults: single 60–180 s, batch 90–300 s, group 20–40 s, enable 30–90 s. */
  jobDurations?: Partial<Record<keyof JobDurations, { minMs: number; maxMs: number }>>;
  seed?: number;
  /** Servers per batch create; default 5 (SDRS.1362 above it). */
  batchLimit?: number;
  /** Access log, one line per request (method, path, status, operation, duration): no headers, no bodies. */
  logger?: (line: string) => void;
}

/** Read-only views for tests, rendered as the API renders them (jobs settled to the clock first). */
export interface SimulatorState {
  protectedInstances(): ProtectedInstance[];
  jobs(): Job[];
  servers(): EcsServer[];
  protectionGroups(): ProtectionGroup[];
  volumes(): EvsVolume[];
}

export interface Simulator {
  /** "http://127.0.0.1:PORT": SDRS, ECS, EVS, IAM (/v3/auth/tokens) and AS on one base URL. */
  url: string;
  faults: FaultController;
  /** Requests received per operation name (plus "unknown" for unmatched paths); only non-zero entries. */
  counts(): Record<string, number>;
  resetCounts(): void;
  state: SimulatorState;
  /** Test/local control: replace a server's tags (what PUT /__sim/servers/{id}/tags does). */
  setServerTags(serverId: string, tags: Record<string, string>): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** AK/SK-signed request bodies may be up to 12 MB (reference §7.2). */
const MAX_BODY_BYTES = 12 * 1024 * 1024;

const SERVER_ERROR_BODIES: Record<500 | 502 | 503 | 504, (requestId: string) => ApiError> = {
  500: () => serviceError(500, "SDRS.0013", "Internal error (simulated fault)"),
  502: () => gatewayError(502, "APIGW.0201", "Bad gateway: the backend service is unavailable (simulated fault)"),
  503: () => gatewayError(503, "APIGW.0201", "Service unavailable (simulated fault)"),
  504: () => gatewayError(504, "APIGW.0201", "Backend timeout (simulated fault)"),
};

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return readBoundedBody(request, MAX_BODY_BYTES);
}

/** The body as a JSON object, or SDRS.0201 (not JSON, or not an object). */
function jsonObject(body: Buffer): Record<string, unknown> | ApiError {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return sdrsError("SDRS.0201", "(body): the request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return sdrsError("SDRS.0201", "(body): the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

const serverTagsBody = z.record(z.string(), z.string());

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const clock = options.clock ?? systemClock;
  const gatewayClock = options.gatewayClock ?? systemClock;
  const seed = options.seed ?? 1;
  const faults = new Faults(seededRandom(seed + 2));
  const project = new SimulatedProject(options.estate, {
    projectId: options.credentials?.projectId,
    userName: options.credentials?.userName,
    random: { ids: seededRandom(seed), durations: seededRandom(seed + 1) },
    faults,
    jobDurations: { ...DEFAULT_JOB_DURATIONS, ...options.jobDurations },
    batchLimit: options.batchLimit ?? DEFAULT_BATCH_LIMIT,
    now: clock.now(),
  });
  const world = project.world;
  const credentials: SimulatorCredentials = {
    ...SIMULATOR_DEFAULTS,
    projectName: options.estate.region,
    ...Object.fromEntries(Object.entries(options.credentials ?? {}).filter(([, value]) => value !== undefined)),
  };
  const gateway = new Gateway(credentials, gatewayClock);
  const startedAt = clock.now();
  /** The simulator's URL once it listens (EVS `links` of volumes read through `state`). */
  let publicUrl = "";
  let counts: Record<string, number> = {};

  const settledNow = () => {
    const now = clock.now();
    project.settle(now);
    return now;
  };

  const state: SimulatorState = {
    protectedInstances: () => {
      const now = settledNow();
      return [...world.instances.values()].map((instance) => renderProtectedInstance(world, instance, now));
    },
    jobs: () => {
      const now = settledNow();
      return [...world.jobs.values()].map((job) => renderJob(job, now));
    },
    servers: () => {
      settledNow();
      return [...world.servers.values()].map((server) => renderServer(world, server));
    },
    protectionGroups: () => {
      settledNow();
      return [...world.groups.values()].map((group) => renderProtectionGroup(world, group));
    },
    volumes: () => {
      settledNow();
      return [...world.volumes.values()].map((volume) => renderVolume(world, volume, serversAttachedTo(world, volume.id), startedAt, publicUrl));
    },
  };

  const fromApi = (answer: reads.Answer | ApiError): Reply => (isApiError(answer) ? { status: answer.status, body: answer.body } : answer);

  const created = (status: number, result: { jobId: string } | ApiError): Reply =>
    isApiError(result) ? { status: result.status, body: result.body } : { status, body: { job_id: result.jobId } };

  function dispatch(name: OperationName, params: Record<string, string>, url: URL, body: Buffer): Reply {
    const query = url.searchParams;
    const now = settledNow();
    const param = (key: string) => params[key] ?? "";
    const withJson = (use: (json: Record<string, unknown>) => Reply): Reply => {
      const json = jsonObject(body);
      return isApiError(json) ? { status: json.status, body: json.body } : use(json);
    };
    switch (name) {
      case "createProtectedInstance":
        return withJson((json) => created(200, project.createProtectedInstance(json, now)));
      case "batchCreateProtectedInstances":
        return withJson((json) => created(202, project.batchCreateProtectedInstances(json, now)));
      case "createProtectionGroup":
        return withJson((json) => created(200, project.createProtectionGroup(json, now)));
      case "protectionGroupAction":
        return withJson((json) => created(200, project.protectionGroupAction(param("server_group_id"), json, now)));
      case "listProtectedInstances":
        return fromApi(reads.listProtectedInstances(world, query, now));
      case "showProtectedInstance":
        return fromApi(reads.showProtectedInstance(world, param("protected_instance_id"), now));
      case "listProtectionGroups":
        return fromApi(reads.listProtectionGroups(world, query));
      case "showProtectionGroup":
        return fromApi(reads.showProtectionGroup(world, param("server_group_id")));
      case "showJob":
        return fromApi(reads.showJob(world, param("job_id"), now));
      case "listActiveDomains":
        return fromApi(reads.listActiveDomains(world));
      case "showServer":
        return fromApi(reads.showServer(world, param("server_id")));
      case "listServersDetails":
        return fromApi(reads.listServersDetails(world, query));
      case "showServerTags":
        return fromApi(reads.showServerTags(world, param("server_id")));
      case "listKeypairs":
        return fromApi(reads.listKeypairs(world));
      case "listVolumes":
        return fromApi(reads.listVolumes(world, url, startedAt));
      case "listScalingGroups":
        return fromApi(reads.listScalingGroups(world, query));
      case "listScalingGroupInstances":
        return fromApi(reads.listScalingGroupInstances(world, param("scaling_group_id"), query));
      case "createToken": {
        let json: unknown;
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch {
          json = undefined;
        }
        const issued = gateway.issueToken(json);
        if (isApiError(issued)) return { status: issued.status, body: issued.body };
        return { status: 201, body: issued.body, headers: { "X-Subject-Token": issued.token } };
      }
    }
  }

  /** The cloud API: route, count, fault, authenticate, serve. "drop" = destroy the socket unanswered. */
  async function serveApi(request: IncomingMessage, url: URL, body: Buffer): Promise<Reply | "drop"> {
    const method = request.method ?? "GET";
    const operation = matchOperation(method, url.pathname);
    const name = operation?.name ?? "unknown";
    counts[name] = (counts[name] ?? 0) + 1;
    const latency = faults.latencyMs();
    if (latency > 0) await sleep(latency);
    if (operation === undefined) {
      const error = gatewayError(404, "APIGW.0101", "The API does not exist or has not been published in the environment");
      return { status: error.status, body: error.body };
    }
    if (operation.name !== "createToken") {
      const denied = gateway.authenticate({ method, url, headers: request.headers, body });
      if (denied !== undefined) return { status: denied.status, body: denied.body };
      const projectId = operation.params.project_id;
      if (projectId !== undefined && projectId !== gateway.projectId) {
        // The simulator's choice for a path naming another project than the credentials' (uncertain).
        const error = gatewayError(403, "APIGW.0302", `The IAM or ACL authentication failed: project ${projectId} in the path is not the project of the credentials`);
        return { status: error.status, body: error.body };
      }
    }
    const throttled = faults.throttle(operation.name, gatewayClock.now());
    if (throttled !== undefined) {
      const error = gatewayError(429, "APIGW.0308", `The throttling threshold has been reached: policy user over ratelimit,limit:${throttled.limit},time:1 second`);
      return {
        status: 429,
        body: error.body,
        ...(throttled.retryAfterSeconds === undefined ? {} : { headers: { "Retry-After": String(throttled.retryAfterSeconds) } }),
      };
    }
    const failure = faults.serverError(operation.name);
    if (failure !== undefined) {
      const error = SERVER_ERROR_BODIES[failure]("");
      return { status: error.status, body: error.body };
    }
    const reply = dispatch(operation.name, operation.params, url, body);
    if (CREATE_OPERATIONS.has(operation.name) && reply.status >= 200 && reply.status < 300 && faults.dropAfterCreate()) return "drop";
    return reply;
  }

  /** The loopback control plane (no auth). */
  function serveControl(request: IncomingMessage, url: URL, body: Buffer): Reply {
    const method = request.method ?? "GET";
    const path = url.pathname.replace(/\/$/, "");
    const notFound = { status: 404, body: { error: { code: "SIM.NOT_FOUND", message: `no control endpoint ${method} ${path}` } } };
    const readJson = (): unknown => {
      try {
        return JSON.parse(body.toString("utf8"));
      } catch {
        return undefined;
      }
    };
    if (path === "/__sim/counts" && method === "GET") return { status: 200, body: { ...counts } };
    if (path === "/__sim/counts" && method === "DELETE") {
      counts = {};
      return { status: 200, body: {} };
    }
    if (path === "/__sim/faults") {
      if (method === "GET") return { status: 200, body: faults.current() };
      if (method === "DELETE") {
        faults.clear();
        return { status: 200, body: {} };
      }
      if (method === "POST") {
        const parsed = faultSettingsSchema.safeParse(readJson());
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const where = issue === undefined || issue.path.length === 0 ? "(body)" : issue.path.map(String).join(".");
          return { status: 400, body: { error: { code: "SIM.INVALID_FAULTS", message: `${where}: ${issue?.message ?? "invalid"}` } } };
        }
        faults.set(parsed.data);
        return { status: 200, body: faults.current() };
      }
    }
    if (path === "/__sim/state" && method === "GET") {
      return {
        status: 200,
        body: {
          protectionGroups: state.protectionGroups(),
          protectedInstances: state.protectedInstances(),
          jobs: state.jobs(),
          servers: state.servers(),
          volumes: state.volumes(),
        },
      };
    }
    const tagsPath = /^\/__sim\/servers\/([^/]+)\/tags$/.exec(path);
    if (tagsPath !== null && method === "PUT") {
      const serverId = decodeURIComponent(tagsPath[1] ?? "");
      const parsed = serverTagsBody.safeParse(readJson());
      if (!parsed.success) {
        return { status: 400, body: { error: { code: "SIM.INVALID_TAGS", message: "(body): must be a JSON object of tag key → string value" } } };
      }
      if (!project.setServerTags(serverId, parsed.data)) {
        return { status: 404, body: { error: { code: "Ecs.0114", message: `Instance[${serverId}] could not be found.` } } };
      }
      return { status: 200, body: { tags: Object.entries(parsed.data).map(([key, value]) => ({ key, value })) } };
    }
    return notFound;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const requestId = randomUUID().replaceAll("-", "");
    const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "127.0.0.1"}`);
    const body = await readBody(request);
    let reply: Reply | "drop";
    if (body === undefined) {
      const error = gatewayError(413, "APIGW.0201", "Request entity too large: AK/SK-signed bodies are limited to 12 MB");
      reply = { status: 413, body: error.body };
    } else if (url.pathname === "/__sim" || url.pathname.startsWith("/__sim/")) {
      reply = serveControl(request, url, body);
    } else {
      reply = await serveApi(request, url, body);
    }
    if (reply === "drop") {
      options.logger?.(`${request.method} ${url.pathname} → dropped after create (simulated fault) ${Date.now() - started}ms`);
      request.socket.destroy();
      return;
    }
    const payload = reply.body as Record<string, unknown>;
    // Gateway bodies carry the request id too.
    if (typeof payload === "object" && payload !== null && "error_code" in payload) payload.request_id = requestId;
    const text = JSON.stringify(payload);
    response.writeHead(reply.status, {
      "Content-Type": "application/json;charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      "X-Request-Id": requestId,
      ...reply.headers,
    });
    response.end(text);
    options.logger?.(`${request.method} ${url.pathname}${url.search} → ${reply.status} ${Date.now() - started}ms`);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      options.logger?.(`${request.method} ${request.url} → 500 simulator error: ${message}`);
      if (!response.headersSent) {
        response.writeHead(500, { "Content-Type": "application/json;charset=utf-8", "X-Request-Id": randomUUID().replaceAll("-", "") });
      }
      response.end(JSON.stringify({ error: { code: "SDRS.0013", message: "internal simulator error" } }));
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  publicUrl = `http://${urlHost}:${port}`;

  return {
    url: publicUrl,
    faults,
    counts: () => ({ ...counts }),
    resetCounts: () => {
      counts = {};
    },
    state,
    setServerTags: (serverId, tags) => {
      if (!project.setServerTags(serverId, tags)) throw new Error(`setServerTags: server ${serverId} does not exist`);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
