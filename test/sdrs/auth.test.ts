import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { signedHeaders, TokenCache, tokenRequestBody, tokenResponseBody } from "../../lib/sdrs/auth.ts";
import { parseAuthorization, verifySignature } from "../../lib/sdrs/signer.ts";
import { Secret } from "../../lib/secret.ts";

const projectId = "0123456789abcdef0123456789abcdef";
const credentials = { accessKey: "AKEXAMPLE", secretKey: "SK_EXAMPLE" };
const now = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

describe("signedHeaders (AK/SK)", () => {
  it("reproduces the SDRS create regression vector (V4) over the exact body bytes", () => {
    const body = '{"protected_instance":{"server_group_id":"g1","server_id":"s1","name":"pi-1"}}';
    const headers = signedHeaders(
      { method: "POST", url: `https://sdrs.eu-de.otc.t-systems.com/v1/${projectId}/protected-instances`, body },
      credentials,
      projectId,
      now,
    );
    expect(headers).toEqual({
      "Content-Type": "application/json",
      "X-Project-Id": projectId,
      "X-Sdk-Date": "20240102T030405Z",
      Authorization:
        "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=2f3d832a2675fb4d2b609c095c7b452ad763f737295466a9f1f2a8f920a156c3",
    });
  });

  it("signs host (with a non-default port), x-project-id and x-sdk-date on a GET, without content-type", () => {
    const url = `http://127.0.0.1:8443/v1/${projectId}/protected-instances?limit=100&offset=0&server_group_ids=%5B%22a%22%2C%22b%22%5D`;
    const headers = signedHeaders({ method: "GET", url, body: undefined }, credentials, projectId, now);
    const authorization = parseAuthorization(headers.Authorization ?? "");
    expect(authorization?.signedHeaders).toEqual(["host", "x-project-id", "x-sdk-date"]);
    expect(headers["Content-Type"]).toBeUndefined();
    // What the gateway sees: our headers plus the Host fetch derives from the URL.
    const received = { ...headers, Host: "127.0.0.1:8443" };
    expect(
      authorization && verifySignature({ method: "GET", url, headers: received }, authorization, "SK_EXAMPLE"),
    ).toBe(true);
    expect(authorization && verifySignature({ method: "GET", url, headers: received }, authorization, "wrong")).toBe(
      false,
    );
  });

  it("sends and signs X-Security-Token for temporary credentials", () => {
    const headers = signedHeaders(
      { method: "GET", url: "https://sdrs.example.test/v1/p/jobs/j", body: undefined },
      { ...credentials, securityToken: "sts-token" },
      projectId,
      now,
    );
    expect(headers["X-Security-Token"]).toBe("sts-token");
    expect(parseAuthorization(headers.Authorization ?? "")?.signedHeaders).toEqual([
      "host",
      "x-project-id",
      "x-sdk-date",
      "x-security-token",
    ]);
  });

  it("a body that differs by one byte from the signed one fails verification", () => {
    const url = "https://sdrs.example.test/v1/p/server-groups";
    const body = '{"server_group":{"name":"g"}}';
    const headers = signedHeaders({ method: "POST", url, body }, credentials, projectId, now);
    const authorization = parseAuthorization(headers.Authorization ?? "");
    const received = { ...headers, Host: "sdrs.example.test" };
    expect(
      authorization && verifySignature({ method: "POST", url, headers: received, body }, authorization, "SK_EXAMPLE"),
    ).toBe(true);
    expect(
      authorization &&
        verifySignature({ method: "POST", url, headers: received, body: `${body}\n` }, authorization, "SK_EXAMPLE"),
    ).toBe(false);
  });
});

describe("IAM token request", () => {
  it("asks for a password token scoped to the project", () => {
    expect(
      tokenRequestBody({ kind: "token", userName: "ops", password: new Secret("pw"), domainName: "acme" }, projectId),
    ).toEqual({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "ops", password: "pw", domain: { name: "acme" } } },
        },
        scope: { project: { id: projectId } },
      },
    });
  });

  it("reads expires_at with microseconds", () => {
    const body = tokenResponseBody.parse({
      token: { expires_at: "2019-02-13T06:52:13.855000Z", methods: ["password"] },
    });
    expect(Date.parse(body.token.expires_at)).toBe(Date.UTC(2019, 1, 13, 6, 52, 13, 855));
  });
});

describe("TokenCache", () => {
  const DAY = 24 * 3600_000;

  function cache(clock: ManualClock, lifetimeMs = DAY) {
    const issued: string[] = [];
    const tokens = new TokenCache(async () => {
      const token = `token-${issued.length + 1}`;
      issued.push(token);
      return { token: new Secret(token), expiresAt: clock.now() + lifetimeMs };
    }, clock);
    return { tokens, issued };
  }

  it("reuses the token until 5 minutes before it expires, then fetches a new one", async () => {
    const clock = new ManualClock();
    const { tokens, issued } = cache(clock);
    expect((await tokens.get()).reveal()).toBe("token-1");
    clock.advance(DAY - 5 * 60_000 - 1);
    expect((await tokens.get()).reveal()).toBe("token-1");
    clock.advance(1);
    expect((await tokens.get()).reveal()).toBe("token-2");
    expect(issued).toEqual(["token-1", "token-2"]);
  });

  it("fetches once for concurrent callers", async () => {
    const { tokens, issued } = cache(new ManualClock());
    const all = await Promise.all([tokens.get(), tokens.get(), tokens.get()]);
    expect(all.map((token) => token.reveal())).toEqual(["token-1", "token-1", "token-1"]);
    expect(issued).toHaveLength(1);
  });

  it("fetches a new token after invalidate (401 APIGW.0307)", async () => {
    const { tokens, issued } = cache(new ManualClock());
    await tokens.get();
    tokens.invalidate();
    expect((await tokens.get()).reveal()).toBe("token-2");
    expect(issued).toHaveLength(2);
  });

  it("refreshes a short-lived token at half its life", async () => {
    const clock = new ManualClock();
    const { tokens } = cache(clock, 60_000);
    await tokens.get();
    clock.advance(29_999);
    expect((await tokens.get()).reveal()).toBe("token-1");
    clock.advance(1);
    expect((await tokens.get()).reveal()).toBe("token-2");
  });
});
