// The one cursor loop of the client (docs/protocol/paging.md §1): ask; stop at an empty page; take the page; if it
// came with a cursor (and the limit is not reached), ask again with it, else stop. Callers choose the page size.
import { equalBytes } from "@xmtp-ts/crypto";
import { malformedResponse } from "./errors.js";
import type { Cursor, Envelope, MessageApi, QueryPage, QueryParams } from "./types.js";

export interface QueryPagesOptions {
  /** Stop once this many envelopes were yielded; the page that reaches it is cut to fit. */
  limit?: number;
  /**
   * Ask for the next page before yielding the current one, so the consumer's work on a page overlaps the network.
   * Off, no request is made beyond the page the consumer has asked for (a consumer that stops early wastes none).
   */
  prefetch?: boolean;
}

export function sameCursor(a: Cursor, b: Cursor): boolean {
  return equalBytes(a.digest, b.digest) && a.senderTimeNs === b.senderTimeNs;
}

/**
 * The envelopes of a query, page by page as the node cuts them, following cursors from `params.cursor` on. Empty
 * pages are never yielded: the first one ends the paging, as do a page without a cursor and the `limit`. A node
 * that returns the cursor it was just given would never end: that throws a malformed-response ApiError.
 */
export async function* queryPages(
  api: Pick<MessageApi, "query">,
  params: QueryParams,
  options: QueryPagesOptions = {},
): AsyncGenerator<Envelope[], void, undefined> {
  const { limit, prefetch = false } = options;
  // Each request gets its own copy: `query.cursor` moves on while a request may still hold the previous one.
  const query = { ...params };
  const ask = (): Promise<QueryPage> => {
    const page = api.query({ ...query });
    page.catch(() => undefined); // awaited below; a consumer that stops early never reads a prefetched failure
    return page;
  };
  let taken = 0;
  let next: Promise<QueryPage> | undefined = ask();
  while (next) {
    const page: QueryPage = await next;
    next = undefined;
    let envelopes = page.envelopes;
    if (envelopes.length === 0) return;
    if (limit !== undefined) envelopes = envelopes.slice(0, limit - taken);
    taken += envelopes.length;
    const cursor = page.cursor;
    const more = cursor !== undefined && (limit === undefined || taken < limit);
    if (more) {
      if (query.cursor && sameCursor(query.cursor, cursor)) {
        throw malformedResponse("query", "the node returned the same cursor twice; paging would never end");
      }
      query.cursor = cursor;
    }
    if (more && prefetch) next = ask();
    yield envelopes;
    if (more && !prefetch) next = ask();
  }
}
