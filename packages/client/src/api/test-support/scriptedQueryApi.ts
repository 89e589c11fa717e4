// A scripted node for paging tests: envelope n carries the byte n and the timestamp n; a full page ends with a
// cursor on its last envelope, the next query continues after it.
import type { Cursor, Envelope, MessageApi, QueryPage, QueryParams } from "../types.js";

export const scriptedEnvelope = (topic: string, n: number): Envelope => ({
  contentTopic: topic,
  timestampNs: BigInt(n),
  message: new Uint8Array([n]),
});
export const cursorAt = (n: number): Cursor => ({ digest: new Uint8Array([n]), senderTimeNs: BigInt(n) });

/** Serves `total` envelopes `pageSize` at a time, a cursor on every full page; `answer` may rewrite a page. */
export function scriptedQueryApi(
  topic: string,
  total: number,
  answer: (page: QueryPage, query: QueryParams) => QueryPage = (page) => page,
): { api: Pick<MessageApi, "query">; queries: QueryParams[] } {
  const queries: QueryParams[] = [];
  const api = {
    async query(params: QueryParams): Promise<QueryPage> {
      queries.push(params);
      const from = params.cursor ? Number(params.cursor.senderTimeNs) + 1 : 0;
      const size = params.pageSize ?? 100;
      const envelopes = Array.from({ length: Math.max(0, Math.min(size, total - from)) }, (_, i) => scriptedEnvelope(topic, from + i));
      return answer({ envelopes, cursor: envelopes.length === size ? cursorAt(from + size - 1) : undefined }, params);
    },
  };
  return { api, queries };
}
