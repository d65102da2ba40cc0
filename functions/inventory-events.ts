/** EventBridge: ECS server created / tagged (our events and Huawei CTS traces) → protection intents. */
import type { EventBridgeEvent } from "aws-lambda";
import { middyfy } from "../lib/middleware.ts";
import { handleInventoryEvent, type InventoryEventResult } from "../lib/pipeline/intake.ts";
import { awsPipeline } from "../lib/runtime/aws-pipeline.ts";
import { logger } from "../lib/runtime/logger.ts";

export async function inventoryEvents(event: EventBridgeEvent<string, unknown>): Promise<InventoryEventResult> {
  // Anything may arrive (null included): classifyInventoryEvent rejects it with a reason.
  const correlationId: unknown = event !== null && typeof event === "object" ? event.id : undefined;
  if (typeof correlationId === "string") logger.appendKeys({ correlationId });
  const pipeline = await awsPipeline();
  // A malformed event is logged with its reason and acknowledged: it can never succeed, so it is not retried.
  return handleInventoryEvent(event, pipeline);
}

export const handler = middyfy(inventoryEvents);
