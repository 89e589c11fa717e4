// The one path every envelope takes into the node, whether published here or relayed from a peer:
// store (unless ephemeral) → fan out to live subscribers → hand local ones to the relays.
import type { Envelope, EnvelopeStore, StoredEnvelope } from "./store/EnvelopeStore.js";
import { withDigest } from "./store/digest.js";
import type { SubscriptionHub } from "./hub.js";
import { silentLogger, type Logger } from "./log.js";

export type EnvelopeOrigin = "local" | "peer";

/** Something that forwards locally published envelopes to other nodes (e.g. the gossip relay). */
export interface Relay {
  broadcast(envelopes: readonly StoredEnvelope[]): void | Promise<void>;
}

/** Ephemeral topics are relayed to subscribers but never stored (wire doc §5). */
export function isEphemeralTopic(topic: string): boolean {
  return topic.startsWith("/xmtp/0/mE-") || topic.startsWith("/xmtp/0/dmE-");
}

export interface IngestResult {
  /** Envelopes this node had not seen (new stored ones and every ephemeral one), in input order. */
  delivered: StoredEnvelope[];
  /** How many were already stored. */
  duplicates: number;
}

const digestKey = (digest: Uint8Array) => Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString("hex");

export class EnvelopeIngest {
  private readonly relays = new Set<Relay>();

  constructor(
    private readonly store: EnvelopeStore,
    private readonly hub: SubscriptionHub,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Registers a relay; returns a function that removes it. */
  addRelay(relay: Relay): () => void {
    this.relays.add(relay);
    return () => this.relays.delete(relay);
  }

  /**
   * Takes already validated (and, for local ones, authorized) envelopes. Resolves once the storable ones are
   * committed. Duplicates are not stored or streamed again; local duplicates are still relayed, as the
   * reference node does, so a peer that missed the first copy gets it.
   */
  async ingest(envelopes: readonly Envelope[], origin: EnvelopeOrigin): Promise<IngestResult> {
    const withDigests = envelopes.map(withDigest);
    const storable = withDigests.filter((e) => !isEphemeralTopic(e.contentTopic));
    const added = storable.length > 0 ? await this.store.append(storable) : [];
    let delivered = withDigests;
    if (added.length !== storable.length) {
      // Match by digest: a store may hand back copies rather than the objects it was given.
      const addedDigests = new Set(added.map((e) => digestKey(e.digest)));
      delivered = withDigests.filter((e) => isEphemeralTopic(e.contentTopic) || addedDigests.delete(digestKey(e.digest)));
    }
    this.hub.publish(delivered);
    if (origin === "local") {
      for (const relay of this.relays) {
        try {
          const pending = relay.broadcast(withDigests);
          if (pending) pending.catch((error) => this.logger.warn("relay broadcast failed", { error }));
        } catch (error) {
          this.logger.warn("relay broadcast failed", { error });
        }
      }
    }
    return { delivered, duplicates: storable.length - added.length };
  }
}
