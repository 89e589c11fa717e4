// Where a page of a store query ends, the same for every store: a page that is full (`limit` envelopes) or whose
// messages reach the byte budget may have more after it, and its last envelope is the cursor of the next page.
import type { IndexCursor, StoredEnvelope, WakuStoredEnvelope } from "./EnvelopeStore.js";

export function messageBytesOf(envelopes: readonly StoredEnvelope[]): number {
  let bytes = 0;
  for (const envelope of envelopes) bytes += envelope.message.byteLength;
  return bytes;
}

/** The envelope the next page starts after: the page's last one if the page was cut, undefined if it is the end. */
function cutAfter<T extends StoredEnvelope>(envelopes: readonly T[], limit: number, maxBytes: number | undefined): T | undefined {
  const cut = envelopes.length >= limit || (maxBytes !== undefined && messageBytesOf(envelopes) >= maxBytes);
  return cut ? envelopes[envelopes.length - 1] : undefined;
}

/** EnvelopePage.cursor of a page read with `limit` and `maxBytes`. */
export function indexPageCursor(envelopes: readonly StoredEnvelope[], limit: number, maxBytes: number | undefined): IndexCursor | undefined {
  const last = cutAfter(envelopes, limit, maxBytes);
  return last ? { digest: last.digest, senderTimeNs: last.timestampNs } : undefined;
}

/** WakuStorePage.cursor of a page read with `limit` and `maxBytes`. */
export function wakuPageCursor(envelopes: readonly WakuStoredEnvelope[], limit: number, maxBytes: number | undefined): Uint8Array | undefined {
  return cutAfter(envelopes, limit, maxBytes)?.wakuHash;
}
