/** SQS (delayed messages): follow each SDRS job to its end. */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { sqsRecordsOf } from "../lib/pipeline/lambda-events.ts";
import { processSqsJobChecks } from "../lib/pipeline/sqs.ts";
import { awsRuntime } from "../lib/runtime/aws.ts";

export async function jobStatus(event: SQSEvent): Promise<SQSBatchResponse> {
  const { pipeline } = await awsRuntime();
  return processSqsJobChecks(await sqsRecordsOf(event, "job-status", pipeline), pipeline);
}

export const handler = middyfy(jobStatus);
