/**
 * `onboard --target T --file servers.csv|servers.json`: bulk onboarding against the configured cloud (or an
 * in-process simulator when none is configured), with the local runtime on a persistent sqlite state.
 *
 * The request's Idempotency-Key is derived from the cloud, the target and the file's servers, so running
 * the same command again after an interruption finds the same request in the state file and resumes it:
 * the queue, the server claims and the job records live in that file, and a server is never created twice.
 * A run that was killed mid-step leaves work half done (a message received but not deleted, a server
 * claimed or with a create call in flight); `resumeInterruptedWork` hands each such piece to the pipeline's
 * own recovery (an ambiguous-create check, a job check, a fresh intent) before the run continues.
 *
 * Exit 0 when every server is protected; 1 when the run finished but some are failed, ineligible or
 * unknown; 2 usage or configuration; 3 cloud unreachable or credentials refused; 130 interrupted.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import * as z from "zod";
import { type Clock, ManualClock, systemClock } from "../../clock.ts";
import { loadTargetsConfig, type TargetsConfig } from "../../config/targets.ts";
import { webhookEndpointSchema } from "../../notify/endpoints.ts";
import { isOnboardingRequestId } from "../../pipeline/deps.ts";
import { acceptOnboardingRequest, getOnboardingRequest, MAX_SERVERS_PER_REQUEST, type RequestStatus, requestFingerprint } from "../../pipeline/intake.ts";
import { type AmbiguousCheck, ambiguousCheck, jobCheckOfRecord, jobStatusMessage, protectIntent } from "../../pipeline/messages.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE } from "../../queue/queue.ts";
import { type LocalRuntime, startLocalRuntime } from "../../runtime/local.ts";
import { pipelineSettingsFromEnv, SettingsError } from "../../runtime/settings.ts";
import { CloudClient, type CloudClientOptions, type RequestLogEntry } from "../../sdrs/client.ts";
import { type CloudConfig, loadCloudConfig, simulatorCloudConfig } from "../../sdrs/config.ts";
import { FLAVOR_RULE, isFlavorName, isServerId, SERVER_ID_RULE } from "../../sdrs/field-rules.ts";
import { loadEstate, SAMPLE_ESTATE_PATH } from "../../sim/estate.ts";
import { type Simulator, startSimulator } from "../../sim/server.ts";
import { isInFlight, type ServerState } from "../../state/statuses.ts";
import { cloudIsConfigured, connectCloud, requestLogLine } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { wrapText } from "../layout.ts";
import { OutageWatch, outageLimitMs } from "../outage.ts";
import { checkStateFile } from "../path-checks.ts";
import { displayPath, SAMPLE_TARGETS_PATH } from "../paths.ts";
import { createProgressDisplay, followRun, type ProgressDisplay, type ProgressSnapshot, runLogger, stderrIsTerminal } from "../progress.ts";
import { renderTerminal } from "../report/document.ts";
import { type OnboardResult, onboardResultDocument } from "../report/requests.ts";
import { countServers, plural, serverResultOf } from "../report/servers.ts";
import { assertTargetNamed } from "../target-check.ts";
import { WEBHOOK_SECRET_VARIABLE, webhookSecretRequired } from "../webhook-secret.ts";

/** Where `onboard` and `status` keep the state when --state is not given. */
export const DEFAULT_STATE_FILE = join(".sdrs-autoprotect", "state.sqlite");

const onboardOptions = z.object({
  target: z.string(),
  file: z.string(),
  state: z.string().optional(),
  webhook: z.string().optional(),
  webhookSecret: z.string().optional(),
  json: z.boolean().default(false),
  outageLimit: z.string().optional(),
});
type OnboardOptions = z.infer<typeof onboardOptions>;

/** A CLI run waits for its webhooks: it gives up after about 2.5 minutes instead of the Lambda's 24 hours. */
const CLI_NOTIFY_SCHEDULE = [5, 30, 120];

// ---------------------------------------------------------------------------------------------
// The servers file
// ---------------------------------------------------------------------------------------------

export interface ServerEntry {
  serverId: string;
  flavorRef?: string;
}

export interface ServersFile {
  servers: ServerEntry[];
  /** "line 7: 403b… is listed again (first on line 3); onboarded once". */
  duplicates: string[];
}

