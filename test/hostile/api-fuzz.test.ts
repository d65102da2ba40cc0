/**
 * fast-check fuzzing of the onboarding API (lib/pipeline/api.ts, what both the Lambda and the local server
 * call): arbitrary methods, paths, headers and bodies (JSON values, near-valid requests, prototype names)
 * never throw and never answer 5xx, and an answer of 4xx changes no state (no request recorded, nothing
 * enqueued). Seeded; SDRS_FUZZ_RUNS sets the cases (npm run chaos runs 10,000).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleApiRequest } from "../../lib/pipeline/api.ts";
import { type Harness, startHarness } from "../pipeline/harness.ts";

const runs = Number(process.env.SDRS_FUZZ_RUNS ?? 300);
const tricky = fc.constantFrom(
  "constructor",
  "__proto__",
  "toString",
  "valueOf",
  "web",
  "db",
  "",
  " ",
  "a".repeat(300),
);
const serverEntry = fc.oneof(
  tricky,
  fc.string(),
  fc.record(
    { serverId: fc.oneof(tricky, fc.string()), flavorRef: fc.oneof(tricky, fc.string(), fc.integer()) },
    { requiredKeys: [] },
  ),
);
const body = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record(
      { target: fc.oneof(tricky, fc.string(), fc.integer()), servers: fc.array(serverEntry, { maxLength: 4 }) },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.string(),
  fc.constant(undefined),
);
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", ""),
  path: fc.oneof(
    fc.constantFrom(
      "/onboarding-requests",
      "/onboarding-requests/",
      "/onboarding-requests/x",
      "/onboarding-requests/__proto__",
    ),
    fc.string().map((text) => `/${text}`),
  ),
  headers: fc.dictionary(
    fc.oneof(fc.constantFrom("idempotency-key", "Idempotency-Key", "__proto__", "constructor"), fc.string()),
    fc.string(),
    { maxKeys: 3 },
  ),
  body,
});

describe("fuzzing the onboarding API", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("never throws, never answers 5xx, and changes nothing when it answers 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const requestsBefore = (await harness.runtime.repos.requests.list()).items.length;
        const queuedBefore = harness.runtime.stats().queues.onboarding.visible;
        const response = await handleApiRequest(input, harness.runtime.deps);
        expect(response.statusCode).toBeLessThan(500);
        if (response.statusCode >= 400) {
          expect((await harness.runtime.repos.requests.list()).items.length).toBe(requestsBefore);
          expect(harness.runtime.stats().queues.onboarding.visible).toBe(queuedBefore);
        }
      }),
      { seed: 15, numRuns: runs },
    );
  }, 120_000);
});
