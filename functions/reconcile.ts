/** Scheduled: enqueue every tagged server that is neither protected nor in flight. */
import { middyfy } from "../lib/middleware.ts";
import { type ReconcileResult, reconcile } from "../lib/pipeline/intake.ts";
import { awsPipeline } from "../lib/runtime/aws.ts";

export async function reconcileTagged(): Promise<ReconcileResult> {
  const pipeline = await awsPipeline();
  return reconcile(pipeline);
}

export const handler = middyfy(reconcileTagged);
