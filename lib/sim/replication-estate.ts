/**
 * The estate's optional `replicationPairs` section. Pairs need not be written: every disk a protected
 * instance's production server has when the estate loads gets one healthy pair, attached. An entry here
 * describes a pair that drifted from that default (docs/coverage.md, "Simulator"):
 *
 * - `replicated: false`: the disk has no pair (it was attached through ECS after protection);
 * - `status` / `faultLevel`: e.g. `fault` with `"2"` or `"5"`;
 * - `drDiskDeleted: true`: its DR-site disk was deleted, so the pair is `invalid`;
 * - `sizeGb`: `record_metadata.volume_size`, smaller than the disk when the disk grew outside SDRS.
 */

import { replicationPairStatus } from "../sdrs/statuses.ts";
import * as z from "../zod.ts";

export const estateReplicationPair = z.strictObject({
  _note: z.optional(z.string()),
  /** The production disk the pair replicates. */
  volumeId: z.string().check(z.minLength(1, { error: "must not be empty" })),
  replicated: z._default(z.boolean(), true),
  status: z.optional(replicationPairStatus),
  faultLevel: z.optional(z.enum(["0", "2", "5"])),
  drDiskDeleted: z._default(z.boolean(), false),
  sizeGb: z.optional(z.int().check(z.positive())),
});
export type EstateReplicationPair = z.infer<typeof estateReplicationPair>;

interface EstateView {
  volumes: { id: string }[];
  replicationPairs: EstateReplicationPair[];
}

/**
 * Every entry must name a defined volume, once. An entry whose disk belongs to no protected instance
 * (with a targetServerId) has no pair to describe and is ignored, so an estate can drop its protected
 * instances without editing this section.
 */
export function checkReplicationPairReferences(
  estate: EstateView,
  fail: (path: (string | number)[], message: string) => void,
): void {
  const volumeIds = new Set(estate.volumes.map((volume) => volume.id));
  const seen = new Set<string>();
  estate.replicationPairs.forEach((entry, index) => {
    const where = `replicationPairs[${index}].volumeId`;
    if (!volumeIds.has(entry.volumeId)) {
      fail(["replicationPairs", index, "volumeId"], `${where}: volume "${entry.volumeId}" is not defined in volumes`);
    }
    if (seen.has(entry.volumeId))
      fail(["replicationPairs", index, "volumeId"], `${where}: volume "${entry.volumeId}" is listed twice`);
    seen.add(entry.volumeId);
  });
}
