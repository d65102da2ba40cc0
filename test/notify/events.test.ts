import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../lib/clock.ts";
import {
  type NotificationEvent,
  newNotificationMessage,
  notificationEvent,
  notificationEventId,
  parseNotificationMessage,
  stableEventId,
} from "../../lib/notify/events.ts";
import { ineligibleEvent, protectedEvent } from "./helpers.ts";

describe("stableEventId", () => {
  it("is msg_ + base32 of sha256 and the same for the same parts", () => {
    const id = stableEventId(["server.protected", "server/s1", "pi-1"]);
    expect(id).toMatch(/^msg_[a-z2-7]{52}$/);
    expect(stableEventId(["server.protected", "server/s1", "pi-1"])).toBe(id);
  });

  it("does not confuse part boundaries: ['a,b'] differs from ['a', 'b']", () => {
    expect(stableEventId(["a,b"])).not.toBe(stableEventId(["a", "b"]));
    expect(stableEventId(["ab", ""])).not.toBe(stableEventId(["a", "b"]));
  });

  it("gives distinct part lists distinct ids (property)", () => {
    const parts = fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 });
    fc.assert(
      fc.property(parts, parts, (left, right) => {
        fc.pre(JSON.stringify(left) !== JSON.stringify(right));
        return stableEventId(left) !== stableEventId(right);
      }),
      { numRuns: 200 },
    );
  });
});

describe("notificationEventId", () => {
  it("ignores the timestamp, so re-emitting an outcome keeps its webhook-id", () => {
    const later = { ...protectedEvent, timestamp: "2026-01-02T00:00:00.000Z" };
    expect(notificationEventId(later)).toBe(notificationEventId(protectedEvent));
  });

  it("ignores the order of request ids and reason codes", () => {
    const reasons = [
      { code: "INELIGIBLE_VPC_MISMATCH", message: "m", remedy: "r" },
      { code: "INELIGIBLE_GPU_FLAVOR", message: "m", remedy: "r" },
    ];
    const one: NotificationEvent = {
      ...ineligibleEvent,
      data: { ...ineligibleEvent.data, reasons, requestIds: ["a", "b"] },
    };
    const other = {
      ...ineligibleEvent,
      data: { ...ineligibleEvent.data, reasons: [...reasons].reverse(), requestIds: ["b", "a"] },
    };
    expect(notificationEventId(one)).toBe(notificationEventId(other));
  });

  it("differs between outcomes of one server (protected vs failed) and between protected instances", () => {
    const failed: NotificationEvent = {
      type: "server.protection_failed",
      timestamp: protectedEvent.timestamp,
      data: {
        serverId: protectedEvent.data.serverId,
        target: "web",
        reason: "SDRS.1333",
        attempts: 1,
        requestIds: ["req-1"],
      },
    };
    const otherInstance = { ...protectedEvent, data: { ...protectedEvent.data, protectedInstanceId: "pi-0002" } };
    const ids = new Set([
      notificationEventId(protectedEvent),
      notificationEventId(failed),
      notificationEventId(otherInstance),
    ]);
    expect(ids.size).toBe(3);
  });

  it("differs for a failure at a later attempt, so a retried-and-failed server is notified again", () => {
    const failure = (attempts: number): NotificationEvent => ({
      type: "server.protection_failed",
      timestamp: "2026-01-01T00:00:00.000Z",
      data: {
        serverId: "s1",
        target: "web",
        jobId: "job-1",
        errorCode: "SDRS.1333",
        reason: "server status ERROR",
        attempts,
        requestIds: ["r"],
      },
    });
    expect(notificationEventId(failure(1))).not.toBe(notificationEventId(failure(2)));
  });
});

describe("event schemas", () => {
  it("accepts each event type with its documented fields", () => {
    const events: unknown[] = [
      protectedEvent,
      ineligibleEvent,
      {
        type: "server.protection_failed",
        timestamp: "2026-01-01T00:00:00Z",
        data: { serverId: "s", target: "web", reason: "job FAIL", attempts: 2, requestIds: [] },
      },
      {
        type: "server.protection_unknown",
        timestamp: "2026-01-01T00:00:00Z",
        data: { serverId: "s", target: "web", jobId: "j", reason: "job still RUNNING after 30 min", requestIds: ["r"] },
      },
      {
        type: "onboarding_request.completed",
        timestamp: "2026-01-01T00:00:00Z",
        data: {
          requestId: "r",
          target: "web",
          counts: { protected: 1, failed: 0, ineligible: 1, unknown: 0, total: 2 },
          servers: [
            { serverId: "a", outcome: "protected", protectedInstanceId: "pi" },
            { serverId: "b", outcome: "ineligible", codes: ["INELIGIBLE_VPC_MISMATCH"] },
          ],
        },
      },
      {
        type: "protection_group.protection_enabled",
        timestamp: "2026-01-01T00:00:00+01:00",
        data: { protectionGroupId: "pg", jobId: "j" },
      },
    ];
    for (const event of events) expect(notificationEvent.safeParse(event).success).toBe(true);
  });

  it("rejects an unknown type and a timestamp that is not ISO 8601", () => {
    expect(notificationEvent.safeParse({ ...protectedEvent, type: "server.renamed" }).success).toBe(false);
    const result = notificationEvent.safeParse({ ...protectedEvent, timestamp: "yesterday" });
    expect(result.error?.issues[0]?.path).toEqual(["timestamp"]);
  });

  it("rejects an ineligible event without reasons", () => {
    const result = notificationEvent.safeParse({ ...ineligibleEvent, data: { ...ineligibleEvent.data, reasons: [] } });
    expect(result.error?.issues[0]?.message).toBe("an ineligible server has at least one reason");
  });

  it("rejects request counts whose total is not the sum, naming counts.total", () => {
    const result = notificationEvent.safeParse({
      type: "onboarding_request.completed",
      timestamp: "2026-01-01T00:00:00Z",
      data: {
        requestId: "r",
        target: "web",
        counts: { protected: 1, failed: 1, ineligible: 0, unknown: 0, total: 3 },
        servers: [],
        serversOmitted: 3,
      },
    });
    expect(result.error?.issues.map((issue) => [issue.path.join("."), issue.message])).toEqual([
      ["data.counts.total", "must equal protected + failed + ineligible + unknown (2), got 3"],
    ]);
  });
});

describe("notification messages", () => {
  it("starts at attempt 1 with no endpoint (fan-out) and survives a JSON round trip", () => {
    const message = newNotificationMessage(protectedEvent, new ManualClock(Date.UTC(2026, 0, 1, 0, 5)));
    expect(message).toEqual({
      eventId: notificationEventId(protectedEvent),
      event: protectedEvent,
      attempt: 1,
      firstAttemptAt: "2026-01-01T00:05:00.000Z",
    });
    expect(parseNotificationMessage(JSON.stringify(message))).toEqual(message);
  });

  it("rejects a message whose event id was not made by stableEventId", () => {
    const message = { ...newNotificationMessage(protectedEvent, new ManualClock()), eventId: "evt-1" };
    expect(() => parseNotificationMessage(message)).toThrow(/eventId/);
  });
});
