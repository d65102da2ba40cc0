import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { type Simulator, startSimulator } from "../../lib/sim/server.ts";
import { call, PROJECT, path, sampleEstate } from "./sim-client.ts";

const tokenRequest = (overrides: { password?: string; project?: Record<string, string> } = {}) => ({
  auth: {
    identity: {
      methods: ["password"],
      password: {
        user: {
          name: SIMULATOR_DEFAULTS.userName,
          password: overrides.password ?? SIMULATOR_DEFAULTS.password,
          domain: { name: SIMULATOR_DEFAULTS.domainName },
        },
      },
    },
    scope: { project: overrides.project ?? { id: PROJECT } },
  },
});

const VERIFY_FAIL = "Incorrect IAM authentication information: verify aksk signature fail";

describe("API gateway authentication", () => {
  let sim: Simulator;
  const gatewayClock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  const atGatewayTime = (offsetMs = 0) => new Date(gatewayClock.now() + offsetMs);
  beforeAll(async () => {
    sim = await startSimulator({ estate: sampleEstate, gatewayClock });
  });
  afterAll(() => sim.close());

  it("accepts an AK/SK-signed request and answers with an X-Request-Id", async () => {
    const result = await call(sim, "GET", path.activeDomains, { date: atGatewayTime() });
    expect(result.status).toBe(200);
    expect(result.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
  });

  it("verifies the signature over the exact body bytes of a POST", async () => {
    const body = JSON.stringify({ protected_instance: { server_group_id: "x", server_id: "y", name: "n" } });
    const result = await call(sim, "POST", path.protectedInstances, { body, date: atGatewayTime() });
    expect(result.status).not.toBe(401);
  });

  it("rejects a wrong SK with 401 APIGW.0301 and the gateway's body", async () => {
    const result = await call(sim, "GET", path.activeDomains, { secretKey: "wrong-secret", date: atGatewayTime() });
    expect(result.status).toBe(401);
    expect(result.json).toEqual({
      error_code: "APIGW.0301",
      error_msg: VERIFY_FAIL,
      request_id: result.headers.get("x-request-id"),
    });
  });

  it("rejects an unknown AK with 401 APIGW.0301", async () => {
    const result = await call(sim, "GET", path.activeDomains, { accessKey: "UNKNOWNACCESSKEY", date: atGatewayTime() });
    expect(result.status).toBe(401);
    expect(result.json).toMatchObject({ error_code: "APIGW.0301", error_msg: VERIFY_FAIL });
  });

  it("rejects a request signed more than 15 minutes from gateway time with 401 APIGW.0301 (expired date)", async () => {
    for (const skew of [-16 * 60_000, 16 * 60_000]) {
      const result = await call(sim, "GET", path.activeDomains, { date: atGatewayTime(skew) });
      expect(result.status).toBe(401);
      expect(result.json).toMatchObject({
        error_code: "APIGW.0301",
        error_msg: expect.stringContaining("expired or invalid"),
      });
    }
    expect((await call(sim, "GET", path.activeDomains, { date: atGatewayTime(-14 * 60_000) })).status).toBe(200);
  });

  it("rejects a missing or malformed X-Sdk-Date with 401 APIGW.0301", async () => {
    const result = await call(sim, "GET", path.activeDomains, {
      headers: { "X-Sdk-Date": "2026-03-01T12:00:00Z" },
      date: atGatewayTime(),
    });
    expect(result.status).toBe(401);
    expect(result.json).toMatchObject({
      error_code: "APIGW.0301",
      error_msg: expect.stringContaining("X-Sdk-Date is missing or invalid"),
    });
  });

  it("rejects a request without credentials with 401 APIGW.0301", async () => {
    const result = await call(sim, "GET", path.activeDomains, { anonymous: true });
    expect(result.status).toBe(401);
    expect(result.json).toMatchObject({ error_code: "APIGW.0301" });
  });

  it("rejects a path naming another project with 403 APIGW.0302", async () => {
    const result = await call(sim, "GET", "/v1/ffffffffffffffffffffffffffffffff/active-domains", {
      date: atGatewayTime(),
    });
    expect(result.status).toBe(403);
    expect(result.json).toMatchObject({ error_code: "APIGW.0302" });
  });

  it("answers an unknown path with 404 APIGW.0101 before authentication, counted as unknown", async () => {
    sim.resetCounts();
    const result = await call(sim, "GET", `/v1/${PROJECT}/no-such-api`, { anonymous: true });
    expect(result.status).toBe(404);
    expect(result.json).toMatchObject({ error_code: "APIGW.0101" });
    expect(sim.counts()).toEqual({ unknown: 1 });
  });

  it("issues a 24 h IAM token (201, X-Subject-Token) that authenticates requests", async () => {
    const issued = await call(sim, "POST", path.tokens, { body: tokenRequest(), anonymous: true });
    expect(issued.status).toBe(201);
    const token = issued.headers.get("x-subject-token") ?? "";
    expect(token.length).toBeGreaterThan(100);
    expect(issued.json).toMatchObject({
      token: { expires_at: "2026-03-02T12:00:00.000000Z", project: { id: PROJECT } },
    });
    expect(JSON.stringify(issued.json)).not.toContain(SIMULATOR_DEFAULTS.password);

    expect((await call(sim, "GET", path.activeDomains, { token })).status).toBe(200);

    gatewayClock.advance(24 * 3_600_000);
    const expired = await call(sim, "GET", path.activeDomains, { token });
    expect(expired.status).toBe(401);
    expect(expired.json).toMatchObject({ error_code: "APIGW.0307" });
    gatewayClock.set(Date.UTC(2026, 2, 1, 12, 0, 0));
  });

  it("accepts the project by name (the region) in the token scope", async () => {
    const issued = await call(sim, "POST", path.tokens, {
      body: tokenRequest({ project: { name: "eu-de" } }),
      anonymous: true,
    });
    expect(issued.status).toBe(201);
  });

  it("rejects a wrong password with 401 and an unknown token with 401 APIGW.0301", async () => {
    const refused = await call(sim, "POST", path.tokens, { body: tokenRequest({ password: "nope" }), anonymous: true });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("x-subject-token")).toBeNull();
    expect(JSON.stringify(refused.json)).not.toContain("nope");
    const bad = await call(sim, "GET", path.activeDomains, { token: "MIIforged" });
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ error_code: "APIGW.0301" });
  });

  it("rejects a token request for another project with 401 and a malformed one with 400", async () => {
    expect(
      (await call(sim, "POST", path.tokens, { body: tokenRequest({ project: { id: "other" } }), anonymous: true }))
        .status,
    ).toBe(401);
    expect((await call(sim, "POST", path.tokens, { body: { auth: {} }, anonymous: true })).status).toBe(400);
  });
});

