/** SQS: deliver signed webhooks (Standard Webhooks) and SNS messages, retried through queue delays. */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { processSqsNotifications } from "../lib/pipeline/sqs.ts";
import { awsNotify, awsPipeline } from "../lib/runtime/aws.ts";

export async function notify(event: SQSEvent): Promise<SQSBatchResponse> {
  const [pipeline, dispatcher] = await Promise.all([awsPipeline(), awsNotify()]);
  return processSqsNotifications(event, pipeline, dispatcher);
}

export const handler = middyfy(notify);
