// Waku v2 relay of XMTP envelopes over gossipsub, each envelope carried as an unsigned WakuMessage, on two pubsub
// topics that form one stream: the autosharded `/waku/2/rs/<cluster>/<shard>` of XMTP topics (what current Waku
// implementations use) and the named `/waku/2/default-waku/proto` (what earlier xmtp-ts nodes use). Envelopes
// published locally are broadcast; envelopes from peers are validated, then handed to the node's ingest exactly like a
// local publish (stored once by digest, streamed to subscribers). See relayTopics.ts and docs/network.md ("Relay").
import "../p2p/promiseWithResolvers.js";
import { TopicValidatorResult, type GossipSub, type GossipsubMessage, type Message } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import type { Envelope, StoredEnvelope } from "../store/EnvelopeStore.js";
import { envelopeDigest } from "../store/digest.js";
import { encodeWakuMessage } from "./wakuMessage.js";
import { needsPostageCheck, type AdmitFromPeer, type PeerAdmission } from "../postage/peerAdmission.js";
import { relayEnvelopeProblem } from "../p2p/validation.js";
import { isEphemeralTopic } from "../ingest.js";
import { ThrottledWarning, type NetworkLogger } from "../p2p/logger.js";
import type { RecentDigests } from "../p2p/recentDigests.js";
import { TopicPeers, WAKU_LEGACY_PUBSUB_TOPIC, classifyRelayMessage } from "./relayTopics.js";

export const WAKU_RELAY_PROTOCOL = "/vac/waku/relay/2.0.0";
/** The named pubsub topic of earlier xmtp-ts nodes (and of Waku before sharding). */
export const WAKU_PUBSUB_TOPIC = WAKU_LEGACY_PUBSUB_TOPIC;

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
    // The envelope's postage proof travels in RFC 14's application metadata (docs/postage.md §4).
    meta: envelope.postage,
    ephemeral: isEphemeralTopic(envelope.contentTopic) ? true : undefined,
  });
}

/** Decodes and validates relayed bytes (under the legacy topic's rules); throws an Error whose message says what is wrong. */
export function wakuMessageBytesToEnvelope(bytes: Uint8Array): Envelope {
  const verdict = classifyRelayMessage(bytes, false);
  if (verdict.kind !== "accept") throw new Error(verdict.reason);
  return verdict.envelope;
}

export interface WakuRelayStats {
  /** Local envelopes published (on the relay's publish topic). */
  broadcast: number;
  /** Envelopes from peers handed to the ingest. */
  received: number;
  /** Messages rejected, or dropped because the store was behind. */
  dropped: number;
  /** Messages on the shard that are not XMTP envelopes (js-waku relay pings, other Waku apps): ignored. */
  ignored: number;
  /** Envelopes from peers already stored here (they arrived another way first): not ingested again. */
  duplicates: number;
  /** Copies sent on the other topic, to peers that listen only there (older nodes, or Waku relay nodes). */
  bridged: number;
}

export interface WakuRelayOptions {
  /** How long the first relayed envelope of a batch waits for others to share its commit (ms). */
  batchWindowMs?: number;
  /** Told about every envelope stored through the relay or broadcast after a local publish. */
  recent?: RecentDigests;
  /**
   * The `/waku/2/rs/<cluster>/<shard>` topic of XMTP envelopes: published on, subscribed to beside the legacy topic,
   * and bridged with it. Absent: the relay uses the legacy topic alone, as nodes did before (tests use this to stand
   * in for an older node).
   */
  shardedTopic?: string;
  /**
   * Postage (docs/postage.md): envelopes on reach topics pass this before gossipsub forwards them; refused ones are
   * rejected like any invalid message, so an unpaid envelope a rogue peer injects goes no further than us.
   */
  admit?: AdmitFromPeer;
}

