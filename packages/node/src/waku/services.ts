// The Waku service protocols a node serves beside relay and sync, so that Waku light nodes (@waku/sdk) can use it:
// Metadata (which cluster and shards we serve), LightPush (publish one message) and Filter (live pushes).
import type { Libp2p } from "@libp2p/interface";
import type { Envelope } from "../store/EnvelopeStore.js";
import type { BucketPolicy } from "../security/rateLimiter.js";
import { ThrottledWarning, type NetworkLogger } from "../p2p/logger.js";
import { WAKU_PUBSUB_TOPIC } from "../relay/wakuRelay.js";
import { LIGHTPUSH_V2_PROTOCOL, LIGHTPUSH_V3_PROTOCOL, LightPushService } from "./lightPush.js";
import { METADATA_PROTOCOL, metadataHandler } from "./metadata.js";
import { STORE_PROTOCOL, StoreService } from "./store.js";
import type { WakuEnvelopeStore } from "../store/EnvelopeStore.js";
import { FILTER_PUSH_PROTOCOL, FILTER_SUBSCRIBE_PROTOCOL, FilterService, type FilterHub } from "./filter.js";
import { autoshardOf, pubsubTopicOf, type WakuShardingConfig } from "./sharding.js";

/** Every XMTP content topic (`/xmtp/0/…`) maps to the shard of this one. */
const XMTP_SAMPLE_CONTENT_TOPIC = "/xmtp/0/sample/proto";
/** Concurrent requests per connection and protocol (libp2p's default): a light node may send several at once. */
const MAX_INBOUND_STREAMS = 32;

export interface WakuServicesOptions {
  sharding: WakuShardingConfig;
  /** The node's ingest, for envelopes published by light nodes (origin "local": stored, streamed, relayed). */
  localIngest: { ingest(envelopes: readonly Envelope[], origin: "local"): Promise<unknown> };
  accessMode: () => "open" | "allowlist";
  /** The node's live fan-out, which Filter subscriptions listen to. */
  hub: FilterHub;
  /** The node's store; Store v3 is served when it keeps Waku hashes (queryWaku and readByWakuHashes). */
  store: Partial<Pick<WakuEnvelopeStore, "queryWaku" | "readByWakuHashes" | "wakuConfiguration">>;
  /** Message bytes in one Store page (the node's --max-page-bytes). */
  maxPageBytes: number;
  rateLimits: { enabled: boolean; publish: BucketPolicy; subscribe: BucketPolicy; read: BucketPolicy };
  relayPeerCount: () => number;
  logger: NetworkLogger;
  /** Postage at the LightPush door (docs/postage.md). */
  admit?: (envelope: Envelope) => Promise<Envelope>;
}

export interface WakuServices {
  filter: FilterService;
  /** Ends every Filter subscription (before the node's hub and store go away). */
  stop(): void;
}

/** The shard XMTP topics live on under this configuration. */
export function xmtpShard(sharding: WakuShardingConfig): number {
  return autoshardOf(XMTP_SAMPLE_CONTENT_TOPIC, sharding.shardCount);
}

export async function startWakuServices(libp2p: Libp2p, options: WakuServicesOptions): Promise<WakuServices> {
  const shard = xmtpShard(options.sharding);
  const failures = new ThrottledWarning(options.logger, "waku request failed");
  const logger = { warn: (fields: Record<string, unknown>) => failures.warn(fields) };
  const acceptedPubsubTopics = new Set([pubsubTopicOf(options.sharding.clusterId, shard), WAKU_PUBSUB_TOPIC]);
  const lightPush = new LightPushService({
    ingest: options.localIngest,
    acceptedPubsubTopics,
    accessMode: options.accessMode,
    rateLimits: options.rateLimits,
    relayPeerCount: options.relayPeerCount,
    logger,
    admit: options.admit,
  });
  const filter = new FilterService({
    hub: options.hub,
    acceptedPubsubTopics,
    pushPubsubTopic: pubsubTopicOf(options.sharding.clusterId, shard),
    // A light node has no listen address: the push goes over the connection it opened.
    openPushStream: (peer) => libp2p.dialProtocol(peer, FILTER_PUSH_PROTOCOL),
    rateLimits: options.rateLimits,
    logger,
  });
  const onDisconnect = (event: CustomEvent<{ toString(): string }>) => filter.peerGone(event.detail.toString());
  libp2p.addEventListener("peer:disconnect", onDisconnect);
  const limits = { maxInboundStreams: MAX_INBOUND_STREAMS };
  await libp2p.handle(METADATA_PROTOCOL, metadataHandler(options.sharding.clusterId, [shard], logger), limits);
  await libp2p.handle(LIGHTPUSH_V3_PROTOCOL, lightPush.handleV3, limits);
  await libp2p.handle(LIGHTPUSH_V2_PROTOCOL, lightPush.handleV2, limits);
  await libp2p.handle(FILTER_SUBSCRIBE_PROTOCOL, filter.handleSubscribe, limits);
  const { queryWaku, readByWakuHashes } = options.store;
  if (queryWaku && readByWakuHashes && options.store.wakuConfiguration !== undefined) {
    const store = new StoreService({
      store: { queryWaku: queryWaku.bind(options.store), readByWakuHashes: readByWakuHashes.bind(options.store) },
      acceptedPubsubTopics,
      pubsubTopic: pubsubTopicOf(options.sharding.clusterId, shard),
      maxPageBytes: options.maxPageBytes,
      rateLimits: options.rateLimits,
      logger,
    });
    await libp2p.handle(STORE_PROTOCOL, store.handle, limits);
  }
  return {
    filter,
    stop() {
      libp2p.removeEventListener("peer:disconnect", onDisconnect);
      filter.stop();
    },
  };
}
