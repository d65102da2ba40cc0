/**
 * The files people name on the command line (--state, --report), checked before any work, each fault a
 * usage error naming the flag and the cause. Hand-written: the rules are few and about this CLI's files.
 *
 * Why the parent chain is walked here rather than left to mkdir: `mkdirSync(..., { recursive: true })`
 * under /proc never returns on Linux, and under a regular file it fails with a bare ENOTDIR.
 */
import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { usageError } from "./errors.ts";

/** Kernel file systems: nothing a run writes belongs there. */
const VIRTUAL_ROOTS = ["/proc", "/sys", "/dev"];

/** Every sqlite database file starts with these 16 bytes (sqlite.org/fileformat.html, "The Database Header"). */
const SQLITE_HEADER = "SQLite format 3\u0000";

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function underVirtualRoot(path: string): string | undefined {
  return VIRTUAL_ROOTS.find((root) => path === root || path.startsWith(`${root}/`));
}

/** The nearest existing ancestor of `path` must be a writable directory (the missing ones are created later). */
function checkParents(flag: string, shown: string, path: string): void {
  for (let parent = dirname(path); ; parent = dirname(parent)) {
    const stats = statOf(parent);
    if (stats !== undefined) {
      if (!stats.isDirectory()) throw usageError(`${flag}: ${shown}: ${parent} is a file, not a directory`);
      try {
        accessSync(parent, constants.W_OK);
      } catch {
        throw usageError(`${flag}: ${shown}: cannot write in ${parent} (permission denied)`);
      }
      return;
    }
    if (parent === dirname(parent)) return;
  }
}

/** `example`: a file name to suggest when the path is a directory. */
function checkWritablePath(flag: string, given: string, example: string): { path: string; stats: Stats | undefined } {
  const path = resolve(given);
  const root = underVirtualRoot(path);
  if (root !== undefined)
    throw usageError(`${flag}: ${given} is under ${root}, a kernel file system; give a path on disk`);
  const stats = statOf(path);
  if (stats?.isDirectory())
    throw usageError(
      `${flag}: ${given} is a directory; give a file path (e.g. ${given.replace(/\/$/, "")}/${example})`,
    );
  if (stats === undefined) checkParents(flag, given, path);
  return { path, stats };
}

function isSqliteFile(path: string, stats: Stats): boolean {
  // sqlite takes an empty file as a new database.
  if (stats.size === 0) return true;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const descriptor = openSync(path, "r");
  try {
    readSync(descriptor, header, 0, header.length, 0);
  } finally {
    closeSync(descriptor);
  }
  return header.toString("latin1") === SQLITE_HEADER;
}

/**
 * --state: a new file in a writable directory, or an existing sqlite database (`existing: "forbidden"`:
 * start wants a fresh one; "required": status reads one). Creates the missing parent directories.
 */
export function checkStateFile(flag: string, given: string, existing: "allowed" | "forbidden" | "required"): void {
  const { path, stats } = checkWritablePath(flag, given, "state.sqlite");
  if (stats === undefined) {
    if (existing === "required")
      throw usageError(`${flag}: no state file at ${given} (onboard writes one; name another with --state FILE)`);
    mkdirSync(dirname(path), { recursive: true });
    return;
  }
  if (!stats.isFile()) throw usageError(`${flag}: ${given} is not a regular file`);
  if (existing === "forbidden")
    throw usageError(
      `${flag}: ${given} exists already; start runs a fresh simulator each time, so give a new file (or delete it)`,
    );
  if (!isSqliteFile(path, stats))
    throw usageError(`${flag}: ${given} is not an sqlite database (it lacks the sqlite header); name another file`);
}

/** --report: a file that can be written (an existing one is replaced). */
export function checkReportFile(flag: string, given: string): void {
  const { stats } = checkWritablePath(flag, given, "report.md");
  if (stats !== undefined && !stats.isFile()) throw usageError(`${flag}: ${given} is not a regular file`);
  if (stats !== undefined) {
    try {
      accessSync(given, constants.W_OK);
    } catch {
      throw usageError(`${flag}: cannot write ${given} (permission denied)`);
    }
  }
}
