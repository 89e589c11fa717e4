import { describe, expect, it } from "vitest";
import { RecentDigests } from "./recentDigests.js";

function digest(...prefix: number[]): Uint8Array {
  const bytes = new Uint8Array(32).fill(0xaa);
  bytes.set(prefix);
  return bytes;
}

describe("RecentDigests", () => {
  it("knows what was added, by value, and nothing else", () => {
    const recent = new RecentDigests(10);
    recent.add(digest(1, 2, 3));
    expect(recent.has(digest(1, 2, 3))).toBe(true);
    expect(recent.has(digest(1, 2, 4))).toBe(false);
    expect(recent.size).toBe(1);
  });

  it("never reports a digest that only shares the key prefix; the later one takes the slot", () => {
    const recent = new RecentDigests(10);
    const first = digest(9, 9, 9, 9, 9, 9, 1);
    const second = digest(9, 9, 9, 9, 9, 9, 2);
    recent.add(first);
    expect(recent.has(second)).toBe(false);
    recent.add(second);
    expect(recent.has(second)).toBe(true);
    // Forgetting is safe (the envelope is fetched again and deduplicated); a false "known" would not be.
    expect(recent.has(first)).toBe(false);
  });

  it("forgets the oldest beyond its capacity, counting a re-added digest as new", () => {
    const recent = new RecentDigests(3);
    for (const i of [1, 2, 3]) recent.add(digest(i));
    recent.add(digest(1));
    recent.add(digest(4));
    expect([1, 2, 3, 4].map((i) => recent.has(digest(i)))).toEqual([true, false, true, true]);
    expect(recent.size).toBe(3);
  });

  it("adds envelopes by the digest they carry or by computing it", () => {
    const recent = new RecentDigests();
    const envelope = { contentTopic: "/xmtp/0/m-x/proto", timestampNs: 1n, message: Uint8Array.of(1, 2) };
    recent.addEnvelopes([envelope, { ...envelope, message: Uint8Array.of(3), digest: digest(7) }]);
    expect(recent.has(digest(7))).toBe(true);
    expect(recent.size).toBe(2);
  });
});
