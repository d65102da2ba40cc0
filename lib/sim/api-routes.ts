/**
 * The simulated cloud API: what stands in front of every call (the count, injected latency, the API
 * gateway's authentication, throttling and server-error faults) and one route per operation of
 * lib/sdrs/operations.ts, as a table.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { matchOperation, type OperationName } from "../sdrs/operations.ts";
import { type ApiError, gatewayError, isApiError, sdrsError, serviceError } from "./api-error.ts";
import { errorReply, type Reply, type SimulatorContext } from "./context.ts";
import { CREATE_OPERATIONS } from "./faults.ts";
import type { IncomingApiRequest } from "./gateway-auth.ts";
import * as reads from "./reads.ts";
import * as replication from "./replication.ts";

/** One API request as a route sees it: path parameters, URL, raw body, and the settled job-clock instant. */
interface ApiRequest {
  params: Record<string, string>;
  url: URL;
  query: URLSearchParams;
  body: Buffer;
  now: number;
}

type ApiRoute = (sim: SimulatorContext, request: ApiRequest) => Reply;

const SERVER_ERROR_BODIES: Record<500 | 502 | 503 | 504, () => ApiError> = {
  500: () => serviceError(500, "SDRS.0013", "Internal error (simulated fault)"),
  502: () => gatewayError(502, "APIGW.0201", "Bad gateway: the backend service is unavailable (simulated fault)"),
  503: () => gatewayError(503, "APIGW.0201", "Service unavailable (simulated fault)"),
  504: () => gatewayError(504, "APIGW.0201", "Backend timeout (simulated fault)"),
};

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

const param = (request: ApiRequest, key: string) => request.params[key] ?? "";

const fromApi = (answer: reads.Answer | ApiError): Reply => (isApiError(answer) ? errorReply(answer) : answer);

/** A create's answer: the job id with the operation's success status. */
const created = (status: number, result: { jobId: string } | ApiError): Reply =>
  isApiError(result) ? errorReply(result) : { status, body: { job_id: result.jobId } };

/** A route that needs a JSON object body; anything else is SDRS.0201. */
function withJson(
  route: (sim: SimulatorContext, json: Record<string, unknown>, request: ApiRequest) => Reply,
): ApiRoute {
  return (sim, request) => {
    const json = jsonObject(request.body);
    return isApiError(json) ? errorReply(json) : route(sim, json, request);
  };
}

/** IAM token issue: a body that is not JSON is handed to the gateway as undefined (it answers the error). */
function issueToken(sim: SimulatorContext, request: ApiRequest): Reply {
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString("utf8"));
  } catch {
    json = undefined;
  }
  const issued = sim.gateway.issueToken(json);
  if (isApiError(issued)) return errorReply(issued);
  return { status: 201, body: issued.body, headers: { "X-Subject-Token": issued.token } };
}

