/**
 * The SDRS simulator: a local stand-in for Huawei Cloud / OTC SDRS, ECS, EVS, IAM (tokens) and Auto
 * Scaling reads on one base URL, over node:http. Requests are routed and counted by the operation names
 * of lib/sdrs/operations.ts (lib/sim/api-routes.ts), authenticated like the API gateway, validated with
 * the zod schemas of lib/sdrs/schemas.ts, and answered with the codes and shapes the real services use
 * (docs/simulator.md).
 *
 * A loopback control plane under /__sim (no auth, lib/sim/control-plane.ts) exposes counts, faults,
 * state and server tags. This file is the lifecycle: build the simulated cloud, listen, answer, close.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Clock, systemClock } from "../clock.ts";
import { readBoundedBody } from "../http/body.ts";
import { DEFAULT_BATCH_LIMIT } from "../sdrs/schemas.ts";
import { gatewayError } from "./api-error.ts";
import { serveApi } from "./api-routes.ts";
import { type Reply, type SimulatorContext, type SimulatorState, simulatorContext } from "./context.ts";
import { isControlPath, serveControl } from "./control-plane.ts";
import { SIMULATOR_DEFAULTS } from "./defaults.ts";
import type { Estate } from "./estate.ts";
import { type FaultController, Faults } from "./faults.ts";
import { Gateway, type SimulatorCredentials } from "./gateway-auth.ts";
import { seededRandom } from "./random.ts";
import { DEFAULT_JOB_DURATIONS, type JobDurations, SimulatedProject } from "./world.ts";

export type { SimulatorState } from "./context.ts";
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

/** AK/SK-signed request bodies may be up to 12 MB (reference §7.2). */
const MAX_BODY_BYTES = 12 * 1024 * 1024;

/** Builds the simulated project, its API gateway and fault controller from the options. */
function simulatedCloud(options: SimulatorOptions): SimulatorContext {
  const clock = options.clock ?? systemClock;
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
  const credentials: SimulatorCredentials = {
    ...SIMULATOR_DEFAULTS,
    projectName: options.estate.region,
    ...Object.fromEntries(Object.entries(options.credentials ?? {}).filter(([, value]) => value !== undefined)),
  };
  const gatewayClock = options.gatewayClock ?? systemClock;
  return simulatorContext({
    project,
    world: project.world,
    gateway: new Gateway(credentials, gatewayClock),
    faults,
    clock,
    gatewayClock,
    startedAt: clock.now(),
  });
}

/** Answers one request: a body over 12 MB is 413, /__sim is the control plane, anything else the API. */
async function answer(sim: SimulatorContext, request: IncomingMessage, url: URL): Promise<Reply | "drop"> {
  const body = await readBoundedBody(request, MAX_BODY_BYTES);
  const method = request.method ?? "GET";
  if (body === undefined) {
    const error = gatewayError(413, "APIGW.0201", "Request entity too large: AK/SK-signed bodies are limited to 12 MB");
    return { status: 413, body: error.body };
  }
  if (isControlPath(url.pathname)) return serveControl(sim, method, url, body);
  return serveApi(sim, { method, url, headers: request.headers, body });
}

/** Writes a reply as JSON with its request id (gateway error bodies carry the id too). */
function writeReply(response: ServerResponse, reply: Reply, requestId: string): void {
  const payload = reply.body as Record<string, unknown>;
  if (typeof payload === "object" && payload !== null && "error_code" in payload) payload.request_id = requestId;
  const text = JSON.stringify(payload);
  response.writeHead(reply.status, {
    "Content-Type": "application/json;charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "X-Request-Id": requestId,
    ...reply.headers,
  });
  response.end(text);
}

function requestHandler(sim: SimulatorContext, logger: SimulatorOptions["logger"]) {
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const requestId = randomUUID().replaceAll("-", "");
    const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "127.0.0.1"}`);
    const reply = await answer(sim, request, url);
    if (reply === "drop") {
      logger?.(`${request.method} ${url.pathname} → dropped after create (simulated fault) ${Date.now() - started}ms`);
      request.socket.destroy();
      return;
    }
    writeReply(response, reply, requestId);
    logger?.(`${request.method} ${url.pathname}${url.search} → ${reply.status} ${Date.now() - started}ms`);
  }
  return (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      logger?.(`${request.method} ${request.url} → 500 simulator error: ${message}`);
      if (!response.headersSent) {
        response.writeHead(500, {
          "Content-Type": "application/json;charset=utf-8",
          "X-Request-Id": randomUUID().replaceAll("-", ""),
        });
      }
      response.end(JSON.stringify({ error: { code: "SDRS.0013", message: "internal simulator error" } }));
    });
  };
}

/** Listens on host:port (0: any free port) and returns the base URL clients use. */
async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${urlHost}:${address.port}`;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const sim = simulatedCloud(options);
  const server = createServer(requestHandler(sim, options.logger));
  sim.publicUrl = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
  return {
    url: sim.publicUrl,
    faults: sim.faults,
    counts: () => sim.counts.snapshot(),
    resetCounts: () => sim.counts.reset(),
    state: sim.state,
    setServerTags: (serverId, tags) => {
      if (!sim.project.setServerTags(serverId, tags))
        throw new Error(`setServerTags: server ${serverId} does not exist`);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
