/**
 * `sdrs-autoprotect webhooks listen` and `webhooks secret`: deliveries signed by the notifier's own sender
 * (lib/notify/webhook.ts) are printed one line each; bad ones are refused and reported on stderr. In
 * process (test/cli/helpers.ts); a real SIGINT and a reader that goes away are test/cli/bin.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type NotificationEvent, notificationEventId } from "../../lib/notify/events.ts";
import { cleanEnv, type Running, runCli, sendWebhook as send, startCli } from "./helpers.ts";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

const protectedEvent: NotificationEvent = {
  type: "server.protected",
  timestamp: "2026-01-01T00:05:00.000Z",
  data: {
    serverId: "403b603d-1d91-42cc-a357-81f3c2daf43f",
    serverName: "web-01",
    target: "web",
    protectionGroupId: "523ab8ad-3759-4933-9436-4cf4ebb20867",
    protectedInstanceId: "pi-0001",
    protectedInstanceName: "web-01",
    jobId: "job-0001",
    requestIds: ["req-1"],
    warnings: [],
  },
};

const running: Running[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop();
});

function listen(args: readonly string[], env = cleanEnv()): Running {
  const cli = startCli(["webhooks", "listen", ...args], env);
  running.push(cli);
  return cli;
}

describe("sdrs-autoprotect webhooks listen", () => {
  it("prints the URL first, then one line per verified event: time, type, subject, webhook-id", async () => {
    const cli = listen(["--secret", SECRET, "--port", "0"]);
    const url = await cli.firstLine;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    expect(await send(url, SECRET, protectedEvent)).toEqual({ result: "delivered", httpStatus: 200 });
    const line = await cli.lineMatching(/server\.protected/);
    const eventId = notificationEventId(protectedEvent);
    expect(line).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\S+Z {2}server\\.protected {2}server/403b603d-1d91-42cc-a357-81f3c2daf43f {2}${eventId}$`,
      ),
    );

    cli.signal("SIGINT");
    const finished = await cli.finished;
    expect(finished.code).toBe(0);
    expect(finished.stderr).toContain("stopping the receiver (1 events received)");
    expect(finished.stdout + finished.stderr).not.toContain(SECRET);
  });

  it("refuses a delivery signed with another secret, reporting it on stderr only", async () => {
    const cli = listen(["--secret", SECRET]);
    const url = await cli.firstLine;
    const other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const result = await send(url, other, protectedEvent);
    expect(result).toMatchObject({ result: "failed", httpStatus: 401 });
    cli.signal("SIGINT");
    const finished = await cli.finished;
    expect(finished.stderr).toContain(
      `rejected: HTTP 401 No matching signature found (webhook-id ${notificationEventId(protectedEvent)})`,
    );
    expect(finished.stdout.trimEnd().split("\n")).toEqual([url]);
  });

  it("--json prints each event as one JSON object, the secret coming from SDRS_WEBHOOK_SECRET", async () => {
    const cli = listen(["--json"], cleanEnv({ SDRS_WEBHOOK_SECRET: SECRET }));
    const url = await cli.firstLine;
    await send(url, SECRET, protectedEvent);
    const line = await cli.lineMatching(/^\{/);
    expect(JSON.parse(line)).toMatchObject({
      webhookId: notificationEventId(protectedEvent),
      type: "server.protected",
      subject: "server/403b603d-1d91-42cc-a357-81f3c2daf43f",
      event: protectedEvent,
    });
  });

  it("exits 2 naming --secret when none is given, or it is no Standard Webhooks secret", async () => {
    const missing = await runCli(["webhooks", "listen"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: --secret: required (or set SDRS_WEBHOOK_SECRET)");
    const malformed = await runCli(["webhooks", "listen", "--secret", "not-a-whsec-secret"]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe(
      'error: --secret / SDRS_WEBHOOK_SECRET: must start with "whsec_" followed by base64 [USAGE]\n',
    );
  });
});

describe("sdrs-autoprotect webhooks secret", () => {
  it("prints a fresh whsec_ secret of 32 random bytes that a receiver accepts", async () => {
    const [first, second] = await Promise.all([runCli(["webhooks", "secret"]), runCli(["webhooks", "secret"])]);
    expect(first?.code).toBe(0);
    const secret = first?.stdout.trim() ?? "";
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64")).toHaveLength(32);
    expect(second?.stdout.trim()).not.toBe(secret);

    const cli = listen(["--secret", secret]);
    const url = await cli.firstLine;
    expect(await send(url, secret, protectedEvent)).toMatchObject({ result: "delivered" });
  });

  it("--bytes outside 24–64 exits 2 with the rule", async () => {
    const result = await runCli(["webhooks", "secret", "--bytes", "16"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'--bytes <n>' argument '16' is invalid. must be a whole number from 24 to 64");
  });
});
