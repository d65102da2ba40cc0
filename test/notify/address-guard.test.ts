/**
 * Webhook URLs in cloud mode may not reach internal addresses: refused when the configuration loads (the
 * literal host, or what the name resolves to) and again when a connection is made (DNS rebinding). Tested
 * with the validation and resolution code only: resolvers are injected, and the one connection made goes
 * to a receiver on 127.0.0.1 that the allow-list admits. No traffic leaves loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  blockedAddressReason,
  guardedFetch,
  type Resolver,
  resolvedHostReason,
} from "../../lib/notify/address-guard.ts";
import {
  generateWebhookSecret,
  parseWebhookEndpoints,
  verifyWebhookHosts,
  WebhookEndpointConfigError,
} from "../../lib/notify/endpoints.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../lib/notify/receiver.ts";

const secret = generateWebhookSecret();
const cloud = { allowLoopbackHttp: false };

function endpoint(url: string) {
  return [{ id: "ops", url, secret }];
}

function refusal(url: string, rules = cloud): string {
  try {
    parseWebhookEndpoints(endpoint(url), rules);
  } catch (error) {
    if (error instanceof WebhookEndpointConfigError) return error.issues.join("; ");
    throw error;
  }
  return "accepted";
}

const resolvingTo =
  (addresses: Record<string, string[]>): Resolver =>
  async (hostname) => {
    const found = addresses[hostname];
    if (!found) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    return found;
  };

describe("webhook URLs at load time (cloud mode)", () => {
  it.each([
    ["https://169.254.169.254/latest/meta-data", "169.254.169.254 is a linkLocal address"],
    ["https://metadata.google.internal/computeMetadata/v1", "metadata.google.internal is an internal name"],
    ["https://10.1.2.3/hook", "10.1.2.3 is a private address"],
    ["https://172.16.0.9/hook", "172.16.0.9 is a private address"],
    ["https://192.168.1.1/hook", "192.168.1.1 is a private address"],
    ["https://100.64.0.1/hook", "100.64.0.1 is a carrierGradeNat address"],
    ["https://127.0.0.1/hook", "127.0.0.1 is a loopback address"],
    ["https://localhost/hook", "localhost is an internal name"],
    ["https://[fd00::1]/hook", "fd00::1 is a uniqueLocal address"],
    ["https://[fe80::1]/hook", "fe80::1 is a linkLocal address"],
    ["https://[::ffff:10.0.0.1]/hook", "10.0.0.1 is a private address"],
    ["https://0.0.0.0/hook", "0.0.0.0 is a unspecified address"],
  ])("refuses %s", (url, reason) => {
    expect(refusal(url)).toBe(
      `[0].url: must reach a public host: ${reason} (list hosts or networks you run in SDRS_WEBHOOK_ALLOW_PRIVATE)`,
    );
  });

  it("accepts a public https host, and a private one the allow-list names (network or hostname)", () => {
    expect(refusal("https://hooks.example.com/x")).toBe("accepted");
    expect(refusal("https://93.184.216.34/x")).toBe("accepted");
    expect(refusal("https://10.20.0.5/x", { ...cloud, allowedPrivateHosts: ["10.20.0.0/16"] } as never)).toBe(
      "accepted",
    );
    expect(
      refusal("https://hooks.corp.internal/x", { ...cloud, allowedPrivateHosts: ["hooks.corp.internal"] } as never),
    ).toBe("accepted");
    expect(refusal("https://10.21.0.5/x", { ...cloud, allowedPrivateHosts: ["10.20.0.0/16"] } as never)).toMatch(
      /10\.21\.0\.5 is a private address/,
    );
  });

  it("local mode keeps plain http to loopback", () => {
    expect(refusal("http://127.0.0.1:8080/hook", { allowLoopbackHttp: true })).toBe("accepted");
  });

  it("refuses a name that resolves to an internal address, naming endpoint and address", async () => {
    const resolver = resolvingTo({ "hooks.example.com": ["93.184.216.34", "10.0.0.7"] });
    const endpoints = parseWebhookEndpoints(endpoint("https://hooks.example.com/x"), cloud);
    await expect(verifyWebhookHosts(endpoints, {}, resolver)).rejects.toThrow(
      "webhook endpoints: ops.url: must reach a public host: hooks.example.com resolves to 10.0.0.7, which is a private address",
    );
    await expect(
      verifyWebhookHosts(endpoints, {}, resolvingTo({ "hooks.example.com": ["93.184.216.34"] })),
    ).resolves.toBeUndefined();
    expect(await resolvedHostReason("nowhere.example", {}, resolver)).toBe(
      "nowhere.example does not resolve (ENOTFOUND)",
    );
  });

  it("classifies with ipaddr.js: public unicast passes, the rest names its range", () => {
    expect(blockedAddressReason("8.8.8.8")).toBeUndefined();
    expect(blockedAddressReason("2001:4860:4860::8888")).toBeUndefined();
    expect(blockedAddressReason("fd00:ec2::254")).toBe("fd00:ec2::254 is a uniqueLocal address");
  });
});

describe("webhook connections (DNS rebinding)", () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret });
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it("checks the address again at connection time: the same name reaches the allowed receiver, then is refused once it resolves elsewhere", async () => {
    const port = new URL(receiver.url).port;
    const answers: string[][] = [["127.0.0.1"], ["10.0.0.7"]];
    const resolver: Resolver = async () => answers.shift() ?? [];
    const guarded = guardedFetch({ allowedPrivateHosts: ["127.0.0.0/8"] }, resolver);
    const first = await guarded(`http://rebind.example:${port}/`, { method: "POST", body: "{}" });
    expect(first.status).toBe(401); // reached the receiver, which refuses an unsigned body
    await first.body?.cancel();
    const second = guarded(`http://rebind.example:${port}/`, { method: "POST", body: "{}" });
    await expect(second).rejects.toMatchObject({ cause: { code: "WEBHOOK_ADDRESS_BLOCKED" } });
  });
});
