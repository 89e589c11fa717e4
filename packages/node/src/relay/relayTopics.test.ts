// The relay's topic handling against a stand-in gossipsub: which topic each message is validated, published and
// bridged on, what is ignored rather than rejected, and that an envelope is ingested once whichever way it comes.
import { describe, expect, it } from "vitest";
import { TopicValidatorResult, type GossipSub, type Message } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import { WakuRelay, WAKU_PUBSUB_TOPIC, envelopeToWakuMessageBytes } from "./wakuRelay.js";
import { WAKU_RELAY_PING_CONTENT_TOPIC, classifyRelayMessage } from "./relayTopics.js";
import { decodeWakuMessage, encodeWakuMessage } from "./wakuMessage.js";
import { MAX_POSTAGE_PROOF_BYTES } from "@xmtp-ts/postage";
import { silentLogger } from "../p2p/logger.js";
import { relayMessageId, relayMessageIdKey } from "./messageId.js";
import { MemoryIngest, MemoryStore } from "../p2p/test-support/memoryNode.js";
import { RecentDigests } from "../p2p/recentDigests.js";
import { autoshardOf, pubsubTopicOf } from "../waku/sharding.js";
import type { Envelope } from "../store/EnvelopeStore.js";

const SHARDED = pubsubTopicOf(0, autoshardOf("/xmtp/0/x/proto", 8));

type Validator = (peer: PeerId, message: Message) => TopicValidatorResult | Promise<TopicValidatorResult>;

/** Just enough of gossipsub for WakuRelay: subscriptions, validators, publish, the internals TopicPeers reads. */
class FakeGossip extends EventTarget {
  readonly protocols: string[] = [];
  readonly topicValidators = new Map<string, Validator>();
  /** What each peer subscribes to (gossipsub's internal `topics`). */
  readonly topics = new Map<string, Set<string>>();
  readonly idontwants = new Map<string, Map<string, number>>();
  readonly subscribed = new Set<string>();
  /** Ids of messages already seen, as gossipsub's seen-cache: keyed by the bytes only, not the topic. */
  readonly seen = new Set<string>();
  readonly published: { topic: string; data: Uint8Array }[] = [];
  readonly sent: { peer: string; topic: string; data: Uint8Array }[] = [];

  subscribe(topic: string): void {
    this.subscribed.add(topic);
  }
  unsubscribe(topic: string): void {
    this.subscribed.delete(topic);
  }
  getSubscribers(topic: string): PeerId[] {
    return [...(this.topics.get(topic) ?? [])].map((id) => peer(id));
  }
  async publish(topic: string, data: Uint8Array) {
    this.seen.add(this.idOf(data));
    this.published.push({ topic, data });
    return { recipients: [] };
  }
  sendRpc(id: string, rpc: { messages: { topic: string; data: Uint8Array }[] }): boolean {
    for (const message of rpc.messages) this.sent.push({ peer: id, topic: message.topic, data: message.data });
    return true;
  }

  peerSubscribes(id: string, ...topics: string[]): void {
    for (const topic of topics) {
      if (!this.topics.has(topic)) this.topics.set(topic, new Set());
      this.topics.get(topic)!.add(id);
    }
  }

  /** What gossipsub does with a message from a peer: seen-cache, validator, then delivery to subscribers. */
  async receive(from: string, topic: string, data: Uint8Array): Promise<TopicValidatorResult | "duplicate"> {
    const id = this.idOf(data);
    if (this.seen.has(id)) return "duplicate";
    this.seen.add(id);
    const message: Message = { type: "unsigned", topic, data };
    const validator = this.topicValidators.get(topic);
    const result = validator ? await validator(peer(from), message) : TopicValidatorResult.Accept;
    if (result === TopicValidatorResult.Accept && this.subscribed.has(topic)) {
      this.dispatchEvent(new CustomEvent("gossipsub:message", { detail: { propagationSource: peer(from), msgId: id, msg: message } }));
    }
    return result;
  }

  idOf(data: Uint8Array): string {
    return relayMessageIdKey(relayMessageId({ type: "unsigned", topic: "", data }));
  }
}

function peer(id: string): PeerId {
  return { toString: () => id } as PeerId;
}

