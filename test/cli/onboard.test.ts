/**
 * `sdrs-autoprotect onboard` against `sdrs-autoprotect sim --fast` (its URL read from the first stdout
 * line), both run in process (test/cli/helpers.ts): a CSV run with webhooks, an outage, bad input. Also
 * the servers-file parser, the state lock and the Idempotency-Key. A killed and an interrupted run are
 * test/cli/onboard-resume.test.ts.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseServersFile } from "../../lib/cli/onboard/input.ts";
import { acquireStateLock } from "../../lib/cli/onboard/lock.ts";
import { onboardIdempotencyKey } from "../../lib/cli/onboard/resume.ts";
import { onboardResultSchema } from "../../lib/cli/report/requests.ts";
import { generateWebhookSecret, type ReceivedWebhook, startWebhookReceiver } from "../../lib/notify/receiver.ts";
import { cleanEnv, closedPort, runCli, startCli } from "./helpers.ts";
import { createCalls, idOf, setFaults, until, useOnboardFixture } from "./onboard-fixture.ts";

const { directory, file, startSim, receivers, running } = useOnboardFixture("sdrs-onboard-test-");

describe("sdrs-autoprotect onboard against sdrs-autoprotect sim --fast", () => {
  it("protects the servers of a CSV, notifies the webhook, reports each server, exits 1 for the ineligible one, and replays on a re-run", async () => {
    const sim = await startSim();
    const secret = generateWebhookSecret();
    const received: ReceivedWebhook[] = [];
    const receiver = await startWebhookReceiver({ secret, onEvent: (event) => void received.push(event) });
    receivers.push(receiver);
    const state = join(directory, "csv.sqlite");
    const csv = file(
      "servers.csv",
      [
        "server_id,flavorRef,owner",
        "# the shop's web tier",
        `${idOf("web-01")},,shop`,
        `${idOf("web-02")},s6.large.2,shop`,
        "",
        `${idOf("dev-web-01")},,dev`,
      ].join("\n"),
    );
    const args = ["onboard", "--target", "web", "--file", csv, "--state", state, "--webhook", receiver.url];
    const env = { ...sim.env, SDRS_WEBHOOK_SECRET: secret };

    const first = await runCli(args, env);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(
      /Onboarding request [0-9a-f-]{36}: 3 servers for target web \(Idempotency-Key onboard-[0-9a-f]{40}\)/,
    );
    expect(first.stderr).toContain("progress: 3/3 servers final: 2 protected, 0 failed, 1 ineligible, 0 unknown");
    expect(first.stdout).toContain("Protected (2)");
    expect(first.stdout).toMatch(new RegExp(`│ ${idOf("web-01")} │ [0-9a-f-]{36} │ job [0-9a-f]{32}`));
    expect(first.stdout).toMatch(new RegExp(`│ ${idOf("dev-web-01")} │ INELIGIBLE_VPC_MISMATCH \\(SDRS\\.1304\\)`));
    expect(first.stdout).toContain("3 servers: 2 protected, 0 failed, 1 ineligible, 0 unknown");
    expect(first.stdout + first.stderr).not.toContain(secret);
    const requestId = /Onboarding request ([0-9a-f-]{36})/.exec(first.stderr)?.[1];

    // The webhook got each outcome once, and the request's completion.
    await until(async () => received.length >= 4, "4 webhook deliveries", 5_000);
    expect(received.map((event) => event.event.type).sort()).toEqual([
      "onboarding_request.completed",
      "server.ineligible",
      "server.protected",
      "server.protected",
    ]);
    const completed = received.find((event) => event.event.type === "onboarding_request.completed")?.event;
    expect(completed?.data).toMatchObject({
      requestId,
      target: "web",
      counts: { protected: 2, failed: 0, ineligible: 1, unknown: 0, total: 3 },
    });
    expect(await sim.counts()).toMatchObject({ batchCreateProtectedInstances: 1 });

    // The same command again: the same request, read from the state file; nothing is created again.
    const again = await runCli([...args, "--json"], env);
    expect(again.code).toBe(1);
    const result = onboardResultSchema.parse(JSON.parse(again.stdout));
    expect(result).toMatchObject({
      requestId,
      resumed: true,
      complete: true,
      summary: { servers: 3, protected: 2, ineligible: 1 },
    });
    expect(
      result.servers.map((server) => [server.serverId, server.state, server.reasons.map((reason) => reason.code)]),
    ).toEqual([
      [idOf("web-01"), "protected", []],
      [idOf("web-02"), "protected", []],
      [idOf("dev-web-01"), "ineligible", ["INELIGIBLE_VPC_MISMATCH"]],
    ]);
    expect(again.stderr).toContain(`Resuming onboarding request ${requestId}`);
    expect(createCalls(await sim.counts())).toBe(1);
  });

  it("says within 10 s that the cloud is unreachable when it goes away mid-run, and gives up after --outage-limit with exit 3, the state kept", async () => {
    const sim = await startSim();
    const csv = file("outage.csv", ["intranet-01", "intranet-02", "web-03"].map(idOf).join("\n"));
    const state = join(directory, "outage.sqlite");
    // Every answer takes 0.8 s, so the run is still following its job when the simulator goes away.
    await setFaults(sim, { latencyMs: 800 });
    const run = startCli(
      ["onboard", "--target", "web", "--file", csv, "--state", state, "--outage-limit", "4"],
      sim.env,
    );
    running.push(run);
    await until(async () => createCalls(await sim.counts()) > 0, "the first create call", 30_000);
    // The simulator closes every connection and its port: to the client, the cloud has gone away.
    await sim.process.stop();
    const stoppedAt = Date.now();
    await until(
      async () =>
        /progress: .*cloud unreachable \(NETWORK_ERROR\) · (retry \d+ in [\d.]+ s|for [\d.]+ s)/.test(run.stderr()),
      "the outage on the progress line",
      10_000,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    const ended = await run.finished;
    expect(ended.code).toBe(3);
    expect(ended.stderr).toContain(
      `error: the cloud kept failing for 4 s (--outage-limit): last NETWORK_ERROR; stopped, state kept in ${state}: run the same command again to resume`,
    );
    expect(existsSync(state)).toBe(true);
    expect(existsSync(`${state}.lock`)).toBe(false);
  });

  it("exits 3 when the cloud does not answer, before anything is written", async () => {
    const csv = file("ok.csv", `${idOf("web-01")}\n`);
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const state = join(directory, "unreachable.sqlite");
    const run = await runCli(["onboard", "--target", "web", "--file", csv, "--state", state], {
      ...cleanEnv({
        SDRS_ENDPOINT: dead,
        ECS_ENDPOINT: dead,
        EVS_ENDPOINT: dead,
        HUAWEICLOUD_SDK_AK: "AK",
        HUAWEICLOUD_SDK_SK: "SK-not-real",
        HUAWEICLOUD_SDK_PROJECT_ID: "p1",
      }),
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /error: cloud API error: listProtectionGroups failed with NETWORK_ERROR .*\[NETWORK_ERROR\]/,
    );
  });
});

describe("onboard against the in-process simulator (no cloud configured)", () => {
  it("counts the notifications that gave up when the webhook never answers", async () => {
    const port = await closedPort();
    const json = file("two.json", JSON.stringify([idOf("arrears-01"), idOf("finance-01")]));
    const run = await runCli(
      ["onboard", "--target", "web", "--file", json, "--webhook", `http://127.0.0.1:${port}/`, "--json"],
      cleanEnv({ SDRS_WEBHOOK_SECRET: generateWebhookSecret() }),
    );
    expect(run.stderr.replace(/\s+/g, " ")).toContain(
      "onboarding against an in-process simulator with the sample estate (accelerated time)",
    );
    expect(run.code).toBe(1);
    const result = onboardResultSchema.parse(JSON.parse(run.stdout));
    expect(result).toMatchObject({
      stateFile: null,
      cloud: { simulator: true },
      summary: { protected: 1, ineligible: 1 },
    });
    // server.protected, server.ineligible and onboarding_request.completed: each spent its attempts.
    expect(result.notifications).toEqual({ gaveUp: 3 });
    expect(run.stderr).toMatch(/ERROR webhook delivery gave up .*"endpointId":"cli"/);
  });
});

describe("onboard: usage errors exit 2 and name the file, the line and the rule", () => {
  const run = (args: string[]) => runCli(["onboard", ...args, "--state", join(directory, "never.sqlite")]);

  it("names the CSV line of a bad server id", async () => {
    const csv = file("bad.csv", `server_id\n${idOf("web-01")}\nweb 01\n`);
    const result = await run(["--target", "web", "--file", csv]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.csv line 3: server_id "web 01" is not a server id');
    expect(result.stderr).toContain("[SERVERS_FILE_INVALID]");
  });

  it("names the JSON entry of a bad object", async () => {
    const json = file("bad.json", JSON.stringify([idOf("web-01"), { server: "x" }]));
    const result = await run(["--target", "web", "--file", json]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("bad.json [1]");
  });

  it("refuses a target that is neither configured nor a protection group, and a missing --target", async () => {
    const csv = file("ok.csv", `${idOf("web-01")}\n`);
    const unknown = await run(["--target", "shop", "--file", csv]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: --target: "shop" is neither a target of');
    const missing = await runCli(["onboard", "--file", csv]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--target <name>' not specified");
  });

  it("refuses plain http to a host that is not loopback, and a webhook without a secret", async () => {
    const csv = file("ok.csv", `${idOf("web-01")}\n`);
    const remote = await run([
      "--target",
      "web",
      "--file",
      csv,
      "--webhook",
      "http://hooks.example.com/sdrs",
      "--webhook-secret",
      generateWebhookSecret(),
    ]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain("error: --webhook: must use https; plain http is allowed only to a loopback host");
    const noSecret = await run(["--target", "web", "--file", csv, "--webhook", "http://127.0.0.1:9/"]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain("error: --webhook-secret: required with --webhook");
  });
});

describe("the state lock", () => {
  it("refuses a state file another live run holds, naming its pid, and takes over the lock of a dead one", () => {
    const state = join(directory, "locked.sqlite");
    // The test runner's parent process is alive and is not this process.
    writeFileSync(`${state}.lock`, JSON.stringify({ pid: process.ppid }));
    expect(() => acquireStateLock(state)).toThrow(
      `--state: ${state} is in use by another sdrs-autoprotect run (pid ${process.ppid})`,
    );

    writeFileSync(`${state}.lock`, "{half written");
    const release = acquireStateLock(state);
    expect(JSON.parse(readFileSync(`${state}.lock`, "utf8"))).toMatchObject({ pid: process.pid });
    release();
    expect(existsSync(`${state}.lock`)).toBe(false);
  });
});

describe("the servers file", () => {
  const a = "403b603d-1d91-42cc-a357-81f3c2daf43f";
  const b = "8f5dd226-6cc0-4fe8-9786-b8b3359b234b";

  it.each([
    [
      "one id per line, with comments and blank lines",
      "servers.csv",
      `# ids\n${a}\n\n${b}\n`,
      [{ serverId: a }, { serverId: b }],
    ],
    [
      "a header with server_id and flavorRef",
      "servers.csv",
      `server_id,flavorRef\n${a},\n${b},s6.large.2\n`,
      [{ serverId: a }, { serverId: b, flavorRef: "s6.large.2" }],
    ],
    ["a header with id, other columns and a BOM", "x.txt", `\uFEFFname,ID\nweb-01,${a}\n`, [{ serverId: a }]],
    [
      "a JSON array of ids and objects",
      "servers.json",
      JSON.stringify([a, { serverId: b, flavorRef: "s6.large.2" }]),
      [{ serverId: a }, { serverId: b, flavorRef: "s6.large.2" }],
    ],
    ["a JSON object with servers, by content", "list", JSON.stringify({ servers: [a] }), [{ serverId: a }]],
  ])("reads %s", (_, name, text, servers) => {
    expect(parseServersFile(text, name)).toEqual({ servers, duplicates: [] });
  });

  it("onboards a repeated server once and says where it was repeated", () => {
    expect(parseServersFile(`${a}\n${b}\n${a}\n`, "servers.csv")).toEqual({
      servers: [{ serverId: a }, { serverId: b }],
      duplicates: [`line 3: ${a} is listed again (first at line 1); onboarded once`],
    });
  });

  it.each([
    [
      "two values without a header",
      "servers.csv",
      `${a},${b}\n`,
      'servers.csv line 1: 2 values but no header row; start the file with a header such as "server_id,flavorRef"',
    ],
    ["an empty id under a header", "servers.csv", `server_id\n${a}\n,x\n`, "servers.csv line 3: server_id is empty"],
    [
      "a bad flavorRef",
      "servers.csv",
      `id,flavorRef\n${a},"s6 large"\n`,
      'servers.csv line 2: flavorRef "s6 large" is not a flavor name',
    ],
    ["an unclosed quote", "servers.csv", `"${a}\n`, "servers.csv: not valid CSV: Quote Not Closed"],
    ["a JSON number", "servers.json", "[42]", "servers.json [0]: Invalid input"],
    [
      "a JSON object without servers",
      "servers.json",
      '{"ids": []}',
      'servers.json: must be an array of server ids or {"serverId", "flavorRef"?} objects, or {"servers": [...]}',
    ],
    ["a JSON id with a slash", "servers.json", '["a/b"]', 'servers.json [0]: server id "a/b" is not a server id'],
    ["no servers at all", "servers.csv", "# nothing here\n", "servers.csv: lists no servers"],
    [
      "more than one request takes",
      "servers.csv",
      Array.from({ length: 1001 }, (_, index) => `id-${index}`).join("\n"),
      "servers.csv: lists 1001 servers; one onboarding request takes at most 1000",
    ],
  ])("refuses %s, naming the place", (_, name, text, message) => {
    expect(() => parseServersFile(text, name)).toThrow(message);
  });

  it("derives the Idempotency-Key from the cloud, the target and the servers, so only the same command replays", () => {
    const base = {
      endpoint: "https://sdrs.eu-de.otc.t-systems.com",
      projectId: "p1",
      target: "web",
      servers: [{ serverId: a }, { serverId: b }],
    };
    const key = onboardIdempotencyKey(base);
    expect(key).toMatch(/^onboard-[0-9a-f]{40}$/);
    expect(onboardIdempotencyKey({ ...base, servers: [{ serverId: a }, { serverId: b }] })).toBe(key);
    expect(onboardIdempotencyKey({ ...base, target: "db" })).not.toBe(key);
    expect(onboardIdempotencyKey({ ...base, projectId: "p2" })).not.toBe(key);
    expect(
      onboardIdempotencyKey({ ...base, servers: [{ serverId: a }, { serverId: b, flavorRef: "s6.large.2" }] }),
    ).not.toBe(key);
    // The API's fingerprint rule: the same servers in another order are the same request, so the same key.
    expect(onboardIdempotencyKey({ ...base, servers: [{ serverId: b }, { serverId: a }] })).toBe(key);
  });
});
