/**
 * Detection: the reconcile sweep (whole estate, one pass) and event re-checks (one server's scope)
 * compute coverage, notify each change once, and run the safe repairs a target asks for.
 *
 * Exactly once, as for outcomes (lib/pipeline/outcomes.ts): the new verdict and its notification are
 * written first (change number + 1, the event kept as `pendingEvent`), then the notification is
 * enqueued with a stable id (type + server + change number), then `notified` is set. A crash between
 * leaves `notified < change`, and the next sweep sends the same event again (same id: receivers drop it).
 */
import { type NotificationEvent, newNotificationMessage, notificationEvent } from "../notify/events.ts";
import { nowIso, type PipelineDeps } from "../pipeline/deps.ts";
import { AmbiguousCreateError, CloudApiError } from "../sdrs/errors.ts";
import type { CoverageRecord } from "../state/records.ts";
import { type CoverageScope, readCoverage } from "./estate.ts";
import { coverageFingerprint, type ServerCoverage } from "./verdict.ts";

export interface SafeRepair {
  kind: "enable-protection" | "expand-pair";
  serverId: string;
  /** The group (enable-protection) or the pair (expand-pair). */
  resourceId: string;
  jobId?: string;
  /** The cloud's refusal, when there was one. */
  errorCode?: string;
}

export interface CoverageSweepResult {
  servers: number;
  gaps: number;
  degraded: number;
  restored: number;
  repairs: SafeRepair[];
}

/** Only servers that are protected instances are tracked; the onboarding pipeline reports the others. */
function tracked(coverage: ServerCoverage): boolean {
  return (
    coverage.protectedInstanceId !== undefined &&
    !coverage.gaps.some((gap) => gap.code === "COVERAGE_PROTECTION_IN_PROGRESS")
  );
}

function changeEvent(
  coverage: ServerCoverage,
  previousCodes: string[],
  change: number,
  timestamp: string,
): NotificationEvent {
  return notificationEvent.parse({
    type: coverage.gaps.length === 0 ? "server.coverage_restored" : "server.coverage_degraded",
    timestamp,
    data: {
      serverId: coverage.serverId,
      serverName: coverage.serverName,
      target: coverage.target,
      protectedInstanceId: coverage.protectedInstanceId,
      protectionGroupId: coverage.protectionGroupId,
      state: coverage.state,
      disksAttached: coverage.disksAttached,
      disksReplicated: coverage.disksReplicated,
      gaps: coverage.gaps.map(({ code, message, remedy, volumeId, device, sizeGb, replicationPairId, faultLevel }) => ({
        code,
        message,
        remedy,
        volumeId,
        device,
        sizeGb,
        replicationPairId,
        faultLevel,
      })),
      previousCodes,
      change,
    },
  });
}

/** The next record for a verdict, or undefined when nothing changed. Pure. */
export function nextCoverageRecord(
  current: CoverageRecord | undefined,
  coverage: ServerCoverage,
  now: string,
): CoverageRecord | undefined {
  const fingerprint = coverageFingerprint(coverage);
  if (current !== undefined && current.fingerprint === fingerprint) return undefined;
  const codes = [...new Set(coverage.gaps.map((gap) => gap.code))].sort();
  // First sight of a fully covered server: remembered, nothing to tell.
  if (current === undefined && fingerprint === "")
    return { serverId: coverage.serverId, fingerprint, codes, change: 0, notified: 0, updatedAt: now };
  const change = (current?.change ?? 0) + 1;
  return {
    serverId: coverage.serverId,
    fingerprint,
    codes,
    change,
    notified: current?.notified ?? 0,
    pendingEvent: changeEvent(coverage, current?.codes ?? [], change, now),
    updatedAt: now,
  };
}

/** Records a verdict; notifies a change once. Returns the event type sent, if any. */
export async function settleCoverage(
  coverage: ServerCoverage,
  deps: PipelineDeps,
): Promise<NotificationEvent["type"] | undefined> {
  const now = nowIso(deps);
  const written = await deps.repos.coverage.upsert(coverage.serverId, (current) =>
    nextCoverageRecord(current, coverage, now),
  );
  const record = written?.record ?? (await deps.repos.coverage.get(coverage.serverId))?.record;
  if (record === undefined || record.notified >= record.change || record.pendingEvent === undefined) return undefined;
  const event = notificationEvent.parse(record.pendingEvent);
  const message = newNotificationMessage(event, deps.clock);
  await deps.queue.send("notify", message);
  const sent = record.change;
  await deps.repos.coverage.update(coverage.serverId, (current) =>
    current.change === sent && current.notified < sent
      ? { ...current, notified: sent, pendingEvent: undefined }
      : undefined,
  );
  deps.log.info("coverage changed", {
    serverId: coverage.serverId,
    type: event.type,
    change: sent,
    eventId: message.eventId,
  });
  return event.type;
}

function refusal(error: unknown): string | undefined {
  if (error instanceof CloudApiError) return error.code;
  if (error instanceof AmbiguousCreateError) return "AMBIGUOUS";
  return undefined;
}

/** The safe repairs for the servers whose target asks for `coverage: "repair"`; one enable per group. */
export async function runSafeRepairs(coverage: readonly ServerCoverage[], deps: PipelineDeps): Promise<SafeRepair[]> {
  const repairs: SafeRepair[] = [];
  const enabled = new Set<string>();
  const attempt = async (repair: SafeRepair, call: () => Promise<{ jobId: string }>) => {
    try {
      repairs.push({ ...repair, jobId: (await call()).jobId });
    } catch (error) {
      const code = refusal(error);
      if (code === undefined) throw error;
      repairs.push({ ...repair, errorCode: code });
      deps.log.warn("coverage repair refused", { ...repair, errorCode: code });
    }
  };
  for (const server of coverage) {
    if (server.target === null || deps.config.targets[server.target]?.coverage !== "repair") continue;
    for (const gap of server.gaps) {
      if (gap.repair !== "automatic") continue;
      if (
        gap.code === "COVERAGE_REPLICATION_NOT_STARTED" &&
        server.protectionGroupId !== undefined &&
        !enabled.has(server.protectionGroupId)
      ) {
        const groupId = server.protectionGroupId;
        enabled.add(groupId);
        await attempt({ kind: "enable-protection", serverId: server.serverId, resourceId: groupId }, () =>
          deps.cloud.enableProtection(groupId),
        );
      } else if (
        gap.code === "COVERAGE_DISK_GROWN" &&
        gap.replicationPairId !== undefined &&
        gap.sizeGb !== undefined
      ) {
        const { replicationPairId, sizeGb } = gap;
        await attempt({ kind: "expand-pair", serverId: server.serverId, resourceId: replicationPairId }, () =>
          deps.cloud.expandReplication(replicationPairId, sizeGb),
        );
      }
    }
  }
  return repairs;
}

/** Coverage of the estate (or of a scope), each change notified once, safe repairs run where asked. */
export async function sweepCoverage(deps: PipelineDeps, scope?: CoverageScope): Promise<CoverageSweepResult> {
  const report = await readCoverage(deps.cloud, { config: deps.config, scope });
  const result: CoverageSweepResult = { servers: 0, gaps: 0, degraded: 0, restored: 0, repairs: [] };
  const followed = report.servers.filter(tracked);
  for (const coverage of followed) {
    result.servers += 1;
    result.gaps += coverage.gaps.length;
    const sent = await settleCoverage(coverage, deps);
    if (sent === "server.coverage_degraded") result.degraded += 1;
    if (sent === "server.coverage_restored") result.restored += 1;
  }
  result.repairs = await runSafeRepairs(followed, deps);
  return result;
}
