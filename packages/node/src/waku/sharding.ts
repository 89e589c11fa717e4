// Autosharding (Waku relay sharding, RFC 51): a content topic `/application/version/name/encoding` (optionally with a
// leading `/generation`) lives on one shard of its cluster, chosen from sha256(application ‖ version), so every XMTP
// topic (`/xmtp/0/…/proto`) maps to the same shard. The shard's pubsub topic is `/waku/2/rs/<cluster>/<shard>`.
import { createHash } from "node:crypto";

export class ContentTopicFormatError extends Error {
  constructor(topic: string) {
    super(`content topic ${JSON.stringify(topic)} is not /application/version/name/encoding`);
    this.name = "ContentTopicFormatError";
  }
}

export interface WakuShardingConfig {
  clusterId: number;
  /** Shards in the cluster (autosharding's modulus). */
  shardCount: number;
}

/** The shard a content topic maps to; throws ContentTopicFormatError for a topic not in the 4- or 5-part form. */
export function shardOfContentTopic(contentTopic: string, shardCount: number): number {
  const parts = contentTopic.split("/");
  // "" first (the leading slash), then 4 parts, or 5 with a generation first.
  if (parts[0] !== "" || (parts.length !== 5 && parts.length !== 6) || parts.slice(1).some((part) => part === "")) {
    throw new ContentTopicFormatError(contentTopic);
  }
  const [application, version] = parts.length === 5 ? [parts[1], parts[2]] : [parts[2], parts[3]];
  const digest = createHash("sha256").update(application).update(version).digest();
  return Number(digest.readBigUInt64BE(24) % BigInt(shardCount));
}

export function shardPubsubTopic(clusterId: number, shard: number): string {
  return `/waku/2/rs/${clusterId}/${shard}`;
}

/** The pubsub topic of a content topic under autosharding. */
export function pubsubTopicOfContentTopic(contentTopic: string, config: WakuShardingConfig): string {
  return shardPubsubTopic(config.clusterId, shardOfContentTopic(contentTopic, config.shardCount));
}
