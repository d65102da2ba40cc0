/** SQS (delayed messages): follow each SDRS job to its end. */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { lambdaDeadline, withDeadline } from "../lib/pipeline/deadline.ts";
import { sqsRecordsOf } from "../lib/pipeline/lambda-events.ts";
import { processSqsJobChecks } from "../lib/pipeline/sqs.ts";
import { awsPipeline } from "../lib/runtime/aws-pipeline.ts";

export async function jobStatus(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const pipeline = withDeadline(await awsPipeline(), lambdaDeadline(context));
  return processSqsJobChecks(await sqsRecordsOf(event, "job-status", pipeline), pipeline);
}

export const handler = middyfy(jobStatus);