describe("configured credentials", () => {
  it("accepts only the configured AK/SK and, when configured, requires the X-Security-Token", async () => {
    const sim = await startSimulator({
      estate: sampleEstate,
      credentials: { accessKey: "TEMPAK", secretKey: "temp-sk", securityToken: "session-token-1" },
    });
    try {
      const withToken = await call(sim, "GET", path.activeDomains, {
        accessKey: "TEMPAK",
        secretKey: "temp-sk",
        headers: { "X-Security-Token": "session-token-1" },
      });
      expect(withToken.status).toBe(200);
      const withoutToken = await call(sim, "GET", path.activeDomains, { accessKey: "TEMPAK", secretKey: "temp-sk" });
      expect(withoutToken.status).toBe(401);
      expect(withoutToken.json).toMatchObject({ error_code: "APIGW.0301" });
      const defaults = await call(sim, "GET", path.activeDomains, {
        headers: { "X-Security-Token": "session-token-1" },
      });
      expect(defaults.status).toBe(401);
    } finally {
      await sim.close();
    }
  });
});

describe("access log", () => {
  it("logs one line per request with method, path and status, and never a secret or token", async () => {
    const lines: string[] = [];
    const sim = await startSimulator({ estate: sampleEstate, logger: (line) => lines.push(line) });
    try {
      const issued = await call(sim, "POST", path.tokens, { body: tokenRequest(), anonymous: true });
      const token = issued.headers.get("x-subject-token") ?? "";
      await call(sim, "GET", path.activeDomains, { token });
      await call(sim, "GET", path.activeDomains, { secretKey: "wrong-secret" });
      expect(lines).toEqual([
        expect.stringMatching(/^POST \/v3\/auth\/tokens → 201 \d+ms$/),
        expect.stringMatching(new RegExp(`^GET /v1/${PROJECT}/active-domains → 200 \\d+ms$`)),
        expect.stringMatching(new RegExp(`^GET /v1/${PROJECT}/active-domains → 401 \\d+ms$`)),
      ]);
      const log = lines.join("\n");
      for (const secret of [token, SIMULATOR_DEFAULTS.secretKey, SIMULATOR_DEFAULTS.password, "wrong-secret"]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await sim.close();
    }
  });
});
