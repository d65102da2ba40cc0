/** SQS: deliver signed webhooks (Standard Webhooks) and SNS messages, retried through queue delays. */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { processSqsNotifications } from "../lib/pipeline/sqs-notify.ts";
import { awsPipeline } from "../lib/runtime/aws.ts";
import { awsNotify } from "../lib/runtime/aws-notify.ts";

export async function notify(event: SQSEvent): Promise<SQSBatchResponse> {
  const [pipeline, dispatcher] = await Promise.all([awsPipeline(), awsNotify()]);
  return processSqsNotifications(event, pipeline, dispatcher);
}

export const handler = middyfy(notify);
