/**
 * After `osls package`: reports each Lambda bundle's size and import time, and proves each one loads and
 * exports a handler, with the AWS SDK resolved from outside the bundle as the nodejs24.x runtime provides it.
 *
 *   npm run package                               osls package, then this check
 *   node scripts/check-bundles.ts [--runs 7] [--json] [--max-code-kb 250] [--max-import-ms 60]
 *
 * Import time is what a cold start pays before the handler runs: each run is a fresh Node process that
 * imports the bundle once; the table shows the median of the runs, as wall-clock time and as the CPU time
 * the process spent (steadier on a shared, busy machine). The "floor" row is a bundle of middy and the
 * Powertools logger alone (lib/middleware.ts, built with serverless.yml's esbuild options): what every
 * handler pays at least, measured in the same run. Measured, not asserted: the limits only mark a row
 * "over" (exit 1 with --strict).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

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

/** The floor: middy + the Powertools logger behind a no-op handler, bundled as serverless.yml bundles a function. */
async function buildFloor(root: string, target: string): Promise<string> {
  const { build } = await import("esbuild");
  mkdirSync(target, { recursive: true });
  const entry = join(target, "floor-entry.ts");
  writeFileSync(entry, `import { middyfy } from ${JSON.stringify(join(root, "lib", "middleware.ts"))};\nexport const handler = middyfy(async () => undefined);\n`);
  const outfile = join(target, "floor.mjs");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    target: "node24",
    external: ["@aws-sdk/*"],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "error",
  });
  return outfile;
}

/** Unpacks every zip in `.serverless/` and measures it; the unpacked copies are removed afterwards. */
/** The row of the floor bundle: a yardstick, not a function, so never "over". */
export const FLOOR_ROW = "floor (middy+logger)";

function isOver(row: BundleRow, limits: { codeKB: number; importMs: number }): boolean {
  return row.bundle !== FLOOR_ROW && (row.codeKB > limits.codeKB || row.importMs > limits.importMs);
}

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
    rows.push({ bundle: FLOOR_ROW, zipKB: 0, codeKB: Math.round(statSync(floor).size / 1024), ...measureImport(floor, runs) });
    return rows;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function renderBundles(rows: BundleRow[], limits: { codeKB: number; importMs: number }): string {
  const lines = ["bundle                 zip KB   code KB   import ms   import CPU ms   handler"];
  for (const row of rows) {
    const over = isOver(row, limits);
    lines.push(
      `${row.bundle.padEnd(22)} ${String(row.zipKB).padStart(6)}   ${String(row.codeKB).padStart(7)}   ${String(row.importMs).padStart(9)}   ${String(row.importCpuMs).padStart(13)}   ${row.handler ? "ok" : "MISSING"}${over ? "  over" : ""}`,
    );
  }
  lines.push(`medians of fresh imports; limits: code ≤ ${limits.codeKB} KB, import ≤ ${limits.importMs} ms`);
  return lines.join("\n");
}

export const BUNDLE_LIMITS = { codeKB: 250, importMs: 60 };

const ROOT = resolve(import.meta.dirname, "..");

/** `osls package` (offline on the default stage), then measureBundles: what `npm run bench` reports. */
export async function packageAndMeasureBundles(runs = 7): Promise<BundleRow[]> {
  execFileSync(join(ROOT, "node_modules", ".bin", "osls"), ["package"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  return measureBundles(ROOT, runs);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "7" },
      json: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      "max-code-kb": { type: "string", default: String(BUNDLE_LIMITS.codeKB) },
      "max-import-ms": { type: "string", default: String(BUNDLE_LIMITS.importMs) },
    },
  });
  const limits = { codeKB: Number(values["max-code-kb"]), importMs: Number(values["max-import-ms"]) };
  const rows = await measureBundles(ROOT, Math.max(1, Number(values.runs)));
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderBundles(rows, limits));
  const missing = rows.some((row) => !row.handler);
  const over = rows.some((row) => isOver(row, limits));
  process.exit(missing || (values.strict && over) ? 1 : 0);
}
