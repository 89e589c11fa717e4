// The relay's two pubsub topics. Waku retired named pubsub topics: current implementations (js-waku, nwaku) relay on
// `/waku/2/rs/<cluster>/<shard>`, and every XMTP content topic autoshards to one shard. Nodes of this project before
// the sharded relay listen on `/waku/2/default-waku/proto` only. A node subscribes to both and treats them as one
// stream of envelopes; what arrives on one is passed on to the peers that listen only on the other (see wakuRelay.ts
// and docs/network.md, "Relay").
import type { GossipSub } from "@libp2p/gossipsub";
import type { Envelope } from "../store/EnvelopeStore.js";
import { decodeWakuMessage } from "./wakuMessage.js";
import { relayEnvelopeProblem, relayTopicProblem } from "../p2p/validation.js";

/** The named topic of earlier xmtp-ts nodes (and of Waku before sharding). */
export const WAKU_LEGACY_PUBSUB_TOPIC = "/waku/2/default-waku/proto";

/** The keep-alive js-waku relay nodes publish on their shards every few minutes. */
export const WAKU_RELAY_PING_CONTENT_TOPIC = "/relay-ping/1/ping/null";

export type RelayVerdict =
  | { kind: "accept"; envelope: Envelope }
  /** Not ours to judge: dropped without forwarding, and without lowering the sender's gossipsub score. */
  | { kind: "ignore"; reason: string }
  /** Invalid: dropped, not forwarded, and the sender's score lowered. */
  | { kind: "reject"; reason: string };

/**
 * What to do with relayed bytes. `sharedTopic` is true on a `/waku/2/rs/…` shard, which other Waku applications of
 * the cluster share: a well-formed WakuMessage whose content topic is not an XMTP one (js-waku's relay ping, another
 * app's traffic) is ignored there. On the legacy topic, which only XMTP nodes use, it is rejected as before.
 * Anything that is not a WakuMessage, and XMTP envelopes that break the relay's rules, are rejected on both.
 */
export function classifyRelayMessage(bytes: Uint8Array, sharedTopic: boolean): RelayVerdict {
  let waku;
  try {
    waku = decodeWakuMessage(bytes);
  } catch (error) {
    return { kind: "reject", reason: error instanceof Error ? error.message : String(error) };
  }
  const topicProblem = relayTopicProblem(waku.contentTopic);
  if (topicProblem) return sharedTopic ? { kind: "ignore", reason: topicProblem } : { kind: "reject", reason: topicProblem };
  if (waku.timestamp === undefined) return { kind: "reject", reason: "relay message has no timestamp" };
  const envelope: Envelope = { contentTopic: waku.contentTopic, timestampNs: waku.timestamp, message: waku.payload };
  // RFC 14's application metadata carries the envelope's postage proof (docs/postage.md §4).
  if (waku.meta !== undefined && waku.meta.length > 0) envelope.postage = waku.meta;
  const problem = relayEnvelopeProblem(envelope);
  if (problem) return { kind: "reject", reason: problem };
  return { kind: "accept", envelope };
}

/** The gossipsub internals used here, present in @libp2p/gossipsub 17 (the same ones rpcBatching.ts relies on). */
interface GossipInternals {
  /** topic -> ids of the peers that told us they subscribe to it. */
  topics: Map<string, Set<string>>;
  /** id -> (message id -> heartbeat): ids a peer asked us not to send (IDONTWANT). */
  idontwants: Map<string, Map<string, number>>;
  sendRpc(id: string, rpc: { subscriptions: unknown[]; messages: unknown[]; control?: unknown }): boolean;
}

/** Peer subscriptions and direct sends on a gossipsub, through its internals where it has them. */
export class TopicPeers {
  private readonly internals: Partial<GossipInternals>;

  constructor(private readonly pubsub: GossipSub) {
    this.internals = pubsub as unknown as Partial<GossipInternals>;
  }

  /** Whether messages can be sent to chosen peers (gossipsub has the expected internals). */
  get canSendDirectly(): boolean {
    return typeof this.internals.sendRpc === "function";
  }

  subscribers(topic: string): ReadonlySet<string> {
    const topics = this.internals.topics;
    if (topics instanceof Map) return topics.get(topic) ?? EMPTY;
    return new Set(this.pubsub.getSubscribers(topic).map((peer) => peer.toString()));
  }

  /** Peers subscribed to `topic` and not to `notOn`, other than `exclude`, that did not send IDONTWANT for `messageId`. */
  onlyOn(topic: string, notOn: string, exclude?: string, messageId?: string): string[] {
    const on = this.subscribers(topic);
    if (on.size === 0) return [];
    const other = this.subscribers(notOn);
    const peers: string[] = [];
    for (const peer of on) {
      if (other.has(peer) || peer === exclude) continue;
      if (messageId !== undefined && this.internals.idontwants?.get(peer)?.has(messageId) === true) continue;
      peers.push(peer);
    }
    return peers;
  }

  /** Distinct peers subscribed to any of `topics`. */
  countOn(topics: readonly string[]): number {
    if (topics.length === 1) return this.subscribers(topics[0]).size;
    const all = new Set<string>();
    for (const topic of topics) for (const peer of this.subscribers(topic)) all.add(peer);
    return all.size;
  }

  /**
   * Sends an unsigned message on `topic` to each of `peers` (only to peers with an open gossipsub stream), outside
   * gossipsub's publish, whose seen-cache would refuse bytes already published or received on the other topic (the
   * message id is sha256 of the bytes, whatever the topic). Returns how many peers it went to.
   */
  send(topic: string, data: Uint8Array, peers: readonly string[]): number {
    const sendRpc = this.internals.sendRpc;
    if (typeof sendRpc !== "function") return 0;
    let sent = 0;
    for (const peer of peers) {
      // A fresh RPC for each peer: gossipsub may add control messages to the one it is given.
      const message = { from: undefined, data, seqno: undefined, topic, signature: undefined, key: undefined };
      if (sendRpc.call(this.pubsub, peer, { subscriptions: [], messages: [message], control: undefined })) sent++;
    }
    return sent;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
