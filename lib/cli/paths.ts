/** Files the CLI finds next to its own code, where it keeps its state, and how paths are shown to people. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The targets configuration used when neither SDRS_TARGETS_FILE nor SDRS_TARGETS_JSON is set. */
export const SAMPLE_TARGETS_PATH = fileURLToPath(new URL("../../events/targets.sample.json", import.meta.url));

/** Relative to the working directory when below it (shorter, and no machine-specific prefix), else as given. */
export function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown === "" || shown.startsWith("..") ? path : shown;
}

/** Where `onboard` and `status` keep the state when --state is not given. */
export const DEFAULT_STATE_FILE = join(".sdrs-autoprotect", "state.sqlite");

export interface TemporaryStateFile {
  file: string;
  /** Removes the file's directory; again is harmless. */
  remove(): void;
}

/** A state file in a fresh temporary directory (`sdrs-autoprotect-<command>-…`), for a run that keeps nothing. */
export function temporaryStateFile(command: string): TemporaryStateFile {
  const directory = mkdtempSync(join(tmpdir(), `sdrs-autoprotect-${command}-`));
  return { file: join(directory, "state.sqlite"), remove: () => rmSync(directory, { recursive: true, force: true }) };
}