function setup(options: { sharded?: boolean } = {}) {
  const gossip = new FakeGossip();
  const store = new MemoryStore();
  const ingest = new MemoryIngest(store);
  const recent = new RecentDigests();
  const relay = new WakuRelay(gossip as unknown as GossipSub, ingest, silentLogger, {
    recent,
    batchWindowMs: 0,
    shardedTopic: options.sharded === false ? undefined : SHARDED,
  });
  relay.start();
  return { gossip, store, ingest, relay, recent };
}

let counter = 0;
function envelope(topic = "/xmtp/0/m-topics/proto"): Envelope {
  counter++;
  return { contentTopic: topic, timestampNs: 1_800_000_000_000_000_000n + BigInt(counter), message: Uint8Array.of(1, 2, counter & 0xff, counter >> 8) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("classifyRelayMessage", () => {
  const ping = encodeWakuMessage({ payload: new Uint8Array(0), contentTopic: WAKU_RELAY_PING_CONTENT_TOPIC, timestamp: 1n });
  const otherApp = encodeWakuMessage({ payload: Uint8Array.of(7), contentTopic: "/my-app/1/chat/proto", timestamp: 5n });

  it("ignores js-waku relay pings and other applications' content topics on the shared shard", () => {
    expect(classifyRelayMessage(ping, true)).toMatchObject({ kind: "ignore" });
    expect(classifyRelayMessage(otherApp, true)).toMatchObject({ kind: "ignore" });
    // A non-XMTP topic is ignored whatever else is wrong with the message (no timestamp here).
    expect(classifyRelayMessage(encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "/a/1/b/c" }), true).kind).toBe("ignore");
  });

  it("keeps rejecting them on the legacy topic, which only XMTP nodes use", () => {
    expect(classifyRelayMessage(ping, false)).toMatchObject({ kind: "reject" });
    expect(classifyRelayMessage(otherApp, false)).toMatchObject({ kind: "reject", reason: expect.stringMatching(/neither/) });
  });

  it("rejects broken messages and broken XMTP envelopes on both topics", () => {
    for (const shared of [true, false]) {
      expect(classifyRelayMessage(Uint8Array.of(0xff, 0xff, 0xff), shared).kind).toBe("reject");
      const untimed = encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "/xmtp/0/m-x/proto" });
      expect(classifyRelayMessage(untimed, shared)).toMatchObject({ kind: "reject", reason: expect.stringMatching(/timestamp/) });
      const empty = encodeWakuMessage({ payload: new Uint8Array(0), contentTopic: "/xmtp/0/m-x/proto", timestamp: 1n });
      expect(classifyRelayMessage(empty, shared).kind).toBe("reject");
    }
  });

  it("accepts XMTP and test- envelopes on both topics", () => {
    for (const shared of [true, false]) {
      for (const topic of ["/xmtp/0/m-x/proto", "test-relay"]) {
        const original = envelope(topic);
        expect(classifyRelayMessage(envelopeToWakuMessageBytes(original), shared)).toEqual({ kind: "accept", envelope: original });
      }
    }
  });
});

