// The one path every envelope takes into the node, whether published here or relayed from a peer:
// store (unless ephemeral) → fan out to live subscribers → hand local ones to the relays.
//
// Fan-out happens as soon as the store has committed the envelopes, when the store can say so (SQLite: before the
// WAL flush that the publisher's acknowledgement waits for), so subscribers do not wait for the disk.
//
// A store shared by several node processes (PostgreSQL) feeds the subscribers itself, in its commit order, with
// what every process committed (SharedEnvelopeStore.follow, wired in server.ts): the ingest then streams nothing
// directly, and hands ephemeral envelopes to the store so that every process's subscribers get them.
import type { Envelope, EnvelopeStore, SharedEnvelopeStore, StoredEnvelope } from "./store/EnvelopeStore.js";
import { digestKey, withDigest } from "./store/digest.js";
import type { SubscriptionHub } from "./hub.js";
import { silentLogger, type Logger } from "./log.js";

export type EnvelopeOrigin = "local" | "peer";

/** Something that forwards locally published envelopes to other nodes (e.g. the gossip relay). */
export interface Relay {
  broadcast(envelopes: readonly StoredEnvelope[]): void | Promise<void>;
}

/** Ephemeral topics are relayed to subscribers but never stored (docs/protocol/api.md §5). */
export function isEphemeralTopic(topic: string): boolean {
  return topic.startsWith("/xmtp/0/mE-") || topic.startsWith("/xmtp/0/dmE-");
}

export interface IngestResult {
  /** Envelopes this node had not seen (new stored ones and every ephemeral one), in input order. */
  delivered: StoredEnvelope[];
  /** How many were already stored. */
  duplicates: number;
  /** How many from peers were not imported because this node's retention policy has already expired them. */
  expired: number;
}

/**
 * The retention horizon (docs/storage.md): envelopes from peers that this node's policy has already expired are not
 * imported, so nodes with different policies do not hand the same old envelopes back and forth.
 */
export interface IngestRetention {
  /** The topic class whose policy has expired this envelope, or undefined to keep it. */
  expiredClassOf(envelope: Envelope): string | undefined;
  onExpired?(topicClass: string): void;
}

export class EnvelopeIngest {
  private readonly relays = new Set<Relay>();

  constructor(
    private readonly store: EnvelopeStore,
    private readonly hub: SubscriptionHub,
    private readonly logger: Logger = silentLogger,
    /** Set when subscribers are fed by following this shared store (the same store as `store`, maybe unwrapped). */
    private readonly sharedStore?: SharedEnvelopeStore,
    private readonly retention?: IngestRetention,
  ) {}

  /** Registers a relay; returns a function that removes it. */
  addRelay(relay: Relay): () => void {
    this.relays.add(relay);
    return () => this.relays.delete(relay);
  }

  /**
   * Takes already validated (and, for local ones, authorized) envelopes. Resolves once the storable ones are
   * durably committed; subscribers and relays get them at the commit already when the store reports it.
   * Duplicates are not stored or streamed again; local duplicates are still relayed, as the reference node does,
   * so a peer that missed the first copy gets it.
   */
  async ingest(envelopes: readonly (Envelope | StoredEnvelope)[], origin: EnvelopeOrigin): Promise<IngestResult> {
    // The relay and catch-up compute each envelope's digest when they validate it; it is not computed twice.
    let withDigests = envelopes.map((e) => ("digest" in e && e.digest instanceof Uint8Array ? e : withDigest(e)));
    let expired = 0;
    if (origin === "peer" && this.retention) {
      const kept = withDigests.filter((e) => !this.isExpired(e));
      expired = withDigests.length - kept.length;
      withDigests = kept;
    }
    const storable = withDigests.filter((e) => !isEphemeralTopic(e.contentTopic));
    if (this.sharedStore) return { ...(await this.ingestShared(this.sharedStore, withDigests, storable, origin)), expired };
    let delivered: StoredEnvelope[] | undefined;
    const fanOut = (added: StoredEnvelope[]) => {
      delivered = newEnvelopes(withDigests, storable, added);
      this.publish(delivered, withDigests, origin);
    };
    if (storable.length === 0) fanOut([]);
    // Envelopes from peers are committed without waiting for the disk: no client waits for them, and should power
    // fail before the next WAL flush, the lost tail is fetched again from the peers by catch-up (whose saved
    // positions only advance behind a flush; see sync/syncState.ts). A crash of the process loses nothing: the
    // commit is in the operating system's cache. Local publishes are acknowledged only once on disk.
    const added = storable.length > 0 ? await this.store.append(storable, fanOut, { durable: origin === "local" }) : [];
    // A store that cannot report the commit early: fan out now that the append is durable.
    if (!delivered) fanOut(added);
    return { delivered: delivered!, duplicates: storable.length - added.length, expired };
  }

  private isExpired(envelope: Envelope): boolean {
    const topicClass = this.retention!.expiredClassOf(envelope);
    if (topicClass === undefined) return false;
    this.retention!.onExpired?.(topicClass);
    return true;
  }

  /** With a shared store: subscribers get the stored envelopes from the store's follower, and the ephemeral ones too. */
  private async ingestShared(
    shared: SharedEnvelopeStore,
    all: StoredEnvelope[],
    storable: StoredEnvelope[],
    origin: EnvelopeOrigin,
  ): Promise<Omit<IngestResult, "expired">> {
    const ephemeral = storable.length === all.length ? [] : all.filter((e) => isEphemeralTopic(e.contentTopic));
    const [added] = await Promise.all([
      storable.length > 0 ? this.store.append(storable, undefined, { durable: origin === "local" }) : [],
      ephemeral.length > 0 ? shared.shareEphemeral(ephemeral) : undefined,
    ]);
    const delivered = newEnvelopes(all, storable, added);
    this.relay(all, origin);
    return { delivered, duplicates: storable.length - added.length };
  }

  /** Streams the new envelopes; relays every local one, duplicates included. */
  private publish(delivered: StoredEnvelope[], all: StoredEnvelope[], origin: EnvelopeOrigin): void {
    this.hub.publish(delivered);
    this.relay(all, origin);
  }

  private relay(all: StoredEnvelope[], origin: EnvelopeOrigin): void {
    if (origin !== "local") return;
    for (const relay of this.relays) {
      try {
        const pending = relay.broadcast(all);
        if (pending) pending.catch((error) => this.logger.warn("relay broadcast failed", { error }));
      } catch (error) {
        this.logger.warn("relay broadcast failed", { error });
      }
    }
  }
}

/** The envelopes this node had not seen: the stored ones (`added`) and every ephemeral one, in input order. */
function newEnvelopes(all: StoredEnvelope[], storable: StoredEnvelope[], added: StoredEnvelope[]): StoredEnvelope[] {
  if (added.length === storable.length) return all;
  // Match by digest: a store may hand back copies rather than the objects it was given.
  const addedDigests = new Set(added.map((e) => digestKey(e.digest)));
  return all.filter((e) => isEphemeralTopic(e.contentTopic) || addedDigests.delete(digestKey(e.digest)));
}
