/**
 * X-Ray subsegments for the cloud calls (SDRS, ECS, EVS, …), one per HTTP attempt, annotated with the
 * operation and the SDRS job id. Lambda's active tracing (serverless.yml `tracing.lambda: true`) records
 * each invocation's segment; a subsegment is one UDP datagram to the X-Ray daemon of the execution
 * environment (AWS_XRAY_DAEMON_ADDRESS), parented to that segment through _X_AMZN_TRACE_ID.
 *
 * Hand-written rather than Powertools Tracer: the tracer bundles aws-xray-sdk-core (CommonJS, with its
 * context-propagation dependencies) into every function, for what is here one JSON document per call.
 * The document format is the X-Ray segment document (AWS X-Ray developer guide, "Segment documents").
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import type { RequestLogEntry } from "../sdrs/client.ts";

export interface TraceContext {
  root: string;
  /** The id of the segment a subsegment belongs to (the function's invocation). */
  parent: string;
  sampled: boolean;
}

/** `Root=1-…;Parent=…;Sampled=1` → its fields; undefined without a root and a parent. */
export function parseTraceHeader(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const fields = new Map(header.split(";").map((field) => field.split("=", 2) as [string, string | undefined]));
  const root = fields.get("Root");
  const parent = fields.get("Parent");
  if (!root || !parent) return undefined;
  return { root, parent, sampled: fields.get("Sampled") === "1" };
}

/** AWS_XRAY_DAEMON_ADDRESS: `host:port`, or `tcp:host:port udp:host:port` (the UDP one is used). */
export function daemonAddress(value: string | undefined): { host: string; port: number } {
  const udp =
    (value ?? "")
      .split(/\s+/)
      .find((part) => part.startsWith("udp:"))
      ?.slice(4) ??
    value ??
    "";
  const match = /^([^:\s]+):(\d+)$/.exec(udp);
  return match?.[1] && match[2] ? { host: match[1], port: Number(match[2]) } : { host: "127.0.0.1", port: 2000 };
}

/** The subsegment of one cloud call attempt that ended at `endMs` (epoch ms). */
export function cloudCallSubsegment(
  entry: RequestLogEntry,
  trace: TraceContext,
  endMs: number,
): Record<string, unknown> {
  const status = entry.status;
  return {
    name: entry.service.toUpperCase(),
    id: randomBytes(8).toString("hex"),
    trace_id: trace.root,
    parent_id: trace.parent,
    type: "subsegment",
    namespace: "remote",
    start_time: (endMs - entry.durationMs) / 1000,
    end_time: endMs / 1000,
    http: { request: { method: entry.method }, ...(status === undefined ? {} : { response: { status } }) },
    annotations: {
      operation: entry.operation,
      attempt: entry.attempt,
      ...(entry.jobId === undefined ? {} : { jobId: entry.jobId }),
      ...(entry.errorCode === undefined ? {} : { errorCode: entry.errorCode }),
    },
    ...(status === 429 ? { throttle: true, error: true } : {}),
    ...(status !== undefined && status >= 400 && status < 500 && status !== 429 ? { error: true } : {}),
    // No answer (timeout, network) or a 5xx: a fault of the remote side.
    ...(status === undefined || status >= 500 ? { fault: true } : {}),
  };
}

const HEADER = `${JSON.stringify({ format: "json", version: 1 })}\n`;

/**
 * A request-log listener that sends each cloud call attempt as a subsegment of the current invocation's
 * trace, when that trace is sampled. The trace header is read per call: Lambda sets it per invocation.
 */
export function xrayCloudCallTracer(
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): (entry: RequestLogEntry) => void {
  let socket: Socket | undefined;
  return (entry) => {
    const trace = parseTraceHeader(env._X_AMZN_TRACE_ID);
    if (!trace?.sampled) return;
    const { host, port } = daemonAddress(env.AWS_XRAY_DAEMON_ADDRESS);
    if (socket === undefined) {
      socket = createSocket("udp4");
      socket.unref(); // never keeps an invocation (or a test) alive
      socket.on("error", () => undefined); // tracing must never fail a call
    }
    socket.send(HEADER + JSON.stringify(cloudCallSubsegment(entry, trace, now())), port, host);
  };
}