function fileError(message: string): CliError {
  return new CliError("SERVERS_FILE_INVALID", message, EXIT.usage);
}

interface LocatedEntry extends ServerEntry {
  /** "line 4" or "[3]": where the entry is in the file, for messages. */
  where: string;
}

function checkedEntry(file: string, where: string, serverId: string, flavorRef: string | undefined, idField: string): LocatedEntry {
  if (serverId === "") throw fileError(`${file} ${where}: ${idField} is empty`);
  if (!isServerId(serverId)) throw fileError(`${file} ${where}: ${idField} ${JSON.stringify(serverId)} is not a server id (${SERVER_ID_RULE})`);
  if (flavorRef !== undefined && flavorRef !== "" && !isFlavorName(flavorRef)) {
    throw fileError(`${file} ${where}: flavorRef ${JSON.stringify(flavorRef)} is not a flavor name (${FLAVOR_RULE})`);
  }
  return { serverId, ...(flavorRef === undefined || flavorRef === "" ? {} : { flavorRef }), where };
}

const normalizedHeader = (cell: string) => cell.toLowerCase().replace(/[\s_-]/g, "");
const ID_HEADERS = ["serverid", "id"];
const FLAVOR_HEADERS = ["flavorref", "flavor", "flavorid"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** csv-parse with `info: true`: each record with the line it ends on. */
const csvRecords = z.array(z.object({ record: z.array(z.string()), info: z.object({ lines: z.number().int() }) }));

function csvEntries(text: string, file: string): LocatedEntry[] {
  let records: z.infer<typeof csvRecords>;
  try {
    const parsed: unknown = parseCsv(text, { info: true, skip_empty_lines: true, trim: true, comment: "#", relax_column_count: true, bom: true });
    records = csvRecords.parse(parsed);
  } catch (error) {
    throw fileError(`${file}: not valid CSV: ${error instanceof Error ? error.message : String(error)}`);
  }
  const first = records[0]?.record.map(normalizedHeader) ?? [];
  const idColumn = ID_HEADERS.map((name) => first.indexOf(name)).find((index) => index !== -1);
  if (idColumn === undefined) {
    // A first line of names (not ECS server ids, which are UUIDs) is a header row without an id column.
    const firstValues = records[0]?.record.filter((value) => value !== "") ?? [];
    const looksLikeHeader = first.some((cell) => FLAVOR_HEADERS.includes(cell)) || (firstValues.length > 1 && !firstValues.every((value) => UUID.test(value)));
    if (looksLikeHeader) {
      throw fileError(`${file} line ${records[0]?.info.lines ?? 1}: the header row (${firstValues.join(",")}) has no server id column; name it server_id or id`);
    }
    // No header: one id per line.
    return records.map(({ record, info }) => {
      const values = record.filter((value) => value !== "");
      if (values.length > 1) {
        throw fileError(
          `${file} line ${info.lines}: ${values.length} values but no header row; start the file with a header such as "server_id,flavorRef", or list one server id per line`,
        );
      }
      return checkedEntry(file, `line ${info.lines}`, values[0] ?? "", undefined, "server id");
    });
  }
  const flavorColumn = FLAVOR_HEADERS.map((name) => first.indexOf(name)).find((index) => index !== -1);
  const idName = records[0]?.record[idColumn] ?? "server_id";
  const columns = records[0]?.record.length ?? 1;
  return records.slice(1).map(({ record, info }) => {
    const entry = checkedEntry(file, `line ${info.lines}`, record[idColumn] ?? "", flavorColumn === undefined ? undefined : record[flavorColumn], idName);
    const extra = record.slice(columns).filter((value) => value !== "");
    if (extra.length > 0) {
      throw fileError(`${file} line ${info.lines}: ${columns + extra.length} values but the header row has ${plural(columns, "column")}`);
    }
    return entry;
  });
}

const jsonServerObject = z.strictObject({
  serverId: z.string({ error: "must be a string" }),
  flavorRef: z.string({ error: "must be a string" }).optional(),
});

function jsonEntries(text: string, file: string): LocatedEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fileError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const shapeRule = 'must be an array of server ids or {"serverId", "flavorRef"?} objects, or {"servers": [...]}';
  let list: unknown[];
  let prefix: string;
  if (Array.isArray(value)) {
    list = value;
    prefix = "";
  } else if (typeof value === "object" && value !== null && "servers" in value && Array.isArray(value.servers)) {
    list = value.servers;
    prefix = "servers";
  } else {
    throw fileError(`${file}: ${shapeRule}`);
  }
  return list.map((item, index) => {
    const where = `${prefix}[${index}]`;
    if (typeof item === "string") return checkedEntry(file, where, item.trim(), undefined, "server id");
    const parsed = jsonServerObject.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue === undefined || issue.path.length === 0 ? "" : `.${issue.path.map(String).join(".")}`;
      throw fileError(`${file} ${where}${field}: ${issue?.message ?? "invalid"} (${shapeRule})`);
    }
    return checkedEntry(file, `${where}.serverId`, parsed.data.serverId.trim(), parsed.data.flavorRef?.trim(), "serverId");
  });
}

