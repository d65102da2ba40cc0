/**
 * `--target` must name something: a target of the targets configuration or the id of a protection group in
 * the project. `plan` and `onboard` refuse anything else alike, with exit 2 (a typo is a usage error, not
 * a server verdict).
 */
import type { TargetsConfig } from "../config/targets.ts";
import type { ProtectionGroup } from "../sdrs/schemas.ts";
import { usageError } from "./errors.ts";

export async function assertTargetNamed(
  groups: () => Promise<readonly ProtectionGroup[]>,
  target: string,
  config: TargetsConfig,
  source: string,
): Promise<void> {
  if (Object.hasOwn(config.targets, target)) return;
  if ((await groups()).some((group) => group.id === target)) return;
  const names = Object.keys(config.targets);
  throw usageError(
    `--target: "${target}" is neither a target of ${source} (${names.length === 0 ? "none configured" : names.join(", ")}) nor the id of a protection group in the project`,
  );
}