const API_ROUTES: Record<OperationName, ApiRoute> = {
  createProtectedInstance: withJson((sim, json, r) => created(200, sim.project.createProtectedInstance(json, r.now))),
  batchCreateProtectedInstances: withJson((sim, json, r) =>
    created(202, sim.project.batchCreateProtectedInstances(json, r.now)),
  ),
  createProtectionGroup: withJson((sim, json, r) => created(200, sim.project.createProtectionGroup(json, r.now))),
  protectionGroupAction: withJson((sim, json, r) =>
    created(200, sim.project.protectionGroupAction(param(r, "server_group_id"), json, r.now)),
  ),
  listProtectedInstances: (sim, r) => fromApi(reads.listProtectedInstances(sim.world, r.query, r.now)),
  showProtectedInstance: (sim, r) =>
    fromApi(reads.showProtectedInstance(sim.world, param(r, "protected_instance_id"), r.now)),
  listProtectionGroups: (sim, r) => fromApi(reads.listProtectionGroups(sim.world, r.query)),
  showProtectionGroup: (sim, r) => fromApi(reads.showProtectionGroup(sim.world, param(r, "server_group_id"))),
  showJob: (sim, r) => fromApi(reads.showJob(sim.world, param(r, "job_id"), r.now)),
  listActiveDomains: (sim) => fromApi(reads.listActiveDomains(sim.world)),
  showServer: (sim, r) => fromApi(reads.showServer(sim.world, param(r, "server_id"))),
  listServersDetails: (sim, r) => fromApi(reads.listServersDetails(sim.world, r.query)),
  showServerTags: (sim, r) => fromApi(reads.showServerTags(sim.world, param(r, "server_id"))),
  listKeypairs: (sim) => fromApi(reads.listKeypairs(sim.world)),
  listVolumes: (sim, r) => fromApi(reads.listVolumes(sim.world, r.url, sim.startedAt)),
  listScalingGroups: (sim, r) => fromApi(reads.listScalingGroups(sim.world, r.query)),
  listScalingGroupInstances: (sim, r) =>
    fromApi(reads.listScalingGroupInstances(sim.world, param(r, "scaling_group_id"), r.query)),
  createToken: issueToken,
  listReplications: (sim, r) => fromApi(replication.listReplications(sim.world, r.query, sim.startedAt)),
  showReplication: (sim, r) =>
    fromApi(replication.showReplication(sim.world, param(r, "replication_id"), sim.startedAt)),
  createReplication: withJson((sim, json, r) => fromApi(replication.createReplication(sim.project, json, r.now))),
  // The body (delete_target_volume) is optional.
  deleteReplication: (sim, r) =>
    r.body.length === 0
      ? fromApi(replication.deleteReplication(sim.project, param(r, "replication_id"), {}, r.now))
      : withJson((_, json) =>
          fromApi(replication.deleteReplication(sim.project, param(r, "replication_id"), json, r.now)),
        )(sim, r),
  replicationAction: withJson((sim, json, r) =>
    fromApi(replication.replicationAction(sim.project, param(r, "replication_id"), json, r.now)),
  ),
  attachReplication: withJson((sim, json, r) =>
    fromApi(replication.attachReplication(sim.project, param(r, "protected_instance_id"), json, r.now)),
  ),
  detachReplication: (sim, r) =>
    fromApi(
      replication.detachReplication(sim.project, param(r, "protected_instance_id"), param(r, "replication_id"), r.now),
    ),
  attachServerVolume: withJson((sim, json, r) =>
    fromApi(replication.attachServerVolume(sim.project, param(r, "server_id"), json, r.now)),
  ),
  detachServerVolume: (sim, r) =>
    fromApi(replication.detachServerVolume(sim.project, param(r, "server_id"), param(r, "volume_id"), r.now)),
};

/**
 * What the API gateway decides before a route runs: authentication (AK/SK or token; IAM token issue
 * is open), the project in the path, throttling and injected server errors. Undefined: go on.
 */
function gatewayRefusal(
  sim: SimulatorContext,
  request: IncomingApiRequest,
  operation: { name: OperationName; params: Record<string, string> },
): Reply | undefined {
  if (operation.name !== "createToken") {
    const denied = sim.gateway.authenticate(request);
    if (denied !== undefined) return errorReply(denied);
    const projectId = operation.params.project_id;
    if (projectId !== undefined && projectId !== sim.gateway.projectId) {
      // The simulator's choice for a path naming another project than the credentials' (uncertain).
      return errorReply(
        gatewayError(
          403,
          "APIGW.0302",
          `The IAM or ACL authentication failed: project ${projectId} in the path is not the project of the credentials`,
        ),
      );
    }
  }
  const throttled = sim.faults.throttle(operation.name, sim.gatewayClock.now());
  if (throttled !== undefined) {
    const error = gatewayError(
      429,
      "APIGW.0308",
      `The throttling threshold has been reached: policy user over ratelimit,limit:${throttled.limit},time:1 second`,
    );
    return {
      status: 429,
      body: error.body,
      ...(throttled.retryAfterSeconds === undefined
        ? {}
        : { headers: { "Retry-After": String(throttled.retryAfterSeconds) } }),
    };
  }
  const failure = sim.faults.serverError(operation.name);
  if (failure !== undefined) return errorReply(SERVER_ERROR_BODIES[failure]());
  return undefined;
}

/** The cloud API: route, count, fault, authenticate, serve. "drop" = destroy the socket unanswered. */
export async function serveApi(sim: SimulatorContext, request: IncomingApiRequest): Promise<Reply | "drop"> {
  const operation = matchOperation(request.method, request.url.pathname);
  sim.counts.add(operation?.name ?? "unknown");
  const latency = sim.faults.latencyMs();
  if (latency > 0) await sleep(latency);
  if (operation === undefined) {
    return errorReply(
      gatewayError(404, "APIGW.0101", "The API does not exist or has not been published in the environment"),
    );
  }
  const refusal = gatewayRefusal(sim, request, operation);
  if (refusal !== undefined) return refusal;
  const now = sim.settledNow();
  const reply = API_ROUTES[operation.name](sim, {
    params: operation.params,
    url: request.url,
    query: request.url.searchParams,
    body: request.body,
    now,
  });
  if (
    CREATE_OPERATIONS.has(operation.name) &&
    reply.status >= 200 &&
    reply.status < 300 &&
    sim.faults.dropAfterCreate()
  )
    return "drop";
  return reply;
}
