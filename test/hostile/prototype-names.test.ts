/**
 * Server ids that are Object.prototype's own names (valid by the id shape) go through the API like any
 * other id: no 500, and a request the API refuses records nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleApiRequest } from "../../lib/pipeline/api.ts";
import { isServerId } from "../../lib/sdrs/field-rules.ts";
import { type Harness, startHarness } from "../pipeline/harness.ts";

const PROTOTYPE_NAMES = ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty"];
/** `__proto__` does not have the ECS id shape (letters, digits and hyphens), so the API refuses it at the door. */
const ID_SHAPED_NAMES = PROTOTYPE_NAMES.filter((name) => isServerId(name));

async function post(harness: Harness, body: unknown) {
  return handleApiRequest(
    { method: "POST", path: "/onboarding-requests", headers: {}, body: JSON.stringify(body) },
    harness.runtime.deps,
  );
}

async function storedRequests(harness: Harness): Promise<number> {
  return (await harness.runtime.repos.requests.list()).items.length;
}

describe("prototype names as server ids", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("refuses __proto__ as a server id with 400 naming the entry, and records nothing", async () => {
    const before = await storedRequests(harness);
    const response = await post(harness, { target: "web", servers: ["__proto__"] });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain("servers.0");
    expect(await storedRequests(harness)).toBe(before);
  });

  it.each(ID_SHAPED_NAMES)(
    "accepts %s as a server id, and it ends ineligible (not found), never a 500",
    async (name) => {
      const response = await post(harness, {
        target: "web",
        servers: [name, { serverId: `${name}-b`, flavorRef: "s3.large.2" }],
      });
      expect(response.statusCode).toBe(202);
      await harness.runtime.runUntilIdle();
      const requestId = (JSON.parse(response.body) as { requestId: string }).requestId;
      const status = await handleApiRequest(
        { method: "GET", path: `/onboarding-requests/${requestId}`, headers: {}, body: undefined },
        harness.runtime.deps,
      );
      expect(status.statusCode).toBe(200);
      const servers = (JSON.parse(status.body) as { servers: { serverId: string; state: string }[] }).servers;
      expect(servers.map((server) => [server.serverId, server.state])).toEqual([
        [name, "ineligible"],
        [`${name}-b`, "ineligible"],
      ]);
    },
  );

  it.each(PROTOTYPE_NAMES)(
    "refuses a flavorRef keyed %s with a bad entry with 400 and records nothing",
    async (name) => {
      const before = await storedRequests(harness);
      const response = await post(harness, { target: "web", servers: [{ serverId: name, flavorRef: "" }] });
      expect(response.statusCode).toBe(400);
      expect(await storedRequests(harness)).toBe(before);
    },
  );

  it.each(PROTOTYPE_NAMES)("answers a request for target %s (no such target) without a 500", async (name) => {
    const response = await post(harness, { target: name, servers: ["some-server"] });
    expect(response.statusCode).toBeLessThan(500);
    await harness.runtime.runUntilIdle();
  });
});
