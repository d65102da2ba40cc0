/** The options of `npm run bench`, parsed from argv and checked with zod. */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as z from "../lib/zod.ts";

const DEFAULT_OUT = fileURLToPath(new URL("./results/latest.json", import.meta.url));

export const BENCH_USAGE = `Usage: npm run bench -- [options]

  --json                 print the results JSON on stdout instead of the tables
  --out <path>           where to write the results JSON (default bench/results/latest.json)
  --seed <n>             simulator and jitter seed (default 11)
  --clones <n>           servers cloned into the scaled sample estate (default 500)
  --scale <a,b,…>        wave-estate sizes of the scale curve (default 1000,2000,5000,10000)
  --modes <a,b>          scale-curve modes: events, bulk (default both)
  --naive-size <n>       wave-estate servers the Terraform-style baseline runs on (default 500; 0 = skip)
  --only <a,b,…>         run only these suites: api-calls, polling, planner, e2e, scale, bundles (default all);
                         --scale alone implies --only scale
  --polling-jobs <n>     simulated jobs per kind in the polling comparison (default 2000)
  --planner-sizes <a,b>  servers per planner input (default 1000,5000)
  --planner-runs <n>     timed planner runs per size; the median is reported (default 5)
  --e2e-runs <n>         end-to-end repeats per estate (default 3)
  --help                 this text`;

const positiveInt = z.coerce.number().check(z.int(), z.positive());
export const SUITES = ["api-calls", "polling", "planner", "e2e", "scale", "bundles"] as const;
export type Suite = (typeof SUITES)[number];
const benchOptions = z.strictObject({
  json: z._default(z.boolean(), false),
  out: z._default(
    z.pipe(
      z.string().check(z.minLength(1)),
      z.transform((path) => resolve(path)),
    ),
    DEFAULT_OUT,
  ),
  seed: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 11),
  clones: z._default(positiveInt, 500),
  scale: z.pipe(
    z.pipe(
      z._default(z.string(), "1000,2000,5000,10000"),
      z.transform((text) => text.split(",").map((size) => Number(size.trim()))),
    ),
    z.array(z.int().check(z.gte(10))).check(z.minLength(1)),
  ),
  modes: z.pipe(
    z.pipe(
      z._default(z.string(), "events,bulk"),
      z.transform((text) => text.split(",").map((mode) => mode.trim())),
    ),
    z.array(z.enum(["events", "bulk"])).check(z.minLength(1)),
  ),
  naiveSize: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 500),
  only: z.pipe(
    z.pipe(
      z.optional(z.string()),
      z.transform((text) => (text === undefined ? undefined : text.split(",").map((suite) => suite.trim()))),
    ),
    z.optional(z.array(z.enum(SUITES)).check(z.minLength(1))),
  ),
  pollingJobs: z._default(positiveInt, 2000),
  plannerSizes: z.pipe(
    z.pipe(
      z._default(z.string(), "1000,5000"),
      z.transform((text) => text.split(",").map((size) => Number(size.trim()))),
    ),
    z.array(z.int().check(z.positive())).check(z.minLength(1)),
  ),
  plannerRuns: z._default(positiveInt, 5),
  e2eRuns: z._default(positiveInt, 3),
  help: z._default(z.boolean(), false),
});
export type BenchOptions = z.infer<typeof benchOptions>;

export class BenchUsageError extends Error {
  readonly code = "BENCH_USAGE";
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean" },
        out: { type: "string" },
        seed: { type: "string" },
        clones: { type: "string" },
        scale: { type: "string" },
        modes: { type: "string" },
        "naive-size": { type: "string" },
        only: { type: "string" },
        "polling-jobs": { type: "string" },
        "planner-sizes": { type: "string" },
        "planner-runs": { type: "string" },
        "e2e-runs": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  const camel = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()),
      value,
    ]),
  );
  const parsed = benchOptions.safeParse(camel);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const option =
      issue?.path[0] === undefined
        ? "(options)"
        : `--${String(issue.path[0]).replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    throw new BenchUsageError(`${option}: ${issue?.message ?? "invalid"}`);
  }
  // `--scale 10000` alone: measure that curve, not the whole suite.
  const only = parsed.data.only ?? (values.scale !== undefined ? ["scale" as const] : undefined);
  return { ...parsed.data, only };
}

/** Whether `suite` runs with these options. */
export function runsSuite(options: BenchOptions, suite: Suite): boolean {
  return options.only === undefined || options.only.includes(suite);
}
