/**
 * After `osls package`: reports each Lambda bundle's size and import time, and proves each one loads and
 * exports a handler, with the AWS SDK resolved from outside the bundle as the nodejs24.x runtime provides it.
 *
 *   npm run package                               osls package, then this check
 *   node scripts/check-bundles.ts [--runs 7] [--json] [--max-code-kb 250] [--max-import-ms 60]
 *   node scripts/check-bundles.ts --top 12        each bundle's largest inputs (esbuild metafile), no import runs
 *   node scripts/check-bundles.ts --why rules.ts  the import chain that brings a module into each bundle
 *
 * Import time is what a cold start pays before the handler runs: each run is a fresh Node process that
 * imports the bundle once; the table shows the median of the runs, as wall-clock time and as the CPU time
 * the process spent (steadier on a shared, busy machine). The "floor" row is a bundle of middy and the
 * Powertools logger alone (lib/middleware.ts, built with serverless.yml's esbuild options): what every
 * handler pays at least, measured in the same run.
 *
 * Code size is deterministic, so it is a check: a function's code over --max-code-kb (or a bundle without a
 * handler) exits 1. Import time depends on the machine's load: it is measured and reported (a row above
 * --max-import-ms is marked "slow"), never asserted.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { BuildOptions } from "esbuild";

export interface BundleRow {
  bundle: string;
  zipKB: number;
  codeKB: number;
  importMs: number;
  importCpuMs: number;
  handler: boolean;
}

const IMPORT_PROBE = `
const cpu = process.cpuUsage();
const started = performance.now();
const module = await import(process.argv[1]);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, handler: typeof module.handler === "function" }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

interface ImportSample {
  ms: number;
  cpuMs: number;
  handler: boolean;
}

function importOnce(codeUrl: string): ImportSample {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", IMPORT_PROBE, codeUrl], {
    encoding: "utf8",
    env: { ...process.env, POWERTOOLS_DEV: "", NODE_OPTIONS: "" },
    timeout: 30_000,
  });
  return JSON.parse(out) as ImportSample;
}

function measureImport(codePath: string, runs: number): Pick<BundleRow, "importMs" | "importCpuMs" | "handler"> {
  const samples = Array.from({ length: runs }, () => importOnce(pathToFileURL(codePath).href));
  return {
    importMs: Math.round(median(samples.map((sample) => sample.ms))),
    importCpuMs: Math.round(median(samples.map((sample) => sample.cpuMs))),
    handler: samples.every((sample) => sample.handler),
  };
}

/** serverless.yml's `custom.esbuild`, as esbuild options: the floor and `--top`/`--why` build with them. */
const LAMBDA_BUILD: BuildOptions = {
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node24",
  external: ["@aws-sdk/*"],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "error",
};

/** The floor: middy + the Powertools logger behind a no-op handler, bundled as serverless.yml bundles a function. */
async function buildFloor(root: string, target: string): Promise<string> {
  const { build } = await import("esbuild");
  mkdirSync(target, { recursive: true });
  const entry = join(target, "floor-entry.ts");
  writeFileSync(
    entry,
    `import { middyfy } from ${JSON.stringify(join(root, "lib", "middleware.ts"))};\nexport const handler = middyfy(async () => undefined);\n`,
  );
  const outfile = join(target, "floor.mjs");
  await build({ ...LAMBDA_BUILD, entryPoints: [entry], outfile });
  return outfile;
}

/** The row of the floor bundle: a yardstick, not a function, so never over a limit. */
export const FLOOR_ROW = "floor (middy+logger)";

export interface BundleLimits {
  codeKB: number;
  importMs: number;
}

/** A function's code is over the size limit: the check fails. */
function isOverSize(row: BundleRow, limits: BundleLimits): boolean {
  return row.bundle !== FLOOR_ROW && row.codeKB > limits.codeKB;
}

/** A function imports slower than the target: reported only (the figure moves with the machine's load). */
function isSlow(row: BundleRow, limits: BundleLimits): boolean {
  return row.bundle !== FLOOR_ROW && row.importMs > limits.importMs;
}

