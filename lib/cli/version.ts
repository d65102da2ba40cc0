/** The version `--version` prints: package.json's, read once at startup. */
import { readFileSync } from "node:fs";

/**
 * A hand check instead of a zod schema: this runs on every start, and zod alone takes ~150 ms to load,
 * which `--help` and `--version` should not wait for. package.json is our own file, not user input.
 */
export function packageVersion(): string {
  const value: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  if (typeof value === "object" && value !== null && "version" in value && typeof value.version === "string")
    return value.version;
  throw new Error("package.json: version must be a string");
}
