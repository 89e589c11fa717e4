import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toHex } from "@xmtp-ts/crypto";
import { decodeCumulative, encodeCumulative, InvalidCumulativeError } from "./cumulative.js";

const MAX = (1n << 256n) - 1n;

describe("stamp cumulative encoding", () => {
  it("round-trips every uint256 through its minimal big-endian bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.bigInt({ min: 0n, max: MAX }), fc.constantFrom(0n, 1n, 255n, 256n, MAX)), (value) => {
        const bytes = encodeCumulative(value);
        expect(bytes.length <= 32).toBe(true);
        if (bytes.length > 0) expect(bytes[0]).not.toBe(0);
        expect(decodeCumulative(bytes)).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it("has known encodings", () => {
    expect(toHex(encodeCumulative(0n))).toBe("");
    expect(toHex(encodeCumulative(1000n))).toBe("03e8");
    expect(toHex(encodeCumulative(MAX))).toBe("ff".repeat(32));
  });

  it("refuses padding, more than 32 bytes and values outside uint256", () => {
    expect(() => decodeCumulative(Uint8Array.of(0, 1))).toThrow(InvalidCumulativeError);
    expect(() => decodeCumulative(Uint8Array.of(0))).toThrow(/leading zero/);
    expect(() => decodeCumulative(new Uint8Array(33).fill(1))).toThrow(/33 bytes/);
    expect(() => encodeCumulative(-1n)).toThrow(InvalidCumulativeError);
    expect(() => encodeCumulative(MAX + 1n)).toThrow(InvalidCumulativeError);
  });
});
