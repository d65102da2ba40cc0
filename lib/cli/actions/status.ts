/**
 * `status [request-id]`: what the sqlite state of `onboard` (or `start --state`) knows. Without an id, the
 * onboarding requests (id, target, source, created, completed, counts); with an id, each server's state
 * with its reasons and protected instance. Reads only: nothing is pumped, no cloud is called.
 */
import { resolve } from "node:path";
import { systemClock } from "../../clock.ts";
import { parseTargetsConfig } from "../../config/targets.ts";
import { getOnboardingRequest } from "../../pipeline/intake.ts";
import { type LocalRuntime, startLocalRuntime } from "../../runtime/local.ts";
import { simulatorCloudConfig } from "../../sim/cloud-config.ts";
import * as z from "../../zod.ts";
import type { CliContext } from "../context.ts";
import { CliError, EXIT } from "../errors.ts";
import { checkStateFile } from "../path-checks.ts";
import { DEFAULT_STATE_FILE, displayPath } from "../paths.ts";
import { renderTerminal } from "../report/document.ts";
import {
  type RequestListEntry,
  type StatusList,
  type StatusRequest,
  statusListDocument,
  statusRequestDocument,
} from "../report/requests.ts";
import { countServers, serverResultOf } from "../report/servers.ts";

const statusOptions = z.object({ state: z.optional(z.string()), json: z._default(z.boolean(), false) });

/**
 * The state file opened through the local runtime, for its typed repositories and getOnboardingRequest.
 * It is never pumped and serves no API; its cloud client points at a closed loopback port and is never
 * called, and its targets configuration is empty (no webhook secrets needed to read).
 */
async function openState(stateFile: string): Promise<LocalRuntime> {
  return startLocalRuntime({
    database: stateFile,
    cloudConfig: simulatorCloudConfig("http://127.0.0.1:9"),
    targets: parseTargetsConfig({ targets: {} }),
    clock: systemClock,
    env: {},
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

export async function status(context: CliContext, requestId: string | undefined, raw: unknown): Promise<void> {
  const options = statusOptions.parse(raw);
  const stateFile = options.state ?? DEFAULT_STATE_FILE;
  const shown = displayPath(resolve(stateFile));
  checkStateFile("--state", stateFile, "required");
  const runtime = await openState(stateFile);
  try {
    if (requestId === undefined) {
      const requests: RequestListEntry[] = [];
      for await (const { record } of runtime.repos.requests.all()) {
        const counts = record.counts ?? (await getOnboardingRequest(record.requestId, runtime.deps))?.counts ?? {};
        requests.push({
          requestId: record.requestId,
          target: record.target,
          source: record.source,
          createdAt: record.createdAt,
          ...(record.completedAt === undefined ? {} : { completedAt: record.completedAt }),
          servers: record.serverIds.length,
          counts,
        });
      }
      requests.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.requestId.localeCompare(b.requestId));
      const list: StatusList = { stateFile: shown, requests };
      if (options.json) context.stdout.line(JSON.stringify(list, null, 2));
      else
        context.stdout.line(
          renderTerminal(statusListDocument(list), { color: context.stdout.colorEnabled, columns: context.columns }),
        );
      return;
    }
    const request = await getOnboardingRequest(requestId, runtime.deps);
    if (request === undefined) {
      throw new CliError(
        "REQUEST_NOT_FOUND",
        `request-id: no onboarding request "${requestId}" in ${shown} (sdrs-autoprotect status lists them)`,
        EXIT.usage,
      );
    }
    const servers = request.servers.map((server) => serverResultOf(server));
    const detail: StatusRequest = {
      stateFile: shown,
      requestId: request.requestId,
      target: request.target,
      source: request.source,
      createdAt: request.createdAt,
      ...(request.completedAt === undefined ? {} : { completedAt: request.completedAt }),
      counts: request.counts,
      summary: countServers(servers),
      servers,
    };
    if (options.json) context.stdout.line(JSON.stringify(detail, null, 2));
    else
      context.stdout.line(
        renderTerminal(statusRequestDocument(detail), { color: context.stdout.colorEnabled, columns: context.columns }),
      );
  } finally {
    await runtime.close();
  }
}
