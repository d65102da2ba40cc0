/** SQS: deliver signed webhooks (Standard Webhooks) and SNS messages, retried through queue delays. */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { lambdaDeadline, withDeadline } from "../lib/pipeline/deadline.ts";
import { sqsRecordsOf } from "../lib/pipeline/lambda-events.ts";
import { processSqsNotifications } from "../lib/pipeline/sqs-notify.ts";
import { awsNotify } from "../lib/runtime/aws-notify.ts";

export async function notify(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const ports = await awsNotify();
  const pipeline = withDeadline(ports.pipeline, lambdaDeadline(context));
  return processSqsNotifications(await sqsRecordsOf(event, "notify", pipeline), pipeline, ports.dispatcher);
}

export const handler = middyfy(notify);
