import { describe, expect, it } from "vitest";
import { formatNs } from "./formatNs.js";

describe("formatNs", () => {
  it("writes an ISO date with the raw nanoseconds", () => {
    expect(formatNs(1_750_000_000_123_456_789n)).toBe("2025-06-15T15:06:40.123Z (1750000000123456789 ns)");
    expect(formatNs((1n << 64n) - 1n)).toBe("2554-07-21T23:34:33.709Z (18446744073709551615 ns)");
    expect(formatNs(0n)).toBe("1970-01-01T00:00:00.000Z (0 ns)");
  });

  it("falls back to nanoseconds beyond what a Date holds", () => {
    expect(formatNs(10n ** 25n)).toBe("10000000000000000000000000 ns");
  });
});
