import { equalBytes } from "@xmtp-ts/crypto";
import type { Cursor, Envelope, MessageApi, QueryPage, QueryParams } from "../api/index.js";

const PAGE_SIZE = 100;

function sameCursor(a: Cursor, b: Cursor): boolean {
  return equalBytes(a.digest, b.digest) && a.senderTimeNs === b.senderTimeNs;
}

/**
 * The pages of a query as the node cuts them, one at a time, each turned into items by `handle` while the next one
 * is fetched. Empty pages are not yielded; the iteration ends at the first page without a cursor.
 */
export async function* iteratePages<T>(
  api: MessageApi,
  params: QueryParams,
  handle: (envelopes: Envelope[]) => Promise<T[]>,
): AsyncGenerator<T[], void, undefined> {
  const query = { ...params };
  // Each query gets its own copy: `query.cursor` moves on while a request may still hold the previous one.
  let next: Promise<QueryPage> | undefined = api.query({ ...query });
  try {
    while (next) {
      const page: QueryPage = await next;
      next = undefined;
      if (page.envelopes.length === 0) return;
      if (page.cursor) {
        if (query.cursor && sameCursor(query.cursor, page.cursor)) {
          throw new Error("the node returned the same cursor twice; paging would never end");
        }
        query.cursor = page.cursor;
        next = api.query({ ...query });
      }
      yield await handle(page.envelopes);
    }
  } finally {
    // A consumer that stops early leaves the prefetched page unread; its failure is nobody's concern.
    next?.catch(() => undefined);
  }
}

/**
 * Reads every page of a query like `queryAll`, but hands each page to `handle` while the next one is being fetched,
 * so decryption overlaps the network. Returns the handled results in order.
 */
export async function mapPages<T>(
  api: MessageApi,
  params: QueryParams & { limit?: number },
  handle: (envelopes: Envelope[]) => Promise<T[]>,
): Promise<T[]> {
  const { limit, ...query } = params;
  const pageSize = Math.min(query.pageSize ?? PAGE_SIZE, limit ?? PAGE_SIZE, PAGE_SIZE);
  const out: T[] = [];
  let taken = 0;
  let next = api.query({ ...query, pageSize });
  for (;;) {
    const page = await next;
    let envelopes = page.envelopes;
    if (envelopes.length === 0) break;
    if (limit !== undefined) envelopes = envelopes.slice(0, limit - taken);
    taken += envelopes.length;
    const cursor = page.cursor;
    const more = cursor !== undefined && (limit === undefined || taken < limit);
    if (more) {
      if (query.cursor && sameCursor(query.cursor, cursor)) {
        throw new Error("the node returned the same cursor twice; paging would never end");
      }
      query.cursor = cursor;
      next = api.query({ ...query, pageSize });
      next.catch(() => undefined); // observed below, after this page is handled
    }
    out.push(...(await handle(envelopes)));
    if (!more) break;
  }
  return out;
}