/** Unpacks every zip in `.serverless/` and measures it; the unpacked copies are removed afterwards. */
export async function measureBundles(root: string, runs: number): Promise<BundleRow[]> {
  const packaged = join(root, ".serverless");
  const zips = readdirSync(packaged)
    .filter((file) => file.endsWith(".zip"))
    .sort();
  if (zips.length === 0) throw new Error("no bundles in .serverless/: run `npx osls package` first");
  // Unpacked inside the project so `@aws-sdk/*` resolves from node_modules, like the runtime's own copy.
  const scratch = mkdtempSync(join(root, "node_modules", ".bundle-check-"));
  try {
    const rows = zips.map((zip): BundleRow => {
      const bundle = zip.replace(/\.zip$/, "");
      const target = join(scratch, bundle);
      execFileSync("unzip", ["-q", "-o", join(packaged, zip), "-d", target]);
      const code = readdirSync(join(target, "functions")).find((file) => file.endsWith(".mjs"));
      if (!code) throw new Error(`${zip}: no .mjs file in functions/`);
      const codePath = join(target, "functions", code);
      return {
        bundle,
        zipKB: Math.round(statSync(join(packaged, zip)).size / 1024),
        codeKB: Math.round(statSync(codePath).size / 1024),
        ...measureImport(codePath, runs),
      };
    });
    const floor = await buildFloor(root, join(scratch, "floor"));
    rows.push({
      bundle: FLOOR_ROW,
      zipKB: 0,
      codeKB: Math.round(statSync(floor).size / 1024),
      ...measureImport(floor, runs),
    });
    return rows;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function renderBundles(rows: BundleRow[], limits: BundleLimits): string {
  const lines = ["bundle                 zip KB   code KB   import ms   import CPU ms   handler"];
  for (const row of rows) {
    const marks = [isOverSize(row, limits) ? "over" : "", isSlow(row, limits) ? "slow" : ""].filter(
      (mark) => mark !== "",
    );
    lines.push(
      `${row.bundle.padEnd(22)} ${String(row.zipKB).padStart(6)}   ${String(row.codeKB).padStart(7)}   ${String(row.importMs).padStart(9)}   ${String(row.importCpuMs).padStart(13)}   ${row.handler ? "ok" : "MISSING"}${marks.map((mark) => `  ${mark}`).join("")}`,
    );
  }
  lines.push(
    `medians of fresh imports; code ≤ ${limits.codeKB} KB (checked: "over" fails), import ≤ ${limits.importMs} ms (target: "slow" is reported only)`,
  );
  return lines.join("\n");
}

/** One input of a bundle and the minified bytes it adds to the code; a package's files are summed under its name. */
export interface BundleInput {
  input: string;
  kb: number;
}

export interface BundleComposition {
  bundle: string;
  codeKB: number;
  /** Largest first. */
  inputs: BundleInput[];
  /** The import chain from the function's file to each input (project paths and package names). */
  chainTo: (match: string) => string[] | undefined;
}

/** `node_modules/@scope/name/dist/x.js` → `@scope/name`; a project file stays its path. */
function inputName(path: string): string {
  const parts = path.split("node_modules/").at(-1)?.split("/") ?? [path];
  if (!path.includes("node_modules/")) return path;
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
}

/** Each packaged function and its source in functions/: its zip holds `functions/<name>.mjs`. */
function packagedEntries(root: string): { bundle: string; entry: string }[] {
  const packaged = join(root, ".serverless");
  return readdirSync(packaged)
    .filter((file) => file.endsWith(".zip"))
    .sort()
    .map((zip) => {
      const files = execFileSync("unzip", ["-Z1", join(packaged, zip)], { encoding: "utf8" }).split("\n");
      const code = files.find((file) => file.startsWith("functions/") && file.endsWith(".mjs"));
      if (!code) throw new Error(`${zip}: no .mjs file in functions/`);
      return { bundle: zip.replace(/\.zip$/, ""), entry: code.replace(/\.mjs$/, ".ts") };
    });
}

/**
 * What each packaged function's code is made of: its entry rebuilt with the serverless.yml options and an
 * esbuild metafile (same code, so the same size give or take the source-map comment).
 */
export async function composeBundles(root: string): Promise<BundleComposition[]> {
  const { build } = await import("esbuild");
  const compositions: BundleComposition[] = [];
  for (const { bundle, entry } of packagedEntries(root)) {
    const { metafile } = await build({
      ...LAMBDA_BUILD,
      absWorkingDir: root,
      entryPoints: [entry],
      outfile: join(root, ".esbuild-analysis", `${bundle}.mjs`),
      write: false,
      metafile: true,
    });
    const output = Object.values(metafile?.outputs ?? {}).find((out) => out.entryPoint === entry);
    if (!metafile || !output) throw new Error(`${bundle}: esbuild reported no output for ${entry}`);
    const bytes = new Map<string, number>();
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs))
      bytes.set(inputName(path), (bytes.get(inputName(path)) ?? 0) + bytesInOutput);
    const inputs = [...bytes]
      .map(([input, size]) => ({ input, kb: Math.round(size / 102.4) / 10 }))
      .sort((a, b) => b.kb - a.kb);
    const chainTo = (match: string): string[] | undefined => {
      // Breadth first: the shortest chain of static imports from the entry to the first input that matches and
      // puts code in the bundle. The modules between may add none: esbuild keeps a module's top-level code
      // with side effects (a call such as `z.object(...)`) even when nothing imported from it is used.
      const parents = new Map<string, string | undefined>([[entry, undefined]]);
      const queue = [entry];
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
        if (path !== entry && path.includes(match) && (output.inputs[path]?.bytesInOutput ?? 0) > 0) {
          const chain: string[] = [];
          for (let step: string | undefined = path; step !== undefined; step = parents.get(step))
            chain.unshift(inputName(step));
          return chain.filter((name, index) => name !== chain[index - 1]);
        }
        for (const { path: next, external } of metafile.inputs[path]?.imports ?? []) {
          if (external || parents.has(next)) continue;
          parents.set(next, path);
          queue.push(next);
        }
      }
      return undefined;
    };
    compositions.push({ bundle, codeKB: Math.round(output.bytes / 1024), inputs, chainTo });
  }
  return compositions;
}

