// Waku v2 relay of XMTP envelopes over gossipsub: one pubsub topic, each envelope carried as an unsigned
// WakuMessage. Envelopes published locally are broadcast; envelopes from peers are validated, then handed to the
// node's ingest exactly like a local publish (stored once by digest, streamed to subscribers).
import "./promiseWithResolvers.js";
import { TopicValidatorResult, type GossipSub, type Message } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import type { Envelope, StoredEnvelope } from "../store/EnvelopeStore.js";
import { envelopeDigest } from "../store/digest.js";
import { decodeWakuMessage, encodeWakuMessage } from "./wakuMessage.js";
import { relayEnvelopeProblem } from "./validation.js";
import { isEphemeralTopic } from "../ingest.js";
import { ThrottledWarning, type NetworkLogger } from "./logger.js";
import type { RecentDigests } from "../sync/recentDigests.js";

export const WAKU_RELAY_PROTOCOL = "/vac/waku/relay/2.0.0";
export const WAKU_PUBSUB_TOPIC = "/waku/2/default-waku/proto";

/** Where envelopes received from peers go: the node's ingest pipeline with origin "peer". */
export interface PeerEnvelopeSink {
  ingest(envelopes: readonly Envelope[], origin: "peer"): Promise<unknown>;
}

/**
 * Relayed envelopes waiting for the store beyond this many are dropped (and logged): a peer flooding faster than the
 * store can write must not exhaust memory, and catch-up sync fetches whatever was dropped.
 */
const MAX_PENDING_ENVELOPES = 10_000;
export const DEFAULT_BATCH_WINDOW_MS = 5;

export function envelopeToWakuMessageBytes(envelope: Envelope): Uint8Array {
  return encodeWakuMessage({
    payload: envelope.message,
    contentTopic: envelope.contentTopic,
    timestamp: envelope.timestampNs,
    ephemeral: isEphemeralTopic(envelope.contentTopic) ? true : undefined,
  });
}

/** Decodes and validates relayed bytes; throws an Error whose message says what is wrong. */
export function wakuMessageBytesToEnvelope(bytes: Uint8Array): Envelope {
  const waku = decodeWakuMessage(bytes);
  if (waku.timestamp === undefined) throw new Error("relay message has no timestamp");
  const envelope: Envelope = { contentTopic: waku.contentTopic, timestampNs: waku.timestamp, message: waku.payload };
  const problem = relayEnvelopeProblem(envelope);
  if (problem) throw new Error(problem);
  return envelope;
}

export interface WakuRelayStats {
  broadcast: number;
  received: number;
  dropped: number;
}

export class WakuRelay {
  readonly stats: WakuRelayStats = { broadcast: 0, received: 0, dropped: 0 };
  /** What the validator decoded, with the envelope's digest, for the delivery that follows a successful validation. */
  private readonly decoded = new WeakMap<Message, StoredEnvelope>();
  private readonly dropWarning: ThrottledWarning;
  private pending: StoredEnvelope[] = [];
  private flushing: Promise<void> | undefined;
  private started = false;

  constructor(
    private readonly pubsub: GossipSub,
    private readonly sink: PeerEnvelopeSink,
    private readonly logger: NetworkLogger,
    private readonly options: {
      /** How long the first relayed envelope of a batch waits for others to share its commit (ms). */
      batchWindowMs?: number;
      /** Told about every envelope stored through the relay or broadcast after a local publish. */
      recent?: RecentDigests;
    } = {},
  ) {
    this.dropWarning = new ThrottledWarning(logger, "dropped relay message");
  }

