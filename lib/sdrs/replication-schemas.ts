/**
 * Replication pairs (one production disk + one DR disk of a protection group) and the ECS volume
 * attach/detach calls that change a server's disks: request bodies and answers, as the OTC / Huawei API
 * reference documents them (docs/coverage.md, "API facts").
 */
import * as z from "zod";
import { nullishText, resourceName } from "./schemas.ts";

/** `fault_level` is a string: "0" no fault, "2" production disk not writable (failover advised), "5" link broken. */
export const faultLevel = z.string();

/** One OTC example sends `volume_size` as a string ("10"): both are accepted. */
const gigabytes = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

export const replicationPair = z.looseObject({
  id: z.string(),
  ...nullishText("name", "description"),
  status: z.string(),
  replication_model: z.string().nullish(),
  progress: z.number().nullish(),
  replication_status: z.string().nullish(),
  fault_level: faultLevel.nullish(),
  failure_detail: z.string().nullish(),
  /** "<production disk id>,<DR disk id>", fixed at creation. */
  volume_ids: z.string(),
  attachment: z.array(z.looseObject({ protected_instance: z.string(), device: z.string() })).nullish(),
  server_group_id: z.string(),
  priority_station: z.string().nullish(),
  record_metadata: z
    .looseObject({ multiattach: z.boolean().nullish(), bootable: z.boolean().nullish(), volume_size: gigabytes.nullish(), volume_type: z.string().nullish() })
    .nullish(),
  ...nullishText("created_at", "updated_at"),
});
export type ReplicationPair = z.infer<typeof replicationPair>;

export const replicationPairList = z.looseObject({ replications: z.array(replicationPair), count: z.number().nullish() });
export const replicationPairResponse = z.looseObject({ replication: replicationPair });

/** The disks of a pair: `volume_ids` split on ",", production first (as created). */
export function pairVolumeIds(pair: Pick<ReplicationPair, "volume_ids">): { sourceVolumeId: string; drVolumeId: string | undefined } {
  const [sourceVolumeId = "", drVolumeId] = pair.volume_ids.split(",").map((id) => id.trim());
  return { sourceVolumeId, drVolumeId: drVolumeId === "" ? undefined : drVolumeId };
}

/** POST /v1/{project_id}/replications */
export const createReplicationRequest = z.strictObject({
  replication: z.strictObject({
    server_group_id: z.string().min(1, { error: "must be the protection group id" }),
    volume_id: z.string().min(1, { error: "must be the production-site EVS disk id" }),
    name: resourceName,
    description: z.string().max(64).optional(),
  }),
});
export type CreateReplicationBody = z.infer<typeof createReplicationRequest>["replication"];

/** KVM `/dev/vdX`, Xen `/dev/sdX` (the other spelling is rewritten by SDRS). */
const deviceName = z.string().regex(/^\/dev\/(vd|sd|xvd)[a-z]{1,2}$/, { error: "must be a device name such as /dev/vdb" });

/** POST …/protected-instances/{id}/attachreplication (note the camelCase key). */
export const attachReplicationRequest = z.strictObject({
  replicationAttachment: z.strictObject({ replication_id: z.string().min(1), device: deviceName }),
});

/** POST …/replications/{id}/action: the final size of both disks, larger than now. */
export const extendReplicationRequest = z.strictObject({
  "extend-replication": z.strictObject({ new_size: z.number().int().positive({ error: "must be the new size in GB" }) }),
});

/** ECS POST …/cloudservers/{id}/attachvolume */
export const attachServerVolumeRequest = z.strictObject({
  volumeAttachment: z.strictObject({ volumeId: z.string().min(1), device: deviceName.optional() }),
});
