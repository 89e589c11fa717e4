import { equalBytes } from "@xmtp-ts/crypto";
import type { Envelope, MessageApi, QueryParams } from "../api/index.js";

const PAGE_SIZE = 100;

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
      if (query.cursor && equalBytes(query.cursor.digest, cursor.digest) && query.cursor.senderTimeNs === cursor.senderTimeNs) {
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
