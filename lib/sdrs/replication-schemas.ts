/**
 * Replication pairs (one production disk + one DR disk of a protection group) and the ECS volume
 * attach/detach calls that change a server's disks: request bodies and answers, as the OTC / Huawei API
 * reference documents them (docs/coverage.md, "API facts").
 */
import * as z from "../zod.ts";
import { nullishText, resourceName } from "./schemas.ts";

/** `fault_level` is a string: "0" no fault, "2" production disk not writable (failover advised), "5" link broken. */
export const faultLevel = z.string();

/** One OTC example sends `volume_size` as a string ("10"): both are accepted. */
const gigabytes = z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number))]);

export const replicationPair = z.looseObject({
  id: z.string(),
  ...nullishText("name", "description"),
  status: z.string(),
  replication_model: z.nullish(z.string()),
  progress: z.nullish(z.number()),
  replication_status: z.nullish(z.string()),
  fault_level: z.nullish(faultLevel),
  failure_detail: z.nullish(z.string()),
  /** "<production disk id>,<DR disk id>", fixed at creation. */
  volume_ids: z.string(),
  attachment: z.nullish(z.array(z.looseObject({ protected_instance: z.string(), device: z.string() }))),
  server_group_id: z.string(),
  priority_station: z.nullish(z.string()),
  record_metadata: z.nullish(
    z.looseObject({
      multiattach: z.nullish(z.boolean()),
      bootable: z.nullish(z.boolean()),
      volume_size: z.nullish(gigabytes),
      volume_type: z.nullish(z.string()),
    }),
  ),
  ...nullishText("created_at", "updated_at"),
});
export type ReplicationPair = z.infer<typeof replicationPair>;

export const replicationPairList = z.looseObject({
  replications: z.array(replicationPair),
  count: z.nullish(z.number()),
});
export const replicationPairResponse = z.looseObject({ replication: replicationPair });

/** The disks of a pair: `volume_ids` split on ",", production first (as created). */
export function pairVolumeIds(pair: Pick<ReplicationPair, "volume_ids">): {
  sourceVolumeId: string;
  drVolumeId: string | undefined;
} {
  const [sourceVolumeId = "", drVolumeId] = pair.volume_ids.split(",").map((id) => id.trim());
  return { sourceVolumeId, drVolumeId: drVolumeId === "" ? undefined : drVolumeId };
}

/** POST /v1/{project_id}/replications */
export const createReplicationRequest = z.strictObject({
  replication: z.strictObject({
    server_group_id: z.string().check(z.minLength(1, { error: "must be the protection group id" })),
    volume_id: z.string().check(z.minLength(1, { error: "must be the production-site EVS disk id" })),
    name: resourceName,
    description: z.optional(z.string().check(z.maxLength(64))),
  }),
});
export type CreateReplicationBody = z.infer<typeof createReplicationRequest>["replication"];

/** KVM `/dev/vdX`, Xen `/dev/sdX` (the other spelling is rewritten by SDRS). */
const deviceName = z
  .string()
  .check(z.regex(/^\/dev\/(vd|sd|xvd)[a-z]{1,2}$/, { error: "must be a device name such as /dev/vdb" }));

/** POST …/protected-instances/{id}/attachreplication (note the camelCase key). */
export const attachReplicationRequest = z.strictObject({
  replicationAttachment: z.strictObject({ replication_id: z.string().check(z.minLength(1)), device: deviceName }),
});

/** POST …/replications/{id}/action: the final size of both disks, larger than now. */
export const extendReplicationRequest = z.strictObject({
  "extend-replication": z.strictObject({
    new_size: z.int().check(z.positive({ error: "must be the new size in GB" })),
  }),
});

/** ECS POST …/cloudservers/{id}/attachvolume */
export const attachServerVolumeRequest = z.strictObject({
  volumeAttachment: z.strictObject({ volumeId: z.string().check(z.minLength(1)), device: z.optional(deviceName) }),
});
