/**
 * The live view of a run: servers by state, jobs in flight, notifications. On a terminal a cli-progress
 * bar redrawn in place (servers in a final state of all servers); elsewhere (a pipe, CI, a test) plain
 * lines, at most one per interval and only when something changed, with a heartbeat when nothing does.
 * Everything goes to stderr: stdout carries the report.
 *
 * `progressLine` is pure; `followRun` drives a local runtime to idle while refreshing the view.
 */
import { Writable } from "node:stream";
import cliProgress from "cli-progress";
import type { PipelineLogger } from "../pipeline/deps.ts";
import type { LocalRuntime, RunOptions, RunSummary } from "../runtime/local.ts";
import { FINAL_STATUSES, type ServerState } from "../state/statuses.ts";
import type { Colors, Output } from "./context.ts";
import { CliError, EXIT } from "./errors.ts";
import { DEFAULT_COLUMNS, displayWidth, truncateText } from "./layout.ts";
import { type OutageWatch, outageText } from "./outage.ts";

export interface ProgressSnapshot {
  servers: number;
  states: Partial<Record<ServerState, number>>;
  /** Distinct SDRS jobs that servers of this run are waiting on. */
  jobsInFlight: number;
  /** Webhook deliveries the local receiver verified and rejected (`start`). */
  webhooks?: { received: number; rejected: number };
  /** Notification messages still queued or being retried (`onboard`). */
  notificationsPending?: number;
  /** Clock time since the run began (simulated time when accelerated). */
  simulatedMs?: number;
  /** Calls keep failing: "cloud unreachable (NETWORK_ERROR) · retry 3 in 40 s" (lib/cli/outage.ts). */
  cloud?: string;
}

export function finishedCount(snapshot: ProgressSnapshot): number {
  return FINAL_STATUSES.reduce((sum, state) => sum + (snapshot.states[state] ?? 0), 0);
}

/** The states in flight, in the order a server passes them. */
const IN_FLIGHT_ORDER: readonly ServerState[] = [
  "pending",
  "claimed",
  "creating",
  "ambiguous",
  "in_progress",
  "deferred",
];

function clockText(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/** How much a progress text may say: everything, in-flight states as one count, then short words. */
type Detail = "full" | "brief" | "short";

function detailParts(snapshot: ProgressSnapshot, detail: Detail): string[] {
  const short = detail === "short";
  const count = (state: ServerState) => snapshot.states[state] ?? 0;
  const finalWord: Record<(typeof FINAL_STATUSES)[number], string> = short
    ? { protected: "prot", failed: "fail", ineligible: "inel", unknown: "unk" }
    : { protected: "protected", failed: "failed", ineligible: "ineligible", unknown: "unknown" };
  const parts = [FINAL_STATUSES.map((state) => `${count(state)} ${finalWord[state]}`).join(", ")];
  // An outage is the news when there is one: next to the counts, so a cut line keeps it.
  if (snapshot.cloud !== undefined) parts.push(snapshot.cloud);
  const inFlight = IN_FLIGHT_ORDER.filter((state) => count(state) > 0);
  const inFlightTotal = inFlight.reduce((sum, state) => sum + count(state), 0);
  if (inFlightTotal > 0) {
    const breakdown = detail === "full" ? ` (${inFlight.map((state) => `${state} ${count(state)}`).join(", ")})` : "";
    parts.push(`${inFlightTotal} in flight${breakdown}`);
  }
  if (count("queued") > 0) parts.push(`${count("queued")} queued`);
  const jobs = snapshot.jobsInFlight;
  parts.push(short ? `${jobs} job${jobs === 1 ? "" : "s"}` : `${jobs} job${jobs === 1 ? "" : "s"} running`);
  if (snapshot.webhooks !== undefined) {
    const { received, rejected } = snapshot.webhooks;
    parts.push(`${received} ${short ? "hooks" : "webhooks received"}${rejected > 0 ? `, ${rejected} rejected` : ""}`);
  }
  if (snapshot.notificationsPending !== undefined && snapshot.notificationsPending > 0) {
    parts.push(`${snapshot.notificationsPending} ${short ? "notif. pending" : "notifications pending"}`);
  }
  if (snapshot.simulatedMs !== undefined)
    parts.push(`${clockText(snapshot.simulatedMs)} ${short ? "sim" : "simulated"}`);
  return parts;
}

/**
 * What is going on besides the finished count, in at most `width` columns:
 * "3 in flight (in_progress 3) · 2 queued · 1 job running · 40 webhooks received"; shorter words when it
 * would not fit, and cut with "…" as the last resort (the counts come first, so they stay).
 */
export function progressDetail(snapshot: ProgressSnapshot, width = Number.POSITIVE_INFINITY): string {
  let text = "";
  for (const detail of ["full", "brief", "short"] as const) {
    text = detailParts(snapshot, detail).join(" · ");
    if (displayWidth(text) <= width) return text;
  }
  return truncateText(text, Math.max(1, width));
}

/** One plain line of at most `width` columns: "12/58 servers final: 10 protected, 0 failed, 2 ineligible, 0 unknown · …". */
export function progressLine(snapshot: ProgressSnapshot, width = Number.POSITIVE_INFINITY): string {
  const head = `${finishedCount(snapshot)}/${snapshot.servers} servers final: `;
  return `${head}${progressDetail(snapshot, width - displayWidth(head))}`;
}

export interface ProgressDisplay {
  update(snapshot: ProgressSnapshot): void;
  /** A log line that must not tear the bar: printed above it on a terminal. */
  log(line: string): void;
  /** Draws the last state and releases the terminal line. */
  stop(): void;
}

export interface ProgressDisplayOptions {
  output: Output;
  /** A terminal: redraw in place. Otherwise plain lines. */
  interactive: boolean;
  /** Terminal width (default 100): the line is kept within it. */
  columns?: number;
  /** Plain mode: at least this long between two lines. */
  intervalMs: number;
  /** Plain mode: a line even without change after this long (default 6 × interval). */
  heartbeatMs?: number;
  /** Wall clock for the plain-mode interval (tests pass their own). */
  now?: () => number;
}

export function createProgressDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  return options.interactive ? barDisplay(options) : plainDisplay(options);
}

function plainDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  const now = options.now ?? Date.now;
  const heartbeatMs = options.heartbeatMs ?? options.intervalMs * 6;
  let printed: string | undefined;
  let printedAt = Number.NEGATIVE_INFINITY;
  let latest: string | undefined;
  const prefix = "progress: ";
  const width = (options.columns ?? DEFAULT_COLUMNS) - prefix.length;
  const print = (line: string) => {
    options.output.line(`${prefix}${line}`);
    printed = line;
    printedAt = now();
  };
  return {
    update(snapshot) {
      latest = progressLine(snapshot, width);
      const elapsed = now() - printedAt;
      if ((latest !== printed && elapsed >= options.intervalMs) || elapsed >= heartbeatMs) print(latest);
    },
    log(line) {
      options.output.line(line);
    },
    stop() {
      if (latest !== undefined && latest !== printed) print(latest);
    },
  };
}

/** The bar gives way to the counts on a narrow terminal: 24 columns from 114 on, down to 8. */
const barSize = (columns: number) => Math.max(8, Math.min(24, columns - 90));

function barDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  // cli-progress writes escape sequences to a stream; this one goes through the CLI's output (secrets scrubbed).
  const columns = options.columns ?? DEFAULT_COLUMNS;
  const size = barSize(columns);
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        options.output.write(String(chunk));
        done();
      },
    }),
    { isTTY: true, columns },
  );
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: " {bar} {value}/{total} servers final · {detail}",
      barsize: size,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
      linewrap: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(snapshot) {
      // What the bar and the counts before the detail take: " ", the bar, " ", "12/58 servers final · ", and a column spare.
      const before = 1 + size + 1 + displayWidth(`${snapshot.servers}/${snapshot.servers} servers final · `) + 1;
      const payload = { detail: progressDetail(snapshot, columns - before) };
      if (bar === undefined) bar = multibar.create(snapshot.servers, finishedCount(snapshot), payload);
      else {
        bar.setTotal(snapshot.servers);
        bar.update(finishedCount(snapshot), payload);
      }
    },
    log(line) {
      multibar.log(`${line}\n`);
    },
    stop() {
      multibar.stop();
    },
  };
}

export interface FollowOptions {
  /** Reads the current state of the run (from the state store, the receiver…). */
  snapshot: () => Promise<ProgressSnapshot>;
  display: ProgressDisplay;
  /** How often the view is refreshed while the runtime waits (wall ms, default 250). */
  refreshMs?: number;
  run?: Omit<RunOptions, "onTick" | "signal">;
  /**
   * Calls that keep failing: shown on the progress line; once they have failed for `limitMs` the run stops
   * with exit 3, saying `afterwards` (where the state is, how to resume).
   */
  outage?: { watch: OutageWatch; limitMs: number; afterwards: string };
}

