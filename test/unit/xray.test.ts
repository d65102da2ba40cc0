/** The X-Ray segment documents of lib/runtime/xray.ts: the trace header, the daemon address, the subsegment. */
import { describe, expect, it } from "vitest";
import { cloudCallSubsegment, daemonAddress, parseTraceHeader } from "../../lib/runtime/xray.ts";
import type { RequestLogEntry } from "../../lib/sdrs/client.ts";

const trace = { root: "1-5759e988-bd862e3fe1be46a994272793", parent: "53995c3f42cd8ad8", sampled: true };

function entry(status: number | undefined, extra: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    operation: "showJob",
    service: "sdrs",
    method: "GET",
    status,
    attempt: 1,
    durationMs: 250,
    requestId: undefined,
    ...extra,
  };
}

describe("X-Ray subsegments", () => {
  it("reads Lambda's trace header, and nothing without a root and a parent", () => {
    expect(parseTraceHeader(`Root=${trace.root};Parent=${trace.parent};Sampled=1;Lineage=a:1`)).toEqual(trace);
    expect(parseTraceHeader(`Root=${trace.root};Parent=${trace.parent};Sampled=0`)?.sampled).toBe(false);
    expect(parseTraceHeader(`Root=${trace.root}`)).toBeUndefined();
    expect(parseTraceHeader(undefined)).toBeUndefined();
  });

  it("sends to the UDP address of AWS_XRAY_DAEMON_ADDRESS in either form, else 127.0.0.1:2000", () => {
    expect(daemonAddress("169.254.79.129:2000")).toEqual({ host: "169.254.79.129", port: 2000 });
    expect(daemonAddress("tcp:127.0.0.1:2000 udp:127.0.0.2:2001")).toEqual({ host: "127.0.0.2", port: 2001 });
    expect(daemonAddress(undefined)).toEqual({ host: "127.0.0.1", port: 2000 });
  });

  it("describes one attempt: service name, times, annotations, and throttle / error / fault as X-Ray defines them", () => {
    const subsegment = cloudCallSubsegment(entry(200, { jobId: "job-1" }), trace, 1_700_000_000_250);
    expect(subsegment).toMatchObject({
      name: "SDRS",
      trace_id: trace.root,
      parent_id: trace.parent,
      type: "subsegment",
      namespace: "remote",
      start_time: 1_700_000_000,
      end_time: 1_700_000_000.25,
      http: { request: { method: "GET" }, response: { status: 200 } },
      annotations: { operation: "showJob", attempt: 1, jobId: "job-1" },
    });
    expect(subsegment.id).toMatch(/^[0-9a-f]{16}$/);
    expect(subsegment).not.toHaveProperty("fault");
    expect(cloudCallSubsegment(entry(429, { errorCode: "APIGW.0308" }), trace, 0)).toMatchObject({
      throttle: true,
      error: true,
      annotations: { errorCode: "APIGW.0308" },
    });
    expect(cloudCallSubsegment(entry(400, { errorCode: "SDRS.1362" }), trace, 0)).toMatchObject({ error: true });
    expect(cloudCallSubsegment(entry(503), trace, 0)).toMatchObject({ fault: true });
    expect(cloudCallSubsegment(entry(undefined, { errorCode: "NETWORK_ERROR" }), trace, 0)).toMatchObject({
      fault: true,
    });
  });
});
