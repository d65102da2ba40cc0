/**
 * Reads a request body up to a limit (the simulator, the webhook receiver and the local API all need
 * it). Hand-written because it is ten lines on node:http; a framework would bring far more.
 */
import type { IncomingMessage } from "node:http";

/** The body's bytes, or undefined when it is larger than `maxBytes` (the rest is read and dropped). */
export function readBoundedBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > maxBytes ? undefined : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}
