/**
 * How the AWS adapters retry the part of a batch call the service did not process (DynamoDB BatchGetItem
 * UnprocessedKeys, SQS SendMessageBatch entries failed by the service). AWS recommends exponential backoff
 * for both: the wait before retry n (from 0) is a random time in [½, 1) × base × 2ⁿ.
 */
export interface BatchRetry {
  baseDelayMs: number;
  maxRetries: number;
}

/** The adapter options (`retryBaseDelayMs`, `maxRetries`) over the adapter's defaults. */
export function batchRetryOf(
  options: { retryBaseDelayMs?: number | undefined; maxRetries?: number | undefined },
  defaults: BatchRetry,
): BatchRetry {
  return {
    baseDelayMs: options.retryBaseDelayMs ?? defaults.baseDelayMs,
    maxRetries: options.maxRetries ?? defaults.maxRetries,
  };
}

export function waitBeforeRetry(retry: BatchRetry, attempt: number): Promise<void> {
  const delayMs = retry.baseDelayMs * 2 ** attempt * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}
