/** Files the CLI finds next to its own code, and how paths are shown to people. */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The targets configuration used when neither SDRS_TARGETS_FILE nor SDRS_TARGETS_JSON is set. */
export const SAMPLE_TARGETS_PATH = fileURLToPath(new URL("../../events/targets.sample.json", import.meta.url));

/** Relative to the working directory when below it (shorter, and no machine-specific prefix), else as given. */
export function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown === "" || shown.startsWith("..") ? path : shown;
}