export function renderComposition(
  compositions: readonly BundleComposition[],
  top: number,
  why: string | undefined,
): string {
  const lines: string[] = [];
  for (const { bundle, codeKB, inputs, chainTo } of compositions) {
    if (why !== undefined) {
      const chain = chainTo(why);
      lines.push(`${bundle.padEnd(16)} ${chain ? chain.join(" → ") : `(no ${why})`}`);
      continue;
    }
    lines.push(`${bundle} (${codeKB} KB)`);
    for (const { input, kb } of inputs.slice(0, top)) lines.push(`  ${kb.toFixed(1).padStart(6)} KB  ${input}`);
  }
  return lines.join("\n");
}

export const BUNDLE_LIMITS: BundleLimits = { codeKB: 250, importMs: 60 };

const ROOT = resolve(import.meta.dirname, "..");

/** `osls package` (offline on the default stage), then measureBundles: what `npm run bench` reports. */
export async function packageAndMeasureBundles(runs = 7): Promise<BundleRow[]> {
  execFileSync(join(ROOT, "node_modules", ".bin", "osls"), ["package"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return measureBundles(ROOT, runs);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "7" },
      json: { type: "boolean", default: false },
      top: { type: "string" },
      why: { type: "string" },
      "max-code-kb": { type: "string", default: String(BUNDLE_LIMITS.codeKB) },
      "max-import-ms": { type: "string", default: String(BUNDLE_LIMITS.importMs) },
    },
  });
  if (values.top !== undefined || values.why !== undefined) {
    console.log(renderComposition(await composeBundles(ROOT), Math.max(1, Number(values.top ?? "12")), values.why));
    process.exit(0);
  }
  const limits = { codeKB: Number(values["max-code-kb"]), importMs: Number(values["max-import-ms"]) };
  const rows = await measureBundles(ROOT, Math.max(1, Number(values.runs)));
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderBundles(rows, limits));
  const missing = rows.filter((row) => !row.handler).map((row) => row.bundle);
  const over = rows.filter((row) => isOverSize(row, limits)).map((row) => `${row.bundle} (${row.codeKB} KB)`);
  if (missing.length > 0) console.error(`no handler exported by: ${missing.join(", ")}`);
  if (over.length > 0)
    console.error(
      `code over ${limits.codeKB} KB: ${over.join(", ")}; \`node scripts/check-bundles.ts --top 12\` shows what each bundle holds`,
    );
  process.exit(missing.length > 0 || over.length > 0 ? 1 : 0);
}