  /** Gossipsub only speaks the protocols listed before libp2p starts, so call this before `libp2p.start()`. */
  static useWakuProtocol(pubsub: GossipSub): void {
    pubsub.protocols.splice(0, pubsub.protocols.length, WAKU_RELAY_PROTOCOL);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pubsub.topicValidators.set(WAKU_PUBSUB_TOPIC, this.validate);
    this.pubsub.addEventListener("message", this.onMessage);
    this.pubsub.subscribe(WAKU_PUBSUB_TOPIC);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.pubsub.removeEventListener("message", this.onMessage);
    this.pubsub.topicValidators.delete(WAKU_PUBSUB_TOPIC);
    try {
      this.pubsub.unsubscribe(WAKU_PUBSUB_TOPIC);
    } catch {
      // gossipsub refuses to unsubscribe once it is stopping; nothing is left to undo then
    }
    while (this.flushing) await this.flushing;
  }

  /**
   * Sends envelopes that passed this node's publish checks to the network. Never throws: the envelopes are already
   * stored locally, and peers that miss a broadcast recover them by catch-up sync.
   */
  async broadcast(envelopes: readonly Envelope[]): Promise<void> {
    if (!this.started) return;
    // The node's ingest broadcasts local publishes after committing them.
    this.options.recent?.addEnvelopes(envelopes.filter((envelope) => !isEphemeralTopic(envelope.contentTopic)));
    const publishes: Promise<unknown>[] = [];
    for (const envelope of envelopes) {
      const problem = relayEnvelopeProblem(envelope);
      if (problem) {
        this.logger.warn("not relaying envelope", { reason: problem, topic: envelope.contentTopic.slice(0, 100) });
        continue;
      }
      // All of them go out before any is awaited, so a commit's worth leaves together (see coalescedWrites.ts).
      publishes.push(this.pubsub.publish(WAKU_PUBSUB_TOPIC, envelopeToWakuMessageBytes(envelope)).then(this.published, this.publishFailed));
    }
    await Promise.all(publishes);
  }

  private readonly published = () => {
    this.stats.broadcast++;
  };

  private readonly publishFailed = (error: unknown) => {
    this.logger.warn("relay publish failed", { error: String(error) });
  };

  private readonly validate = (peer: PeerId, message: Message) => {
    try {
      if (message.type !== "unsigned") throw new Error("relay message is signed; the Waku relay uses StrictNoSign");
      const envelope = wakuMessageBytesToEnvelope(message.data);
      // Computed once here; storage, dedupe and the catch-up bookkeeping all use this digest.
      this.decoded.set(message, { ...envelope, digest: envelopeDigest(envelope.contentTopic, envelope.message) });
      return TopicValidatorResult.Accept;
    } catch (error) {
      this.stats.dropped++;
      this.dropWarning.warn({ peer: peer.toString(), reason: error instanceof Error ? error.message : String(error) });
      return TopicValidatorResult.Reject;
    }
  };

  private readonly onMessage = (event: CustomEvent<Message>) => {
    const message = event.detail;
    if (message.topic !== WAKU_PUBSUB_TOPIC) return;
    let envelope = this.decoded.get(message);
    if (!envelope) {
      try {
        const decoded = wakuMessageBytesToEnvelope(message.data);
        envelope = { ...decoded, digest: envelopeDigest(decoded.contentTopic, decoded.message) };
      } catch {
        return;
      }
    }
    this.stats.received++;
    if (this.pending.length >= MAX_PENDING_ENVELOPES) {
      this.stats.dropped++;
      this.dropWarning.warn({ reason: "store is behind; catch-up sync will fetch this envelope" });
      return;
    }
    this.pending.push(envelope);
    this.scheduleFlush();
  };

  // Relayed envelopes are stored in batches: the first one waits batchWindowMs for company, and those arriving while a
  // store write is in flight go together into the next one. A burst then costs a few commits rather than one each
  // (every commit is an fsync, and the nodes of one machine share a disk).
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      const window = this.options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS;
      if (window > 0) await new Promise((resolve) => setTimeout(resolve, window));
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.sink.ingest(batch, "peer");
          this.options.recent?.addEnvelopes(batch.filter((envelope) => !isEphemeralTopic(envelope.contentTopic)));
        } catch (error) {
          this.logger.error("storing relayed envelopes failed", { count: batch.length, error: String(error) });
        }
      }
      this.flushing = undefined;
    })();
  }
}
