/**
 * `onboard --target T --file servers.csv|servers.json`: bulk onboarding against the configured cloud (or an
 * in-process simulator when none is configured), with the local runtime on a persistent sqlite state.
 *
 * The steps: check the inputs (lib/cli/onboard/input.ts reads the servers file), take the state's lock
 * (lib/cli/onboard/lock.ts), check the cloud and the target, start the runtime, submit the request or find
 * it again and resume its interrupted work (lib/cli/onboard/resume.ts), follow it to its end, print the
 * result (lib/cli/onboard/result.ts).
 *
 * Exit 0 when every server is protected; 1 when the run finished but some are failed, ineligible or
 * unknown; 2 usage or configuration; 3 cloud unreachable or credentials refused; 130 interrupted.
 */
import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { acceptOnboardingRequest, getOnboardingRequest } from "../../pipeline/intake.ts";
import { type LocalRuntime, startLocalRuntime } from "../../runtime/local.ts";
import { pipelineSettingsFromEnv, SettingsError } from "../../runtime/settings.ts";
import type { CloudClientOptions, RequestLogEntry } from "../../sdrs/client.ts";
import * as z from "../../zod.ts";
import { noteSimulatorFallback, requestLogLine } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { readServersFile, type ServersFile } from "../onboard/input.ts";
import { acquireStateLock } from "../onboard/lock.ts";
import { onboardResultOf, requestSnapshot } from "../onboard/result.ts";
import { onboardIdempotencyKey, type ResumeSummary, resumeInterruptedWork } from "../onboard/resume.ts";
import { type OnboardCloud, onboardCloud, preflight, type TargetsChoice, targetsFor } from "../onboard/setup.ts";
import { OutageWatch, outageLimitMs } from "../outage.ts";
import { checkStateFile } from "../path-checks.ts";
import { DEFAULT_STATE_FILE, displayPath, type TemporaryStateFile, temporaryStateFile } from "../paths.ts";
import { RunConsole, runLogger } from "../progress.ts";
import { renderTerminal } from "../report/document.ts";
import { type OnboardResult, onboardResultDocument } from "../report/requests.ts";
import { plural } from "../report/servers.ts";

const onboardOptions = z.object({
  target: z.string(),
  file: z.string(),
  state: z.optional(z.string()),
  webhook: z.optional(z.string()),
  webhookSecret: z.optional(z.string()),
  json: z._default(z.boolean(), false),
  outageLimit: z.optional(z.string()),
});
type OnboardOptions = z.infer<typeof onboardOptions>;

/** A CLI run waits for its webhooks: it gives up after about 2.5 minutes instead of the Lambda's 24 hours. */
const CLI_NOTIFY_SCHEDULE = [5, 30, 120];

interface OnboardInputs {
  options: OnboardOptions;
  target: string;
  file: ServersFile;
  targets: TargetsChoice;
  settings: ReturnType<typeof pipelineSettingsFromEnv>;
  outageLimitMs: number;
}

/** Where the run keeps its state: a file the user keeps, or (in-process simulator) a temporary one. */
interface StateChoice {
  file: string;
  temporary: TemporaryStateFile | undefined;
  /** The file as shown to people; null when temporary. */
  shown: string | null;
}

/** What every step of a run reads. */
interface OnboardRun {
  context: CliContext;
  inputs: OnboardInputs;
  console: RunConsole;
  outage: OutageWatch;
  /** The SDRS client options of the run: every call feeds the outage watch; with --verbose it is printed too. */
  requestLogger: CloudClientOptions;
  cloud: OnboardCloud;
  state: StateChoice;
}

interface SubmittedRequest {
  requestId: string;
  idempotencyKey: string;
  resumed: boolean;
}

function pipelineSettings(env: Record<string, string | undefined>) {
  try {
    return pipelineSettingsFromEnv(env);
  } catch (error) {
    if (error instanceof SettingsError) throw usageError(error.message);
    throw error;
  }
}

