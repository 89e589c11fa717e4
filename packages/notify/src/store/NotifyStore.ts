// What the notification service keeps, behind one interface with two implementations: embedded SQLite
// (sqlite.ts, the default) and PostgreSQL (postgres.ts). The behaviour both must have is the conformance suite in
// src/test-support/notifyStoreConformance.ts.

/**
 * Where an installation's notifications go. A tagged union: a new kind (Web Push) adds a member here, a validator in
 * src/targets.ts and a sender in src/delivery/; the store keeps any kind as its tag plus a JSON document.
 */
export type DeliveryTarget = WebhookTarget | WebPushTarget;

export interface WebhookTarget {
  kind: "webhook";
  /** http: or https: URL the envelope is POSTed to. */
  url: string;
}

/** A browser's push subscription (`PushSubscription.toJSON()`): where its push service takes messages, and its keys. */
export interface WebPushTarget {
  kind: "webpush";
  /** The push service's URL for this subscription. */
  endpoint: string;
  keys: {
    /** The browser's P-256 public key, uncompressed, base64url. */
    p256dh: string;
    /** The 16-byte authentication secret, base64url. */
    auth: string;
  };
}

export interface NewInstallation {
  id: string;
  target: DeliveryTarget;
  /**
   * Shared with the installation's owner; signs every webhook delivery (HMAC-SHA256). Kept as given: it must sign.
   * Empty for Web Push, whose messages are encrypted to the subscription's keys instead.
   */
  secret: string;
  /** sha256 of the access key, hex. The key itself is never stored. */
  accessKeyHash: string;
  createdAtMs: number;
}

export type Installation = NewInstallation;

/** An envelope as the service handles it; `digest` is sha256(topic ‖ message), hex. */
export interface NotifyEnvelope {
  topic: string;
  timestampNs: bigint;
  message: Uint8Array;
  digest: string;
}

/** How far a followed node's stream has been taken into the store. */
export interface NodeCursor {
  /** The newest envelope timestamp taken in (capped at the service's clock), in ns. */
  timestampNs: bigint;
  /** Digest of the envelope that set timestampNs (hex), or "" for a cursor set from the clock alone. */
  digest: string;
  updatedAtMs: number;
}

export type DeliveryState = "pending" | "delivered" | "dead";

export interface Delivery {
  /** Order of enqueueing, increasing across the whole store; per installation, deliveries go out in this order. */
  seq: number;
  installationId: string;
  envelope: NotifyEnvelope;
  state: DeliveryState;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAtMs: number;
  lastError: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A delivery due now, with what is needed to send it. */
export interface DueDelivery extends Delivery {
  target: DeliveryTarget;
  secret: string;
}

export interface IngestResult {
  /** Envelopes not seen before (by digest), in the order given. */
  fresh: number;
  /** Envelopes already seen (from this node before, or from another node). */
  duplicates: number;
  /** Deliveries enqueued (one per fresh envelope and subscribed installation). */
  enqueued: number;
}

export interface SubscribeResult {
  /** Every topic the installation is now subscribed to, sorted. */
  topics: string[];
}

export class TopicLimitError extends Error {
  constructor(
    readonly limit: number,
    readonly wouldHave: number,
  ) {
    super(`an installation may subscribe to at most ${limit} topics (this request would make it ${wouldHave})`);
    this.name = "TopicLimitError";
  }
}

export interface DeliveryCounts {
  pending: number;
  delivered: number;
  dead: number;
}

export interface QueueStats {
  pending: number;
  dead: number;
  installations: number;
}

export interface NotifyStore {
  readonly kind: "sqlite" | "postgres";

  createInstallation(installation: NewInstallation): Promise<void>;
  getInstallation(id: string): Promise<Installation | undefined>;
  /** Deletes the installation, its topics and every delivery of it. False when there was none. */
  deleteInstallation(id: string): Promise<boolean>;

