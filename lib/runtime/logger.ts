/** The Powertools logger shared by every function: structured JSON, correlation ids appended per record. */
import { Logger } from "@aws-lambda-powertools/logger";
import type { PipelineLogger } from "../pipeline/deps.ts";

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "sdrs-autoprotect" });

/** The pipeline's narrow logger port, backed by Powertools. */
export const pipelineLogger: PipelineLogger = {
  debug: (message, extra) => logger.debug(message, extra ?? {}),
  info: (message, extra) => logger.info(message, extra ?? {}),
  warn: (message, extra) => logger.warn(message, extra ?? {}),
  error: (message, extra) => logger.error(message, extra ?? {}),
};