/** Every input checked before any work: options, target, the servers file, targets and webhooks, settings. */
function checkInputs(context: CliContext, raw: unknown): OnboardInputs {
  const options = onboardOptions.parse(raw);
  if (options.state !== undefined) checkStateFile("--state", options.state, "allowed");
  const target = options.target.trim();
  if (target === "") throw usageError("--target: must not be empty");
  const file = readServersFile(options.file);
  const targets = targetsFor(context, options);
  const settings = pipelineSettings(context.env);
  return { options, target, file, targets, settings, outageLimitMs: outageLimitMs(options.outageLimit) };
}

function chooseState(options: OnboardOptions, cloud: OnboardCloud): StateChoice {
  if (options.state !== undefined || cloud.simulator === undefined) {
    const file = options.state ?? DEFAULT_STATE_FILE;
    return { file, temporary: undefined, shown: displayPath(resolve(file)) };
  }
  // A fresh in-process simulator each run: a state kept across runs would describe servers it no longer has.
  const temporary = temporaryStateFile("onboard");
  return { file: temporary.file, temporary, shown: null };
}

const resumeHint = (shown: string | null) => `state kept in ${shown}: run the same command again to resume`;

/** The simulator, the targets' placeholder webhook, the servers listed twice: said before the run. */
function printNotes(run: OnboardRun): void {
  const { context, inputs, cloud } = run;
  const { stderr } = context;
  noteSimulatorFallback(context, cloud, "onboarding against", " (accelerated time)");
  if (inputs.targets.note !== undefined) stderr.line(stderr.colors.dim(`Note: ${inputs.targets.note}.`));
  for (const duplicate of inputs.file.duplicates)
    stderr.line(stderr.colors.yellow(`${basename(inputs.options.file)} ${duplicate}`));
}

function startRuntime(run: OnboardRun): Promise<LocalRuntime> {
  const { context, inputs, cloud } = run;
  const { logger } = runLogger({ verbose: context.verbose, colors: context.stderr.colors, print: run.console.print });
  return startLocalRuntime({
    database: run.state.file,
    cloudConfig: cloud.config,
    targets: inputs.targets.config,
    clock: cloud.clock,
    env: context.env,
    notifySchedule: CLI_NOTIFY_SCHEDULE,
    logger,
    settings: inputs.settings,
    cloudClient: run.requestLogger,
  });
}

function announce(run: OnboardRun, request: SubmittedRequest, servers: number, resumed: ResumeSummary): void {
  const { stderr } = run.context;
  const { target } = run.inputs;
  const pickedUp =
    resumed.released + resumed.recovered.length > 0
      ? `; ${plural(resumed.released, "message")} of the interrupted run released, ${plural(resumed.recovered.length, "server")} picked up again`
      : "";
  stderr.line(
    request.resumed
      ? `Resuming onboarding request ${request.requestId} (the same target and servers as before): ${plural(servers, "server")} for target ${target}${pickedUp}`
      : `Onboarding request ${request.requestId}: ${plural(servers, "server")} for target ${target} (Idempotency-Key ${request.idempotencyKey})`,
  );
  if (run.state.shown !== null)
    stderr.line(
      stderr.colors.dim(`State: ${run.state.shown} (re-run the same command to resume after an interruption)`),
    );
}

/**
 * Submits the request, or finds it again when the same command ran before (the same Idempotency-Key); a
 * state file that existed may hold work a killed run left half done, which is resumed first.
 */
async function submitRequest(run: OnboardRun, runtime: LocalRuntime, stateExisted: boolean): Promise<SubmittedRequest> {
  const { inputs, cloud } = run;
  const { target, file } = inputs;
  const idempotencyKey = onboardIdempotencyKey({
    endpoint: cloud.endpoint,
    projectId: cloud.config.projectId,
    target,
    servers: file.servers,
  });
  const accepted = await acceptOnboardingRequest(
    { target, servers: file.servers },
    { idempotencyKey, source: "cli", exclusive: true },
    runtime.deps,
  );
  const { requestId } = accepted;
  const before = await getOnboardingRequest(requestId, runtime.deps);
  if (before === undefined)
    throw new CliError(
      "INTERNAL",
      `onboarding request ${requestId} was accepted but is not in ${run.state.file}`,
      EXIT.internal,
    );
  const resumed = stateExisted ? await resumeInterruptedWork(runtime, before) : { released: 0, recovered: [] };
  const request = { requestId, idempotencyKey, resumed: accepted.replayed };
  announce(run, request, before.servers.length, resumed);
  return request;
}

