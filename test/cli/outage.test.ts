/** The outage watch behind the progress line and --outage-limit (lib/cli/outage.ts), on a clock of its own. */
import { describe, expect, it } from "vitest";
import { isOutageAttempt, OutageWatch, outageLimitMs, outageText } from "../../lib/cli/outage.ts";
import type { RequestLogEntry } from "../../lib/sdrs/client.ts";

function attempt(status: number | undefined, errorCode?: string): RequestLogEntry {
  return {
    operation: "showJob",
    service: "sdrs",
    method: "GET",
    status,
    attempt: 1,
    durationMs: 5,
    requestId: undefined,
    ...(errorCode ? { errorCode } : {}),
  };
}

describe("isOutageAttempt", () => {
  it.each([
    [undefined, "NETWORK_ERROR", true],
    [undefined, "TIMEOUT", true],
    [503, "SDRS.0005", true],
    [500, "HTTP_ERROR", true],
    [429, "APIGW.0308", true],
    [200, undefined, false],
    [400, "SDRS.1362", false],
    [404, "SDRS.0401", false],
    [401, "APIGW.0301", false],
  ])("status %s code %s → %s", (status, code, expected) => {
    expect(isOutageAttempt(attempt(status, code))).toBe(expected);
  });
});

describe("OutageWatch", () => {
  it("reports calls that keep failing with the last code and the scheduled retry, and forgets them on the next answer", () => {
    let now = 1_000;
    const watch = new OutageWatch(() => now);
    expect(watch.status()).toBeUndefined();
    watch.attempt(attempt(undefined, "NETWORK_ERROR"));
    watch.retry({ operation: "showJob", attempt: 3, delayMs: 40_000, errorCode: "NETWORK_ERROR" });
    now += 2_000;
    expect(watch.status()).toEqual({ code: "NETWORK_ERROR", forMs: 2_000, retry: { attempt: 3, inMs: 38_000 } });
    expect(outageText(watch.status() ?? { code: "", forMs: 0 })).toBe(
      "cloud unreachable (NETWORK_ERROR) · retry 3 in 38 s",
    );
    now += 40_000;
    // The retry is past and no call was made since: how long it has lasted.
    expect(outageText(watch.status() ?? { code: "", forMs: 0 })).toBe("cloud unreachable (NETWORK_ERROR) · for 42 s");
    expect(watch.exceeded(42_000)).toBe(true);
    expect(watch.exceeded(42_001)).toBe(false);
    watch.attempt(attempt(404, "SDRS.0401"));
    expect(watch.status()).toBeUndefined();
    expect(watch.exceeded(1)).toBe(false);
  });

  it("counts an outage from its first failure, not from the last", () => {
    let now = 0;
    const watch = new OutageWatch(() => now);
    watch.attempt(attempt(503, "SDRS.0005"));
    now = 3_000;
    watch.attempt(attempt(429, "APIGW.0308"));
    now = 5_000;
    expect(watch.status()).toEqual({ code: "APIGW.0308", forMs: 5_000 });
    expect(outageText({ code: "APIGW.0308", forMs: 5_000, retry: { attempt: 2, inMs: 1_250 } })).toBe(
      "cloud throttling (APIGW.0308) · retry 2 in 1.3 s",
    );
  });

  it("ignores a retry notice while nothing is failing, and feeds the client's log and retries through clientOptions", () => {
    const seen: RequestLogEntry[] = [];
    const watch = new OutageWatch(() => 0);
    const options = watch.clientOptions((entry) => seen.push(entry));
    options.onRetry({ operation: "showJob", attempt: 2, delayMs: 500, errorCode: "SDRS.0005" });
    expect(watch.status()).toBeUndefined();
    options.logger(attempt(undefined, "TIMEOUT"));
    expect(seen).toHaveLength(1);
    expect(watch.status()?.code).toBe("TIMEOUT");
  });
});

describe("--outage-limit", () => {
  it("defaults to 5 minutes and takes whole seconds, naming the flag otherwise", () => {
    expect(outageLimitMs(undefined)).toBe(300_000);
    expect(outageLimitMs("30")).toBe(30_000);
    for (const bad of ["0", "-1", "1.5", "5m", ""])
      expect(() => outageLimitMs(bad)).toThrow(/^--outage-limit: must be a whole number of seconds, at least 1/);
  });
});
