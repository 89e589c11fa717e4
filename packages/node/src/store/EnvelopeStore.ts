// The node's durable storage of envelopes. Two implementations (SQLite, PostgreSQL) pass one conformance suite.
import type { Logger } from "../log.js";

export interface Envelope {
  contentTopic: string;
  /** The sender's timestamp, stored exactly as published. */
  timestampNs: bigint;
  message: Uint8Array;
  /**
   * The PostageProof bytes that came with the envelope (docs/postage.md §4), if any: stored beside it (not in the
   * envelope table) and passed on by the relay and catch-up, never returned by the HTTP API.
   */
  postage?: Uint8Array;
}

export interface StoredEnvelope extends Envelope {
  /** sha256(contentTopic || message): the envelope's identity for dedupe and cursors. */
  digest: Uint8Array;
}

export interface IndexCursor {
  digest: Uint8Array;
  senderTimeNs: bigint;
}

export type SortDirection = "ascending" | "descending";

export interface EnvelopeQuery {
  topic: string;
  /** Inclusive bounds on timestampNs; absent means unbounded. */
  startTimeNs?: bigint;
  endTimeNs?: bigint;
  /** Page size, already validated (1..max). */
  limit: number;
  direction: SortDirection;
  /** Return only envelopes strictly after this one in the requested direction. */
  cursor?: IndexCursor;
  /**
   * A budget of message bytes (≥ 1) for the page: the page ends with the envelope whose message brings the total to
   * or past it, so it always holds at least one envelope when the topic has any, and exceeds the budget by less than
   * one message. Absent: pages are bounded by `limit` only.
   */
  maxBytes?: number;
}

export interface EnvelopePage {
  envelopes: StoredEnvelope[];
  /**
   * The last envelope of the page when the page is full (`limit` envelopes) or was ended by `maxBytes` (its messages
   * add up to the budget or more); absent when the page ended because nothing further matched.
   */
  cursor?: IndexCursor;
}

/** What catch-up offers a peer before sending anything: the digests of a stretch of the store, in arrival order. */
export interface DigestPage {
  /** The local sequence number of each envelope, ascending; readBySequence takes them. */
  sequences: bigint[];
  digests: Uint8Array[];
  /** The size of each envelope's message in bytes, so a reader can bound what it will send. */
  messageBytes: number[];
  /** Pass as `afterSequence` to continue; equals the input when there was nothing new. */
  nextSequence: bigint;
}

export interface AppendOptions {
  /**
   * false: the returned promise may resolve once the envelopes are committed, before the durability flush (for
   * envelopes that can be fetched again from peers; see docs/network.md). Stores without such a flush ignore it.
   * Default true.
   */
  durable?: boolean;
}

export interface EnvelopeStore {
  /**
   * Stores envelopes atomically; resolves only after they are durably committed. An envelope whose digest is
   * already stored is skipped. Resolves to the envelopes that were new, in input order. A store that can may call
   * `onCommitted` with those envelopes as soon as they are committed (visible to queries), before the durability
   * flush the returned promise waits for; the node streams them to subscribers at that moment.
   */
  append(
    envelopes: StoredEnvelope[],
    onCommitted?: (added: StoredEnvelope[]) => void,
    options?: AppendOptions,
  ): Promise<StoredEnvelope[]>;

  /** One page of a topic, ordered by timestampNs then arrival order (both reversed for descending). */
  query(query: EnvelopeQuery): Promise<EnvelopePage>;

  /**
   * The digests of the envelopes after a sequence number, in local arrival order, for peers catching up: a peer is
   * offered digests first and sent only the envelopes it lacks (readBySequence), usually none, so reading topics and
   * messages for the offer would be wasted.
   */
  readDigestsSince(afterSequence: bigint, limit: number): Promise<DigestPage>;

  /**
   * Resolves once everything committed before the call is durable. Appends made with `durable: false` may resolve
   * before that; whoever records progress past such envelopes (catch-up's saved positions) waits for this first.
   * A store whose appends are always durable when they resolve answers at once.
   */
  flushCommitted(): Promise<void>;

  /**
   * Which of these digests the store holds, true at the same index. Catch-up asks before it fetches the envelopes a
   * peer offers, so what this node stored long ago (beyond its recent-digests memory) never crosses the wire again:
   * a new node pulling a whole store would otherwise be pulled back by that store's node, envelope for envelope.
   */
  hasDigests(digests: readonly Uint8Array[]): Promise<boolean[]>;

  /** The envelopes with these sequence numbers (as readDigestsSince gave them), in the order asked; unknown ones are left out. */
  readBySequence(sequences: readonly bigint[]): Promise<StoredEnvelope[]>;

  /**
   * Retention (docs/storage.md): deletes at most `limit` envelopes that `rule` selects, with the postage proofs
   * kept beside them, in one short transaction, so a pruner working in such batches never holds writers up for
   * long. What is deleted leaves every read path at once (queries, batch queries, catch-up offers, Waku Store).
   */
  prune(rule: RetentionRule, limit: number): Promise<PruneResult>;

  /** What `prune` would delete under `rule` if called until it deleted nothing more; deletes nothing. */
  countPrunable(rule: RetentionRule): Promise<PruneResult>;

  close(): Promise<void>;
}

/**
 * Which stored envelopes a retention policy removes, for one class of topics: those whose topic starts with
 * `topicPrefix` (a class such as "/xmtp/0/m-"), and
 * - `olderThanNs`: whose timestampNs (the sender's time, so every node judges an envelope alike) is before it;
 * - `keepNewest`: that are not among the `keepNewest` newest of their topic (by timestampNs, then arrival).
 */
export type RetentionRule =
  | { topicPrefix: string; olderThanNs: bigint; keepNewest?: undefined }
  | { topicPrefix: string; keepNewest: number; olderThanNs?: undefined };

