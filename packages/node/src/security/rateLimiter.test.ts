import { describe, expect, it } from "vitest";
import { RateLimiter, type BucketPolicy } from "./rateLimiter.js";

function clock(startMs = 1_000) {
  let now = startMs;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

function drain(limiter: RateLimiter, key: string, policy: BucketPolicy): number {
  let taken = 0;
  while (limiter.take(key, policy).allowed) taken++;
  return taken;
}

describe("RateLimiter", () => {
  const policy: BucketPolicy = { capacity: 5, refillPerSecond: 1 };

  it("allows a burst of exactly the capacity, then refuses with a retry hint", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    expect(drain(limiter, "a", policy)).toBe(5);
    const refused = limiter.take("a", policy);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it("keeps separate buckets per key", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    drain(limiter, "a", policy);
    expect(limiter.take("b", policy).allowed).toBe(true);
    expect(limiter.take("a", policy).allowed).toBe(false);
  });

  // The reference node's 2022 limiter added tokens only for whole minutes since the caller was last seen and reset
  // that time on every call, so a caller coming back more often than once a minute was never refilled.
  it("refills a caller that comes back every second, not only after a quiet minute", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    drain(limiter, "busy", policy);
    let allowed = 0;
    for (let i = 0; i < 120; i++) {
      c.advance(1000);
      if (limiter.take("busy", policy).allowed) allowed++;
    }
    expect(allowed).toBe(120);
  });

  it("accumulates fractional refills between frequent calls", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    const slow: BucketPolicy = { capacity: 2, refillPerSecond: 0.5 };
    drain(limiter, "k", slow);
    const outcomes: boolean[] = [];
    // Every 250 ms for 4 s: 0.125 tokens per step, so exactly every 8th call may pass, and a refused call
    // does not reset the accumulation.
    for (let i = 0; i < 16; i++) {
      c.advance(250);
      outcomes.push(limiter.take("k", slow).allowed);
    }
    expect(outcomes.filter(Boolean)).toHaveLength(2);
    expect(outcomes[7]).toBe(true);
    expect(outcomes[15]).toBe(true);
  });

  it("never holds more than the capacity, however long the key was idle", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    limiter.take("k", policy);
    c.advance(3_600_000);
    expect(drain(limiter, "k", policy)).toBe(5);
  });

  it("tells how long to wait, and the request passes after exactly that wait", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    const p: BucketPolicy = { capacity: 10, refillPerSecond: 2 };
    drain(limiter, "k", p);
    const refused = limiter.take("k", p, 5);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 3 });
    c.advance(2_000);
    expect(limiter.take("k", p, 5).allowed).toBe(false);
    c.advance(1_000);
    expect(limiter.take("k", p, 5).allowed).toBe(true);
  });

  it("charges a cost above the capacity as a full bucket instead of refusing it forever", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    expect(limiter.take("k", policy, 50).allowed).toBe(true);
    expect(limiter.take("k", policy, 1).allowed).toBe(false);
    c.advance(5_000);
    expect(limiter.take("k", policy, 50).allowed).toBe(true);
  });

  it("applies a changed policy to an existing bucket (a wallet made priority)", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    drain(limiter, "w", policy);
    const priority: BucketPolicy = { capacity: 100, refillPerSecond: 50 };
    expect(limiter.take("w", priority).allowed).toBe(false);
    c.advance(1_000);
    expect(drain(limiter, "w", priority)).toBe(50);
  });

  it("forgets idle buckets once they have refilled, and keeps drained ones", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    for (let i = 0; i < 1000; i++) limiter.take(`idle-${i}`, policy);
    drain(limiter, "hot", policy);
    expect(limiter.size).toBe(1001);
    c.advance(1_000);
    // One second refills the idle buckets (4 → 5) but not the drained one (0 → 1).
    expect(limiter.sweep()).toBe(1000);
    expect(limiter.size).toBe(1);
    // The drained bucket kept its level through the sweep.
    expect(limiter.take("hot", policy).allowed).toBe(true);
    expect(limiter.take("hot", policy).allowed).toBe(false);
  });

  it("never remembers more than maxKeys buckets, evicting the least recently used", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now, maxKeys: 100 });
    drain(limiter, "victim", policy);
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`flood-${i}`, policy);
      // Keep "kept" recently used so LRU eviction spares it.
      if (i % 50 === 0) limiter.take("kept", { capacity: 1000, refillPerSecond: 1 });
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
    // "kept" was touched within the last 100 keys and survived with its level (it spent 200 of 1000 tokens).
    let keptLeft = 0;
    while (limiter.take("kept", { capacity: 1000, refillPerSecond: 1 }).allowed) keptLeft++;
    expect(keptLeft).toBe(800);
    // "victim" was drained and the clock never moved: it passes again only because it was forgotten.
    expect(limiter.take("victim", policy).allowed).toBe(true);
  });

  it("peeks without taking tokens or remembering the key", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    expect(limiter.peek("k", policy)).toEqual({ allowed: true });
    expect(limiter.size).toBe(0);
    drain(limiter, "k", policy);
    expect(limiter.peek("k", policy)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(1000);
    expect(limiter.peek("k", policy)).toEqual({ allowed: true });
    expect(limiter.peek("k", policy)).toEqual({ allowed: true });
    expect(limiter.take("k", policy).allowed).toBe(true);
    expect(limiter.take("k", policy).allowed).toBe(false);
  });

  it("charges past zero into debt, refusing a zero-cost peek until the refill pays it back", () => {
    const c = clock();
    const limiter = new RateLimiter({ now: c.now });
    const bytes = { capacity: 100, refillPerSecond: 10 };
    limiter.charge("k", bytes, 60);
    expect(limiter.peek("k", bytes, 0)).toEqual({ allowed: true });
    limiter.charge("k", bytes, 70); // 100 - 60 - 70 = -30
    expect(limiter.peek("k", bytes, 0)).toEqual({ allowed: false, retryAfterSeconds: 3 });
    c.advance(2_000);
    expect(limiter.peek("k", bytes, 0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(1_000);
    expect(limiter.peek("k", bytes, 0)).toEqual({ allowed: true });
    c.advance(60_000);
    expect(limiter.sweep()).toBe(1);
  });

  it("rejects a maxKeys that is not a positive integer", () => {
    expect(() => new RateLimiter({ maxKeys: 0 })).toThrow(/maxKeys/);
  });
});
