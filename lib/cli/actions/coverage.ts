/**
 * `coverage`: reads the estate once (lib/coverage/estate.ts), prints the counts per target and the
 * gaps, optionally writes the HTML page. Read-only: nothing is changed in the cloud.
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadTargetsConfig } from "../../config/targets.ts";
import { readCoverage } from "../../coverage/estate.ts";
import * as z from "../../zod.ts";
import { connectCloud, noteSimulatorFallback } from "../cloud.ts";
import type { CliContext } from "../context.ts";
import { EXIT, usageError } from "../errors.ts";
import { displayPath, SAMPLE_TARGETS_PATH } from "../paths.ts";
import { coverageDocument, coverageToJson, renderCoverageHtml } from "../report/coverage.ts";
import { renderTerminal } from "../report/document.ts";

const coverageOptions = z.object({
  target: z.optional(z.string()),
  json: z._default(z.boolean(), false),
  html: z.optional(z.string()),
});

export async function coverage(context: CliContext, raw: unknown): Promise<void> {
  const options = coverageOptions.parse(raw);
  if (options.target !== undefined && options.target.trim() === "") throw usageError("--target: must not be empty");
  if (options.html !== undefined && options.html.trim() === "") throw usageError("--html: must name a file");
  const config = loadTargetsConfig(context.env, SAMPLE_TARGETS_PATH);
  const cloud = await connectCloud(context);
  try {
    noteSimulatorFallback(context, cloud, "reading");
    const report = await readCoverage(cloud.client, { config, target: options.target });
    if (options.json) context.stdout.line(JSON.stringify(coverageToJson(report), null, 2));
    else
      context.stdout.line(
        renderTerminal(coverageDocument(report), { color: context.stdout.colorEnabled, columns: context.columns }),
      );
    if (options.html !== undefined) {
      const file = resolve(options.html);
      try {
        writeFileSync(file, renderCoverageHtml(report, new Date().toISOString()));
      } catch (error) {
        throw usageError(
          `--html: cannot write ${displayPath(file)} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
      context.stderr.line(`Coverage report written to ${displayPath(file)}`);
    }
    context.exitCode = report.gaps.length === 0 ? EXIT.ok : EXIT.someServersNotProtected;
  } finally {
    await cloud.close();
  }
}
