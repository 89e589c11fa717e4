// What a node keeps, per class of topic (docs/storage.md). The default keeps everything forever, as nodes always
// have; an operator shortens what is worth shortening. A class is a topic prefix (docs/protocol/api.md §5), so a
// policy costs nothing per envelope at publish time and a pruner can select a class by an index range.
import type { RetentionRule } from "../store/EnvelopeStore.js";

/** The classes of stored topics, in the order reports list them. Ephemeral topics are never stored at all. */
export const TOPIC_CLASSES = {
  contact: "/xmtp/0/contact-",
  privatestore: "/xmtp/0/privatestore-",
  invite: "/xmtp/0/invite-",
  intro: "/xmtp/0/intro-",
  "v1-messages": "/xmtp/0/dm-",
  "v2-messages": "/xmtp/0/m-",
  preferences: "/xmtp/0/userpreferences-",
} as const;

export type TopicClass = keyof typeof TOPIC_CLASSES;
export const TOPIC_CLASS_NAMES = Object.keys(TOPIC_CLASSES) as TopicClass[];

/** Kept forever, kept for a time (by the envelope's own timestamp), or only the newest N of each topic. */
export type Retention = { kind: "forever" } | { kind: "age"; maxAgeNs: bigint } | { kind: "newest"; count: number };

export type RetentionPolicy = Readonly<Record<TopicClass, Retention>>;

export const KEEP_FOREVER: RetentionPolicy = Object.freeze(
  Object.fromEntries(TOPIC_CLASS_NAMES.map((name) => [name, { kind: "forever" } as const])) as Record<TopicClass, Retention>,
);

/** The class a topic belongs to; undefined for topics no class covers (kept forever). */
export function topicClassOf(topic: string): TopicClass | undefined {
  for (const name of TOPIC_CLASS_NAMES) if (topic.startsWith(TOPIC_CLASSES[name])) return name;
  return undefined;
}

export class RetentionPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RetentionPolicyError";
  }
}

const UNIT_NS: Record<string, bigint> = {
  s: 1_000_000_000n,
  m: 60n * 1_000_000_000n,
  h: 3_600n * 1_000_000_000n,
  d: 86_400n * 1_000_000_000n,
};

/**
 * Reads "class=value,…" where value is `forever`, an age such as `90d`, `12h`, `30m`, `45s`, or `newest:N`.
 * Classes not named keep the default (forever). Errors name the entry that is wrong and what would be right.
 */
export function parseRetentionPolicy(spec: string): RetentionPolicy {
  const policy: Record<TopicClass, Retention> = { ...KEEP_FOREVER };
  const seen = new Set<string>();
  for (const raw of spec.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new RetentionPolicyError(`retention entry ${JSON.stringify(entry)} must look like class=value, e.g. v2-messages=365d`);
    const name = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim().toLowerCase();
    if (!(name in TOPIC_CLASSES)) {
      throw new RetentionPolicyError(`unknown topic class ${JSON.stringify(name)} in retention; classes: ${TOPIC_CLASS_NAMES.join(", ")}`);
    }
    if (seen.has(name)) throw new RetentionPolicyError(`topic class ${name} is given more than once in retention`);
    seen.add(name);
    policy[name as TopicClass] = parseRetention(name, value);
  }
  return Object.freeze(policy);
}

function parseRetention(name: string, value: string): Retention {
  if (value === "forever") return { kind: "forever" };
  const newest = /^newest:(\d{1,9})$/.exec(value);
  if (newest) {
    const count = Number(newest[1]);
    if (count < 1) throw new RetentionPolicyError(`${name}=newest:N needs N of at least 1`);
    return { kind: "newest", count };
  }
  const age = /^(\d{1,9})([smhd])$/.exec(value);
  if (age) {
    const maxAgeNs = BigInt(age[1]) * UNIT_NS[age[2]];
    if (maxAgeNs === 0n) throw new RetentionPolicyError(`${name}=${value}: an age must be more than 0`);
    return { kind: "age", maxAgeNs };
  }
  throw new RetentionPolicyError(
    `${name}=${JSON.stringify(value)}: expected forever, an age (90d, 12h, 30m, 45s) or newest:N`,
  );
}

/** The policy in the form parseRetentionPolicy reads, every class named (for logs and reports). */
export function describeRetentionPolicy(policy: RetentionPolicy): string {
  return TOPIC_CLASS_NAMES.map((name) => `${name}=${describeRetention(policy[name])}`).join(",");
}

export function describeRetention(retention: Retention): string {
  switch (retention.kind) {
    case "forever":
      return "forever";
    case "newest":
      return `newest:${retention.count}`;
    case "age": {
      for (const unit of ["d", "h", "m", "s"]) {
        if (retention.maxAgeNs % UNIT_NS[unit] === 0n) return `${retention.maxAgeNs / UNIT_NS[unit]}${unit}`;
      }
      return `${retention.maxAgeNs}ns`;
    }
  }
}

export function isKeepForever(policy: RetentionPolicy): boolean {
  return TOPIC_CLASS_NAMES.every((name) => policy[name].kind === "forever");
}

/** The store rule of one class at a moment (`nowNs`), or undefined when the class is kept forever. */
export function retentionRuleOf(policy: RetentionPolicy, name: TopicClass, nowNs: bigint): RetentionRule | undefined {
  const retention = policy[name];
  const topicPrefix = TOPIC_CLASSES[name];
  switch (retention.kind) {
    case "forever":
      return undefined;
    case "newest":
      return { topicPrefix, keepNewest: retention.count };
    case "age": {
      const horizon = nowNs - retention.maxAgeNs;
      return { topicPrefix, olderThanNs: horizon > 0n ? horizon : 0n };
    }
  }
}

/**
 * Whether this node's policy has already expired an envelope by its age, so that catch-up and relay do not import
 * what the pruner would delete (and a peer that keeps longer would offer again): two nodes with different policies
 * must not ping-pong. `newest:N` classes have no horizon: whether an envelope is among the newest depends on the
 * topic, and the pruner settles it.
 */
export function isExpired(policy: RetentionPolicy, topic: string, timestampNs: bigint, nowNs: bigint): TopicClass | undefined {
  const name = topicClassOf(topic);
  if (!name) return undefined;
  const retention = policy[name];
  return retention.kind === "age" && timestampNs < nowNs - retention.maxAgeNs ? name : undefined;
}
