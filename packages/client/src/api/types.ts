// The contract between the client's transport (src/api) and the layers above it (keystore, conversations).
import type { PostageQuote } from "./postageQuote.js";

export interface Envelope {
  contentTopic: string;
  timestampNs: bigint;
  message: Uint8Array;
  /**
   * PostageProof bytes (docs/postage.md §3), set only on envelopes this client writes to another wallet's reach
   * topic. Publish sends it along; nodes with postage off ignore it, and queries never return it.
   */
  postage?: Uint8Array;
}

export interface Cursor {
  digest: Uint8Array;
  senderTimeNs: bigint;
}

export type SortDirection = "ascending" | "descending";

export interface QueryParams {
  contentTopic: string;
  startTimeNs?: bigint;
  endTimeNs?: bigint;
  /** Page size sent to the node (1..100); defaults to 100. */
  pageSize?: number;
  /**
   * Defaults to "ascending". "unspecified" sends no direction, so the node picks (ours and the reference node read
   * that as descending); it is what the public SDK sends when its caller gives none.
   */
  direction?: SortDirection | "unspecified";
  cursor?: Cursor;
}

export interface QueryPage {
  envelopes: Envelope[];
  cursor?: Cursor;
}

export interface SubscribeOptions {
  /** Called each time the connection drops, before the subscription reconnects and fills the gap. */
  onConnectionLost?: (error: unknown) => void;
  /**
   * Deliver only envelopes with timestampNs >= this. When given, the first connection also queries every topic
   * from this time, so a stream resumed after the last envelope an app saw catches up before going live.
   */
  startTimeNs?: bigint;
  signal?: AbortSignal;
}

/**
 * A live subscription: an async iterator of envelopes that never misses one and never yields one twice.
 * On a dropped connection it reconnects, queries the gap since the last delivered envelope, then goes on.
 * Without `startTimeNs` it yields only envelopes that reach the node after the subscription (or, for a topic added
 * by `updateTopics`, that call) began: what the node already held is never yielded, not even by a gap query.
 * `updateTopics` changes the topic set in place (reconnecting as needed) without losing envelopes.
 * `return()` (or `close()`) ends it.
 */
export interface Subscription extends AsyncIterableIterator<Envelope> {
  /**
   * Resolves once the node has registered the subscription, so that anything published afterwards is delivered;
   * rejects if the subscription ends (closed, or failed for good) first. Iterating does not need to wait for it.
   */
  readonly ready: Promise<void>;
  /** Resolves once the stream for the new topics is live (and the gap on old and new topics filled). */
  updateTopics(topics: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface MessageApi {
  publish(envelopes: Envelope[]): Promise<void>;
  query(params: QueryParams): Promise<QueryPage>;
  /** Every envelope matching params, paging with cursors until the node has no more. */
  queryAll(params: QueryParams & { limit?: number }): Promise<Envelope[]>;
  /** One first page per query, in request order; split into batches of at most 50 behind the scenes. */
  batchQuery(queries: QueryParams[]): Promise<Envelope[][]>;
  subscribe(topics: string[], options?: SubscribeOptions): Subscription;
  /**
   * The node's postage terms (docs/postage.md §4), with the payer's standing when `payer` is given. Optional: a
   * transport without it is treated as a node with postage off (no stamps, no grants; seals are still sent).
   */
  postageQuote?(payer?: string): Promise<PostageQuote>;
}

/** Supplies the bearer token for publish; `refresh` asks for a new one after the node answered code 16. */
export type AuthTokenProvider = (options: { refresh: boolean }) => Promise<string>;
