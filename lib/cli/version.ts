/** The version `--version` prints: package.json's, read once at startup. */
import { readFileSync } from "node:fs";
import { z } from "zod";

const packageJson = z.looseObject({ name: z.string(), version: z.string() });

export function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return packageJson.parse(JSON.parse(text)).version;
}