/**
 * The servers of a CSV file (a header row naming server_id or id, and optionally flavorRef; or one id per
 * line; `#` comments and blank lines are skipped) or a JSON file (an array of ids or {serverId, flavorRef?},
 * or {"servers": [...]}). JSON when the name ends in .json or the text starts with [ or {. Every error
 * names the file, the line (or the JSON index) and the rule.
 */
export function parseServersFile(text: string, file: string): ServersFile {
  const isJson = extname(file).toLowerCase() === ".json" || /^\s*[[{]/.test(text.replace(/^\uFEFF/, ""));
  const entries = isJson ? jsonEntries(text.replace(/^\uFEFF/, ""), file) : csvEntries(text, file);
  const firstSeen = new Map<string, { where: string; flavorRef: string | undefined }>();
  const servers: ServerEntry[] = [];
  const duplicates: string[] = [];
  for (const { where, ...entry } of entries) {
    const earlier = firstSeen.get(entry.serverId);
    if (earlier !== undefined) {
      // Two DR flavors for one server: which one was meant is not ours to guess.
      if (earlier.flavorRef !== entry.flavorRef) {
        const flavor = (flavorRef: string | undefined) => (flavorRef === undefined ? "no flavorRef" : `flavorRef ${flavorRef}`);
        throw fileError(
          `${file} ${where}: ${entry.serverId} is listed again with ${flavor(entry.flavorRef)}, but ${earlier.where} gives ${flavor(earlier.flavorRef)}; keep one`,
        );
      }
      duplicates.push(`${where}: ${entry.serverId} is listed again (first at ${earlier.where}); onboarded once`);
      continue;
    }
    firstSeen.set(entry.serverId, { where, flavorRef: entry.flavorRef });
    servers.push(entry);
  }
  if (servers.length === 0) throw fileError(`${file}: lists no servers`);
  if (servers.length > MAX_SERVERS_PER_REQUEST) {
    throw fileError(`${file}: lists ${servers.length} servers; one onboarding request takes at most ${MAX_SERVERS_PER_REQUEST} (split the file)`);
  }
  return { servers, duplicates };
}

function readServersFile(path: string): ServersFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "error";
    throw usageError(`--file: cannot read ${path} (${code})`);
  }
  return parseServersFile(text, basename(path));
}

/**
 * The Idempotency-Key of a run: the cloud (endpoint and project) and the request's fingerprint (target and
 * sorted servers with flavorRefs, the API's rule). The same request against the same cloud finds its
 * earlier request; another request or another cloud never does, so a CLI key is never reused for another body.
 */
export function onboardIdempotencyKey(input: { endpoint: string; projectId: string; target: string; servers: readonly ServerEntry[] }): string {
  const canonical = JSON.stringify([input.endpoint, input.projectId, requestFingerprint({ target: input.target, servers: [...input.servers] })]);
  return `onboard-${createHash("sha256").update(canonical).digest("hex").slice(0, 40)}`;
}

// ---------------------------------------------------------------------------------------------
// Targets and webhooks
// ---------------------------------------------------------------------------------------------

interface TargetsChoice {
  config: TargetsConfig;
  source: string;
  note?: string;
}

