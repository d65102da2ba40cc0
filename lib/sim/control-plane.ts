/**
 * The simulator's loopback control plane under /__sim (no auth): request counts, faults, the rendered
 * state, drift switches and server tags, as a table of endpoints.
 */
import * as z from "../zod.ts";
import type { Reply, SimulatorContext } from "./context.ts";
import { faultSettingsSchema } from "./faults.ts";
import * as replication from "./replication.ts";

const serverTagsBody = z.record(z.string(), z.string());

/** A control request: its body and, for a templated path, the decoded path parameter. */
interface ControlRequest {
  /** The body as JSON, undefined when it is not JSON. */
  json(): unknown;
  pathParam: string;
}

interface ControlEndpoint {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** An exact path, or a pattern whose first group is the path parameter. */
  path: string | RegExp;
  handle(sim: SimulatorContext, request: ControlRequest): Reply;
}

function controlError(status: number, code: string, message: string): Reply {
  return { status, body: { error: { code, message } } };
}

/** DELETE on a collection of the control plane clears it. */
function clearing(path: string, clear: (sim: SimulatorContext) => void): ControlEndpoint {
  return {
    method: "DELETE",
    path,
    handle: (sim) => {
      clear(sim);
      return { status: 200, body: {} };
    },
  };
}

function describeControlIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "(body)" : issue.path.map(String).join(".");
  return `${where}: ${issue?.message ?? "invalid"}`;
}

const CONTROL_ENDPOINTS: readonly ControlEndpoint[] = [
  { method: "GET", path: "/__sim/counts", handle: (sim) => ({ status: 200, body: sim.counts.snapshot() }) },
  clearing("/__sim/counts", (sim) => sim.counts.reset()),
  { method: "GET", path: "/__sim/faults", handle: (sim) => ({ status: 200, body: sim.faults.current() }) },
  clearing("/__sim/faults", (sim) => sim.faults.clear()),
  {
    method: "POST",
    path: "/__sim/faults",
    handle: (sim, request) => {
      const parsed = faultSettingsSchema.safeParse(request.json());
      if (!parsed.success) return controlError(400, "SIM.INVALID_FAULTS", describeControlIssue(parsed.error));
      sim.faults.set(parsed.data);
      return { status: 200, body: sim.faults.current() };
    },
  },
  {
    method: "GET",
    path: "/__sim/state",
    handle: ({ state }) => ({
      status: 200,
      body: {
        protectionGroups: state.protectionGroups(),
        protectedInstances: state.protectedInstances(),
        jobs: state.jobs(),
        servers: state.servers(),
        volumes: state.volumes(),
      },
    }),
  },
  {
    method: "POST",
    path: "/__sim/drift",
    handle: (sim, request) => {
      sim.settledNow();
      const parsed = replication.driftRequest.safeParse(request.json());
      const problem = parsed.success
        ? replication.applyDrift(sim.world, parsed.data)
        : describeControlIssue(parsed.error);
      if (problem !== undefined) return controlError(400, "SIM.INVALID_DRIFT", problem);
      return { status: 200, body: {} };
    },
  },
  {
    method: "PUT",
    path: /^\/__sim\/servers\/([^/]+)\/tags$/,
    handle: (sim, request) => {
      const serverId = request.pathParam;
      const parsed = serverTagsBody.safeParse(request.json());
      if (!parsed.success)
        return controlError(400, "SIM.INVALID_TAGS", "(body): must be a JSON object of tag key → string value");
      if (!sim.project.setServerTags(serverId, parsed.data))
        return controlError(404, "Ecs.0114", `Instance[${serverId}] could not be found.`);
      return { status: 200, body: { tags: Object.entries(parsed.data).map(([key, value]) => ({ key, value })) } };
    },
  },
];

export function isControlPath(pathname: string): boolean {
  return pathname === "/__sim" || pathname.startsWith("/__sim/");
}

/** Serves a control request; an unknown method and path is SIM.NOT_FOUND. */
export function serveControl(sim: SimulatorContext, method: string, url: URL, body: Buffer): Reply {
  const path = url.pathname.replace(/\/$/, "");
  const json = (): unknown => {
    try {
      return JSON.parse(body.toString("utf8"));
    } catch {
      return undefined;
    }
  };
  for (const endpoint of CONTROL_ENDPOINTS) {
    if (endpoint.method !== method) continue;
    const match =
      typeof endpoint.path === "string" ? (endpoint.path === path ? [path] : null) : endpoint.path.exec(path);
    if (match === null) continue;
    return endpoint.handle(sim, { json, pathParam: decodeURIComponent(match[1] ?? "") });
  }
  return controlError(404, "SIM.NOT_FOUND", `no control endpoint ${method} ${path}`);
}
