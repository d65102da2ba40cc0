/**
 * After `osls package`: reports each Lambda bundle's size and proves each one loads and exports a
 * handler, with the AWS SDK resolved from outside the bundle as the nodejs24.x runtime provides it.
 * Run: `npm run package && node scripts/check-bundles.ts`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "..");
const packaged = join(root, ".serverless");
const zips = readdirSync(packaged).filter((file) => file.endsWith(".zip")).sort();
if (zips.length === 0) {
  console.error("no bundles in .serverless/: run `npx osls package` first");
  process.exit(1);
}
// Unpacked inside the project so `@aws-sdk/*` resolves from node_modules, like the runtime's own copy.
const scratch = mkdtempSync(join(root, "node_modules", ".bundle-check-"));
let failed = false;
try {
  console.log("bundle                 zip KB   code KB   handler");
  for (const zip of zips) {
    const name = zip.replace(/\.zip$/, "");
    const target = join(scratch, name);
    execFileSync("unzip", ["-q", "-o", join(packaged, zip), "-d", target]);
    const code = readdirSync(join(target, "functions")).find((file) => file.endsWith(".mjs"));
    if (!code) throw new Error(`${zip}: no .mjs file in functions/`);
    const codePath = join(target, "functions", code);
    const module = (await import(pathToFileURL(codePath).href)) as { handler?: unknown };
    const ok = typeof module.handler === "function";
    failed ||= !ok;
    console.log(
      `${name.padEnd(22)} ${(statSync(join(packaged, zip)).size / 1024).toFixed(0).padStart(6)}   ${(statSync(codePath).size / 1024).toFixed(0).padStart(7)}   ${ok ? "ok" : "MISSING"}`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