export interface PruneResult {
  envelopes: number;
  /** The sum of the deleted messages' lengths. */
  messageBytes: number;
}

/**
 * Computes the Waku (RFC 14) message hash of an envelope under the node's Waku configuration (cluster id, shard
 * count: the hash covers the pubsub topic the envelope is routed on). See createWakuHasher in waku/messageHash.ts.
 */
export interface WakuHasher {
  /**
   * Names everything the hash depends on. A store records the configuration its `waku_hash` column was computed
   * under and re-hashes every row when it is opened with a hasher of another configuration.
   */
  readonly configuration: string;
  /** The pubsub topic the envelope's hash is computed on. */
  pubsubTopicFor(contentTopic: string): string;
  hash(envelope: Envelope): Uint8Array;
}

/** Options the stores take for their Waku hash column. */
export interface WakuHashOptions {
  /**
   * Fill and index the Waku hash of every envelope (on append, and for older rows when the store opens), enabling
   * queryWaku and readByWakuHashes. Without it new rows get no hash, and those two methods refuse to run.
   */
  wakuHasher?: WakuHasher;
  /** Rows hashed per transaction while the store re-hashes or back-fills at open (default 2,000). */
  wakuBackfillBatchSize?: number;
}

export const DEFAULT_WAKU_BACKFILL_BATCH_SIZE = 2_000;

export interface WakuStoredEnvelope extends StoredEnvelope {
  /** The RFC 14 message hash under the store's Waku configuration: the envelope's Store v3 message_hash. */
  wakuHash: Uint8Array;
}

/** A Store v3 page query: the envelopes of some content topics, merged in the order of `query` (timestamp, then arrival). */
export interface WakuStoreQuery {
  /** One or more topics (duplicates are ignored). */
  contentTopics: readonly string[];
  /** Inclusive bounds on timestampNs; absent means unbounded. */
  startTimeNs?: bigint;
  endTimeNs?: bigint;
  direction: SortDirection;
  /** Page size, 1.. (the caller caps it). */
  limit: number;
  /**
   * The wakuHash of the last envelope of the previous page (of these topics): the page holds only envelopes strictly
   * after it in the requested direction. An unknown hash is refused with WakuCursorNotFoundError.
   */
  cursor?: Uint8Array;
  /** A budget of message bytes, as EnvelopeQuery.maxBytes: the page ends with the envelope that reaches it. */
  maxBytes?: number;
}

export interface WakuStorePage {
  envelopes: WakuStoredEnvelope[];
  /**
   * The wakuHash of the page's last envelope when the page is full (`limit` envelopes) or was ended by `maxBytes`;
   * absent when the page ended because nothing further matched. (Store v3's pagination_cursor.)
   */
  cursor?: Uint8Array;
}

/** A Store cursor naming no stored envelope of the queried topics (Store v3 answers it with a 4xx status). */
export class WakuCursorNotFoundError extends Error {
  override readonly name = "WakuCursorNotFoundError";
  constructor(readonly cursor: Uint8Array) {
    super(`cursor ${Buffer.from(cursor).toString("hex")} names no stored message of the queried content topics`);
  }
}

/** An EnvelopeStore that also serves Waku Store v3 reads. */
export interface WakuEnvelopeStore extends EnvelopeStore {
  /** The configuration of the store's wakuHasher, undefined when it was opened without one. */
  readonly wakuConfiguration: string | undefined;
  /** One page of envelopes of the given topics, each with its waku hash. Exact paging by the returned cursor. */
  queryWaku(query: WakuStoreQuery): Promise<WakuStorePage>;
  /** The envelopes with these waku hashes, in the order asked; unknown hashes are left out (a repeated one appears once). */
  readByWakuHashes(hashes: readonly Uint8Array[]): Promise<WakuStoredEnvelope[]>;
}

/** Receives what a shared store committed, in commit order. Called synchronously, one batch at a time. */
export type CommitListener = (envelopes: StoredEnvelope[]) => void;

/** A running follower of a shared store's commits (see SharedEnvelopeStore.follow). */
export interface CommitFollower {
  /**
   * Resolves once the listener has been given everything committed before this call (by any process); rejects if
   * the store cannot be read. A subscription registered after it never receives what was committed before the
   * subscribe request arrived, as with a node alone with its store.
   */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

export interface FollowOptions {
  /** Logs a follower that cannot read (the database is gone) once per outage, and its recovery. */
  logger?: Logger;
  /** The follower reads even when no notification came, this often (default 1000 ms): a notification can be lost. */
  pollIntervalMs?: number;
}

/**
 * A store that several node processes can serve at once (PostgreSQL): each learns of every commit, its own and the
 * others', from the store itself, in one order shared by all of them. The node feeds its live subscribers from
 * `follow` instead of from its own publishes, so a subscriber on any process sees every envelope, once, in the
 * store's commit order (docs/scale-out.md).
 */
export interface SharedEnvelopeStore extends EnvelopeStore {
  readonly shared: true;
  /**
   * Delivers every envelope committed after this call (by any process), then every ephemeral envelope shared
   * after it, in commit order, without gaps or repeats, until closed. Reads resume where they stopped after a
   * database outage.
   */
  follow(listener: CommitListener, options?: FollowOptions): Promise<CommitFollower>;
  /**
   * Hands ephemeral envelopes (never stored for queries, docs/protocol/api.md §5) to every process's follower.
   * Resolves once they are committed; they are kept about a minute, for followers that lag.
   */
  shareEphemeral(envelopes: readonly StoredEnvelope[]): Promise<void>;
}

export function isSharedEnvelopeStore(store: EnvelopeStore): store is SharedEnvelopeStore {
  return (store as Partial<SharedEnvelopeStore>).shared === true;
}
