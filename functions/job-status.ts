/** SQS (delayed messages): follow each SDRS job to its end. */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { processSqsJobChecks } from "../lib/pipeline/sqs.ts";
import { awsPipeline } from "../lib/runtime/aws.ts";

export async function jobStatus(event: SQSEvent): Promise<SQSBatchResponse> {
  const pipeline = await awsPipeline();
  return processSqsJobChecks(event, pipeline);
}

export const handler = middyfy(jobStatus);
