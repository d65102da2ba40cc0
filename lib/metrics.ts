/**
 * The figures the pipeline counts, as a port: the domain calls `metrics.count(...)` and never knows where
 * they go. In Lambda a collector per invocation is published as CloudWatch EMF through Powertools Metrics
 * (lib/runtime/emf.ts, namespace SdrsAutoprotect); in the local runtime the same collector's figures go
 * into the run's report. Dimensions are kept few (each combination is a custom metric): the target, and
 * for a few metrics one more (a reason code, an error code, a call kind, a queue).
 */
import type { RequestLogEntry } from "./sdrs/client.ts";

export type MetricUnit = "Count" | "Milliseconds" | "None";

/** Every metric, its unit and what one data point means (docs/operations.md lists the same). */
export const METRICS = {
  ServersProtected: { unit: "Count", kind: "counter", means: "a server reached protected (notified once)" },
  ServersFailed: { unit: "Count", kind: "counter", means: "a server reached failed" },
  ServersIneligible: {
    unit: "Count",
    kind: "counter",
    means: "a server reached ineligible; dimension reason = its first reason code",
  },
  ServersUnknown: {
    unit: "Count",
    kind: "counter",
    means: "a server's outcome is unknown (job timed out or unreadable)",
  },
  ServersAdopted: { unit: "Count", kind: "counter", means: "a protected instance that already existed was adopted" },
  CreateCalls: {
    unit: "Count",
    kind: "counter",
    means: "an SDRS create call was made; dimension kind = single | batch",
  },
  ServersPerCall: { unit: "Count", kind: "observation", means: "servers in one create call; dimension kind" },
  AmbiguousCreates: {
    unit: "Count",
    kind: "counter",
    means: "a create call whose outcome was unknown (checked in the group before any retry)",
  },
  JobDuration: {
    unit: "Milliseconds",
    kind: "observation",
    means: "an SDRS job from submission to its end; dimension kind",
  },
  JobChecks: { unit: "Count", kind: "observation", means: "status checks one job took to its end; dimension kind" },
  CloudErrors: {
    unit: "Count",
    kind: "counter",
    means: "a failed cloud call attempt; dimension code (SDRS.xxxx, APIGW.xxxx, NETWORK_ERROR, TIMEOUT …)",
  },
  Throttles: {
    unit: "Count",
    kind: "counter",
    means: "a cloud call attempt refused for rate (APIGW.0308 or HTTP 429)",
  },
  WebhookDeliveries: { unit: "Count", kind: "counter", means: "a webhook delivered (2xx)" },
  WebhookFailures: { unit: "Count", kind: "counter", means: "a webhook attempt failed; another is scheduled" },
  WebhookGiveUps: {
    unit: "Count",
    kind: "counter",
    means: "a webhook's attempts are all spent; the message went to the dead-letter queue",
  },
  DeadLetteredMessages: {
    unit: "Count",
    kind: "counter",
    means: "a message sent to a dead-letter queue by the pipeline; dimension queue",
  },
  DeadlineStops: {
    unit: "Count",
    kind: "counter",
    means: "messages left unprocessed because the invocation's time ran short; dimension queue",
  },
  TaggedServers: { unit: "Count", kind: "gauge", means: "reconcile: servers carrying the protect tag for the target" },
  ProtectedServers: { unit: "Count", kind: "gauge", means: "reconcile: of those, servers recorded protected" },
  CoverageRatio: {
    unit: "None",
    kind: "gauge",
    means: "reconcile: ProtectedServers / TaggedServers (1 with no tagged server)",
  },
} as const satisfies Record<string, { unit: MetricUnit; kind: "counter" | "observation" | "gauge"; means: string }>;

export type MetricName = keyof typeof METRICS;
type KindOf<K extends string> = { [N in MetricName]: (typeof METRICS)[N]["kind"] extends K ? N : never }[MetricName];
export type CounterName = KindOf<"counter">;
export type ObservationName = KindOf<"observation" | "gauge">;

export type MetricDimensions = Partial<Record<"target" | "reason" | "code" | "kind" | "queue", string>>;

