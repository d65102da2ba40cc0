/**
 * Inventory events: which servers an EventBridge event is about, and whether it matters to us.
 *
 * Two families (docs/events-and-api.md):
 * - our own documented events, source `sdrs-autoprotect.inventory`, detail-types `ECS Server Tags Changed`
 *   and `ECS Server Created`, detail `{ serverId, projectId?, tags? }`;
 * - Huawei CTS traces forwarded into EventBridge (source `huaweicloud.cts`, any detail-type), the trace being
 *   the detail itself, `detail.cts` (FunctionGraph CTS trigger shape) or `detail.data` (EventGrid CloudEvent).
 *   Traces are parsed tolerantly (reference inventory-events.md §1, §5): numbers as strings, `request` as a
 *   JSON string or an object, `user` null. A trace is only a hint: the caller re-reads the server's tags.
 */

import { isServerId } from "../sdrs/field-rules.ts";
import * as z from "../zod.ts";

/**
 * The EventBridge event envelope (Amazon EventBridge user guide, "Amazon EventBridge events": version, id,
 * detail-type, source, account, time, region, resources, detail; replay-name on replayed events). Our own
 * schema for the one envelope we read, rather than the Powertools parser package for it.
 */
export const eventBridgeEnvelope = z.object({
  version: z.string(),
  id: z.string(),
  source: z.string(),
  account: z.string(),
  time: z.iso.datetime(),
  region: z.string(),
  resources: z.array(z.string()),
  "detail-type": z.string(),
  detail: z.unknown(),
  "replay-name": z.optional(z.string()),
});

export const OWN_EVENT_SOURCE = "sdrs-autoprotect.inventory";
export const CTS_EVENT_SOURCE = "huaweicloud.cts";
export const OWN_DETAIL_TYPES = ["ECS Server Tags Changed", "ECS Server Created"] as const;

/**
 * Our own EventBridge event "ECS Server Tags Changed" (docs/events-and-api.md), as a producer sends it:
 * the server and, when known, its tags after the change. `id` names the event (a redelivery keeps it).
 */
export function tagsChangedEvent(event: {
  id: string;
  serverId: string;
  tags?: Record<string, string> | undefined;
  at: number;
  region: string;
}): unknown {
  return {
    version: "0",
    id: event.id,
    "detail-type": OWN_DETAIL_TYPES[0],
    source: OWN_EVENT_SOURCE,
    account: "000000000000",
    time: new Date(event.at).toISOString(),
    region: event.region,
    resources: [],
    detail: { serverId: event.serverId, ...(event.tags ? { tags: event.tags } : {}) },
  };
}

export const ownInventoryDetail = z.strictObject({
  serverId: z.string().check(z.minLength(1, { error: "must be the ECS server id" })),
  projectId: z.optional(z.string().check(z.minLength(1))),
  /** The server's tags after the change, when the producer knows them; re-read anyway. */
  tags: z.optional(z.record(z.string(), z.string())),
});
export type OwnInventoryDetail = z.infer<typeof ownInventoryDetail>;

const loose = z.optional(z.union([z.string(), z.record(z.string(), z.unknown()), z.null()]));

export const ctsTrace = z.looseObject({
  trace_id: z.string().check(z.minLength(1)),
  trace_name: z.string().check(z.minLength(1)),
  trace_rating: z.optional(z.string()),
  trace_status: z.optional(z.string()),
  trace_type: z.optional(z.string()),
  service_type: z.string(),
  resource_type: z.optional(z.string()),
  resource_id: z.optional(z.unknown()),
  resource_name: z.optional(z.string()),
  request: loose,
  response: loose,
  project_id: z.optional(z.string()),
  time: z.optional(z.union([z.number(), z.string()])),
});
export type CtsTrace = z.infer<typeof ctsTrace>;

/** `coverage-changed`: a disk or replication change (ECS attach/detach volume, EVS extend, SDRS pair traces). */
export type InventoryHintKind = "tags-changed" | "server-created" | "coverage-changed";

export interface InventoryHint {
  /** Dedupe key: the EventBridge id for our events, the trace id for CTS traces. */
  eventId: string;
  kind: InventoryHintKind;
  serverIds: string[];
  /** Tags the event claims the server has (only our own events carry them). */
  claimedTags?: Record<string, string>;
  /** coverage-changed: the disks, protected instances and replication pairs the trace names. */
  volumeIds?: string[];
  protectedInstanceIds?: string[];
  replicationPairIds?: string[];
}

