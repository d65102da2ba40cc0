/**
 * The servers file of `onboard --file`: CSV (a header row naming server_id or id, and optionally flavorRef;
 * or one id per line) or JSON (an array of ids or {serverId, flavorRef?}, or {"servers": [...]}). Every
 * error names the file, the line (or the JSON index) and the rule, and exits 2.
 */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { MAX_SERVERS_PER_REQUEST } from "../../pipeline/intake.ts";
import { FLAVOR_RULE, isFlavorName, isServerId, SERVER_ID_RULE } from "../../sdrs/field-rules.ts";
import * as z from "../../zod.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { plural } from "../report/servers.ts";

export interface ServerEntry {
  serverId: string;
  flavorRef?: string;
}

export interface ServersFile {
  servers: ServerEntry[];
  /** "line 7: 403b… is listed again (first on line 3); onboarded once". */
  duplicates: string[];
}

function fileError(message: string): CliError {
  return new CliError("SERVERS_FILE_INVALID", message, EXIT.usage);
}

interface LocatedEntry extends ServerEntry {
  /** "line 4" or "[3]": where the entry is in the file, for messages. */
  where: string;
}

function checkedEntry(
  file: string,
  where: string,
  serverId: string,
  flavorRef: string | undefined,
  idField: string,
): LocatedEntry {
  if (serverId === "") throw fileError(`${file} ${where}: ${idField} is empty`);
  if (!isServerId(serverId))
    throw fileError(`${file} ${where}: ${idField} ${JSON.stringify(serverId)} is not a server id (${SERVER_ID_RULE})`);
  if (flavorRef !== undefined && flavorRef !== "" && !isFlavorName(flavorRef)) {
    throw fileError(`${file} ${where}: flavorRef ${JSON.stringify(flavorRef)} is not a flavor name (${FLAVOR_RULE})`);
  }
  return { serverId, ...(flavorRef === undefined || flavorRef === "" ? {} : { flavorRef }), where };
}

