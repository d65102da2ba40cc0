/** SQS (delayed messages): follow each SDRS job to its end. */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { lambdaDeadline, withDeadline } from "../lib/pipeline/deadline.ts";
import { processSqsJobChecks } from "../lib/pipeline/sqs.ts";
import { awsPipeline } from "../lib/runtime/aws.ts";

export async function jobStatus(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const pipeline = await awsPipeline();
  return processSqsJobChecks(event, withDeadline(pipeline, lambdaDeadline(context)));
}

export const handler = middyfy(jobStatus);