function targetsFor(context: CliContext, options: OnboardOptions): TargetsChoice {
  const { env } = context;
  const fromSample = !env.SDRS_TARGETS_JSON && !env.SDRS_TARGETS_FILE;
  const loaded = loadTargetsConfig(env, SAMPLE_TARGETS_PATH);
  const source = env.SDRS_TARGETS_JSON ? "SDRS_TARGETS_JSON" : displayPath(env.SDRS_TARGETS_FILE ?? SAMPLE_TARGETS_PATH);
  // The sample's endpoint (http://127.0.0.1:8787/) is a placeholder for a receiver someone runs; --webhook names a real one.
  const webhooks = fromSample ? [] : [...loaded.webhooks];
  if (options.webhook !== undefined) {
    const secret = options.webhookSecret;
    if (secret === undefined || secret.trim() === "") {
      throw webhookSecretRequired("--webhook-secret", "with --webhook");
    }
    context.addSecret(secret);
    const id = webhooks.some((endpoint) => endpoint.id === "cli") ? "cli-flag" : "cli";
    const checked = webhookEndpointSchema({ allowLoopbackHttp: true }).safeParse({ id, url: options.webhook, secret });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const flag = issue?.path[0] === "secret" ? `--webhook-secret / ${WEBHOOK_SECRET_VARIABLE}` : "--webhook";
      throw usageError(`${flag}: ${issue?.message ?? "invalid"}`);
    }
    webhooks.push({ id, url: options.webhook, secret });
  }
  const note =
    fromSample && options.webhook === undefined ? "no webhook endpoint: the sample targets' endpoint is a placeholder (give --webhook URL --webhook-secret whsec_…)" : undefined;
  return { config: { ...loaded, webhooks }, source, ...(note === undefined ? {} : { note }) };
}

// ---------------------------------------------------------------------------------------------
// The cloud
// ---------------------------------------------------------------------------------------------

interface OnboardCloud {
  config: CloudConfig;
  /** A client for the preflight call (the runtime makes its own from `config`). */
  client: CloudClient;
  endpoint: string;
  /** Set when nothing is configured and the run goes to an in-process simulator with the sample estate. */
  simulator: Simulator | undefined;
  clock: Clock;
  close(): Promise<void>;
}

/**
 * The configured cloud (connectCloud, which also registers its secrets for scrubbing), or an in-process
 * simulator with the sample estate on an accelerated clock: nothing real waits for its jobs.
 */
async function onboardCloud(context: CliContext, clientOptions: CloudClientOptions): Promise<OnboardCloud> {
  if (cloudIsConfigured(context.env)) {
    const connection = await connectCloud(context);
    return { config: loadCloudConfig(context.env), client: connection.client, endpoint: connection.endpoint, simulator: undefined, clock: systemClock, close: connection.close };
  }
  const clock = new ManualClock(Date.now());
  const simulator = await startSimulator({ estate: loadEstate(SAMPLE_ESTATE_PATH), clock });
  const config = simulatorCloudConfig(simulator.url);
  return { config, client: new CloudClient(config, clientOptions), endpoint: simulator.url, simulator, clock, close: () => simulator.close() };
}

/**
 * One cheap authenticated call before anything is written: an unreachable cloud or refused credentials
 * exit 3 now, not after the queue's retries. It also checks that --target names something.
 */
async function preflight(client: CloudClient, target: string, targets: TargetsChoice): Promise<void> {
  const groups = await client.listProtectionGroups();
  await assertTargetNamed(async () => groups, target, targets.config, targets.source);
}

// ---------------------------------------------------------------------------------------------
// The state file: one run at a time, and resuming an interrupted one
// ---------------------------------------------------------------------------------------------

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}

const lockContent = z.object({ pid: z.number().int() });

/**
 * `<state>.lock` holds the pid of the run using the state. Resuming treats every message in flight and
 * every claimed server as left behind by a dead run, which is true only while no other run uses the file.
 * A lock whose process is gone (killed) is taken over.
 */
export function acquireStateLock(stateFile: string): () => void {
  const lockFile = `${stateFile}.lock`;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const descriptor = openSync(lockFile, "wx");
      writeSync(descriptor, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      closeSync(descriptor);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "EEXIST") || attempt > 2) throw error;
    }
    let holder: number | undefined;
    try {
      const parsed = lockContent.safeParse(JSON.parse(readFileSync(lockFile, "utf8")));
      holder = parsed.success ? parsed.data.pid : undefined;
    } catch {
      holder = undefined; // unreadable or half written: its writer died
    }
    if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
      throw new CliError("STATE_LOCKED", `--state: ${stateFile} is in use by another sdrs-autoprotect run (pid ${holder}); wait for it to end, or stop it`, EXIT.usage);
    }
    unlinkSync(lockFile);
  }
}