export interface Metrics {
  /** Adds `value` (default 1) to a counter. */
  count(name: CounterName, dimensions?: MetricDimensions, value?: number): void;
  /** One measured value (a duration, a size, a gauge such as coverage). */
  observe(name: ObservationName, value: number, dimensions?: MetricDimensions): void;
}

/** One metric under one set of dimensions: a counter's sum, or every observed value. */
export interface MetricPoint {
  name: MetricName;
  unit: MetricUnit;
  dimensions: MetricDimensions;
  values: number[];
}

/** A counter summed, an observation summarised, over all dimensions. */
export interface MetricTotal {
  unit: MetricUnit;
  /** Counters: the sum. Observations: the number of values. */
  count: number;
  sum: number;
  min?: number;
  max?: number;
  /** Sums by dimension value, e.g. { "reason:INELIGIBLE_VPC_MISMATCH": 2, "target:web": 3 }. */
  by: Record<string, number>;
}

function keyOf(name: MetricName, dimensions: MetricDimensions): string {
  return JSON.stringify([name, Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b))]);
}

/** Collects metrics in memory: drained per Lambda invocation, summed for the local report. */
export class MetricsCollector implements Metrics {
  readonly #points = new Map<string, MetricPoint>();

  #point(name: MetricName, dimensions: MetricDimensions): MetricPoint {
    const clean = Object.fromEntries(
      Object.entries(dimensions).filter(([, value]) => value !== undefined && value !== ""),
    ) as MetricDimensions;
    const key = keyOf(name, clean);
    let point = this.#points.get(key);
    if (!point) {
      point = { name, unit: METRICS[name].unit, dimensions: clean, values: [] };
      this.#points.set(key, point);
    }
    return point;
  }

  count(name: CounterName, dimensions: MetricDimensions = {}, value = 1): void {
    const point = this.#point(name, dimensions);
    point.values[0] = (point.values[0] ?? 0) + value;
  }

  observe(name: ObservationName, value: number, dimensions: MetricDimensions = {}): void {
    this.#point(name, dimensions).values.push(value);
  }

  points(): MetricPoint[] {
    return [...this.#points.values()].map((point) => ({
      ...point,
      dimensions: { ...point.dimensions },
      values: [...point.values],
    }));
  }

  /** The points so far, and forgets them (one EMF flush per invocation). */
  drain(): MetricPoint[] {
    const points = this.points();
    this.#points.clear();
    return points;
  }

  totals(): Partial<Record<MetricName, MetricTotal>> {
    return summarize(this.points());
  }
}

/** Points (collected, or parsed back from EMF) summed per metric over all dimensions. */
export function summarize(points: readonly MetricPoint[]): Partial<Record<MetricName, MetricTotal>> {
  const totals: Partial<Record<MetricName, MetricTotal>> = {};
  for (const point of points) {
    const total = totals[point.name] ?? { unit: point.unit, count: 0, sum: 0, by: {} };
    totals[point.name] = total;
    const sum = point.values.reduce((a, b) => a + b, 0);
    total.count += METRICS[point.name].kind === "counter" ? sum : point.values.length;
    total.sum += sum;
    for (const value of point.values) {
      total.min = Math.min(total.min ?? value, value);
      total.max = Math.max(total.max ?? value, value);
    }
    for (const [dimension, value] of Object.entries(point.dimensions)) {
      const key = `${dimension}:${value}`;
      total.by[key] = (total.by[key] ?? 0) + sum;
    }
  }
  return totals;
}

/** Throttled: the gateway's flow control (APIGW.0308) or a plain HTTP 429. */
export const THROTTLE_CODE = "APIGW.0308";

/** The metrics of one cloud call attempt (the cloud client's request log), chained before `next`. */
export function cloudRequestMetrics(
  metrics: Metrics,
  next?: (entry: RequestLogEntry) => void,
): (entry: RequestLogEntry) => void {
  return (entry) => {
    if (entry.errorCode !== undefined) {
      metrics.count("CloudErrors", { code: entry.errorCode });
      if (entry.errorCode === THROTTLE_CODE || entry.status === 429) metrics.count("Throttles");
    }
    next?.(entry);
  };
}

/** Metrics nobody reads: the default where no runtime wired any. */
export const noMetrics: Metrics = { count: () => undefined, observe: () => undefined };
