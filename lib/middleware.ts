/**
 * What every Lambda needs, attached in one place (the Serverless template calls it `middyfy`): the
 * Powertools logger first, so it wraps everything, with the Lambda context and a cold-start flag; then
 * the metrics of the invocation, published as EMF when it ends (also when it fails).
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { flushLambdaMetrics } from "./runtime/emf.ts";
import { logger } from "./runtime/logger.ts";

const publishMetrics: middy.MiddlewareObj<unknown, unknown, Error, Context> = {
  after: (request) => flushLambdaMetrics(request.context.functionName),
  onError: (request) => flushLambdaMetrics(request.context.functionName),
};

export function middyfy<Event, Result>(logic: (event: Event, context: Context) => Promise<Result>) {
  return middy<Event, Result>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics)
    .handler(logic);
}