const normalizedHeader = (cell: string) => cell.toLowerCase().replace(/[\s_-]/g, "");
const ID_HEADERS = ["serverid", "id"];
const FLAVOR_HEADERS = ["flavorref", "flavor", "flavorid"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** csv-parse with `info: true`: each record with the line it ends on. */
const csvRecords = z.array(z.object({ record: z.array(z.string()), info: z.object({ lines: z.int() }) }));

function csvEntries(text: string, file: string): LocatedEntry[] {
  let records: z.infer<typeof csvRecords>;
  try {
    const parsed: unknown = parseCsv(text, {
      info: true,
      skip_empty_lines: true,
      trim: true,
      comment: "#",
      relax_column_count: true,
      bom: true,
    });
    records = csvRecords.parse(parsed);
  } catch (error) {
    throw fileError(`${file}: not valid CSV: ${error instanceof Error ? error.message : String(error)}`);
  }
  const first = records[0]?.record.map(normalizedHeader) ?? [];
  const idColumn = ID_HEADERS.map((name) => first.indexOf(name)).find((index) => index !== -1);
  if (idColumn === undefined) {
    // A first line of names (not ECS server ids, which are UUIDs) is a header row without an id column.
    const firstValues = records[0]?.record.filter((value) => value !== "") ?? [];
    const looksLikeHeader =
      first.some((cell) => FLAVOR_HEADERS.includes(cell)) ||
      (firstValues.length > 1 && !firstValues.every((value) => UUID.test(value)));
    if (looksLikeHeader) {
      throw fileError(
        `${file} line ${records[0]?.info.lines ?? 1}: the header row (${firstValues.join(",")}) has no server id column; name it server_id or id`,
      );
    }
    // No header: one id per line.
    return records.map(({ record, info }) => {
      const values = record.filter((value) => value !== "");
      if (values.length > 1) {
        throw fileError(
          `${file} line ${info.lines}: ${values.length} values but no header row; start the file with a header such as "server_id,flavorRef", or list one server id per line`,
        );
      }
      return checkedEntry(file, `line ${info.lines}`, values[0] ?? "", undefined, "server id");
    });
  }
  const flavorColumn = FLAVOR_HEADERS.map((name) => first.indexOf(name)).find((index) => index !== -1);
  const idName = records[0]?.record[idColumn] ?? "server_id";
  const columns = records[0]?.record.length ?? 1;
  return records.slice(1).map(({ record, info }) => {
    const entry = checkedEntry(
      file,
      `line ${info.lines}`,
      record[idColumn] ?? "",
      flavorColumn === undefined ? undefined : record[flavorColumn],
      idName,
    );
    const extra = record.slice(columns).filter((value) => value !== "");
    if (extra.length > 0) {
      throw fileError(
        `${file} line ${info.lines}: ${columns + extra.length} values but the header row has ${plural(columns, "column")}`,
      );
    }
    return entry;
  });
}

const jsonServerObject = z.strictObject({
  serverId: z.string({ error: "must be a string" }),
  flavorRef: z.optional(z.string({ error: "must be a string" })),
});

function jsonEntries(text: string, file: string): LocatedEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fileError(`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const shapeRule = 'must be an array of server ids or {"serverId", "flavorRef"?} objects, or {"servers": [...]}';
  let list: unknown[];
  let prefix: string;
  if (Array.isArray(value)) {
    list = value;
    prefix = "";
  } else if (typeof value === "object" && value !== null && "servers" in value && Array.isArray(value.servers)) {
    list = value.servers;
    prefix = "servers";
  } else {
    throw fileError(`${file}: ${shapeRule}`);
  }
  return list.map((item, index) => {
    const where = `${prefix}[${index}]`;
    if (typeof item === "string") return checkedEntry(file, where, item.trim(), undefined, "server id");
    const parsed = jsonServerObject.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue === undefined || issue.path.length === 0 ? "" : `.${issue.path.map(String).join(".")}`;
      throw fileError(`${file} ${where}${field}: ${issue?.message ?? "invalid"} (${shapeRule})`);
    }
    return checkedEntry(
      file,
      `${where}.serverId`,
      parsed.data.serverId.trim(),
      parsed.data.flavorRef?.trim(),
      "serverId",
    );
  });
}

/**
 * The servers of a CSV file (a header row naming server_id or id, and optionally flavorRef; or one id per
 * line; `#` comments and blank lines are skipped) or a JSON file (an array of ids or {serverId, flavorRef?},
 * or {"servers": [...]}). JSON when the name ends in .json or the text starts with [ or {. Every error
 * names the file, the line (or the JSON index) and the rule.
 */
export function parseServersFile(text: string, file: string): ServersFile {
  const isJson = extname(file).toLowerCase() === ".json" || /^\s*[[{]/.test(text.replace(/^\uFEFF/, ""));
  const entries = isJson ? jsonEntries(text.replace(/^\uFEFF/, ""), file) : csvEntries(text, file);
  const firstSeen = new Map<string, { where: string; flavorRef: string | undefined }>();
  const servers: ServerEntry[] = [];
  const duplicates: string[] = [];
  for (const { where, ...entry } of entries) {
    const earlier = firstSeen.get(entry.serverId);
    if (earlier !== undefined) {
      // Two DR flavors for one server: which one was meant is not ours to guess.
      if (earlier.flavorRef !== entry.flavorRef) {
        const flavor = (flavorRef: string | undefined) =>
          flavorRef === undefined ? "no flavorRef" : `flavorRef ${flavorRef}`;
        throw fileError(
          `${file} ${where}: ${entry.serverId} is listed again with ${flavor(entry.flavorRef)}, but ${earlier.where} gives ${flavor(earlier.flavorRef)}; keep one`,
        );
      }
      duplicates.push(`${where}: ${entry.serverId} is listed again (first at ${earlier.where}); onboarded once`);
      continue;
    }
    firstSeen.set(entry.serverId, { where, flavorRef: entry.flavorRef });
    servers.push(entry);
  }
  if (servers.length === 0) throw fileError(`${file}: lists no servers`);
  if (servers.length > MAX_SERVERS_PER_REQUEST) {
    throw fileError(
      `${file}: lists ${servers.length} servers; one onboarding request takes at most ${MAX_SERVERS_PER_REQUEST} (split the file)`,
    );
  }
  return { servers, duplicates };
}

export function readServersFile(path: string): ServersFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "error";
    throw usageError(`--file: cannot read ${path} (${code})`);
  }
  return parseServersFile(text, basename(path));
}
