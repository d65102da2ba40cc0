/**
 * SQS (batching window): protect intents → eligibility, plan, claims, create calls. Partial batch
 * response: only intents that hit a transient error return to the queue.
 */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { lambdaDeadline, withDeadline } from "../lib/pipeline/deadline.ts";
import { sqsRecordsOf } from "../lib/pipeline/lambda-events.ts";
import { processSqsIntents } from "../lib/pipeline/sqs.ts";
import { awsPipeline } from "../lib/runtime/aws-pipeline.ts";

export async function onboard(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const pipeline = withDeadline(await awsPipeline(), lambdaDeadline(context));
  return processSqsIntents(await sqsRecordsOf(event, "onboarding", pipeline), pipeline);
}

export const handler = middyfy(onboard);
