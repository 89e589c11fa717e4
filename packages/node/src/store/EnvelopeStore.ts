// The node's durable storage of envelopes. Two implementations (SQLite, PostgreSQL) pass one conformance suite.

export interface Envelope {
  contentTopic: string;
  /** The sender's timestamp, stored exactly as published. */
  timestampNs: bigint;
  message: Uint8Array;
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

export interface ReplicationPage {
  envelopes: StoredEnvelope[];
  /** Pass as `afterSequence` to continue; equals the input when there was nothing new. */
  nextSequence: bigint;
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

  /** Envelopes in local arrival order after a sequence number, for peers catching up. */
  readSince(afterSequence: bigint, limit: number): Promise<ReplicationPage>;

  /**
   * The same stretch as readSince, digests only: a peer is offered digests first and sent only the envelopes it
   * lacks, usually none, so reading topics and messages for the offer would be wasted.
   */
  readDigestsSince(afterSequence: bigint, limit: number): Promise<DigestPage>;

  /** The envelopes with these sequence numbers (as readDigestsSince gave them), in the order asked; unknown ones are left out. */
  readBySequence(sequences: readonly bigint[]): Promise<StoredEnvelope[]>;

  close(): Promise<void>;
}
