import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseHttpDate, parseRetryAfter } from "../../lib/http/retry-after.ts";

// Thursday, 1 January 2026, 12:00:00 UTC.
const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("parseRetryAfter (RFC 9110 §10.2.3)", () => {
  it.each([
    ["0", 0],
    ["3", 3000],
    [" 30 ", 30_000],
    ["120", 120_000],
  ])("reads delay-seconds %j as %d ms", (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it("takes a delay-seconds too large to represent as 2^31 seconds (RFC 9111 §1.2.2)", () => {
    expect(parseRetryAfter("99999999999999999999999", now)).toBe(2 ** 31 * 1000);
  });

  it.each([
    ["IMF-fixdate", "Thu, 01 Jan 2026 12:00:10 GMT"],
    ["obsolete RFC 850 date", "Thursday, 01-Jan-26 12:00:10 GMT"],
    ["obsolete asctime date", "Thu Jan  1 12:00:10 2026"],
  ])("reads an %s relative to now", (_form, header) => {
    expect(parseRetryAfter(header, now)).toBe(10_000);
  });

  it("treats an HTTP-date in the past as no wait", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:00 GMT", now)).toBe(0);
  });

  it.each([
    [null],
    [undefined],
    [""],
    ["soon"],
    ["-1"],
    ["1.5"],
    ["+5"],
    // Date.parse reads all of these; none is an HTTP-date.
    ["2026-01-01T12:00:10Z"],
    ["Thu, 01 Jan 2026 12:00:10 +0000"],
    ["01 Jan 2026 12:00:10 GMT"],
    ["Thu, 1 Jan 2026 12:00:10 GMT"],
    // Days and times that do not exist.
    ["Sat, 31 Feb 2026 12:00:00 GMT"],
    ["Thu, 01 Jan 2026 24:00:00 GMT"],
  ])("ignores %j", (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });

  it("gives delay-seconds and the equivalent IMF-fixdate the same wait", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400 }), (seconds) => {
        const date = new Date(now + seconds * 1000).toUTCString();
        return parseRetryAfter(String(seconds), now) === parseRetryAfter(date, now);
      }),
      { numRuns: 300 },
    );
  });
});

describe("parseHttpDate (RFC 9110 §5.6.7)", () => {
  it("reads RFC 850's two-digit year as the most recent such year not more than 50 years ahead", () => {
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate("Wednesday, 06-Nov-75 08:49:37 GMT", now)).toBe(Date.UTC(2075, 10, 6, 8, 49, 37));
    expect(parseHttpDate("Thursday, 06-Nov-77 08:49:37 GMT", now)).toBe(Date.UTC(1977, 10, 6, 8, 49, 37));
  });

  it("reads the RFC's own examples of the three forms as the same instant", () => {
    const instant = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(instant);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(instant);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994", now)).toBe(instant);
  });
});
