import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  endpointAccepts,
  generateWebhookSecret,
  isLoopbackHost,
  parseWebhookEndpoints,
  redactUrl,
  WebhookEndpointConfigError,
  webhookEndpointsFromEnv,
} from "../../lib/notify/endpoints.ts";
import { SECRET } from "./helpers.ts";

function configError(run: () => unknown): WebhookEndpointConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookEndpointConfigError) return error;
    throw error;
  }
  throw new Error("expected a WebhookEndpointConfigError");
}

const endpoint = (url: string) => [{ id: "ops", url, secret: SECRET }];

describe("endpoint URL rule", () => {
  it.each([
    ["https://hooks.example.com/sdrs", false],
    // https to loopback only in local mode: in cloud mode internal hosts are refused (address-guard.test.ts).
    ["https://127.0.0.1:8443/hook", true],
    ["http://127.0.0.1:9000/hook", true],
    ["http://127.12.0.9/hook", true],
    ["http://localhost:9000/", true],
    ["http://[::1]:9000/", true],
  ])("accepts %s (local mode: %s)", (url, allowLoopbackHttp) => {
    expect(parseWebhookEndpoints(endpoint(url), { allowLoopbackHttp })[0]?.url).toBe(url);
  });

  it("refuses plain http to loopback outside local mode, naming the field and the rule", () => {
    const error = configError(() => parseWebhookEndpoints(endpoint("http://127.0.0.1:9000/hook")));
    expect(error.code).toBe("INVALID_WEBHOOK_ENDPOINT");
    expect(error.message).toBe(
      "webhook endpoints: [0].url: must use https; plain http to a loopback host is allowed only in local mode (allowLoopbackHttp)",
    );
  });

  it("refuses plain http to a non-loopback host even in local mode", () => {
    const error = configError(() =>
      parseWebhookEndpoints(endpoint("http://10.0.0.5/hook"), { allowLoopbackHttp: true }),
    );
    expect(error.issues).toEqual([
      "[0].url: must use https; plain http is allowed only to a loopback host (127.0.0.0/8, localhost, ::1), got host 10.0.0.5",
    ]);
  });

  it("refuses other schemes, relative URLs and URLs with credentials", () => {
    expect(configError(() => parseWebhookEndpoints(endpoint("ftp://example.com/x"))).issues).toEqual([
      "[0].url: must use https, got ftp",
    ]);
    expect(configError(() => parseWebhookEndpoints(endpoint("/hook"))).issues).toEqual([
      "[0].url: must be an absolute URL",
    ]);
    expect(configError(() => parseWebhookEndpoints(endpoint("https://user:pw@example.com/"))).issues[0]).toMatch(
      /^\[0\]\.url: must not contain credentials/,
    );
  });

  it("knows which hosts are loopback", () => {
    expect(["127.0.0.1", "127.255.255.254", "localhost", "api.localhost", "[::1]", "::1"].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(
      ["128.0.0.1", "127.0.0.256", "127.0.0", "example.com", "0.0.0.0", "::2", "localhost.example.com"].map(
        isLoopbackHost,
      ),
    ).toEqual([false, false, false, false, false, false, false]);
  });

  it("redacts a URL to its origin for logs", () => {
    expect(redactUrl("https://hooks.example.com/services/T000/B000/XXXXtoken?key=secret")).toBe(
      "https://hooks.example.com",
    );
  });
});

describe("endpoint secret", () => {
  it("accepts whsec_ secrets of 24 to 64 bytes and refuses others, naming the rule", () => {
    const withSecret = (secret: unknown) => [{ id: "ops", url: "https://example.com/", secret }];
    expect(() => parseWebhookEndpoints(withSecret(`whsec_${Buffer.alloc(64, 7).toString("base64")}`))).not.toThrow();
    expect(
      configError(() => parseWebhookEndpoints(withSecret(`whsec_${Buffer.alloc(23, 7).toString("base64")}`))).issues,
    ).toEqual(["[0].secret: must decode to 24–64 bytes (Standard Webhooks), got 23"]);
    expect(
      configError(() => parseWebhookEndpoints(withSecret(`whsec_${Buffer.alloc(65, 7).toString("base64")}`))).issues[0],
    ).toMatch(/got 65$/);
    expect(configError(() => parseWebhookEndpoints(withSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))).issues).toEqual([
      '[0].secret: must start with "whsec_" followed by base64',
    ]);
    expect(configError(() => parseWebhookEndpoints(withSecret("whsec_not base64!"))).issues).toEqual([
      '[0].secret: must be "whsec_" followed by standard base64',
    ]);
    expect(configError(() => parseWebhookEndpoints(withSecret(42))).issues).toEqual([
      '[0].secret: must be a string "whsec_<base64>"',
    ]);
  });

  it("never shows the secret in JSON, String(), util.inspect or template strings of a parsed endpoint", () => {
    const [parsed] = parseWebhookEndpoints([{ id: "ops", url: "https://example.com/hook", secret: SECRET }]);
    const secretBody = SECRET.slice("whsec_".length);
    const renderings = [
      JSON.stringify(parsed),
      JSON.stringify([parsed]),
      String(parsed?.secret),
      `${parsed?.secret}`,
      inspect(parsed, { depth: 5 }),
    ];
    for (const rendering of renderings) {
      expect(rendering).not.toContain(secretBody);
    }
    expect(JSON.parse(JSON.stringify(parsed))).toEqual({
      id: "ops",
      url: "https://example.com/hook",
      secret: "whsec_[REDACTED]",
    });
    expect(parsed?.secret.reveal()).toBe(SECRET);
  });

  it("never puts a secret into an error message, whatever else is wrong", () => {
    const almostSecrets = [
      `whsec_${Buffer.alloc(20, 9).toString("base64")}`,
      `whsec_${Buffer.alloc(80, 9).toString("base64")}`,
      `${SECRET}!`,
      SECRET.slice("whsec_".length),
    ];
    for (const secret of almostSecrets) {
      const error = configError(() =>
        parseWebhookEndpoints([{ id: "bad id!", url: "http://example.com", secret, eventTypes: ["nope"] }]),
      );
      const body = secret.replace(/^whsec_/, "").slice(0, 16);
      expect(error.message).not.toContain(body);
      expect(JSON.stringify(error)).not.toContain(body);
      expect(inspect(error)).not.toContain(body);
    }
  });

  it("generates secrets that are valid whsec_ values of 32 random bytes", () => {
    const first = generateWebhookSecret();
    expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(generateWebhookSecret()).not.toBe(first);
    expect(() => parseWebhookEndpoints([{ id: "ops", url: "https://example.com/", secret: first }])).not.toThrow();
    expect(() => generateWebhookSecret(16)).toThrow("bytes: must be an integer from 24 to 64, got 16");
  });
});

