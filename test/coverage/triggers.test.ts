/** Which CTS traces re-check coverage (pure classification; lib/events/inventory.ts). */
import { describe, expect, it } from "vitest";
import { classifyInventoryEvent } from "../../lib/events/inventory.ts";

const ID = "0f1e2d3c-4b5a-4968-8776-655443322110";

function trace(fields: Record<string, unknown>): unknown {
  return {
    version: "0",
    id: "eb-1",
    "detail-type": "CTS trace",
    source: "huaweicloud.cts",
    account: "000000000000",
    time: "2026-01-05T10:00:00Z",
    region: "eu-de",
    resources: [],
    detail: { trace_id: "t-1", trace_rating: "normal", resource_id: ID, ...fields },
  };
}

describe("coverage triggers", () => {
  it.each([
    [{ service_type: "ECS", resource_type: "ecs", trace_name: "attachVolume" }, { serverIds: [ID] }],
    [{ service_type: "ECS", resource_type: "ecs", trace_name: "attachVolume2" }, { serverIds: [ID] }],
    [{ service_type: "ECS", resource_type: "ecs", trace_name: "detachVolume" }, { serverIds: [ID] }],
    [{ service_type: "EVS", resource_type: "evs", trace_name: "extendVolume" }, { volumeIds: [ID] }],
    [
      { service_type: "SDRS", resource_type: "replicationPair", trace_name: "expandReplicationPair" },
      { replicationPairIds: [ID] },
    ],
    [
      { service_type: "SDRS", resource_type: "replicationPair", trace_name: "deleteReplicationPair" },
      { replicationPairIds: [ID] },
    ],
    [
      { service_type: "SDRS", resource_type: "protectedInstance", trace_name: "attachReplicationPair" },
      { protectedInstanceIds: [ID] },
    ],
    [
      { service_type: "SDRS", resource_type: "protectedInstance", trace_name: "detachReplicationPair" },
      { protectedInstanceIds: [ID] },
    ],
  ])("%o re-checks coverage of %o", (fields, scope) => {
    expect(classifyInventoryEvent(trace(fields))).toEqual({
      status: "relevant",
      hint: { eventId: "cts:t-1", kind: "coverage-changed", serverIds: [], ...scope },
    });
  });

  it("takes the volume id of an ECS attach from its request body", () => {
    const classified = classifyInventoryEvent(
      trace({
        service_type: "ECS",
        resource_type: "ecs",
        trace_name: "attachVolume",
        request: { volumeAttachment: { volumeId: "1a2b3c4d-0000-4000-8000-000000000009" } },
      }),
    );
    expect(classified).toMatchObject({
      hint: { serverIds: [ID], volumeIds: ["1a2b3c4d-0000-4000-8000-000000000009"] },
    });
  });

  it("ignores a failed attach and SDRS traces that do not change pairs (addNic shares its name with ECS)", () => {
    expect(
      classifyInventoryEvent(trace({ service_type: "ECS", trace_name: "attachVolume", trace_rating: "warning" })),
    ).toMatchObject({ status: "ignored" });
    expect(
      classifyInventoryEvent(trace({ service_type: "SDRS", resource_type: "protectedInstance", trace_name: "addNic" })),
    ).toMatchObject({ status: "ignored" });
    expect(
      classifyInventoryEvent(
        trace({ service_type: "SDRS", resource_type: "protectedInstance", trace_name: "expandReplicationPair" }),
      ),
    ).toMatchObject({ status: "ignored" });
  });
});