export class WakuRelay {
  readonly stats: WakuRelayStats = { broadcast: 0, received: 0, dropped: 0, ignored: 0, duplicates: 0, bridged: 0 };
  /** Every topic subscribed to, the publish topic first. */
  readonly topics: readonly string[];
  /** Where local envelopes are published: the sharded topic when there is one. */
  readonly publishTopic: string;
  /** What the validator decoded, with the envelope's digest, for the delivery that follows a successful validation. */
  private readonly decoded = new WeakMap<Message, StoredEnvelope>();
  private readonly dropWarning: ThrottledWarning;
  private readonly peers: TopicPeers;
  private readonly validators: Map<string, (peer: PeerId, message: Message) => TopicValidatorResult | Promise<TopicValidatorResult>>;
  private pending: StoredEnvelope[] = [];
  private flushing: Promise<void> | undefined;
  private started = false;

  constructor(
    private readonly pubsub: GossipSub,
    private readonly sink: PeerEnvelopeSink,
    private readonly logger: NetworkLogger,
    private readonly options: WakuRelayOptions = {},
  ) {
    this.dropWarning = new ThrottledWarning(logger, "dropped relay message");
    this.peers = new TopicPeers(pubsub);
    const sharded = options.shardedTopic;
    if (sharded === WAKU_PUBSUB_TOPIC) throw new Error(`the sharded relay topic cannot be ${WAKU_PUBSUB_TOPIC}`);
    this.topics = sharded === undefined ? [WAKU_PUBSUB_TOPIC] : [sharded, WAKU_PUBSUB_TOPIC];
    this.publishTopic = this.topics[0];
    this.validators = new Map(this.topics.map((topic) => [topic, this.validatorFor(topic === sharded)]));
  }

