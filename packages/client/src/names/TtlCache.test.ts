import { describe, expect, it } from "vitest";
import { TtlCache } from "./TtlCache.js";

describe("TtlCache", () => {
  it("keeps values, null included, until the TTL has passed on its clock", () => {
    let now = 0;
    const cache = new TtlCache<string | null>(1000, () => now);
    cache.set("a", "x");
    cache.set("b", null);
    now = 999;
    expect(cache.get("a")).toEqual({ found: true, value: "x" });
    expect(cache.get("b")).toEqual({ found: true, value: null });
    now = 1000;
    expect(cache.get("a")).toEqual({ found: false });
    expect(cache.get("b")).toEqual({ found: false });
  });

  it("keeps nothing with a TTL of 0, and drops the oldest beyond its size", () => {
    const none = new TtlCache<string>(0);
    none.set("a", "x");
    expect(none.get("a").found).toBe(false);
    const small = new TtlCache<number>(1000, () => 0, 2);
    small.set("a", 1);
    small.set("b", 2);
    small.set("c", 3);
    expect(small.get("a").found).toBe(false);
    expect(small.get("c")).toEqual({ found: true, value: 3 });
  });
});