describe("endpoint list", () => {
  it("refuses duplicate ids and unknown event types", () => {
    const error = configError(() =>
      parseWebhookEndpoints([
        { id: "ops", url: "https://a.example.com/", secret: SECRET },
        { id: "ops", url: "https://b.example.com/", secret: SECRET, eventTypes: ["server.deleted"] },
      ]),
    );
    expect(error.issues).toEqual([
      expect.stringMatching(
        /^\[1\]\.eventTypes\[0\]: unknown event type "server.deleted": use one of server.protected, /,
      ),
      '[1].id: duplicate endpoint id "ops": ids must be unique',
    ]);
  });

  it("filters by exact type and by prefix.*, and a paused endpoint accepts nothing", () => {
    const [exact, prefix, all, paused] = parseWebhookEndpoints([
      { id: "exact", url: "https://example.com/1", secret: SECRET, eventTypes: ["onboarding_request.completed"] },
      { id: "prefix", url: "https://example.com/2", secret: SECRET, eventTypes: ["server.*"] },
      { id: "all", url: "https://example.com/3", secret: SECRET },
      { id: "paused", url: "https://example.com/4", secret: SECRET, enabled: false },
    ]);
    const accepted = (type: "server.protected" | "onboarding_request.completed") =>
      [exact, prefix, all, paused]
        .filter((candidate) => candidate !== undefined && endpointAccepts(candidate, type))
        .map((candidate) => candidate?.id);
    expect(accepted("server.protected")).toEqual(["prefix", "all"]);
    expect(accepted("onboarding_request.completed")).toEqual(["exact", "all"]);
  });
});

describe("endpoints from the environment", () => {
  it("reads one endpoint from WEBHOOK_URL + WEBHOOK_SECRET (+ WEBHOOK_EVENT_TYPES) with id default", () => {
    const [only, ...rest] = webhookEndpointsFromEnv({
      WEBHOOK_URL: "https://hooks.example.com/sdrs",
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENT_TYPES: "server.protected, server.protection_failed",
    });
    expect(rest).toEqual([]);
    expect(only?.id).toBe("default");
    expect(only?.eventTypes).toEqual(["server.protected", "server.protection_failed"]);
  });

  it("reads WEBHOOK_ENDPOINTS as a JSON array and names the variable in errors", () => {
    const list = JSON.stringify([{ id: "a", url: "https://a.example.com/", secret: SECRET }]);
    expect(webhookEndpointsFromEnv({ WEBHOOK_ENDPOINTS: list }).map((e) => e.id)).toEqual(["a"]);
    expect(() => webhookEndpointsFromEnv({ WEBHOOK_ENDPOINTS: "[{" })).toThrow(
      "WEBHOOK_ENDPOINTS: (value): must be a JSON array of endpoints",
    );
    expect(() => webhookEndpointsFromEnv({ WEBHOOK_URL: "https://a.example.com/" })).toThrow(
      'webhook environment: WEBHOOK_SECRET: must start with "whsec_" followed by base64',
    );
  });

  it("has no endpoints when nothing is configured", () => {
    expect(webhookEndpointsFromEnv({})).toEqual([]);
  });
});
