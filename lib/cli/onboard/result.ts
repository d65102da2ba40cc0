/**
 * What `onboard` reads back from its state while it runs (the progress view's snapshot) and when it ends
 * (the request's result: each server's state, the counts, the notifications that gave up).
 */

import { getOnboardingRequest } from "../../pipeline/intake.ts";
import { DEAD_LETTER_REASON_ATTRIBUTE } from "../../queue/queue.ts";
import type { LocalRuntime } from "../../runtime/local.ts";
import type { ServerState } from "../../state/statuses.ts";
import * as z from "../../zod.ts";
import { CliError, EXIT } from "../errors.ts";
import type { ProgressSnapshot } from "../progress.ts";
import type { OnboardResult } from "../report/requests.ts";
import { countServers, serverResultOf } from "../report/servers.ts";

/** The request's servers by state, the jobs they wait on, and the notifications still to deliver. */
export async function requestSnapshot(runtime: LocalRuntime, requestId: string): Promise<ProgressSnapshot> {
  const status = await getOnboardingRequest(requestId, runtime.deps);
  const states: Partial<Record<ServerState, number>> = {};
  const jobs = new Set<string>();
  for (const server of status?.servers ?? []) {
    states[server.state] = (states[server.state] ?? 0) + 1;
    if (server.state === "in_progress" && server.jobId !== undefined) jobs.add(server.jobId);
  }
  const notify = runtime.queue.stats("notify");
  return {
    servers: status?.servers.length ?? 0,
    states,
    jobsInFlight: jobs.size,
    notificationsPending: notify.visible + notify.delayed + notify.inFlight,
  };
}

const notificationSubject = z.object({
  event: z.object({
    type: z.string(),
    data: z.object({ serverId: z.optional(z.string()), requestId: z.optional(z.string()) }),
  }),
});

/** Whether a notification (a queue body) is about this request or one of its servers; the state file may hold older ones. */
function notificationConcerns(body: string, requestId: string, serverIds: ReadonlySet<string>): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return false;
  }
  const parsed = notificationSubject.safeParse(value);
  if (!parsed.success) return false;
  const { data } = parsed.data.event;
  return data.requestId === requestId || (data.serverId !== undefined && serverIds.has(data.serverId));
}

/** The request's result as `onboard` prints it, read from the state after the run. */
export async function onboardResultOf(
  runtime: LocalRuntime,
  run: Pick<OnboardResult, "requestId" | "target" | "idempotencyKey" | "resumed" | "stateFile" | "cloud"> & {
    stateFilePath: string;
  },
): Promise<OnboardResult> {
  const { stateFilePath, ...fields } = run;
  const status = await getOnboardingRequest(run.requestId, runtime.deps);
  if (status === undefined)
    throw new CliError(
      "INTERNAL",
      `onboarding request ${run.requestId} disappeared from ${stateFilePath}`,
      EXIT.internal,
    );
  const servers = status.servers.map((server) => serverResultOf({ ...server, target: run.target }));
  const summary = countServers(servers);
  const requestServers = new Set(status.servers.map((server) => server.serverId));
  const gaveUp = runtime.queue
    .deadLetters("notify")
    .filter(
      (letter) =>
        letter.messageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE] !== undefined &&
        notificationConcerns(letter.body, run.requestId, requestServers),
    ).length;
  return {
    command: "onboard",
    ...fields,
    complete: summary.notFinished === 0,
    ...(status.completedAt === undefined ? {} : { completedAt: status.completedAt }),
    summary,
    servers,
    notifications: { gaveUp },
  };
}
