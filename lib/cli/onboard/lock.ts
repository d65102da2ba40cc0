/** One `onboard` run at a time on a state file. */
import { closeSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from "node:fs";
import * as z from "../../zod.ts";
import { CliError, EXIT } from "../errors.ts";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
}

const lockContent = z.object({ pid: z.int() });

/**
 * Takes `<state>.lock`, which holds the pid of the run using the state, and returns its release. Resuming treats every message in flight and
 * every claimed server as left behind by a dead run, which is true only while no other run uses the file.
 * A lock whose process is gone (killed) is taken over.
 */
export function acquireStateLock(stateFile: string): () => void {
  const lockFile = `${stateFile}.lock`;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const descriptor = openSync(lockFile, "wx");
      writeSync(descriptor, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      closeSync(descriptor);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "EEXIST") || attempt > 2) throw error;
    }
    let holder: number | undefined;
    try {
      const parsed = lockContent.safeParse(JSON.parse(readFileSync(lockFile, "utf8")));
      holder = parsed.success ? parsed.data.pid : undefined;
    } catch {
      holder = undefined; // unreadable or half written: its writer died
    }
    if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
      throw new CliError(
        "STATE_LOCKED",
        `--state: ${stateFile} is in use by another sdrs-autoprotect run (pid ${holder}); wait for it to end, or stop it`,
        EXIT.usage,
      );
    }
    unlinkSync(lockFile);
  }
}
