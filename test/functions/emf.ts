/**
 * CloudWatch Embedded Metric Format documents read back into metric points, the way CloudWatch Logs
 * extracts them: each document names its namespace, dimension set and metrics; the values (a number or an
 * array of numbers) and the dimension values are top-level members.
 */

import { METRICS, type MetricDimensions, type MetricName, type MetricPoint } from "../../lib/metrics.ts";
import * as z from "../../lib/zod.ts";

const emfDocument = z.looseObject({
  _aws: z.object({
    Timestamp: z.number(),
    CloudWatchMetrics: z.array(
      z.object({
        Namespace: z.string(),
        Dimensions: z.array(z.array(z.string())),
        Metrics: z.array(z.object({ Name: z.string(), Unit: z.string() })),
      }),
    ),
  }),
});

/** The points of `documents` in `namespace`; the dimensions every point carries (service, function) are left out. */
export function emfPoints(
  documents: readonly unknown[],
  namespace: string,
  omit: readonly string[] = ["service", "function"],
): MetricPoint[] {
  return documents.flatMap((raw) => {
    const document = emfDocument.parse(raw);
    return document._aws.CloudWatchMetrics.filter((directive) => directive.Namespace === namespace).flatMap(
      (directive) => {
        const dimensions: Record<string, string> = {};
        for (const name of directive.Dimensions.flat())
          if (!omit.includes(name)) dimensions[name] = z.string().parse(document[name]);
        return directive.Metrics.map((metric) => {
          if (!(metric.Name in METRICS)) throw new Error(`EMF: ${metric.Name} is no metric of lib/metrics.ts`);
          const value = z.union([z.number(), z.array(z.number())]).parse(document[metric.Name]);
          return {
            name: metric.Name as MetricName,
            unit: METRICS[metric.Name as MetricName].unit,
            dimensions: dimensions as MetricDimensions,
            values: Array.isArray(value) ? value : [value],
          };
        });
      },
    );
  });
}
