// Waku message identity and routing for envelopes.
//
// An XMTP envelope is a WakuMessage (14/WAKU2-MESSAGE): payload = the envelope's message bytes, content_topic = its
// topic, timestamp = timestampNs, no meta. Waku names a message by the RFC 14 deterministic hash
//   sha256(pubsub_topic ‖ payload ‖ content_topic ‖ meta ‖ timestamp as 8 bytes, big-endian)
// and Store v3 (`/vac/waku/store-query/3.0.0`) uses that hash as its paging cursor. The pubsub topic is the shard the
// content topic is routed on: with autosharding (WAKU2-RELAY-SHARDING, formerly RFC 51) `/waku/2/rs/<cluster>/<shard>`,
// where the shard is sha256(application ‖ version) of the content topic modulo the network's shard count. So the
// hash of a stored envelope depends on two settings of the node, its cluster id and its shard count: see
// `createWakuHasher`, which the stores use to fill and re-check their `waku_hash` column.
import { createHash } from "node:crypto";
import type { Envelope, WakuHasher } from "../store/EnvelopeStore.js";
import type { NodeConfig } from "../config.js";
import { checkShardCount, pubsubTopicOf, shardOfEnvelopeTopic, type WakuShardingConfig } from "./sharding.js";

/** What RFC 14 hashes of a WakuMessage besides its pubsub topic. */
export interface WakuHashInput {
  payload: Uint8Array;
  contentTopic: string;
  /** Absent and empty hash the same (RFC 14: an absent attribute is left out of the concatenation). */
  meta?: Uint8Array;
  /**
   * The message timestamp in nanoseconds, always hashed as 8 bytes big-endian (as RFC 14's test vectors do, and
   * nwaku for every message). Values of 2^63 and above, which our uint64 envelope timestamps allow, are hashed as
   * their 64-bit pattern, the same bytes as the sint64 WakuMessage field that carries them on the wire.
   * Note: js-waku leaves a timestamp of 0 out of the concatenation; we always include it.
   */
  timestampNs: bigint;
}

const UINT64_LIMIT = 1n << 64n;

/** RFC 14 deterministic message hash (32 bytes). */
export function wakuMessageHash(pubsubTopic: string, message: WakuHashInput): Uint8Array {
  const { timestampNs } = message;
  if (timestampNs < -(1n << 63n) || timestampNs >= UINT64_LIMIT) {
    throw new RangeError(`timestampNs ${timestampNs} does not fit in 64 bits`);
  }
  const timestamp = Buffer.allocUnsafe(8);
  timestamp.writeBigUInt64BE(BigInt.asUintN(64, timestampNs));
  const hash = createHash("sha256").update(pubsubTopic, "utf8").update(message.payload).update(message.contentTopic, "utf8");
  if (message.meta) hash.update(message.meta);
  const digest = hash.update(timestamp).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/**
 * The hasher the stores are opened with: an envelope's RFC 14 hash on its autosharded (or fallback) pubsub topic.
 * Its `configuration` names everything the hash depends on; a store that finds rows hashed under another
 * configuration re-hashes them when it opens. Shards are cached per (application, version) pair.
 */
export function createWakuHasher(config: WakuShardingConfig): WakuHasher {
  checkShardCount(config.shardCount);
  pubsubTopicOf(config.clusterId, 0); // validates the cluster id
  const pubsubTopics = new Map<string, string>();
  const MAX_CACHED_TOPICS = 10_000;
  const pubsubTopicFor = (contentTopic: string): string => {
    let topic = pubsubTopics.get(contentTopic);
    if (topic === undefined) {
      topic = pubsubTopicOf(config.clusterId, shardOfEnvelopeTopic(contentTopic, config));
      if (pubsubTopics.size >= MAX_CACHED_TOPICS) pubsubTopics.clear();
      pubsubTopics.set(contentTopic, topic);
    }
    return topic;
  };
  return {
    configuration: `rfc14-autoshard-v1 cluster=${config.clusterId} shards=${config.shardCount} fallback-shard=0`,
    pubsubTopicFor,
    hash(envelope: Envelope): Uint8Array {
      return wakuMessageHash(pubsubTopicFor(envelope.contentTopic), {
        payload: envelope.message,
        contentTopic: envelope.contentTopic,
        timestampNs: envelope.timestampNs,
      });
    },
  };
}

/**
 * The hasher a node with `config` keeps its store's Waku hashes with, or none. Waku Store v3 pages by RFC 14 message
 * hashes, which the store keeps indexed. Only a node that Waku light nodes can reach (their WebSocket listener) pays
 * for computing and indexing them: measured on a relay line A - B - C, the hash and its index cost each relaying
 * node 15-30 % more CPU per envelope.
 */
export function wakuHasherFor(config: NodeConfig): WakuHasher | undefined {
  return config.p2p.port !== undefined && config.p2p.wsPort !== undefined
    ? createWakuHasher({ clusterId: config.p2p.wakuClusterId, shardCount: config.p2p.wakuShardCount })
    : undefined;
}
