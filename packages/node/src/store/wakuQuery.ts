import type { WakuStoreQuery } from "./EnvelopeStore.js";

/** The distinct topics of a Waku query, after checking its arguments. */
export function checkWakuQuery(query: WakuStoreQuery): string[] {
  const topics = [...new Set(query.contentTopics)];
  if (topics.length === 0) throw new RangeError("queryWaku needs at least one content topic");
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw new RangeError(`queryWaku limit must be a positive integer, got ${query.limit}`);
  if (query.maxBytes !== undefined && !(query.maxBytes >= 1)) throw new RangeError(`queryWaku maxBytes must be at least 1, got ${query.maxBytes}`);
  if (query.cursor !== undefined && query.cursor.byteLength !== 32) {
    throw new RangeError(`queryWaku cursor must be a 32-byte message hash, got ${query.cursor.byteLength} bytes`);
  }
  return topics;
}