/** A server record in these states has a create call under way, or a claim, or a job being followed. */

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ResumeSummary {
  /** Messages a dead run had received and not deleted, made visible again now instead of after their timeout. */
  released: number;
  /** Servers that had no message left to move them on, and got one. */
  recovered: string[];
}

/**
 * Work an interrupted run (SIGKILL, power loss, Ctrl+C) left half done, handed back to the pipeline:
 * - messages it had received but not deleted come back now (their visibility timeout is up to 12 minutes);
 * - a `claimed` server (no create call made yet) is released to `pending` and gets an intent;
 * - a server `creating` or `ambiguous` without a pending check (the create call may have reached SDRS)
 *   gets an ambiguous-create check, which looks in the group before anything is retried;
 * - a server `in_progress` without a pending check gets a check of its job;
 * - a server of the request without any message (never enqueued, or its message was lost) gets an intent.
 * Messages the pipeline gets twice are harmless: it is built for at-least-once delivery.
 *
 * The queue table is read directly (receipt handles, bodies): SqliteQueue has no call for "messages in
 * flight"; the writes go through the queue and the repositories.
 */
export async function resumeInterruptedWork(runtime: LocalRuntime, request: RequestStatus, clock: Clock): Promise<ResumeSummary> {
  // The previous run is gone (the state lock says so): what it had received is released at once.
  const released = runtime.queue.releaseInFlight();
  // A server waiting for a create decision needs an intent; one whose create may have been made needs a check.
  const hasIntent = new Set<string>();
  const hasCheck = new Set<string>();
  const now = clock.now();
  for (const body of runtime.queue.liveBodies("onboarding")) {
    const intent = protectIntent.safeParse(parseJson(body));
    if (intent.success) hasIntent.add(intent.data.serverId);
  }
  for (const body of runtime.queue.liveBodies("job-status")) {
    const check = jobStatusMessage.safeParse(parseJson(body));
    if (check.success) for (const serverId of check.data.serverIds) hasCheck.add(serverId);
  }

  const recovered: string[] = [];
  const ambiguous = new Map<string, AmbiguousCheck>();
  const intentFor = async (serverId: string, target: string, requestIds: readonly string[]) => {
    const requestId = requestIds.find(isOnboardingRequestId);
    await runtime.queue.send(
      "onboarding",
      protectIntent.parse({ type: "protect", serverId, target, source: requestId === undefined ? "reconcile" : "cli", ...(requestId === undefined ? {} : { requestId }) }),
    );
  };
  for await (const { record } of runtime.repos.servers.all()) {
    if (!isInFlight(record.status)) continue;
    if (record.status === "claimed") {
      // No create call was made under the claim: the attempt it counted is given back.
      await runtime.repos.servers.update(record.serverId, (current) =>
        current.status === "claimed" ? { ...current, status: "pending", attempts: Math.max(0, current.attempts - 1) } : undefined,
      );
      if (!hasIntent.has(record.serverId)) {
        await intentFor(record.serverId, record.target, record.requestIds);
        recovered.push(record.serverId);
      }
      continue;
    }
    if (hasCheck.has(record.serverId)) continue;
    const job = record.status === "in_progress" && record.jobId !== undefined ? (await runtime.repos.jobs.get(record.jobId))?.record : undefined;
    if (job !== undefined && (job.status === "INIT" || job.status === "RUNNING")) {
      await runtime.queue.send(
        "job-status",
        jobCheckOfRecord(job),
      );
      for (const serverId of job.serverIds) hasCheck.add(serverId);
      recovered.push(record.serverId);
    } else if (record.groupId !== undefined) {
      const key = `${record.target}\n${record.groupId}`;
      const check = ambiguous.get(key) ?? { type: "ambiguous", target: record.target, groupId: record.groupId, serverIds: [], createdAt: now, checks: 0 };
      check.serverIds.push(record.serverId);
      ambiguous.set(key, check);
      recovered.push(record.serverId);
    }
  }
  for (const check of ambiguous.values()) {
    await runtime.queue.send("job-status", ambiguousCheck.parse(check));
  }
  for (const server of request.servers) {
    if (hasIntent.has(server.serverId) || !(server.state === "queued" || server.state === "pending")) continue;
    await intentFor(server.serverId, request.target, [request.requestId]);
    recovered.push(server.serverId);
  }
  return { released, recovered: [...new Set(recovered)] };
}

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

