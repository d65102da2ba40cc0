/**
 * Running `onboard` again after an interruption resumes it: the request's Idempotency-Key is derived from
 * the cloud, the target and the file's servers, so the same command finds the same request in the state
 * file (the queue, the server claims and the job records live there) and a server is never created twice.
 * A run that was killed mid-step leaves work half done (a message received but not deleted, a server
 * claimed or with a create call in flight): `resumeInterruptedWork` hands each such piece to the pipeline's
 * own recovery (lib/pipeline/recovery.ts) before the run continues.
 */
import { createHash } from "node:crypto";
import { type RequestStatus, requestFingerprint } from "../../pipeline/intake.ts";
import { jobStatusMessage, protectIntent } from "../../pipeline/messages.ts";
import { recoverStalledServers, recoveryAfterDeadRun } from "../../pipeline/recovery.ts";
import type { SqliteQueue } from "../../queue/sqlite-queue.ts";
import type { LocalRuntime } from "../../runtime/local.ts";
import type { ServerEntry } from "./input.ts";

/**
 * The Idempotency-Key of a run: the cloud (endpoint and project) and the request's fingerprint (target and
 * sorted servers with flavorRefs, the API's rule). The same request against the same cloud finds its
 * earlier request; another request or another cloud never does, so a CLI key is never reused for another body.
 */
export function onboardIdempotencyKey(input: {
  endpoint: string;
  projectId: string;
  target: string;
  servers: readonly ServerEntry[];
}): string {
  const canonical = JSON.stringify([
    input.endpoint,
    input.projectId,
    requestFingerprint({ target: input.target, servers: [...input.servers] }),
  ]);
  return `onboard-${createHash("sha256").update(canonical).digest("hex").slice(0, 40)}`;
}

export interface ResumeSummary {
  /** Messages a dead run had received and not deleted, made visible again now instead of after their timeout. */
  released: number;
  /** Servers that had no message left to move them on, and got one. */
  recovered: string[];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The servers with an intent or a job-status check on the local queue. The queue table is read directly:
 * SqliteQueue has no call for "messages in flight" beyond their bodies.
 */
function messagesOnTheirWay(queue: SqliteQueue): { intents: Set<string>; checks: Set<string> } {
  const intents = new Set<string>();
  const checks = new Set<string>();
  for (const body of queue.liveBodies("onboarding")) {
    const intent = protectIntent.safeParse(parseJson(body));
    if (intent.success) intents.add(intent.data.serverId);
  }
  for (const body of queue.liveBodies("job-status")) {
    const check = jobStatusMessage.safeParse(parseJson(body));
    if (check.success) for (const serverId of check.data.serverIds) checks.add(serverId);
  }
  return { intents, checks };
}

/**
 * Work an interrupted run (SIGKILL, power loss, Ctrl+C) left half done, handed back to the pipeline:
 * - messages it had received but not deleted come back now (their visibility timeout is up to 12 minutes);
 * - a `claimed` server (no create call made yet) is released to `pending` and gets an intent;
 * - a server `creating` or `ambiguous` without a pending check (the create call may have reached SDRS)
 *   gets an ambiguous-create check, which looks in the group before anything is retried;
 * - a server `in_progress` without a pending check gets a check of its job;
 * - a server of the request without any message (never enqueued, or its message was lost) gets an intent, with the request's own source and flavorRef.
 * Messages the pipeline gets twice are harmless: it is built for at-least-once delivery.
 */
export async function resumeInterruptedWork(
  runtime: LocalRuntime,
  request: Pick<RequestStatus, "requestId" | "servers">,
): Promise<ResumeSummary> {
  // The previous run is gone (the state lock says so): what it had received is released at once.
  const released = runtime.queue.releaseInFlight();
  const waiting = request.servers
    .filter((server) => server.state === "queued" || server.state === "pending")
    .map((server) => server.serverId);
  const recovery = await recoverStalledServers(runtime.deps, {
    stalled: recoveryAfterDeadRun,
    onTheirWay: messagesOnTheirWay(runtime.queue),
    releaseClaims: true,
    request: { requestId: request.requestId, serverIds: waiting },
  });
  return { released, recovered: recovery.serverIds };
}
