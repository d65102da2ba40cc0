/**
 * Names SDRS accepts: protected-instance names are at most 64 bytes and batch name prefixes 1–59
 * characters, of letters, digits, `.`, `_` and `-` (lib/sdrs/schemas.ts `resourceName`, `namePrefix`).
 */
import { resourceName } from "../sdrs/schemas.ts";

const MAX_NAME_LENGTH = 64;
const MAX_PREFIX_LENGTH = 59;

/** Runs of other characters become one "-"; leading and trailing "-" go. ASCII only, so characters = bytes. */
function sanitize(text: string, maxLength: number): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, maxLength)
    .replace(/-+$/, "");
}

/** The single create's protected-instance name: the server's own name when SDRS accepts it. */
export function protectedInstanceName(serverName: string, serverId: string): string {
  if (resourceName.safeParse(serverName).success) return serverName;
  return sanitize(serverName, MAX_NAME_LENGTH) || sanitize(`pi-${serverId}`, MAX_NAME_LENGTH) || "protected-instance";
}

/** The default batch name prefix, from the target's (or the protection group's) name. */
export function derivedNamePrefix(name: string | undefined): string {
  return sanitize(name ?? "", MAX_PREFIX_LENGTH) || "sdrs";
}
