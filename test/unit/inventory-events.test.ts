import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classifyInventoryEvent } from "../../lib/events/inventory.ts";

const sample = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), "utf8"));

describe("inventory event classification", () => {
  it("turns our own 'ECS Server Tags Changed' event into a tags-changed hint for its server", () => {
    expect(classifyInventoryEvent(sample("inventory-tags-changed.json"))).toEqual({
      status: "relevant",
      hint: {
        eventId: "eb:5e2a4c1e-7f3b-4a8e-9d7c-2f1e0a9b8c71",
        kind: "tags-changed",
        serverIds: ["403b603d-1d91-42cc-a357-81f3c2daf43f"],
        claimedTags: { sdrs_protect: "web", app: "shop", env: "prod" },
      },
    });
  });

  it("turns our own 'ECS Server Created' event into a server-created hint", () => {
    expect(classifyInventoryEvent(sample("inventory-server-created.json"))).toMatchObject({
      status: "relevant",
      hint: { kind: "server-created", serverIds: ["df616dd3-030e-4cdc-affa-2d18ad5b0370"] },
    });
  });

  it("reads a CTS createServer trace (request and response as JSON strings) and dedupes on its trace id", () => {
    expect(classifyInventoryEvent(sample("cts-create-server.json"))).toEqual({
      status: "relevant",
      hint: {
        eventId: "cts:f828ab77-d993-11f0-b09f-35adcfa25f3b",
        kind: "server-created",
        serverIds: ["8f5dd226-6cc0-4fe8-9786-b8b3359b234b"],
      },
    });
  });

  it("reads a TMS tag trace in the FunctionGraph {cts} shape, taking server ids from the request's resources", () => {
    expect(classifyInventoryEvent(sample("cts-tag-resources-functiongraph.json"))).toEqual({
      status: "relevant",
      hint: {
        eventId: "cts:2a3b4c5d-d993-11f0-b09f-35adcfa25f3b",
        kind: "tags-changed",
        serverIds: ["d0242183-2cd7-4308-af55-f4d482af5f7d", "894e099f-8e62-41e7-a842-6d4bfdcb2c9c"],
      },
    });
  });

  it("reads a trace carried as an EventGrid CloudEvent's data", () => {
    expect(classifyInventoryEvent(sample("cts-eventgrid-cloudevent.json"))).toMatchObject({
      status: "relevant",
      hint: { kind: "server-created", serverIds: ["8f5dd226-6cc0-4fe8-9786-b8b3359b234b"] },
    });
  });

  it("ignores a trace that is neither a server create nor a tag change", () => {
    expect(classifyInventoryEvent(sample("cts-irrelevant.json"))).toMatchObject({ status: "ignored" });
  });

  it("ignores a failed (warning-rated) create trace", () => {
    const event = sample("cts-create-server.json") as { detail: Record<string, unknown> };
    event.detail.trace_rating = "warning";
    expect(classifyInventoryEvent(event)).toMatchObject({
      status: "ignored",
      reason: expect.stringContaining("rated warning"),
    });
  });

  it("rejects our own event without a serverId, naming the field", () => {
    expect(classifyInventoryEvent(sample("inventory-malformed.json"))).toEqual({
      status: "rejected",
      eventId: "6f5e4d3c-2b1a-4098-8765-43210fedcba9",
      reason: expect.stringMatching(/serverId/),
    });
  });

  it("rejects something that is not an EventBridge event", () => {
    expect(classifyInventoryEvent({ hello: "world" })).toMatchObject({
      status: "rejected",
      reason: expect.stringContaining("not an EventBridge event"),
    });
  });

  it("rejects an envelope whose time is not an ISO date-time, naming the field", () => {
    const event = sample("cts-create-server.json") as Record<string, unknown>;
    event.time = "yesterday";
    expect(classifyInventoryEvent(event)).toMatchObject({
      status: "rejected",
      reason: expect.stringMatching(/^not an EventBridge event: .*time/),
    });
  });

  it("accepts a replayed event (replay-name) and rejects one without resources", () => {
    const replayed = { ...(sample("cts-create-server.json") as Record<string, unknown>), "replay-name": "replay-1" };
    expect(classifyInventoryEvent(replayed)).toMatchObject({ status: "relevant" });
    const { resources: _, ...withoutResources } = sample("cts-create-server.json") as Record<string, unknown>;
    expect(classifyInventoryEvent(withoutResources)).toMatchObject({
      status: "rejected",
      reason: expect.stringMatching(/resources/),
    });
  });

  it("ignores events from other sources", () => {
    expect(classifyInventoryEvent(sample("reconcile-schedule.json"))).toMatchObject({ status: "ignored" });
  });
});
