import type { Envelope, MessageApi, QueryParams } from "../api/index.js";
import { queryPages } from "../api/paging.js";

const PAGE_SIZE = 100;

/**
 * The pages of a query as the node cuts them, one at a time, each turned into items by `handle` while the next one
 * is fetched. Empty pages are not yielded; the iteration ends at the first page without a cursor.
 */
export async function* iteratePages<T>(
  api: Pick<MessageApi, "query">,
  params: QueryParams,
  handle: (envelopes: Envelope[]) => Promise<T[]>,
): AsyncGenerator<T[], void, undefined> {
  for await (const envelopes of queryPages(api, params, { prefetch: true })) yield await handle(envelopes);
}

/**
 * Reads every page of a query like `queryAll`, but hands each page to `handle` while the next one is being fetched,
 * so decryption overlaps the network. Returns the handled results in order.
 */
export async function mapPages<T>(
  api: Pick<MessageApi, "query">,
  params: QueryParams & { limit?: number },
  handle: (envelopes: Envelope[]) => Promise<T[]>,
): Promise<T[]> {
  const { limit, ...query } = params;
  const pageSize = Math.min(query.pageSize ?? PAGE_SIZE, limit ?? PAGE_SIZE, PAGE_SIZE);
  const out: T[] = [];
  for await (const envelopes of queryPages(api, { ...query, pageSize }, { limit, prefetch: true })) {
    out.push(...(await handle(envelopes)));
  }
  return out;
}
