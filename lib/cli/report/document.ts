/**
 * A report as plain data (title, headings, paragraphs, lists, tables), rendered three ways: for a
 * terminal (cli-table3, colours only when asked), as Markdown and as a standalone HTML page. Building the
 * content once keeps the three outputs of `start` (stdout, the .md and the .html file) saying the same.
 * Pure: every function returns a string.
 */
import Table from "cli-table3";
import picocolors from "picocolors";
import { DEFAULT_COLUMNS, displayWidth, fitColumnWidths, longestWord, wrapText } from "../layout.ts";

/** How a cell or paragraph is emphasised: colour on a terminal, a CSS class in HTML, nothing in Markdown. */
export type Tone = "good" | "bad" | "warn" | "muted" | "strong";

export interface Cell {
  text: string;
  tone?: Tone;
  /** An identifier (server id, job id, code): monospace in Markdown and HTML. */
  code?: boolean;
}

export type CellInput = string | Cell;

export type Block =
  | { kind: "heading"; text: string }
  | { kind: "paragraph"; text: string; tone?: Tone }
  | { kind: "list"; items: string[] }
  | {
      kind: "table";
      head: string[];
      rows: CellInput[][];
      /** Terminal only: the widest a column may get before its text wraps (default 60). */
      maxWidths?: (number | undefined)[];
    };

export interface ReportDocument {
  title: string;
  blocks: Block[];
}

const DEFAULT_MAX_COLUMN_WIDTH = 60;

function cellOf(input: CellInput): Cell {
  return typeof input === "string" ? { text: input } : input;
}

// ---------------------------------------------------------------------------------------------
// Terminal
// ---------------------------------------------------------------------------------------------

/**
 * For a terminal `columns` wide (default 100): paragraphs and list items wrapped, table columns narrowed
 * until the table fits, cells wrapped inside their column (a long id is broken rather than cut).
 */
export function renderTerminal(
  document: ReportDocument,
  options: { color: boolean; columns?: number | undefined },
): string {
  const colors = picocolors.createColors(options.color);
  const columns = options.columns ?? DEFAULT_COLUMNS;
  const toned = (text: string, tone: Tone | undefined): string => {
    switch (tone) {
      case "good":
        return colors.green(text);
      case "bad":
        return colors.red(text);
      case "warn":
        return colors.yellow(text);
      case "muted":
        return colors.dim(text);
      case "strong":
        return colors.bold(text);
      case undefined:
        return text;
    }
  };
  const lines: string[] = [colors.bold(wrapText(document.title, columns))];
  for (const block of document.blocks) {
    switch (block.kind) {
      case "heading":
        lines.push("", colors.bold(colors.cyan(wrapText(block.text, columns))));
        break;
      case "paragraph":
        lines.push(toned(wrapText(block.text, columns), block.tone));
        break;
      case "list":
        lines.push(...block.items.map((item) => `  - ${wrapText(item, columns, "    ")}`));
        break;
      case "table": {
        const cells = block.rows.map((row) => row.map(cellOf));
        // Widths from the plain text, narrowed to the terminal; the text is wrapped here, before colouring.
        const natural = block.head.map((title, index) => {
          const widest = Math.max(displayWidth(title), ...cells.map((row) => displayWidth(row[index]?.text ?? "")));
          return Math.min(widest, block.maxWidths?.[index] ?? DEFAULT_MAX_COLUMN_WIDTH) + 2;
        });
        const words = block.head.map((title, index) =>
          Math.max(longestWord(title), ...cells.map((row) => longestWord(row[index]?.text ?? ""))),
        );
        const colWidths = fitColumnWidths(natural, columns, words);
        const fitted = (text: string, index: number) =>
          text
            .split("\n")
            .map((line) => wrapText(line, (colWidths[index] ?? 3) - 2))
            .join("\n");
        const table = new Table({
          head: block.head.map((title, index) => colors.bold(fitted(title, index))),
          colWidths,
          wordWrap: true,
          style: { head: [], border: [] },
        });
        for (const row of cells)
          table.push(block.head.map((_, index) => toned(fitted(row[index]?.text ?? "", index), row[index]?.tone)));
        lines.push(table.toString());
        break;
      }
    }
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

function markdownCell(cell: Cell): string {
  if (cell.text === "") return "";
  const escaped = cell.text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|");
  const lines = escaped.split("\n");
  const shown =
    cell.code && !cell.text.includes("`") ? lines.map((line) => (line === "" ? line : `\`${line}\``)) : lines;
  return shown.join("<br>");
}

export function renderMarkdown(document: ReportDocument): string {
  const parts: string[] = [`# ${document.title}`];
  for (const block of document.blocks) {
    switch (block.kind) {
      case "heading":
        parts.push(`## ${block.text}`);
        break;
      case "paragraph":
        parts.push(block.text);
        break;
      case "list":
        parts.push(block.items.map((item) => `- ${item}`).join("\n"));
        break;
      case "table": {
        const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
        parts.push(
          [
            row(block.head.map((title) => markdownCell({ text: title }))),
            row(block.head.map(() => "---")),
            ...block.rows.map((cells) => row(block.head.map((_, index) => markdownCell(cellOf(cells[index] ?? ""))))),
          ].join("\n"),
        );
        break;
      }
    }
  }
  return `${parts.join("\n\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const HTML_STYLE = `
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
  h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
  table { border-collapse: collapse; margin: 0.5rem 0; }
  th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
  th { background: #f6f8fa; }
  code { font-family: ui-monospace, monospace; font-size: 0.9em; }
  .good { color: #1a7f37; } .bad { color: #cf222e; } .warn { color: #9a6700; } .muted { color: #656d76; } .strong { font-weight: 600; }
`;

function htmlText(text: string, code: boolean | undefined): string {
  return text
    .split("\n")
    .map((line) => (code && line !== "" ? `<code>${escapeHtml(line)}</code>` : escapeHtml(line)))
    .join("<br>");
}

function htmlClass(tone: Tone | undefined): string {
  return tone === undefined ? "" : ` class="${tone}"`;
}

export function renderHtml(document: ReportDocument): string {
  const body: string[] = [`<h1>${escapeHtml(document.title)}</h1>`];
  for (const block of document.blocks) {
    switch (block.kind) {
      case "heading":
        body.push(`<h2>${escapeHtml(block.text)}</h2>`);
        break;
      case "paragraph":
        body.push(`<p${htmlClass(block.tone)}>${htmlText(block.text, false)}</p>`);
        break;
      case "list":
        body.push(`<ul>${block.items.map((item) => `<li>${escapeHtml(item)}</li>`).join("")}</ul>`);
        break;
      case "table": {
        const head = `<tr>${block.head.map((title) => `<th>${escapeHtml(title)}</th>`).join("")}</tr>`;
        const rows = block.rows.map(
          (cells) =>
            `<tr>${block.head
              .map((_, index) => {
                const cell = cellOf(cells[index] ?? "");
                return `<td${htmlClass(cell.tone)}>${htmlText(cell.text, cell.code)}</td>`;
              })
              .join("")}</tr>`,
        );
        body.push(`<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join("\n")}\n</tbody>\n</table>`);
        break;
      }
    }
  }
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<title>${escapeHtml(document.title)}</title>`,
    `<style>${HTML_STYLE}</style>`,
    "</head>",
    "<body>",
    ...body,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
