/**
 * SQS (batching window): protect intents → eligibility, plan, claims, create calls. Partial batch
 * response: only intents that hit a transient error return to the queue.
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { processSqsIntents } from "../lib/pipeline/sqs.ts";
import { awsPipeline } from "../lib/runtime/aws.ts";

export async function onboard(event: SQSEvent): Promise<SQSBatchResponse> {
  const pipeline = await awsPipeline();
  return processSqsIntents(event, pipeline);
}

export const handler = middyfy(onboard);
