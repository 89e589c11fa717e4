// Autosharding (WAKU2-RELAY-SHARDING, formerly RFC 51): a content topic `/application/version/name/encoding`
// (optionally with a generation-0 prefix) lives on one shard of its cluster, chosen from sha256(application ‖ version),
// so every XMTP topic (`/xmtp/0/…/proto`) maps to the same shard (4 of 8). A shard's pubsub topic is
// `/waku/2/rs/<cluster>/<shard>`.
import { createHash } from "node:crypto";

/** A content topic that autosharding cannot route: not `/{application}/{version}/{name}/{encoding}` (optionally with a generation-0 prefix). */
export class InvalidContentTopicError extends Error {
  override readonly name = "InvalidContentTopicError";
  constructor(
    readonly contentTopic: string,
    readonly reason: string,
  ) {
    super(`content topic ${JSON.stringify(contentTopic.length > 100 ? `${contentTopic.slice(0, 100)}…` : contentTopic)} cannot be autosharded: ${reason}`);
  }
}

/**
 * The application and version fields of a content topic in 23/WAKU2-TOPICS form: `/{application}/{version}/{name}/{encoding}`,
 * or `/{generation}/{application}/{version}/{name}/{encoding}` with generation 0 (the only generation defined). Every
 * field must be non-empty. Throws InvalidContentTopicError otherwise.
 */
export function autoshardingFields(contentTopic: string): { application: string; version: string } {
  if (!contentTopic.startsWith("/")) throw new InvalidContentTopicError(contentTopic, "it must start with '/'");
  const parts = contentTopic.slice(1).split("/");
  let fields: string[];
  if (parts.length === 4) {
    fields = parts;
  } else if (parts.length === 5) {
    if (!/^[0-9]+$/.test(parts[0])) throw new InvalidContentTopicError(contentTopic, "its generation must be a number");
    if (Number(parts[0]) !== 0) throw new InvalidContentTopicError(contentTopic, `generation ${parts[0]} is not defined (only 0 is)`);
    fields = parts.slice(1);
  } else {
    throw new InvalidContentTopicError(contentTopic, `it has ${parts.length} fields, expected /application/version/name/encoding`);
  }
  const empty = fields.findIndex((field) => field.length === 0);
  if (empty >= 0) {
    throw new InvalidContentTopicError(contentTopic, `its ${["application", "version", "name", "encoding"][empty]} field is empty`);
  }
  return { application: fields[0], version: fields[1] };
}

export function checkShardCount(shardCount: number): void {
  if (!Number.isSafeInteger(shardCount) || shardCount < 1 || shardCount > 1024) {
    throw new RangeError(`shard count must be an integer from 1 to 1024, got ${shardCount}`);
  }
}

/**
 * The autosharding shard of a content topic: sha256(application ‖ version) read as a number, modulo the shard count.
 * As deployed Waku implementations do, the number is the hash's last 8 bytes (big-endian); for a power-of-two shard
 * count (8, the usual one) that is the same as the whole 256-bit hash modulo the count, as the spec words it.
 * Throws InvalidContentTopicError for a topic not in autosharding form.
 */
export function autoshardOf(contentTopic: string, shardCount: number): number {
  checkShardCount(shardCount);
  const { application, version } = autoshardingFields(contentTopic);
  const digest = createHash("sha256").update(application, "utf8").update(version, "utf8").digest();
  return Number(digest.readBigUInt64BE(24) % BigInt(shardCount));
}

/** `/waku/2/rs/<cluster>/<shard>`, the pubsub topic of a static or automatic shard. */
export function pubsubTopicOf(clusterId: number, shard: number): string {
  if (!Number.isSafeInteger(clusterId) || clusterId < 0 || clusterId > 0xffff) {
    throw new RangeError(`cluster id must be an integer from 0 to 65535, got ${clusterId}`);
  }
  if (!Number.isSafeInteger(shard) || shard < 0 || shard > 1023) throw new RangeError(`shard must be an integer from 0 to 1023, got ${shard}`);
  return `/waku/2/rs/${clusterId}/${shard}`;
}

export interface WakuShardingConfig {
  clusterId: number;
  /** Shards of the cluster used for autosharding (Waku's usual 8). */
  shardCount: number;
}

/**
 * The shard an envelope is routed on, with a fallback: a content topic that autosharding cannot route (not in
 * `/app/version/name/encoding` form; XMTP's own `/xmtp/0/…/proto` topics always are) is given shard 0 of the cluster.
 * A js-waku light node cannot address such a topic by autosharding at all; the fallback only makes its hash, and so
 * its Store cursor, defined, so that every stored envelope has one.
 */
export function shardOfEnvelopeTopic(contentTopic: string, config: WakuShardingConfig): number {
  try {
    return autoshardOf(contentTopic, config.shardCount);
  } catch (error) {
    if (error instanceof InvalidContentTopicError) return 0;
    throw error;
  }
}