  /** Gossipsub only speaks the protocols listed before libp2p starts, so call this before `libp2p.start()`. */
  static useWakuProtocol(pubsub: GossipSub): void {
    pubsub.protocols.splice(0, pubsub.protocols.length, WAKU_RELAY_PROTOCOL);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const [topic, validator] of this.validators) this.pubsub.topicValidators.set(topic, validator);
    this.pubsub.addEventListener("gossipsub:message", this.onMessage);
    for (const topic of this.topics) this.pubsub.subscribe(topic);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.pubsub.removeEventListener("gossipsub:message", this.onMessage);
    for (const topic of this.topics) {
      this.pubsub.topicValidators.delete(topic);
      try {
        this.pubsub.unsubscribe(topic);
      } catch {
        // gossipsub refuses to unsubscribe once it is stopping; nothing is left to undo then
      }
    }
    while (this.flushing) await this.flushing;
  }

  /** Distinct peers that hear what this node publishes: subscribers of the sharded topic or the legacy one. */
  relayPeerCount(): number {
    return this.peers.countOn(this.topics);
  }

  /**
   * Sends envelopes that passed this node's publish checks to the network: published on the sharded topic, and sent
   * on the legacy topic to the peers subscribed to it and not to the sharded one (older nodes). Never throws: the
   * envelopes are already stored locally, and peers that miss a broadcast recover them by catch-up sync.
   */
  async broadcast(envelopes: readonly Envelope[]): Promise<void> {
    if (!this.started) return;
    // The node's ingest broadcasts local publishes after committing them.
    this.options.recent?.addEnvelopes(envelopes.filter((envelope) => !isEphemeralTopic(envelope.contentTopic)));
    const legacyOnly = this.topics.length > 1 ? this.peers.onlyOn(WAKU_PUBSUB_TOPIC, this.publishTopic) : [];
    const publishes: Promise<unknown>[] = [];
    for (const envelope of envelopes) {
      const problem = relayEnvelopeProblem(envelope);
      if (problem) {
        this.logger.warn("not relaying envelope", { reason: problem, topic: envelope.contentTopic.slice(0, 100) });
        continue;
      }
      const bytes = envelopeToWakuMessageBytes(envelope);
      // All of them go out before any is awaited, so a commit's worth leaves together (see coalescedWrites.ts).
      publishes.push(this.pubsub.publish(this.publishTopic, bytes).then(this.published, this.publishFailed));
      if (legacyOnly.length > 0) this.stats.bridged += this.peers.send(WAKU_PUBSUB_TOPIC, bytes, legacyOnly);
    }
    await Promise.all(publishes);
  }

  private readonly published = () => {
    this.stats.broadcast++;
  };

  private readonly publishFailed = (error: unknown) => {
    this.logger.warn("relay publish failed", { error: String(error) });
  };

  private validatorFor(sharedTopic: boolean) {
    return (peer: PeerId, message: Message): TopicValidatorResult | Promise<TopicValidatorResult> => {
      if (message.type !== "unsigned") {
        return this.refuse(peer, "relay message is signed; the Waku relay uses StrictNoSign");
      }
      const verdict = classifyRelayMessage(message.data, sharedTopic);
      switch (verdict.kind) {
        case "accept": {
          const { envelope } = verdict;
          // Computed once here; storage, dedupe and the catch-up bookkeeping all use this digest.
          const stored = { ...envelope, digest: envelopeDigest(envelope.contentTopic, envelope.message) };
          const admit = this.options.admit;
          if (admit && needsPostageCheck(stored.contentTopic)) return this.admitted(peer, message, admit(stored));
          this.decoded.set(message, stored);
          return TopicValidatorResult.Accept;
        }
        case "ignore":
          // The shard is shared with every Waku application of the cluster: their messages are not ours to judge.
          this.stats.ignored++;
          return TopicValidatorResult.Ignore;
        case "reject":
          return this.refuse(peer, verdict.reason);
      }
    };
  }

  private async admitted(peer: PeerId, message: Message, admission: Promise<PeerAdmission>): Promise<TopicValidatorResult> {
    const answer = await admission;
    switch (answer.kind) {
      case "accept":
        this.decoded.set(message, answer.envelope);
        return TopicValidatorResult.Accept;
      case "refuse":
        return this.refuse(peer, answer.reason);
      case "unchecked":
        // Not the peer's fault: neither taken nor forwarded now, and no penalty; catch-up offers it again.
        this.stats.dropped++;
        this.dropWarning.warn({ peer: peer.toString(), reason: `postage could not be checked: ${answer.reason}` });
        return TopicValidatorResult.Ignore;
    }
  }

  private refuse(peer: PeerId, reason: string): TopicValidatorResult {
    this.stats.dropped++;
    this.dropWarning.warn({ peer: peer.toString(), reason });
    return TopicValidatorResult.Reject;
  }

  private readonly onMessage = (event: CustomEvent<GossipsubMessage>) => {
    const { msg: message, propagationSource, msgId } = event.detail;
    if (!this.validators.has(message.topic)) return;
    let envelope = this.decoded.get(message);
    if (!envelope) {
      const verdict = classifyRelayMessage(message.data, message.topic !== WAKU_PUBSUB_TOPIC);
      if (verdict.kind !== "accept") return;
      envelope = { ...verdict.envelope, digest: envelopeDigest(verdict.envelope.contentTopic, verdict.envelope.message) };
    }
    // Gossipsub has forwarded the message on its own topic; the peers listening only on the other one get it there.
    // (A message already delivered on either topic never gets here again: the gossipsub message id is sha256 of the
    // bytes, whatever the topic, so the seen-cache drops the second copy before validation.)
    if (this.topics.length > 1) {
      const other = message.topic === WAKU_PUBSUB_TOPIC ? this.publishTopic : WAKU_PUBSUB_TOPIC;
      const peers = this.peers.onlyOn(other, message.topic, propagationSource.toString(), msgId);
      if (peers.length > 0) this.stats.bridged += this.peers.send(other, message.data, peers);
    }
    // The same envelope in other bytes (another encoding of the WakuMessage), or after the seen-cache forgot it,
    // or after catch-up fetched it: stored already, so not ingested (nor streamed) again.
    if (this.options.recent?.has(envelope.digest)) {
      this.stats.duplicates++;
      return;
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
