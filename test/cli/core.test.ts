/**
 * The CLI's pure parts, in process: which servers a dry run plans for which target, how errors map to
 * exit codes and one line, the colour rule, and the run loop's signal handling.
 */
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { type Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { parseFaults, simulatorCredentials } from "../../lib/cli/actions/sim.ts";
import { type CliContext, colorWanted, shutdownRequested } from "../../lib/cli/context.ts";
import { CliError, describeError, EXIT, exitCodeFor, redact } from "../../lib/cli/errors.ts";
import { protectTagValue, selectServers } from "../../lib/cli/plan/selection.ts";
import { COMMANDS } from "../../lib/cli/program.ts";
import { runCli } from "../../lib/cli/run.ts";
import { webhookSecretOf } from "../../lib/cli/webhook-secret.ts";
import { ConfigError } from "../../lib/config/targets.ts";
import { WebhookReceiverConfigError } from "../../lib/notify/receiver.ts";
import { CloudConfigError } from "../../lib/sdrs/config.ts";
import { AmbiguousCreateError, CloudApiError } from "../../lib/sdrs/errors.ts";
import { SIMULATOR_DEFAULTS } from "../../lib/sim/defaults.ts";
import { EstateError } from "../../lib/sim/estate.ts";

const server = (id: string, tags: string[] | null, name = id) => ({ id, name, tags });

describe("protectTagValue", () => {
  it.each([
    [["sdrs_protect=web", "env=prod"], "web"],
    [["env=prod"], undefined],
    [["sdrs_protect"], ""],
    [["sdrs_protect_old=db"], undefined],
    [["sdrs_protect=a=b"], "a=b"],
  ])("reads %j as %j", (tags, expected) => {
    expect(protectTagValue({ tags }, "sdrs_protect")).toBe(expected);
  });

  it("treats a server without tags as untagged", () => {
    expect(protectTagValue({ tags: null }, "sdrs_protect")).toBeUndefined();
  });
});

describe("selectServers", () => {
  const servers = [
    server("s1", ["sdrs_protect=web"]),
    server("s2", ["sdrs_protect=db"]),
    server("s3", []),
    server("s4", ["sdrs_protect=web"]),
  ];

  it("groups the tagged servers by tag value, in listing order", () => {
    expect(selectServers({ servers, tagKey: "sdrs_protect" })).toEqual({
      byTarget: new Map([
        ["web", ["s1", "s4"]],
        ["db", ["s2"]],
      ]),
      untargeted: [],
    });
  });

  it("--target keeps only that target, and still lists it when no server carries it", () => {
    expect(selectServers({ servers, tagKey: "sdrs_protect", target: "db" }).byTarget).toEqual(
      new Map([["db", ["s2"]]]),
    );
    expect(selectServers({ servers, tagKey: "sdrs_protect", target: "erp" }).byTarget).toEqual(new Map([["erp", []]]));
  });

  it("--servers takes each server's tag, and keeps servers without one (or unknown) apart", () => {
    expect(selectServers({ servers, tagKey: "sdrs_protect", serverIds: ["s2", "s3", "gone", "s2"] })).toEqual({
      byTarget: new Map([["db", ["s2"]]]),
      untargeted: ["s3", "gone"],
    });
  });

  it("--servers with --target puts every given server under that target", () => {
    expect(selectServers({ servers, tagKey: "sdrs_protect", serverIds: ["s3", "s1"], target: "db" })).toEqual({
      byTarget: new Map([["db", ["s3", "s1"]]]),
      untargeted: [],
    });
  });
});

describe("exit codes", () => {
  const cloudError = (status: number | undefined, code: string) =>
    new CloudApiError({
      status,
      code,
      message: "m",
      requestId: undefined,
      operation: "listServersDetails",
      retryable: false,
    });

  it.each([
    ["a CliError", new CliError("X", "x", EXIT.someServersNotProtected), 1],
    ["help shown", new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"), 0],
    ["--version", new CommanderError(0, "commander.version", "0.1.0"), 0],
    ["an unknown option", new CommanderError(1, "commander.unknownOption", "error: unknown option '--x'"), 2],
    [
      "a cloud configuration error",
      new CloudConfigError([{ variable: "SDRS_ENDPOINT", rule: "must be an http(s) URL" }]),
      2,
    ],
    ["a targets configuration error", new ConfigError("SDRS_TARGETS_FILE: cannot read x (ENOENT)"), 2],
    ["an invalid estate", new EstateError("x.json", ["servers.0.name: required"]), 2],
    ["a bad receiver secret", new WebhookReceiverConfigError("secret: must start with whsec_"), 2],
    ["a port in use", Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" }), 2],
    ["an unreachable cloud", cloudError(undefined, "NETWORK_ERROR"), 3],
    ["refused credentials", cloudError(401, "APIGW.0301"), 3],
    [
      "an ambiguous create",
      new AmbiguousCreateError({ operation: "batchCreateProtectedInstances", requestBody: {}, reason: "timeout" }),
      3,
    ],
    ["anything else (a bug)", new TypeError("x is undefined"), 70],
  ])("%s exits %i", (_case, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });
});

describe("error lines", () => {
  it("folds a multi-line message into one line", () => {
    expect(
      describeError(
        new ConfigError("targets.json is invalid:\n  - targets.web.protectionGroup: required\n  - batchLimit: too big"),
      ),
    ).toBe("targets.json is invalid: targets.web.protectionGroup: required; batchLimit: too big");
  });

  it("adds what to check to a cloud error without an answer", () => {
    const error = new CloudApiError({
      status: undefined,
      code: "NETWORK_ERROR",
      message: "connect ECONNREFUSED",
      requestId: undefined,
      operation: "showJob",
      retryable: true,
    });
    expect(describeError(error)).toBe(
      "cloud API error: showJob failed with NETWORK_ERROR (no HTTP answer): connect ECONNREFUSED (is the endpoint right and reachable? check SDRS_ENDPOINT / ECS_ENDPOINT / EVS_ENDPOINT or HUAWEICLOUD_REGION)",
    );
  });

  it("redacts every known secret, and leaves short values alone", () => {
    expect(redact("sk=verysecret and again verysecret; id=abc", ["verysecret", "abc"])).toBe(
      "sk=[redacted] and again [redacted]; id=abc",
    );
  });
});

describe("colorWanted", () => {
  it.each([
    [{ flag: undefined, env: {}, isTTY: true }, true],
    [{ flag: undefined, env: {}, isTTY: false }, false],
    [{ flag: false, env: { FORCE_COLOR: "1" }, isTTY: true }, false],
    [{ flag: undefined, env: { NO_COLOR: "1" }, isTTY: true }, false],
    [{ flag: undefined, env: { NO_COLOR: "" }, isTTY: true }, true],
    [{ flag: undefined, env: { FORCE_COLOR: "0" }, isTTY: true }, false],
    [{ flag: undefined, env: { FORCE_COLOR: "1" }, isTTY: false }, true],
  ])("%j → %s", (input, expected) => {
    expect(colorWanted(input)).toBe(expected);
  });
});

describe("sim options", () => {
  it("takes the simulator's credentials from the client's variables, else the defaults", () => {
    expect(simulatorCredentials({ HUAWEICLOUD_SDK_AK: "AK1", HUAWEICLOUD_SDK_SK: " " })).toEqual({
      accessKey: "AK1",
      secretKey: SIMULATOR_DEFAULTS.secretKey,
      projectId: SIMULATOR_DEFAULTS.projectId,
      fromEnv: { accessKey: true, secretKey: false, projectId: false },
    });
  });

  it("parses --faults with the control plane's schema", () => {
    expect(parseFaults('{"latencyMs":200,"failJob":{"serverIds":["s1"]}}')).toEqual({
      latencyMs: 200,
      failJob: { serverIds: ["s1"] },
    });
    expect(() => parseFaults("{not json")).toThrow(/^--faults: must be a JSON object/);
    expect(() => parseFaults('{"serverError":{"status":418}}')).toThrow(/^--faults\.serverError\.status: /);
  });
});

/** A command that waits for shutdown like a server does (or not), to drive runCli's signal handling. */
function waitingCommand(handlesShutdown: boolean) {
  return {
    register(program: Command, context: CliContext) {
      program.command("wait").action(async () => {
        if (handlesShutdown) context.handleShutdownItself();
        context.stdout.line("waiting");
        await shutdownRequested(context.shutdown);
        context.stdout.line("closed");
      });
    },
  };
}

function memoryIo() {
  let stdout = "";
  let stderr = "";
  const signals = new EventEmitter();
  return {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      signals: {
        on: (event: "SIGINT" | "SIGTERM", listener: () => void) => signals.on(event, listener),
        off: (event: "SIGINT" | "SIGTERM", listener: () => void) => signals.off(event, listener),
      },
    },
    signals,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

describe("runCli and signals", () => {
  it("lets a command that handles shutdown close cleanly and exit 0", async () => {
    const memory = memoryIo();
    const run = runCli(["wait"], memory.io, [waitingCommand(true)]);
    await expect.poll(() => memory.stdout()).toBe("waiting\n");
    memory.signals.emit("SIGTERM");
    expect(await run).toBe(0);
    expect(memory.stdout()).toBe("waiting\nclosed\n");
    expect(memory.signals.listenerCount("SIGINT") + memory.signals.listenerCount("SIGTERM")).toBe(0);
  });

  it("stops any other command at once: 130 for SIGINT, 143 for SIGTERM", async () => {
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      const memory = memoryIo();
      const run = runCli(["wait"], memory.io, [waitingCommand(false)]);
      await expect.poll(() => memory.stdout()).toBe("waiting\n");
      memory.signals.emit(signal);
      expect(await run).toBe(code);
      expect(memory.stderr()).toBe(`sdrs-autoprotect: interrupted (${signal})\n`);
    }
  });

  it("a second signal stops even a command that handles shutdown", async () => {
    const memory = memoryIo();
    const stuck = {
      register(program: Command, context: CliContext) {
        program.command("stuck").action(async () => {
          context.handleShutdownItself();
          context.stdout.line("waiting");
          await new Promise(() => undefined);
        });
      },
    };
    const run = runCli(["stuck"], memory.io, [stuck]);
    await expect.poll(() => memory.stdout()).toBe("waiting\n");
    memory.signals.emit("SIGINT");
    memory.signals.emit("SIGINT");
    expect(await run).toBe(130);
  });

  it("scrubs secrets from the environment out of every line", async () => {
    const memory = memoryIo();
    const echo = {
      register(program: Command) {
        program.command("boom").action(() => {
          throw new Error("request failed for sk super-secret-sk-value");
        });
      },
    };
    const code = await runCli(["boom"], { ...memory.io, env: { HUAWEICLOUD_SDK_SK: "super-secret-sk-value" } }, [echo]);
    expect(code).toBe(70);
    expect(memory.stderr()).toContain("request failed for sk [redacted]");
    expect(memory.stderr()).not.toContain("super-secret-sk-value");
  });
});

describe("runCli and the environment", () => {
  it("declares no commander Option.env(): commander would read process.env, not the program's environment", async () => {
    let root: Command | undefined;
    const capture = {
      register(program: Command) {
        root = program;
        program.command("capture").action(() => undefined);
      },
    };
    const memory = memoryIo();
    expect(await runCli(["capture"], memory.io, [...COMMANDS, capture])).toBe(0);
    if (root === undefined) throw new Error("the program was not built");
    const commands = [root];
    for (const command of commands) commands.push(...command.commands);
    const withVariables = commands.flatMap((command) =>
      command.options
        .filter((option) => option.envVar !== undefined)
        .map((option) => `${command.name()} ${option.flags}`),
    );
    expect(withVariables).toEqual([]);
  });

  it("takes the webhook secret from the flag first, else from the program's environment", () => {
    expect(webhookSecretOf("typed", { SDRS_WEBHOOK_SECRET: "from-env" })).toBe("typed");
    expect(webhookSecretOf(undefined, { SDRS_WEBHOOK_SECRET: "from-env" })).toBe("from-env");
    expect(webhookSecretOf(undefined, {})).toBeUndefined();
  });
});

describe("runCli and the terminal", () => {
  /** Prints what `ask` answered, or "(no terminal)". */
  const asking = {
    register(program: Command, context: CliContext) {
      program.command("ask").action(async () => {
        const answer = await context.ask("Go on? [y/N] ");
        context.stdout.line(answer ?? "(no terminal)");
      });
    },
  };

  it("asks on stderr and reads the answer from a terminal stdin", async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const memory = memoryIo();
    const run = runCli(["ask"], { ...memory.io, stdin }, [asking]);
    stdin.write("yes\n");
    expect(await run).toBe(0);
    expect(memory.stderr()).toBe("Go on? [y/N] ");
    expect(memory.stdout()).toBe("yes\n");
  });

  it("asks no one when stdin is not a terminal (a pipe, or none in process)", async () => {
    for (const stdin of [Object.assign(new PassThrough(), { isTTY: false }), undefined]) {
      const memory = memoryIo();
      expect(await runCli(["ask"], { ...memory.io, ...(stdin ? { stdin } : {}) }, [asking])).toBe(0);
      expect(memory.stderr()).toBe("");
      expect(memory.stdout()).toBe("(no terminal)\n");
    }
  });
});