  /**
   * Adds topics (already subscribed ones are kept once). Atomic with the limit check: throws TopicLimitError and
   * changes nothing when the installation would have more than maxTopics.
   */
  subscribe(id: string, topics: string[], maxTopics: number): Promise<SubscribeResult>;
  unsubscribe(id: string, topics: string[]): Promise<SubscribeResult>;
  topicsOf(id: string): Promise<string[]>;
  /** Every topic some installation is subscribed to, sorted, each once. */
  allTopics(): Promise<string[]>;

  getCursor(node: string): Promise<NodeCursor | undefined>;
  /** Sets a node's cursor on its own (the first start sets it from the clock). */
  setCursor(node: string, cursor: NodeCursor): Promise<void>;

  /**
   * In one transaction: marks each envelope's digest seen (an envelope seen before, from any node, is skipped),
   * enqueues one pending delivery per installation subscribed to a fresh envelope's topic (due at nowMs), and, when
   * given, sets the node's cursor. Deliveries are therefore durable no later than the cursor that passes them.
   */
  ingest(node: string, envelopes: NotifyEnvelope[], cursor: NodeCursor | undefined, nowMs: number): Promise<IngestResult>;

  /**
   * The deliveries to attempt now: for each installation not in `busy`, its oldest pending delivery (by seq), when
   * that one is due (nextAttemptAtMs ≤ nowMs). At most `limit`, the longest-waiting first.
   */
  dueDeliveries(nowMs: number, limit: number, busy: ReadonlySet<string>): Promise<DueDelivery[]>;
  /** The earliest nextAttemptAtMs among the installations' oldest pending deliveries, excluding `busy` ones. */
  nextDueAtMs(busy: ReadonlySet<string>): Promise<number | undefined>;
  /**
   * A delivery succeeded: its state becomes delivered and its message bytes are dropped (the row stays, for the
   * counts and as a second guard against a repeat, until pruneDelivered).
   */
  markDelivered(seq: number, nowMs: number): Promise<void>;
  /** An attempt failed: records it, and either schedules the next attempt or, with dead, dead-letters it. */
  markFailed(seq: number, failure: { attempts: number; nextAttemptAtMs: number; error: string; dead: boolean }, nowMs: number): Promise<void>;

  /** An installation's deliveries by state. */
  deliveryCounts(id: string): Promise<DeliveryCounts>;
  /** Dead-lettered deliveries of an installation, oldest first, at most `limit`. */
  deadLetters(id: string, limit: number): Promise<Delivery[]>;
  /** Removes an installation's dead letters; returns how many. */
  clearDeadLetters(id: string): Promise<number>;
  queueStats(): Promise<QueueStats>;

  /**
   * Forgets seen digests that can no longer come back through catch-up: those whose envelope timestamp is before
   * beforeTimestampNs and that were first seen before seenBeforeMs. Returns how many.
   */
  pruneSeen(beforeTimestampNs: bigint, seenBeforeMs: number): Promise<number>;
  /** Forgets delivered deliveries recorded before `beforeMs`; returns how many. */
  pruneDelivered(beforeMs: number): Promise<number>;
  /**
   * The service's own long-lived keys (the VAPID key pair): returns the value stored under `name`, storing `value`
   * first when there is none. Kept with the data, so a restart or a second instance over the same database signs
   * with the key browsers subscribed with.
   */
  ensureServiceKey(name: string, value: string): Promise<string>;
  /** Every node cursor (for pruning and /metrics). */
  cursors(): Promise<Map<string, NodeCursor>>;

  close(): Promise<void>;
}

/** Timestamps are uint64; the stores keep them as 20-digit zero-padded decimal text, which sorts like the number. */
export function timestampColumn(timestampNs: bigint): string {
  if (timestampNs < 0n || timestampNs >= 1n << 64n) throw new RangeError(`timestamp out of the uint64 range: ${timestampNs}`);
  return timestampNs.toString().padStart(20, "0");
}

export function timestampFromColumn(column: string): bigint {
  return BigInt(column);
}
