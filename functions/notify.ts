/** SQS: deliver signed webhooks (Standard Webhooks) and SNS messages, retried through queue delays. */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { lambdaDeadline, withDeadline } from "../lib/pipeline/deadline.ts";
import { processSqsNotifications } from "../lib/pipeline/sqs.ts";
import { awsRuntime } from "../lib/runtime/aws.ts";

export async function notify(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { pipeline, notify: dispatcher } = await awsRuntime();
  return processSqsNotifications(event, withDeadline(pipeline, lambdaDeadline(context)), dispatcher);
}

export const handler = middyfy(notify);
