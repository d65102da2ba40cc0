/**
 * Fitting text to the terminal: how wide it is, how wide a string shows (display columns, not bytes or
 * code units: box drawing, "…", "→" and wide characters count as they print), and how a table's columns
 * share the width. wrap-ansi and string-width do the measuring and wrapping, colour codes included.
 * Pure, apart from `outputColumns`, which is handed the stream and the environment.
 */
import stringWidth from "string-width";
import wrapAnsi from "wrap-ansi";

/** Off a terminal and without COLUMNS: wide enough for the reports, narrow enough for most windows. */
export const DEFAULT_COLUMNS = 100;

/** Below this, nothing useful fits; a smaller COLUMNS is taken as this. */
const NARROWEST = 40;

/** The width output is laid out for: the terminal's, else COLUMNS, else DEFAULT_COLUMNS. */
export function outputColumns(
  stream: { columns?: number | undefined },
  env: Record<string, string | undefined>,
): number {
  const fromStream = stream.columns;
  if (fromStream !== undefined && Number.isInteger(fromStream) && fromStream > 0)
    return Math.max(NARROWEST, fromStream);
  const fromEnv = Number(env.COLUMNS);
  if (env.COLUMNS !== undefined && Number.isInteger(fromEnv) && fromEnv > 0) return Math.max(NARROWEST, fromEnv);
  return DEFAULT_COLUMNS;
}

export function displayWidth(text: string): number {
  return Math.max(0, ...text.split("\n").map((line) => stringWidth(line)));
}

/** Wrapped at word boundaries to `width`; a word longer than the width (an id, a URL) is broken. */
export function wrapText(text: string, width: number, indent = ""): string {
  const wrapped = wrapAnsi(text, Math.max(1, width - indent.length), { hard: true, trim: true });
  return indent === "" ? wrapped : wrapped.replace(/\n/g, `\n${indent}`);
}

/** Cut to `width` columns with "…" when longer. */
export function truncateText(text: string, width: number): string {
  if (stringWidth(text) <= width) return text;
  let shown = "";
  for (const character of text) {
    if (stringWidth(`${shown}${character}…`) > width) break;
    shown += character;
  }
  return `${shown}…`;
}

/** Each column gets at least this many columns of text (plus the two of padding). */
const NARROWEST_COLUMN = 4;

/** The widest word of a text: what a column needs so no word (an id, a code) is broken. */
export function longestWord(text: string): number {
  return Math.max(0, ...text.split(/\s+/).map((word) => stringWidth(word)));
}

/**
 * Column widths (text plus two of padding) for a table no wider than `total` columns, borders included:
 * the natural widths when they fit; else the widest column gives up a column at a time, first only down
 * to its longest word (`words`, so ids stay whole and the prose wraps), then, if that is not enough,
 * further, down to a few columns.
 */
export function fitColumnWidths(natural: readonly number[], total: number, words: readonly number[] = []): number[] {
  const widths = [...natural];
  const budget = total - (widths.length + 1);
  let sum = widths.reduce((all, width) => all + width, 0);
  const floors = [
    natural.map((width, index) => Math.min(width, Math.max(NARROWEST_COLUMN, words[index] ?? 0) + 2)),
    natural.map((width) => Math.min(width, NARROWEST_COLUMN + 2)),
  ];
  for (const floor of floors) {
    while (sum > budget) {
      let widest = -1;
      for (let index = 0; index < widths.length; index++) {
        const width = widths[index] ?? 0;
        if (width > (floor[index] ?? 0) && (widest === -1 || width > (widths[widest] ?? 0))) widest = index;
      }
      if (widest === -1) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
      sum -= 1;
    }
  }
  return widths;
}