async function followRequest(run: OnboardRun, runtime: LocalRuntime, requestId: string): Promise<void> {
  const afterwards =
    run.state.shown === null ? "the state was temporary (in-process simulator)" : resumeHint(run.state.shown);
  await run.console.follow(runtime, {
    view: { columns: run.context.columns, intervalMs: 5_000 },
    snapshot: () => requestSnapshot(runtime, requestId),
    outage: { watch: run.outage, limitMs: run.inputs.outageLimitMs, afterwards },
  });
}

function collectResult(run: OnboardRun, runtime: LocalRuntime, request: SubmittedRequest): Promise<OnboardResult> {
  return onboardResultOf(runtime, {
    requestId: request.requestId,
    target: run.inputs.target,
    idempotencyKey: request.idempotencyKey,
    resumed: request.resumed,
    stateFile: run.state.shown,
    cloud: { endpoint: run.cloud.endpoint, simulator: run.cloud.simulator !== undefined },
    stateFilePath: run.state.file,
  });
}

function printResult(context: CliContext, result: OnboardResult, json: boolean): void {
  if (json) context.stdout.line(JSON.stringify(result, null, 2));
  else
    context.stdout.line(
      renderTerminal(onboardResultDocument(result), { color: context.stdout.colorEnabled, columns: context.columns }),
    );
  context.exitCode = result.summary.protected === result.summary.servers ? EXIT.ok : EXIT.someServersNotProtected;
}

/** Inputs checked, then the cloud and where the state goes: everything a run's steps read. */
async function prepareRun(context: CliContext, raw: unknown): Promise<OnboardRun> {
  const inputs = checkInputs(context, raw);
  const runConsole = new RunConsole(context.stderr, context.stderrIsTerminal);
  const outage = new OutageWatch();
  const { colors } = context.stderr;
  const requestLogger = outage.clientOptions(
    context.verbose ? (entry: RequestLogEntry) => runConsole.print(colors.dim(requestLogLine(entry))) : undefined,
  );
  const cloud = await onboardCloud(context, requestLogger);
  return {
    context,
    inputs,
    console: runConsole,
    outage,
    requestLogger,
    cloud,
    state: chooseState(inputs.options, cloud),
  };
}

export async function onboard(context: CliContext, raw: unknown): Promise<void> {
  const run = await prepareRun(context, raw);
  const { state } = run;
  let releaseLock: (() => void) | undefined;
  const onInterrupt = () => {
    run.console.stop();
    releaseLock?.();
    if (state.temporary !== undefined) state.temporary.remove();
    else context.stderr.line(resumeHint(state.shown));
  };
  context.shutdown.addEventListener("abort", onInterrupt, { once: true });
  let runtime: LocalRuntime | undefined;
  try {
    mkdirSync(dirname(resolve(state.file)), { recursive: true });
    const stateExisted = existsSync(state.file);
    releaseLock = acquireStateLock(state.file);
    printNotes(run);
    await preflight(run.cloud.client, run.inputs.target, run.inputs.targets);
    runtime = await startRuntime(run);
    const request = await submitRequest(run, runtime, stateExisted);
    await followRequest(run, runtime, request.requestId);
    printResult(context, await collectResult(run, runtime, request), run.inputs.options.json);
  } finally {
    context.shutdown.removeEventListener("abort", onInterrupt);
    await runtime?.close();
    await run.cloud.close();
    releaseLock?.();
    state.temporary?.remove();
  }
}
