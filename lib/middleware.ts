/**
 * What every Lambda needs, attached in one place (the Serverless template calls it `middyfy`): the
 * Powertools logger first, so it wraps everything, with the Lambda context and a cold-start flag.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { logger } from "./runtime/logger.ts";

export function middyfy<Event, Result>(logic: (event: Event, context: Context) => Promise<Result>) {
  return middy<Event, Result>().use(injectLambdaContext(logger, { resetKeys: true })).handler(logic);
}
