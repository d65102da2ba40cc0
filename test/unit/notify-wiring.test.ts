import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import { parseTargetsConfig } from "../../lib/config/targets.ts";
import { generateWebhookSecret } from "../../lib/notify/endpoints.ts";
import type { QueueSender } from "../../lib/queue/queue.ts";
import { notifyDepsFor } from "../../lib/runtime/notify.ts";
import { createRepositories } from "../../lib/state/repositories.ts";
import { SqliteStore } from "../../lib/state/sqlite-store.ts";

const queue: QueueSender = { send: async () => {}, sendBatch: async () => {} };

function wiring(webhooks: unknown[], env: Record<string, string>) {
  const clock = new ManualClock();
  return {
    config: parseTargetsConfig({ targets: {}, webhooks }),
    env,
    repos: createRepositories(new SqliteStore({ database: ":memory:", clock }), { clock }),
    queue,
    clock,
    allowLoopbackHttp: false,
  };
}

describe("webhook endpoints of the runtime", () => {
  const secret = generateWebhookSecret();

  it("takes the targets configuration's endpoints with {env} secrets resolved, plus WEBHOOK_URL/WEBHOOK_SECRET", () => {
    const deps = notifyDepsFor(
      wiring([{ id: "ops", url: "https://hooks.example.com/sdrs", secret: { env: "OPS_SECRET" } }], {
        OPS_SECRET: secret,
        WEBHOOK_URL: "https://other.example.com/hook",
        WEBHOOK_SECRET: secret,
      }),
    );
    expect(deps.endpoints.map((endpoint) => [endpoint.id, endpoint.url])).toEqual([
      ["ops", "https://hooks.example.com/sdrs"],
      ["default", "https://other.example.com/hook"],
    ]);
    expect(JSON.stringify(deps.endpoints)).not.toContain(secret.slice("whsec_".length));
  });

  it("names the variable when a referenced secret is missing", () => {
    expect(() =>
      notifyDepsFor(wiring([{ id: "ops", url: "https://h.example.com/", secret: { env: "NOPE" } }], {})),
    ).toThrow(/webhooks\[0\]\.secret: environment variable NOPE is not set/);
  });

  it("refuses plain http to a public host outside local mode", () => {
    expect(() => notifyDepsFor(wiring([{ id: "ops", url: "http://hooks.example.com/", secret }], {}))).toThrow(/https/);
  });

  it("refuses an endpoint id given twice", () => {
    expect(() =>
      notifyDepsFor(
        wiring([{ id: "default", url: "https://h.example.com/", secret }], {
          WEBHOOK_URL: "https://o.example.com/",
          WEBHOOK_SECRET: secret,
        }),
      ),
    ).toThrow(/"default" is given both/);
  });
});