function pipelineSettings(env: Record<string, string | undefined>) {
  try {
    return pipelineSettingsFromEnv(env);
  } catch (error) {
    if (error instanceof SettingsError) throw usageError(error.message);
    throw error;
  }
}

export async function onboard(context: CliContext, raw: unknown): Promise<void> {
  const options = onboardOptions.parse(raw);
  if (options.state !== undefined) checkStateFile("--state", options.state, "allowed");
  const { stderr } = context;
  const { colors } = stderr;
  const target = options.target.trim();
  if (target === "") throw usageError("--target: must not be empty");
  const file = readServersFile(options.file);
  const targets = targetsFor(context, options);
  const settings = pipelineSettings(context.env);
  const outageLimit = outageLimitMs(options.outageLimit);
  let display: ProgressDisplay | undefined;
  const print = (line: string) => (display === undefined ? stderr.line(line) : display.log(line));
  // Every call feeds the outage watch (the progress line, --outage-limit); with --verbose it is printed too.
  const outage = new OutageWatch();
  const requestLogger = outage.clientOptions(context.verbose ? (entry: RequestLogEntry) => print(colors.dim(requestLogLine(entry))) : undefined);
  const cloud = await onboardCloud(context, requestLogger);

  let releaseLock: (() => void) | undefined;
  let temporaryDirectory: string | undefined;
  let stateFile: string;
  if (options.state !== undefined || cloud.simulator === undefined) {
    stateFile = options.state ?? DEFAULT_STATE_FILE;
  } else {
    // A fresh in-process simulator each run: a state kept across runs would describe servers it no longer has.
    temporaryDirectory = mkdtempSync(join(tmpdir(), "sdrs-autoprotect-onboard-"));
    stateFile = join(temporaryDirectory, "state.sqlite");
  }
  const shownState = temporaryDirectory === undefined ? displayPath(resolve(stateFile)) : null;
  const onInterrupt = () => {
    display?.stop();
    releaseLock?.();
    if (temporaryDirectory !== undefined) rmSync(temporaryDirectory, { recursive: true, force: true });
    else stderr.line(`state kept in ${shownState}: run the same command again to resume`);
  };
  context.shutdown.addEventListener("abort", onInterrupt, { once: true });

  let runtime: LocalRuntime | undefined;
  try {
    mkdirSync(dirname(resolve(stateFile)), { recursive: true });
    const existed = existsSync(stateFile);
    releaseLock = acquireStateLock(stateFile);
    if (cloud.simulator !== undefined) {
      const note = "No SDRS_ENDPOINT or HUAWEICLOUD_REGION set: onboarding against an in-process simulator with the sample estate (accelerated time).";
      stderr.line(colors.dim(wrapText(note, context.columns)));
    }
    if (targets.note !== undefined) stderr.line(colors.dim(`Note: ${targets.note}.`));
    for (const duplicate of file.duplicates) stderr.line(colors.yellow(`${basename(options.file)} ${duplicate}`));

    const { logger } = runLogger({ verbose: context.verbose, colors, print });
    await preflight(cloud.client, target, targets);

    runtime = await startLocalRuntime({
      database: stateFile,
      cloudConfig: cloud.config,
      targets: targets.config,
      clock: cloud.clock,
      env: context.env,
      notifySchedule: CLI_NOTIFY_SCHEDULE,
      logger,
      settings,
      cloudClient: requestLogger,
    });
    const idempotencyKey = onboardIdempotencyKey({ endpoint: cloud.endpoint, projectId: cloud.config.projectId, target, servers: file.servers });
    const accepted = await acceptOnboardingRequest({ target, servers: file.servers }, { idempotencyKey, source: "cli", exclusive: true }, runtime.deps);
    const { requestId } = accepted;
    const before = await getOnboardingRequest(requestId, runtime.deps);
    if (before === undefined) throw new CliError("INTERNAL", `onboarding request ${requestId} was accepted but is not in ${stateFile}`, EXIT.internal);
    const resumed = existed ? await resumeInterruptedWork(runtime, before, cloud.clock) : { released: 0, recovered: [] };
    stderr.line(
      accepted.replayed
        ? `Resuming onboarding request ${requestId} (the same target and servers as before): ${plural(before.servers.length, "server")} for target ${target}${
            resumed.released + resumed.recovered.length > 0
              ? `; ${plural(resumed.released, "message")} of the interrupted run released, ${plural(resumed.recovered.length, "server")} picked up again`
              : ""
          }`
        : `Onboarding request ${requestId}: ${plural(before.servers.length, "server")} for target ${target} (Idempotency-Key ${idempotencyKey})`,
    );
    if (shownState !== null) stderr.line(colors.dim(`State: ${shownState} (re-run the same command to resume after an interruption)`));

    const activeRuntime = runtime;
    display = createProgressDisplay({ output: stderr, interactive: stderrIsTerminal(), columns: context.columns, intervalMs: 5_000 });
    const afterwards = shownState === null ? "the state was temporary (in-process simulator)" : `state kept in ${shownState}: run the same command again to resume`;
    await followRun(activeRuntime, {
      display,
      snapshot: () => requestSnapshot(activeRuntime, requestId),
      outage: { watch: outage, limitMs: outageLimit, afterwards },
    });
    display = undefined;

    const status = await getOnboardingRequest(requestId, runtime.deps);
    if (status === undefined) throw new CliError("INTERNAL", `onboarding request ${requestId} disappeared from ${stateFile}`, EXIT.internal);
    const servers = status.servers.map((server) => serverResultOf({ ...server, target }));
    const summary = countServers(servers);
    const requestServers = new Set(status.servers.map((server) => server.serverId));
    const gaveUp = runtime.queue
      .deadLetters("notify")
      .filter((letter) => letter.messageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE] !== undefined && notificationConcerns(letter.body, requestId, requestServers)).length;
    const result: OnboardResult = {
      command: "onboard",
      requestId,
      target,
      idempotencyKey,
      resumed: accepted.replayed,
      stateFile: shownState,
      cloud: { endpoint: cloud.endpoint, simulator: cloud.simulator !== undefined },
      complete: summary.notFinished === 0,
      ...(status.completedAt === undefined ? {} : { completedAt: status.completedAt }),
      summary,
      servers,
      notifications: { gaveUp },
    };
    if (options.json) context.stdout.line(JSON.stringify(result, null, 2));
    else context.stdout.line(renderTerminal(onboardResultDocument(result), { color: context.stdout.colorEnabled, columns: context.columns }));
    context.exitCode = summary.protected === summary.servers ? EXIT.ok : EXIT.someServersNotProtected;
  } finally {
    context.shutdown.removeEventListener("abort", onInterrupt);
    await runtime?.close();
    await cloud.close();
    releaseLock?.();
    if (temporaryDirectory !== undefined) rmSync(temporaryDirectory, { recursive: true, force: true });
  }
}

