/** Scheduled: enqueue every tagged server that is neither protected nor in flight. */
import type { Context } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { lambdaDeadline, withDeadline } from "../lib/pipeline/deadline.ts";
import { type ReconcileResult, reconcile } from "../lib/pipeline/intake.ts";
import { awsPipeline } from "../lib/runtime/aws-pipeline.ts";

export async function reconcileTagged(_event: unknown, context: Context): Promise<ReconcileResult> {
  const pipeline = await awsPipeline();
  return reconcile(withDeadline(pipeline, lambdaDeadline(context)));
}

export const handler = middyfy(reconcileTagged);
