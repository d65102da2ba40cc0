/**
 * The metrics port in Lambda: the pipeline counts into one collector per container, and after every
 * invocation its points are published as CloudWatch Embedded Metric Format lines on stdout through
 * Powertools Metrics (one line per set of dimensions), which CloudWatch Logs turns into metrics.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { type MetricPoint, MetricsCollector, type MetricUnit as OurUnit } from "../metrics.ts";

export const METRICS_NAMESPACE = "SdrsAutoprotect";

const UNITS: Record<OurUnit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  None: MetricUnit.NoUnit,
};

/** What the functions count into; published and emptied after each invocation (lib/middleware.ts). */
export const lambdaMetrics = new MetricsCollector();

/**
 * Publishes `points` as EMF: the dimensions are the function's name (default AWS_LAMBDA_FUNCTION_NAME) and each
 * point's own (target, and at most one more). Powertools adds `service` (POWERTOOLS_SERVICE_NAME).
 */
export function publishMetricPoints(
  points: readonly MetricPoint[],
  functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "unknown",
): void {
  const groups = new Map<string, MetricPoint[]>();
  for (const point of points) {
    const key = JSON.stringify(Object.entries(point.dimensions).sort(([a], [b]) => a.localeCompare(b)));
    groups.set(key, [...(groups.get(key) ?? []), point]);
  }
  for (const group of groups.values()) {
    const dimensions = group[0]?.dimensions ?? {};
    const emf = new Metrics({
      namespace: METRICS_NAMESPACE,
      defaultDimensions: { function: functionName, ...dimensions },
    });
    for (const point of group) {
      for (const value of point.values) emf.addMetric(point.name, UNITS[point.unit], value);
    }
    emf.publishStoredMetrics();
  }
}

/** Publishes what the collector holds, under the invocation's function name, and empties it. */
export function flushLambdaMetrics(functionName?: string): void {
  publishMetricPoints(lambdaMetrics.drain(), functionName);
}
