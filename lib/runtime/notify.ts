/**
 * Dispatcher wiring shared by the Lambda and the local runtime: the webhook endpoints of the targets
 * configuration (secrets resolved) plus those of WEBHOOK_ENDPOINTS / WEBHOOK_URL + WEBHOOK_SECRET, endpoint
 * state in the store, optional SNS.
 */
import type { Clock } from "../clock.ts";
import { ConfigError, resolveSecret, type TargetsConfig } from "../config/targets.ts";
import type { DispatcherDeps, NotificationPublisher } from "../notify/dispatcher.ts";
import { parseWebhookEndpoints, webhookEndpointsFromEnv } from "../notify/endpoints.ts";
import type { QueueSender } from "../queue/queue.ts";
import type { Repositories } from "../state/repositories.ts";

export type NotifyRuntime = DispatcherDeps;

export interface NotifyWiring {
  config: TargetsConfig;
  env: NodeJS.ProcessEnv;
  repos: Repositories;
  queue: QueueSender;
  clock: Clock;
  sns?: NotificationPublisher;
  allowLoopbackHttp: boolean;
  /** Cloud mode: non-public hosts and networks webhooks may reach all the same (SDRS_WEBHOOK_ALLOW_PRIVATE). */
  allowedPrivateHosts?: readonly string[];
  schedule?: readonly number[];
  fetch?: typeof fetch;
}

export function notifyDepsFor(wiring: NotifyWiring): NotifyRuntime {
  const rules = { allowLoopbackHttp: wiring.allowLoopbackHttp, allowedPrivateHosts: wiring.allowedPrivateHosts ?? [] };
  const configured = parseWebhookEndpoints(
    wiring.config.webhooks.map((endpoint, index) => ({
      id: endpoint.id,
      url: endpoint.url,
      secret: resolveSecret(endpoint.secret, wiring.env, `webhooks[${index}].secret`),
      ...(endpoint.eventTypes ? { eventTypes: endpoint.eventTypes } : {}),
    })),
    rules,
  );
  const fromEnv = webhookEndpointsFromEnv(wiring.env, rules);
  const clash = fromEnv.find((endpoint) => configured.some((other) => other.id === endpoint.id));
  if (clash)
    throw new ConfigError(
      `webhook endpoint id "${clash.id}" is given both in the targets configuration and the environment`,
    );
  const endpoints = [...configured, ...fromEnv];
  return {
    endpoints,
    sender: wiring.queue,
    endpointState: {
      isDisabled: (endpointId) => wiring.repos.endpoints.isDisabled(endpointId),
      disable: async (endpointId, reason) => {
        await wiring.repos.endpoints.disable(endpointId, reason);
      },
    },
    clock: wiring.clock,
    ...(wiring.sns ? { sns: wiring.sns } : {}),
    ...(wiring.schedule ? { schedule: wiring.schedule } : {}),
    ...(wiring.fetch ? { fetch: wiring.fetch } : {}),
  };
}