export type InventoryClassification =
  | { status: "relevant"; hint: InventoryHint }
  | { status: "ignored"; eventId?: string; reason: string }
  | { status: "rejected"; eventId?: string; reason: string };

/** ECS create operations (reference inventory-events.md §1.4). */
const SERVER_CREATE_TRACES = /^(createServer(V2|V21)?|createSingleServer)$/;
/** TMS tag operations, and ECS tag actions recognised by their request body. */
const TAG_TRACES = /^(createResourceTag|batchCreateResourceTags|batchCreateServerTags|batchSetServerTags)$/;

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== "string" || value === "") return value ?? undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function stringIds(values: unknown[]): string[] {
  return [...new Set(values.filter((value): value is string => typeof value === "string" && isServerId(value)))];
}

function serverIdsOfTrace(trace: CtsTrace): string[] {
  const ids: unknown[] = [trace.resource_id];
  const response = parseMaybeJson(trace.response);
  if (response && typeof response === "object") {
    const body = response as Record<string, unknown>;
    if (Array.isArray(body.serverIds)) ids.push(...body.serverIds);
    const entities = body.entities as Record<string, unknown> | undefined;
    if (entities && typeof entities === "object") ids.push(entities.server_id);
  }
  const request = parseMaybeJson(trace.request);
  if (request && typeof request === "object") {
    const resources = (request as Record<string, unknown>).resources;
    if (Array.isArray(resources)) {
      for (const resource of resources) {
        if (resource && typeof resource === "object") ids.push((resource as Record<string, unknown>).resource_id);
      }
    }
  }
  return stringIds(ids);
}

function isTagAction(trace: CtsTrace): boolean {
  if (TAG_TRACES.test(trace.trace_name)) return true;
  const request = parseMaybeJson(trace.request);
  return Boolean(
    request &&
      typeof request === "object" &&
      "tags" in request &&
      (request as Record<string, unknown>).action === "create",
  );
}

