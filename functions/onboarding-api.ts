/** HTTP API (AWS_IAM auth): POST /onboarding-requests, GET /onboarding-requests/{id}. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { handleApiRequest } from "../lib/pipeline/api.ts";
import { apiRequestFromEvent } from "../lib/pipeline/lambda-events.ts";
import { awsPipeline } from "../lib/runtime/aws-pipeline.ts";
import { logger } from "../lib/runtime/logger.ts";

export async function onboardingApi(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  // Typed for API Gateway, but anything may arrive (a console test, a misrouted trigger): checked first.
  const parsed = apiRequestFromEvent(event);
  if (!parsed.ok) return parsed.response;
  if (parsed.requestId) logger.appendKeys({ correlationId: parsed.requestId });
  const pipeline = await awsPipeline();
  return handleApiRequest(parsed.request, pipeline);
}

export const handler = middyfy(onboardingApi);
