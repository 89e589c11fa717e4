// The Waku service protocols a node serves beside relay and sync, so that Waku light nodes (@waku/sdk) can use it:
// Metadata (which cluster and shards we serve) and LightPush (publish one message).
import type { Libp2p } from "@libp2p/interface";
import type { Envelope } from "../store/EnvelopeStore.js";
import type { BucketPolicy } from "../security/rateLimiter.js";
import { ThrottledWarning, type NetworkLogger } from "../relay/logger.js";
import { WAKU_PUBSUB_TOPIC } from "../relay/wakuRelay.js";
import { LIGHTPUSH_V2_PROTOCOL, LIGHTPUSH_V3_PROTOCOL, LightPushService } from "./lightPush.js";
import { METADATA_PROTOCOL, metadataHandler } from "./metadata.js";
import { shardOfContentTopic, shardPubsubTopic, type WakuShardingConfig } from "./sharding.js";

/** Every XMTP content topic (`/xmtp/0/…`) maps to the shard of this one. */
const XMTP_SAMPLE_CONTENT_TOPIC = "/xmtp/0/sample/proto";
/** Concurrent requests per connection and protocol; a light node sends one at a time. */
const MAX_INBOUND_STREAMS = 8;

export interface WakuServicesOptions {
  sharding: WakuShardingConfig;
  /** The node's ingest, for envelopes published by light nodes (origin "local": stored, streamed, relayed). */
  localIngest: { ingest(envelopes: readonly Envelope[], origin: "local"): Promise<unknown> };
  accessMode: () => "open" | "allowlist";
  rateLimits: { enabled: boolean; publish: BucketPolicy };
  relayPeerCount: () => number;
  logger: NetworkLogger;
}

/** The shard XMTP topics live on under this configuration. */
export function xmtpShard(sharding: WakuShardingConfig): number {
  return shardOfContentTopic(XMTP_SAMPLE_CONTENT_TOPIC, sharding.shardCount);
}

export async function startWakuServices(libp2p: Libp2p, options: WakuServicesOptions): Promise<void> {
  const shard = xmtpShard(options.sharding);
  const failures = new ThrottledWarning(options.logger, "waku request failed");
  const logger = { warn: (fields: Record<string, unknown>) => failures.warn(fields) };
  const lightPush = new LightPushService({
    ingest: options.localIngest,
    acceptedPubsubTopics: new Set([shardPubsubTopic(options.sharding.clusterId, shard), WAKU_PUBSUB_TOPIC]),
    accessMode: options.accessMode,
    rateLimits: options.rateLimits,
    relayPeerCount: options.relayPeerCount,
    logger,
  });
  const limits = { maxInboundStreams: MAX_INBOUND_STREAMS };
  await libp2p.handle(METADATA_PROTOCOL, metadataHandler(options.sharding.clusterId, [shard], logger), limits);
  await libp2p.handle(LIGHTPUSH_V3_PROTOCOL, lightPush.handleV3, limits);
  await libp2p.handle(LIGHTPUSH_V2_PROTOCOL, lightPush.handleV2, limits);
}
