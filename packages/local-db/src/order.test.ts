import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkOrder, MAX_ORDER, MIN_ORDER, orderFromBytes, orderRange, orderToBytes } from "./order.js";

const compareBytes = (a: Uint8Array, b: Uint8Array) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
};

describe("order", () => {
  it("as bytes sorts like the number and reads back", () => {
    const order = fc.bigInt({ min: MIN_ORDER, max: MAX_ORDER });
    fc.assert(
      fc.property(order, order, (a, b) => {
        expect(orderFromBytes(orderToBytes(a))).toBe(a);
        expect(Math.sign(compareBytes(orderToBytes(a), orderToBytes(b)))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
    expect(orderToBytes(MIN_ORDER)).toEqual(new Uint8Array(8));
    expect(orderToBytes(MAX_ORDER)).toEqual(new Uint8Array(8).fill(0xff));
  });

  it("of a put is a signed 64-bit bigint, 0n when absent", () => {
    expect(checkOrder(undefined)).toBe(0n);
    expect(checkOrder(MAX_ORDER)).toBe(MAX_ORDER);
    expect(() => checkOrder(MAX_ORDER + 1n)).toThrow(RangeError);
    expect(() => checkOrder(MIN_ORDER - 1n)).toThrow(RangeError);
    expect(() => checkOrder(1)).toThrow(TypeError);
  });

  it("ranges are clamped to 64 bits, and empty ones are undefined", () => {
    expect(orderRange(undefined, undefined)).toEqual({ from: MIN_ORDER, to: MAX_ORDER });
    expect(orderRange(-(1n << 70n), 1n << 70n)).toEqual({ from: MIN_ORDER, to: MAX_ORDER });
    expect(orderRange(5n, 4n)).toBeUndefined();
    expect(orderRange(1n << 64n, undefined)).toBeUndefined();
    expect(() => orderRange(1, undefined)).toThrow(TypeError);
  });
});
