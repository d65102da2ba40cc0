/** HTTP API (AWS_IAM auth): POST /onboarding-requests, GET /onboarding-requests/{id}. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { handleApiRequest } from "../lib/pipeline/api.ts";
import { awsPipeline } from "../lib/runtime/aws.ts";
import { logger } from "../lib/runtime/logger.ts";

export async function onboardingApi(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  logger.appendKeys({ correlationId: event.requestContext.requestId });
  const pipeline = await awsPipeline();
  const body = event.body && event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  return handleApiRequest(
    { method: event.requestContext.http.method, path: event.rawPath, headers: event.headers, body },
    pipeline,
  );
}

export const handler = middyfy(onboardingApi);
