/**
 * Dispatcher wiring shared by the Lambda and the local runtime: the targets configuration's webhook
 * endpoints (secrets resolved), endpoint state in the store, optional SNS.
 */
import type { Clock } from "../clock.ts";
import { resolveSecret, type TargetsConfig } from "../config/targets.ts";
import type { DispatcherDeps, NotificationPublisher } from "../notify/dispatcher.ts";
import { parseWebhookEndpoints } from "../notify/endpoints.ts";
import type { QueueSender } from "../queue/queue.ts";
import type { Repositories } from "../state/records.ts";

export type NotifyRuntime = DispatcherDeps;

export interface NotifyWiring {
  config: TargetsConfig;
  env: NodeJS.ProcessEnv;
  repos: Repositories;
  queue: QueueSender;
  clock: Clock;
  sns?: NotificationPublisher;
  allowLoopbackHttp: boolean;
  schedule?: readonly number[];
  fetch?: typeof fetch;
}

export function notifyDepsFor(wiring: NotifyWiring): NotifyRuntime {
  const endpoints = parseWebhookEndpoints(
    wiring.config.webhooks.map((endpoint, index) => ({
      id: endpoint.id,
      url: endpoint.url,
      secret: resolveSecret(endpoint.secret, wiring.env, `webhooks[${index}].secret`),
      ...(endpoint.eventTypes ? { eventTypes: endpoint.eventTypes } : {}),
    })),
    { allowLoopbackHttp: wiring.allowLoopbackHttp },
  );
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
