/**
 * The coverage report (docs/coverage.md): counts per target, then the gaps with codes and remedies.
 * One content for the terminal, the `start` report and a self-contained HTML page whose chart is inline
 * SVG (no scripts, fonts or other external assets), so an auditor can keep the file.
 */
import type { CoverageReport, TargetCoverage } from "../../coverage/estate.ts";
import type { Block, CellInput, ReportDocument } from "./document.ts";
import { escapeHtml, renderHtml } from "./document.ts";

function targetName(target: string | null): string {
  return target ?? "(no protect tag)";
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "—" : `${Math.floor((part / whole) * 100)} %`;
}

function countsRow(name: string, counts: Omit<TargetCoverage, "target" | "protectionGroupId">): CellInput[] {
  return [
    name,
    String(counts.servers),
    { text: String(counts.fully), tone: counts.fully === counts.servers ? "good" : undefined },
    { text: String(counts.partially), tone: counts.partially > 0 ? "warn" : undefined },
    { text: String(counts.not), tone: counts.not > 0 ? "bad" : undefined },
    `${counts.disksReplicated} of ${counts.disksAttached} (${percent(counts.disksReplicated, counts.disksAttached)})`,
  ];
}

/** The coverage section: what `coverage` prints and what `start` appends. */
export function coverageBlocks(report: CoverageReport): Block[] {
  const blocks: Block[] = [
    { kind: "heading", text: "Coverage: is every disk replicated?" },
    {
      kind: "table",
      head: ["Target", "Servers", "Fully", "Partially", "Not protected", "Disks replicated"],
      rows: [
        ...report.targets.map((target) => countsRow(targetName(target.target), target)),
        countsRow("Total", { ...report.totals }),
      ],
    },
  ];
  if (report.gaps.length === 0) {
    blocks.push({
      kind: "paragraph",
      tone: "good",
      text: "Every tagged or protected server is fully protected: no gaps.",
    });
    return blocks;
  }
  blocks.push({ kind: "heading", text: `Gaps (${report.gaps.length})` });
  blocks.push({
    kind: "table",
    head: ["Server", "Code", "What", "Remedy"],
    rows: report.gaps.map((gap) => [
      { text: `${gap.serverName}\n${gap.serverId}`, code: true },
      {
        text: gap.code,
        tone: gap.code === "COVERAGE_NOT_PROTECTED" || gap.code === "COVERAGE_PROTECTION_IN_PROGRESS" ? "muted" : "bad",
        code: true,
      },
      gap.message,
      gap.remedy,
    ]),
    maxWidths: [38, 32, 60, 50],
  });
  return blocks;
}

export function coverageDocument(report: CoverageReport): ReportDocument {
  return { title: "sdrs-autoprotect coverage", blocks: coverageBlocks(report) };
}

const CHART_COLOURS = { fully: "#1a7f37", partially: "#bf8700", not: "#cf222e" } as const;

/** A horizontal stacked bar per target: servers fully / partially / not protected. */
export function coverageChartSvg(report: CoverageReport): string {
  const rowHeight = 28;
  const labelWidth = 260;
  const barWidth = 420;
  const top = 30;
  const height = top + report.targets.length * rowHeight + 10;
  const rows = report.targets.map((target, index) => {
    const y = top + index * rowHeight;
    let x = labelWidth;
    const segments = (["fully", "partially", "not"] as const).map((state) => {
      const width = target.servers === 0 ? 0 : (target[state] / target.servers) * barWidth;
      const segment =
        width === 0
          ? ""
          : `<rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="18" fill="${CHART_COLOURS[state]}"><title>${state}: ${target[state]}</title></rect>`;
      x += width;
      return segment;
    });
    const name = targetName(target.target);
    const label = escapeHtml(name.length > 30 ? `${name.slice(0, 29)}…` : name);
    const summary = `${target.fully}/${target.servers} fully · ${target.disksReplicated}/${target.disksAttached} disks`;
    return [
      `<text x="0" y="${y + 14}" font-size="13">${label}</text>`,
      ...segments,
      `<text x="${labelWidth + barWidth + 8}" y="${y + 14}" font-size="12" fill="#656d76">${escapeHtml(summary)}</text>`,
    ].join("");
  });
  const legend = (["fully", "partially", "not"] as const)
    .map(
      (state, index) =>
        `<rect x="${labelWidth + index * 120}" y="4" width="12" height="12" fill="${CHART_COLOURS[state]}"/><text x="${labelWidth + index * 120 + 16}" y="15" font-size="12">${state === "not" ? "not protected" : state}</text>`,
    )
    .join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Coverage per target" width="${labelWidth + barWidth + 220}" height="${height}" font-family="system-ui, sans-serif">`,
    legend,
    ...rows,
    "</svg>",
  ].join("\n");
}

/** A standalone page: the chart, then the same tables as the terminal. */
export function renderCoverageHtml(report: CoverageReport, generatedAt: string): string {
  const document = coverageDocument(report);
  const page = renderHtml({
    ...document,
    blocks: [{ kind: "paragraph", text: `Generated ${generatedAt}.`, tone: "muted" }, ...document.blocks],
  });
  return page.replace("</h1>", `</h1>\n<figure>\n${coverageChartSvg(report)}\n</figure>`);
}

/** The `--json` document. */
export function coverageToJson(report: CoverageReport) {
  return {
    ok: report.gaps.length === 0,
    protectTagKey: report.protectTagKey,
    totals: report.totals,
    targets: report.targets,
    gaps: report.gaps,
    servers: report.servers,
  };
}
