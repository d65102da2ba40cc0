/**
 * After `osls package`: reports each Lambda bundle's size and import time, and proves each one loads and
 * exports a handler, with the AWS SDK resolved from outside the bundle as the nodejs24.x runtime provides it.
 *
 *   npm run package                               osls package, then this check
 *   node scripts/check-bundles.ts [--runs 7] [--json] [--max-code-kb 250] [--max-import-ms 60]
 *
 * Import time is what a cold start pays before the handler runs: each run is a fresh Node process that
 * imports the bundle once; the table shows the median of the runs. It is measured, not asserted: the limits
 * only mark a row "over" (exit 1 with --strict).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

export interface BundleRow {
  bundle: string;
  zipKB: number;
  codeKB: number;
  importMs: number;
  handler: boolean;
}

const IMPORT_PROBE = `
const started = performance.now();
const module = await import(process.argv[1]);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, handler: typeof module.handler === "function" }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function importOnce(codeUrl: string): { ms: number; handler: boolean } {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", IMPORT_PROBE, codeUrl], {
    encoding: "utf8",
    env: { ...process.env, POWERTOOLS_DEV: "", NODE_OPTIONS: "" },
    timeout: 30_000,
  });
  return JSON.parse(out) as { ms: number; handler: boolean };
}

/** Unpacks every zip in `.serverless/` and measures it; the unpacked copies are removed afterwards. */
export function measureBundles(root: string, runs: number): BundleRow[] {
  const packaged = join(root, ".serverless");
  const zips = readdirSync(packaged)
    .filter((file) => file.endsWith(".zip"))
    .sort();
  if (zips.length === 0) throw new Error("no bundles in .serverless/: run `npx osls package` first");
  // Unpacked inside the project so `@aws-sdk/*` resolves from node_modules, like the runtime's own copy.
  const scratch = mkdtempSync(join(root, "node_modules", ".bundle-check-"));
  try {
    return zips.map((zip) => {
      const bundle = zip.replace(/\.zip$/, "");
      const target = join(scratch, bundle);
      execFileSync("unzip", ["-q", "-o", join(packaged, zip), "-d", target]);
      const code = readdirSync(join(target, "functions")).find((file) => file.endsWith(".mjs"));
      if (!code) throw new Error(`${zip}: no .mjs file in functions/`);
      const codePath = join(target, "functions", code);
      const samples = Array.from({ length: runs }, () => importOnce(pathToFileURL(codePath).href));
      return {
        bundle,
        zipKB: Math.round(statSync(join(packaged, zip)).size / 1024),
        codeKB: Math.round(statSync(codePath).size / 1024),
        importMs: Math.round(median(samples.map((sample) => sample.ms))),
        handler: samples.every((sample) => sample.handler),
      };
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function renderBundles(rows: BundleRow[], limits: { codeKB: number; importMs: number }): string {
  const lines = ["bundle                 zip KB   code KB   import ms (median)   handler"];
  for (const row of rows) {
    const over = row.codeKB > limits.codeKB || row.importMs > limits.importMs;
    lines.push(
      `${row.bundle.padEnd(22)} ${String(row.zipKB).padStart(6)}   ${String(row.codeKB).padStart(7)}   ${String(row.importMs).padStart(18)}   ${row.handler ? "ok" : "MISSING"}${over ? "  over" : ""}`,
    );
  }
  lines.push(`limits: code ≤ ${limits.codeKB} KB, import ≤ ${limits.importMs} ms median`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "7" },
      json: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      "max-code-kb": { type: "string", default: "250" },
      "max-import-ms": { type: "string", default: "60" },
    },
  });
  const limits = { codeKB: Number(values["max-code-kb"]), importMs: Number(values["max-import-ms"]) };
  const rows = measureBundles(resolve(import.meta.dirname, ".."), Math.max(1, Number(values.runs)));
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderBundles(rows, limits));
  const missing = rows.some((row) => !row.handler);
  const over = rows.some((row) => row.codeKB > limits.codeKB || row.importMs > limits.importMs);
  process.exit(missing || (values.strict && over) ? 1 : 0);
}