const notificationSubject = z.object({
  event: z.object({ type: z.string(), data: z.object({ serverId: z.string().optional(), requestId: z.string().optional() }) }),
});

/** Whether a notification (a queue body) is about this request or one of its servers; the state file may hold older ones. */
function notificationConcerns(body: string, requestId: string, serverIds: ReadonlySet<string>): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return false;
  }
  const parsed = notificationSubject.safeParse(value);
  if (!parsed.success) return false;
  const { data } = parsed.data.event;
  return data.requestId === requestId || (data.serverId !== undefined && serverIds.has(data.serverId));
}

/** The request's servers by state, the jobs they wait on, and the notifications still to deliver. */
async function requestSnapshot(runtime: LocalRuntime, requestId: string): Promise<ProgressSnapshot> {
  const status = await getOnboardingRequest(requestId, runtime.deps);
  const states: Partial<Record<ServerState, number>> = {};
  const jobs = new Set<string>();
  for (const server of status?.servers ?? []) {
    states[server.state] = (states[server.state] ?? 0) + 1;
    if (server.state === "in_progress" && server.jobId !== undefined) jobs.add(server.jobId);
  }
  const notify = runtime.queue.stats("notify");
  return {
    servers: status?.servers.length ?? 0,
    states,
    jobsInFlight: jobs.size,
    notificationsPending: notify.visible + notify.delayed + notify.inFlight,
  };
}