function issuesText(error: z.core.$ZodError): string {
  return error.issues.map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`).join("; ");
}

/** ECS volume traces, EVS extendVolume, and the SDRS traces that change a pair (reference: key SDRS operations in CTS). */
const ECS_VOLUME_TRACES = /^(attachVolume2?|detachVolume)$/;
const SDRS_PAIR_TRACES = /^(createReplicationPair|deleteReplicationPair|updateReplicationPair|expandReplicationPair)$/;
const SDRS_INSTANCE_TRACES = /^(attachReplicationPair|detachReplicationPair)$/;

/** The volume ids an ECS attach/detach trace names in its request (`volumeAttachment.volumeId`). */
function volumeIdsOfRequest(trace: CtsTrace): unknown[] {
  const request = parseMaybeJson(trace.request);
  if (!request || typeof request !== "object") return [];
  const attachment = (request as Record<string, unknown>).volumeAttachment;
  return attachment && typeof attachment === "object" ? [(attachment as Record<string, unknown>).volumeId] : [];
}

/** A trace that can change which disks of a server are replicated; undefined for every other trace. Dispatch is on service + resource type, never the trace name alone (SDRS and ECS share names). */
function coverageHint(trace: CtsTrace, service: string): InventoryHint | undefined {
  const eventId = `cts:${trace.trace_id}`;
  const resourceType = (trace.resource_type ?? "").toLowerCase();
  if (service === "ECS" && ECS_VOLUME_TRACES.test(trace.trace_name)) {
    const volumeIds = stringIds(volumeIdsOfRequest(trace));
    return {
      eventId,
      kind: "coverage-changed",
      serverIds: stringIds([trace.resource_id]),
      ...(volumeIds.length > 0 ? { volumeIds } : {}),
    };
  }
  if (service === "EVS" && trace.trace_name === "extendVolume")
    return { eventId, kind: "coverage-changed", serverIds: [], volumeIds: stringIds([trace.resource_id]) };
  if (service === "SDRS" && resourceType === "replicationpair" && SDRS_PAIR_TRACES.test(trace.trace_name)) {
    return { eventId, kind: "coverage-changed", serverIds: [], replicationPairIds: stringIds([trace.resource_id]) };
  }
  if (service === "SDRS" && resourceType === "protectedinstance" && SDRS_INSTANCE_TRACES.test(trace.trace_name)) {
    return { eventId, kind: "coverage-changed", serverIds: [], protectedInstanceIds: stringIds([trace.resource_id]) };
  }
  return undefined;
}

/** The coverage scope of a coverage-changed hint. */
export function coverageScopeOf(hint: InventoryHint) {
  return {
    serverIds: hint.serverIds,
    volumeIds: hint.volumeIds,
    protectedInstanceIds: hint.protectedInstanceIds,
    replicationPairIds: hint.replicationPairIds,
  };
}

function classifyTrace(trace: CtsTrace): InventoryClassification {
  const rating = trace.trace_rating ?? trace.trace_status;
  if (rating !== undefined && rating !== "normal") {
    return {
      status: "ignored",
      eventId: trace.trace_id,
      reason: `trace ${trace.trace_name} rated ${rating}: the operation failed`,
    };
  }
  const service = trace.service_type.toUpperCase();
  const coverage = coverageHint(trace, service);
  if (coverage !== undefined) {
    const named = [
      coverage.serverIds,
      coverage.volumeIds,
      coverage.protectedInstanceIds,
      coverage.replicationPairIds,
    ].some((ids) => (ids?.length ?? 0) > 0);
    if (!named)
      return {
        status: "ignored",
        eventId: trace.trace_id,
        reason: `trace ${trace.trace_name} names no resource id; reconcile checks coverage`,
      };
    return { status: "relevant", hint: coverage };
  }
  let kind: InventoryHintKind | undefined;
  if (service === "ECS" && SERVER_CREATE_TRACES.test(trace.trace_name)) kind = "server-created";
  else if ((service === "ECS" || service === "TMS") && isTagAction(trace)) kind = "tags-changed";
  if (!kind)
    return {
      status: "ignored",
      eventId: trace.trace_id,
      reason: `trace ${service}/${trace.trace_name} is not a server create or tag change`,
    };
  const serverIds = serverIdsOfTrace(trace);
  if (serverIds.length === 0) {
    return {
      status: "ignored",
      eventId: trace.trace_id,
      reason: `trace ${trace.trace_name} names no server id; reconcile will find the server`,
    };
  }
  return { status: "relevant", hint: { eventId: `cts:${trace.trace_id}`, kind, serverIds } };
}

/** Finds the CTS trace in the three carrier shapes. */
function traceOf(detail: unknown): unknown {
  if (detail && typeof detail === "object") {
    const record = detail as Record<string, unknown>;
    if (record.cts && typeof record.cts === "object") return record.cts;
    if (record.specversion === "1.0" && record.data && typeof record.data === "object") return record.data;
  }
  return detail;
}

/** Classifies one EventBridge event. Pure: no I/O; the caller dedupes and re-reads tags. */
export function classifyInventoryEvent(event: unknown): InventoryClassification {
  const envelope = eventBridgeEnvelope.safeParse(event);
  if (!envelope.success)
    return { status: "rejected", reason: `not an EventBridge event: ${issuesText(envelope.error)}` };
  const { id, source } = envelope.data;
  const detailType = envelope.data["detail-type"];

  if (source === OWN_EVENT_SOURCE) {
    if (!(OWN_DETAIL_TYPES as readonly string[]).includes(detailType)) {
      return {
        status: "ignored",
        eventId: id,
        reason: `detail-type "${detailType}" is not one of ${OWN_DETAIL_TYPES.join(", ")}`,
      };
    }
    const detail = ownInventoryDetail.safeParse(envelope.data.detail);
    if (!detail.success) return { status: "rejected", eventId: id, reason: `detail: ${issuesText(detail.error)}` };
    return {
      status: "relevant",
      hint: {
        eventId: `eb:${id}`,
        kind: detailType === "ECS Server Created" ? "server-created" : "tags-changed",
        serverIds: [detail.data.serverId],
        ...(detail.data.tags ? { claimedTags: detail.data.tags } : {}),
      },
    };
  }
  if (source === CTS_EVENT_SOURCE) {
    const trace = ctsTrace.safeParse(traceOf(envelope.data.detail));
    if (!trace.success) return { status: "rejected", eventId: id, reason: `CTS trace: ${issuesText(trace.error)}` };
    return classifyTrace(trace.data);
  }
  return { status: "ignored", eventId: id, reason: `source "${source}" is not an inventory source` };
}