describe("WakuRelay on the sharded and the legacy topic", () => {
  it("subscribes to both, with a validator each, and publishes on the sharded topic only when every peer is on it", async () => {
    const { gossip, relay } = setup();
    expect(relay.topics).toEqual([SHARDED, WAKU_PUBSUB_TOPIC]);
    expect([...gossip.subscribed].sort()).toEqual([SHARDED, WAKU_PUBSUB_TOPIC].sort());
    expect([...gossip.topicValidators.keys()].sort()).toEqual([SHARDED, WAKU_PUBSUB_TOPIC].sort());
    expect(SHARDED).toBe("/waku/2/rs/0/4");

    gossip.peerSubscribes("new-node", SHARDED, WAKU_PUBSUB_TOPIC);
    gossip.peerSubscribes("js-waku", SHARDED);
    const sent = [envelope(), envelope()];
    await relay.broadcast(sent);
    expect(gossip.published.map((p) => p.topic)).toEqual([SHARDED, SHARDED]);
    expect(gossip.sent).toEqual([]);
    expect(relay.stats).toMatchObject({ broadcast: 2, bridged: 0 });
    expect(relay.relayPeerCount()).toBe(2);
    await relay.stop();
    expect(gossip.subscribed.size).toBe(0);
    expect(gossip.topicValidators.size).toBe(0);
  });

  it("also sends each publish on the legacy topic to the peers subscribed there and not to the shard (older nodes)", async () => {
    const { gossip, relay } = setup();
    gossip.peerSubscribes("new-node", SHARDED, WAKU_PUBSUB_TOPIC);
    gossip.peerSubscribes("old-node-1", WAKU_PUBSUB_TOPIC);
    gossip.peerSubscribes("old-node-2", WAKU_PUBSUB_TOPIC);
    const sent = [envelope(), envelope()];
    await relay.broadcast(sent);
    expect(gossip.published.map((p) => p.topic)).toEqual([SHARDED, SHARDED]);
    const bytes = sent.map((e) => Buffer.from(envelopeToWakuMessageBytes(e)));
    expect(gossip.sent.map((s) => [s.peer, s.topic, Buffer.from(s.data)])).toEqual([
      ["old-node-1", WAKU_PUBSUB_TOPIC, bytes[0]],
      ["old-node-2", WAKU_PUBSUB_TOPIC, bytes[0]],
      ["old-node-1", WAKU_PUBSUB_TOPIC, bytes[1]],
      ["old-node-2", WAKU_PUBSUB_TOPIC, bytes[1]],
    ]);
    expect(relay.stats.bridged).toBe(4);
    // Everyone who hears our publishes: the LightPush relay_peer_count.
    expect(relay.relayPeerCount()).toBe(3);
  });

  it("bridges what arrives on one topic to the peers that listen only on the other, never back to the sender", async () => {
    const { gossip, relay } = setup();
    gossip.peerSubscribes("new-node", SHARDED, WAKU_PUBSUB_TOPIC);
    gossip.peerSubscribes("old-node", WAKU_PUBSUB_TOPIC);
    gossip.peerSubscribes("old-sender", WAKU_PUBSUB_TOPIC);
    gossip.peerSubscribes("js-waku", SHARDED);
    gossip.peerSubscribes("js-waku-sender", SHARDED);

    const fromShard = envelopeToWakuMessageBytes(envelope());
    expect(await gossip.receive("js-waku-sender", SHARDED, fromShard)).toBe(TopicValidatorResult.Accept);
    expect(gossip.sent.map((s) => [s.peer, s.topic])).toEqual([
      ["old-node", WAKU_PUBSUB_TOPIC],
      ["old-sender", WAKU_PUBSUB_TOPIC],
    ]);

    gossip.sent.length = 0;
    const fromLegacy = envelopeToWakuMessageBytes(envelope());
    expect(await gossip.receive("old-sender", WAKU_PUBSUB_TOPIC, fromLegacy)).toBe(TopicValidatorResult.Accept);
    expect(gossip.sent.map((s) => [s.peer, s.topic])).toEqual([
      ["js-waku", SHARDED],
      ["js-waku-sender", SHARDED],
    ]);

    // A legacy-only peer that said IDONTWANT for a message is not sent it.
    gossip.sent.length = 0;
    const third = envelopeToWakuMessageBytes(envelope());
    gossip.idontwants.set("old-node", new Map([[gossip.idOf(third), 1]]));
    await gossip.receive("js-waku-sender", SHARDED, third);
    expect(gossip.sent.map((s) => s.peer)).toEqual(["old-sender"]);
    expect(relay.stats.bridged).toBe(5);
  });

  it("ingests and counts an envelope once when it arrives on both topics, or again in other bytes", async () => {
    const { gossip, relay, store, ingest } = setup();
    const original = envelope();
    const bytes = envelopeToWakuMessageBytes(original);
    expect(await gossip.receive("peer-1", SHARDED, bytes)).toBe(TopicValidatorResult.Accept);
    // Same bytes on the other topic: same gossipsub message id, dropped before validation.
    expect(await gossip.receive("peer-2", WAKU_PUBSUB_TOPIC, bytes)).toBe("duplicate");
    await ingest.until((d) => d.length === 1, "the envelope");
    await settle();
    // The same envelope in other bytes (a meta field): another message id, the same digest; stored already.
    const reencoded = encodeWakuMessage({
      payload: original.message,
      contentTopic: original.contentTopic,
      timestamp: original.timestampNs,
      meta: Uint8Array.of(9),
    });
    expect(await gossip.receive("peer-2", WAKU_PUBSUB_TOPIC, reencoded)).toBe(TopicValidatorResult.Accept);
    await settle();
    expect(store.rows).toHaveLength(1);
    expect(ingest.delivered).toHaveLength(1);
    expect(relay.stats).toMatchObject({ received: 1, duplicates: 1, dropped: 0 });
  });

  it("takes a WakuMessage's meta as the envelope's postage proof, and rejects one too large for a proof", async () => {
    const { gossip, ingest } = setup();
    const original = envelope();
    const proved = envelopeToWakuMessageBytes({ ...original, postage: Uint8Array.of(1, 2, 3) });
    expect(decodeWakuMessage(proved).meta).toEqual(Uint8Array.of(1, 2, 3));
    expect(await gossip.receive("peer-1", SHARDED, proved)).toBe(TopicValidatorResult.Accept);
    await ingest.until((d) => d.length === 1, "the envelope");
    expect(ingest.delivered[0].postage).toEqual(Uint8Array.of(1, 2, 3));
    const oversized = encodeWakuMessage({
      payload: Uint8Array.of(7),
      contentTopic: original.contentTopic,
      timestamp: 5n,
      meta: new Uint8Array(MAX_POSTAGE_PROOF_BYTES + 1),
    });
    expect(await gossip.receive("peer-1", SHARDED, oversized)).toBe(TopicValidatorResult.Reject);
  });

  it("ignores relay pings and other apps on the shard without counting them as drops, and rejects them on the legacy topic", async () => {
    const { gossip, relay, store } = setup();
    gossip.peerSubscribes("old-node", WAKU_PUBSUB_TOPIC);
    const ping = encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: WAKU_RELAY_PING_CONTENT_TOPIC, timestamp: 1n });
    const otherApp = encodeWakuMessage({ payload: Uint8Array.of(2), contentTopic: "/my-app/1/chat/proto", timestamp: 2n });
    expect(await gossip.receive("js-waku", SHARDED, ping)).toBe(TopicValidatorResult.Ignore);
    expect(await gossip.receive("js-waku", SHARDED, otherApp)).toBe(TopicValidatorResult.Ignore);
    const otherOnLegacy = encodeWakuMessage({ payload: Uint8Array.of(3), contentTopic: "/my-app/1/chat/proto", timestamp: 3n });
    expect(await gossip.receive("old-node", WAKU_PUBSUB_TOPIC, otherOnLegacy)).toBe(TopicValidatorResult.Reject);
    // Broken XMTP envelopes are rejected on the shard as anywhere.
    const untimed = encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "/xmtp/0/m-x/proto" });
    expect(await gossip.receive("js-waku", SHARDED, untimed)).toBe(TopicValidatorResult.Reject);
    await settle();
    expect(relay.stats).toMatchObject({ ignored: 2, dropped: 2, received: 0, bridged: 0 });
    expect(gossip.sent).toEqual([]);
    expect(store.rows).toEqual([]);
  });

  it("without a sharded topic behaves as nodes did before: the legacy topic alone, nothing bridged", async () => {
    const { gossip, relay, ingest } = setup({ sharded: false });
    expect(relay.topics).toEqual([WAKU_PUBSUB_TOPIC]);
    expect([...gossip.subscribed]).toEqual([WAKU_PUBSUB_TOPIC]);
    gossip.peerSubscribes("old-node", WAKU_PUBSUB_TOPIC);
    gossip.peerSubscribes("js-waku", SHARDED);
    await relay.broadcast([envelope()]);
    expect(gossip.published.map((p) => p.topic)).toEqual([WAKU_PUBSUB_TOPIC]);
    expect(await gossip.receive("old-node", WAKU_PUBSUB_TOPIC, envelopeToWakuMessageBytes(envelope()))).toBe(TopicValidatorResult.Accept);
    await ingest.until((d) => d.length === 1, "the envelope");
    expect(gossip.sent).toEqual([]);
    expect(relay.relayPeerCount()).toBe(1);
  });
});
