import type { QueryPage, QueryParams } from "../api/types.js";

/** What a ResumableSubscription needs from the node's API (HttpMessageApi.transport provides it). */
export interface SubscriptionTransport {
  /**
   * Opens a subscribe stream for `topics`; resolves with the NDJSON body once the node has answered with its
   * headers, which our node sends after registering the subscription. Rejects with an ApiError otherwise.
   */
  openStream(topics: string[], signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** First pages (with cursors) of up to any number of queries, in order. */
  batchQueryPages(queries: QueryParams[]): Promise<QueryPage[]>;
  query(params: QueryParams): Promise<QueryPage>;
}
