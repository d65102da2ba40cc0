/** SQS: deliver signed webhooks (Standard Webhooks) and SNS messages, retried through queue delays. */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { sqsRecordsOf } from "../lib/pipeline/lambda-events.ts";
import { processSqsNotifications } from "../lib/pipeline/sqs.ts";
import { awsRuntime } from "../lib/runtime/aws.ts";

export async function notify(event: SQSEvent): Promise<SQSBatchResponse> {
  const { pipeline, notify } = await awsRuntime();
  const dispatcher = await notify();
  return processSqsNotifications(await sqsRecordsOf(event, "notify", pipeline), pipeline, dispatcher);
}

export const handler = middyfy(notify);
