/**
 * Onboarding requests as `onboard` and `status` report them: the result of one request (per server: state,
 * protected instance, SDRS code, reason codes), and the list of requests in a state file. The zod schemas
 * are the shapes `onboard --json` and `status --json` print. Pure.
 */
import * as z from "../../zod.ts";
import type { Block, CellInput, ReportDocument } from "./document.ts";
import { countsSentence, plural, serverCounts, serverResult, serverSections } from "./servers.ts";

export const onboardResultSchema = z.object({
  command: z.literal("onboard"),
  requestId: z.string(),
  target: z.string(),
  idempotencyKey: z.string(),
  /** The same target and file were submitted before: the earlier request was resumed, nothing was created twice. */
  resumed: z.boolean(),
  stateFile: z.nullable(z.string()),
  cloud: z.object({ endpoint: z.string(), simulator: z.boolean() }),
  /** Every server of the request reached a final state. */
  complete: z.boolean(),
  completedAt: z.optional(z.string()),
  summary: serverCounts,
  servers: z.array(serverResult),
  notifications: z.object({
    /** Notifications that used every delivery attempt (kept in the notify dead-letter queue). */
    gaveUp: z.int(),
  }),
});
export type OnboardResult = z.infer<typeof onboardResultSchema>;

export const requestListEntry = z.object({
  requestId: z.string(),
  target: z.string(),
  source: z.string(),
  createdAt: z.string(),
  completedAt: z.optional(z.string()),
  servers: z.int(),
  /** Servers per state, e.g. { protected: 3, ineligible: 1 }. */
  counts: z.record(z.string(), z.int()),
});
export type RequestListEntry = z.infer<typeof requestListEntry>;

export const statusListSchema = z.object({ stateFile: z.string(), requests: z.array(requestListEntry) });
export type StatusList = z.infer<typeof statusListSchema>;

export const statusRequestSchema = z.extend(requestListEntry, {
  stateFile: z.string(),
  summary: serverCounts,
  servers: z.array(serverResult),
});
export type StatusRequest = z.infer<typeof statusRequestSchema>;

/** "3 protected, 1 ineligible" in a stable order: final states first. */
export function countsText(counts: Record<string, number>): string {
  const order = ["protected", "failed", "ineligible", "unknown"];
  // A completed request's stored counts also carry zeros and the total; the servers column says the total.
  const entries = Object.entries(counts)
    .filter(([state, count]) => count > 0 && state !== "total")
    .sort(
      ([a], [b]) =>
        (order.indexOf(a) === -1 ? 99 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 99 : order.indexOf(b)) ||
        a.localeCompare(b),
    );
  return entries.map(([state, count]) => `${count} ${state}`).join(", ");
}

export function onboardResultDocument(result: OnboardResult): ReportDocument {
  const blocks: Block[] = [
    {
      kind: "paragraph",
      text: `Onboarding request ${result.requestId} (${result.resumed ? "resumed: the same target and file as before" : "new"}): target ${result.target}, ${plural(result.servers.length, "server")}${
        result.stateFile === null ? "" : `; state ${result.stateFile}`
      }`,
    },
    ...serverSections(result.servers, { showTarget: false }),
    { kind: "heading", text: "Result" },
    {
      kind: "paragraph",
      tone: result.summary.protected === result.summary.servers ? "good" : "warn",
      text: countsSentence(result.summary),
    },
  ];
  if (!result.complete) {
    blocks.push({
      kind: "paragraph",
      tone: "bad",
      text: `${plural(result.summary.notFinished, "server")} did not reach a final state; their messages may have gone to a dead-letter queue. Run the same command again to resume.`,
    });
  }
  if (result.notifications.gaveUp > 0) {
    blocks.push({
      kind: "paragraph",
      tone: "bad",
      text: `${plural(result.notifications.gaveUp, "notification")} could not be delivered after every attempt.`,
    });
  }
  return { title: `sdrs-autoprotect onboard: ${result.target}`, blocks };
}

export function statusListDocument(list: StatusList): ReportDocument {
  if (list.requests.length === 0) {
    return {
      title: `Onboarding requests in ${list.stateFile}`,
      blocks: [{ kind: "paragraph", text: "No onboarding requests yet." }],
    };
  }
  return {
    title: `Onboarding requests in ${list.stateFile}`,
    blocks: [
      {
        kind: "table",
        head: ["Request", "Target", "Source", "Created", "Completed", "Servers"],
        rows: list.requests.map((request): CellInput[] => [
          { text: request.requestId, code: true },
          request.target,
          request.source,
          request.createdAt,
          request.completedAt === undefined ? { text: "not yet", tone: "warn" } : request.completedAt,
          `${request.servers}: ${countsText(request.counts)}`,
        ]),
        maxWidths: [undefined, 40, undefined, undefined, undefined, 40],
      },
      { kind: "paragraph", tone: "muted", text: "Details of one request: sdrs-autoprotect status <request-id>" },
    ],
  };
}

export function statusRequestDocument(status: StatusRequest): ReportDocument {
  return {
    title: `Onboarding request ${status.requestId}`,
    blocks: [
      {
        kind: "paragraph",
        text: `target ${status.target}, source ${status.source}, created ${status.createdAt}, ${
          status.completedAt === undefined ? "not completed yet" : `completed ${status.completedAt}`
        }; state ${status.stateFile}`,
      },
      ...serverSections(status.servers, { showTarget: false }),
      { kind: "heading", text: "Result" },
      { kind: "paragraph", text: countsSentence(status.summary) },
    ],
  };
}