/**
 * Runs the runtime until every queue is empty, refreshing the view after every pump that did something
 * and on a timer while the runtime sleeps (real clock). Ends with a last refresh and stops the display.
 */
export async function followRun(
  runtime: Pick<LocalRuntime, "runUntilIdle">,
  options: FollowOptions,
): Promise<RunSummary> {
  let refreshing: Promise<void> | undefined;
  const stop = new AbortController();
  const { outage } = options;
  const withOutage = (snapshot: ProgressSnapshot): ProgressSnapshot => {
    const status = outage?.watch.status();
    if (outage?.watch.exceeded(outage.limitMs)) stop.abort();
    return status === undefined ? snapshot : { ...snapshot, cloud: outageText(status) };
  };
  const refresh = (): Promise<void> => {
    refreshing ??= options
      .snapshot()
      .then((snapshot) => options.display.update(withOutage(snapshot)))
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };
  // A failed look (the run is being torn down) must not end the run; the next one will tell.
  const refreshQuietly = () => {
    refresh().catch(() => undefined);
  };
  const timer = setInterval(refreshQuietly, options.refreshMs ?? 250);
  try {
    await refresh();
    const summary = await runtime.runUntilIdle({ ...options.run, onTick: refreshQuietly, signal: stop.signal });
    await refreshing?.catch(() => undefined);
    await refresh();
    if (summary.ended === "aborted" && outage !== undefined) {
      const status = outage.watch.status();
      const last = status === undefined ? "" : `: last ${status.code}`;
      throw new CliError(
        "CLOUD_UNREACHABLE",
        `the cloud kept failing for ${Math.round(outage.limitMs / 1000)} s (--outage-limit)${last}; stopped, ${outage.afterwards}`,
        EXIT.cloudUnavailable,
      );
    }
    return summary;
  } finally {
    clearInterval(timer);
    options.display.stop();
  }
}

export interface LogCounts {
  warnings: number;
  errors: number;
}

/**
 * The pipeline's logger for a CLI run: errors always, warnings and info only with --verbose, each as one
 * line ("WARN message {fields}") handed to `print` (the display's `log`, so a bar is not torn). Counts
 * are kept for the report.
 */
export function runLogger(options: { verbose: boolean; colors: Colors; print: (line: string) => void }): {
  logger: PipelineLogger;
  counts: LogCounts;
} {
  const counts: LogCounts = { warnings: 0, errors: 0 };
  const { colors } = options;
  const line = (level: string, message: string, extra: Record<string, unknown> | undefined) =>
    `${level} ${message}${extra === undefined || Object.keys(extra).length === 0 ? "" : ` ${JSON.stringify(extra)}`}`;
  return {
    counts,
    logger: {
      debug: () => undefined,
      info: (message, extra) => {
        if (options.verbose) options.print(colors.dim(line("INFO", message, extra)));
      },
      warn: (message, extra) => {
        counts.warnings += 1;
        if (options.verbose) options.print(colors.yellow(line("WARN", message, extra)));
      },
      error: (message, extra) => {
        counts.errors += 1;
        options.print(colors.red(line("ERROR", message, extra)));
      },
    },
  };
}

/**
 * A run's lines on stderr: printed as they come, and above the progress view while `follow` shows one, so
 * that a log line never tears the bar. `stop` (Ctrl+C) gives the terminal line back.
 */
export class RunConsole {
  readonly #output: Output;
  readonly #interactive: boolean;
  #display: ProgressDisplay | undefined;

  /** `interactive`: stderr is a terminal (CliContext.stderrIsTerminal), so the view redraws in place. */
  constructor(output: Output, interactive: boolean) {
    this.#output = output;
    this.#interactive = interactive;
  }

  readonly print = (line: string): void => {
    if (this.#display === undefined) this.#output.line(line);
    else this.#display.log(line);
  };

  /** `followRun` with a progress view on this output (redrawn in place when stderr is a terminal). */
  async follow(
    runtime: Pick<LocalRuntime, "runUntilIdle">,
    options: Omit<FollowOptions, "display"> & { view: Pick<ProgressDisplayOptions, "columns" | "intervalMs"> },
  ): Promise<RunSummary> {
    const { view, ...follow } = options;
    this.#display = createProgressDisplay({ output: this.#output, interactive: this.#interactive, ...view });
    try {
      return await followRun(runtime, { ...follow, display: this.#display });
    } finally {
      this.#display = undefined;
    }
  }

  stop(): void {
    this.#display?.stop();
  }
}
