// Token buckets. Each bucket refills continuously with the time elapsed since it was last touched (fractional
// tokens included), so a caller that comes back every few milliseconds is refilled just like one that comes back
// after an hour. Memory is bounded: buckets that have refilled to capacity are indistinguishable from new ones
// and are swept, and the map never holds more than `maxKeys` buckets (least recently used go first).

export interface BucketPolicy {
  /** Burst size: the most tokens a bucket holds. */
  capacity: number;
  /** Tokens added per second. */
  refillPerSecond: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  /** Upper bound on remembered buckets; default 100,000. */
  maxKeys?: number;
  /** Milliseconds from any fixed origin; injectable for tests. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
  capacity: number;
  refillPerSecond: number;
}

export const DEFAULT_RATE_LIMITER_MAX_KEYS = 100_000;

export function validateBucketPolicy(policy: BucketPolicy, name: string): void {
  if (!Number.isFinite(policy.capacity) || policy.capacity < 1) {
    throw new TypeError(`${name}: capacity must be a number ≥ 1, got ${policy.capacity}`);
  }
  if (!Number.isFinite(policy.refillPerSecond) || policy.refillPerSecond <= 0) {
    throw new TypeError(`${name}: refill per second must be a number > 0, got ${policy.refillPerSecond}`);
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: RateLimiterOptions = {}) {
    this.maxKeys = options.maxKeys ?? DEFAULT_RATE_LIMITER_MAX_KEYS;
    if (!Number.isInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new TypeError(`rate limiter maxKeys must be a positive integer, got ${this.maxKeys}`);
    }
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes `cost` tokens from the key's bucket if it has them. A cost above the capacity is charged as the whole
   * capacity, so such a request waits for a full bucket instead of never passing.
   */
  take(key: string, policy: BucketPolicy, cost = 1): RateDecision {
    const now = this.now();
    const charge = Math.min(cost, policy.capacity);
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      bucket.tokens = levelAt(bucket, now);
      bucket.updatedAtMs = now;
      // The policy may change for a key (e.g. a wallet made priority); the level carries over, capped.
      bucket.capacity = policy.capacity;
      bucket.refillPerSecond = policy.refillPerSecond;
      bucket.tokens = Math.min(bucket.tokens, policy.capacity);
    } else {
      bucket = { tokens: policy.capacity, updatedAtMs: now, ...policy };
      if (this.buckets.size >= this.maxKeys) this.evictLeastRecentlyUsed();
    }
    // Re-inserting keeps the map in least-recently-used order for eviction.
    this.buckets.set(key, bucket);
    if (bucket.tokens >= charge) {
      bucket.tokens -= charge;
      return { allowed: true };
    }
    const waitSeconds = (charge - bucket.tokens) / policy.refillPerSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds)) };
  }

  /**
   * Takes `cost` tokens whatever the level, which may put the bucket in debt (below zero): for limits whose cost is
   * known only after the work is done, such as the bytes a query returned. While in debt, `peek(key, policy, 0)`
   * refuses, until the refill has paid the debt back; so a client overshoots by at most one request.
   */
  charge(key: string, policy: BucketPolicy, cost: number): void {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      bucket.tokens = levelAt(bucket, now);
      bucket.updatedAtMs = now;
    } else {
      bucket = { tokens: policy.capacity, updatedAtMs: now, ...policy };
      if (this.buckets.size >= this.maxKeys) this.evictLeastRecentlyUsed();
    }
    bucket.tokens -= cost;
    this.buckets.set(key, bucket);
  }

  /** Whether `cost` tokens are available now, without taking them or creating a bucket. */
  peek(key: string, policy: BucketPolicy, cost = 1): RateDecision {
    const bucket = this.buckets.get(key);
    if (!bucket) return { allowed: true };
    const level = Math.min(levelAt(bucket, this.now()), policy.capacity);
    const charge = Math.min(cost, policy.capacity);
    if (level >= charge) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((charge - level) / policy.refillPerSecond)) };
  }

  /** Forgets every bucket that has refilled to capacity; returns how many were forgotten. */
  sweep(): number {
    const now = this.now();
    let removed = 0;
    for (const [key, bucket] of this.buckets) {
      if (levelAt(bucket, now) >= bucket.capacity) {
        this.buckets.delete(key);
        removed++;
      }
    }
    return removed;
  }

  // Not a sweep: under a flood of new keys a full scan per insert would cost more than the limiter saves.
  private evictLeastRecentlyUsed(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}

function levelAt(bucket: Bucket, now: number): number {
  const elapsedSeconds = Math.max(0, now - bucket.updatedAtMs) / 1000;
  return Math.min(bucket.capacity, bucket.tokens + elapsedSeconds * bucket.refillPerSecond);
}
