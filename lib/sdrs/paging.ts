/**
 * List calls read to the last page: how each service pages (item offset, start number, or marker),
 * and when a page is the last one.
 */
import type * as z from "../zod.ts";
import { CLIENT_ERROR_CODES, CloudApiError } from "./errors.ts";
import type { OperationName } from "./operations.ts";
import type { CloudTransport, Query } from "./transport.ts";

/**
 * How a list call pages, as each service documents it: SDRS `offset` counts items, Auto Scaling
 * `start_number` counts items, ECS and EVS resume after `marker`, the id of the last item of the
 * previous page (ECS deprecates its page-number `offset` for it; EVS says a partial page carries a
 * `volumes_links` "next" link).
 */
export type Paging<P, T> =
  | { style: "offset" | "startNumber"; limit: number }
  | { style: "marker"; limit: number; idOf: (item: T) => string; hasNextPage?: (page: P) => boolean };

export interface ListCall<P, T> {
  operation: OperationName;
  filter: Query;
  response: z.ZodMiniType<P>;
  itemsOf: (page: P) => T[];
  paging: Paging<P, T>;
  path?: Record<string, string>;
}

/** Every item of a list call, all pages. */
export async function allPages<P, T>(transport: CloudTransport, list: ListCall<P, T>): Promise<T[]> {
  const { operation, filter, response, itemsOf, paging, path = {} } = list;
  const { limit } = paging;
  const items: T[] = [];
  let marker: string | undefined;
  for (;;) {
    const position: Query =
      paging.style === "offset"
        ? { limit, offset: items.length }
        : paging.style === "startNumber"
          ? { limit, start_number: items.length }
          : { limit, marker };
    const { data } = await transport.call({ operation, path, query: { ...filter, ...position }, response });
    const pageItems = itemsOf(data);
    items.push(...pageItems);
    // A short page is the last one (`count` is not reliably the total, reference facts §2.2);
    // a page longer than asked means the server ignored paging and sent everything.
    if (pageItems.length !== limit) return items;
    if (paging.style !== "marker") continue;
    if (paging.hasNextPage !== undefined && !paging.hasNextPage(data)) return items;
    const nextMarker = paging.idOf(pageItems[pageItems.length - 1] as T);
    if (nextMarker === marker) {
      // The same page again: the service ignored the marker. Going on would loop for ever.
      throw new CloudApiError({
        status: 200,
        code: CLIENT_ERROR_CODES.invalidResponse,
        message: `paging did not advance: the page after marker ${marker ?? "(none)"} ends with the same item`,
        requestId: undefined,
        operation,
        retryable: false,
      });
    }
    marker = nextMarker;
  }
}
