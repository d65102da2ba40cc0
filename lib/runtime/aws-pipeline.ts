/**
 * The composition root of the functions that call the cloud (every function but notify): the shared AWS
 * ports (aws.ts) plus the SDRS client, configured from the environment (the Huawei AK/SK from
 * SDRS_SECRET_ID), with its request metrics and X-Ray subsegments, and the shared reads over it.
 */
import { systemClock } from "../clock.ts";
import { cloudRequestMetrics } from "../metrics.ts";
import type { PipelineDeps } from "../pipeline/deps.ts";
import { inFlightInstancesView, protectedInstanceView, sharedReads } from "../pipeline/instance-view.ts";
import { inFlightViewMaxAgeSeconds } from "../pipeline/schedule.ts";
import { CloudClient } from "../sdrs/client.ts";
import { loadCloudConfig } from "../sdrs/config.ts";
import { awsBase, once, pipelineDepsWithoutCloud } from "./aws.ts";
import { lambdaMetrics } from "./emf.ts";
import { logger } from "./logger.ts";
import { xrayCloudCallTracer } from "./xray.ts";

async function buildPipeline(): Promise<PipelineDeps> {
  const base = await awsBase();
  const ports = pipelineDepsWithoutCloud(base);
  const traceCloudCall = xrayCloudCallTracer();
  // Made on first use: the onboarding API never calls the cloud and has no credentials to load.
  let cloudClient: CloudClient | undefined;
  const cloud = () =>
    (cloudClient ??= new CloudClient(loadCloudConfig(base.env), {
      logger: cloudRequestMetrics(lambdaMetrics, (entry) => {
        traceCloudCall(entry);
        logger.debug("cloud request", { ...entry });
      }),
    }));
  const lazyCloud = {
    listProtectedInstances: (filter: Parameters<CloudClient["listProtectedInstances"]>[0]) =>
      cloud().listProtectedInstances(filter),
  };
  return {
    get cloud() {
      return cloud();
    },
    ...ports,
    // One per container: the batches and checks a warm Lambda runs share a read for a few seconds.
    instances: protectedInstanceView(() => cloud().listProtectedInstances({}), systemClock),
    creatingInstances: inFlightInstancesView(
      lazyCloud,
      systemClock,
      inFlightViewMaxAgeSeconds(ports.settings.schedule),
    ),
    reads: sharedReads(systemClock),
  };
}

/** The pipeline's ports in Lambda, the cloud client included. */
export const awsPipeline = once(buildPipeline);
