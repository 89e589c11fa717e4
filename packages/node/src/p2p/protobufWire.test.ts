import { describe, expect, it } from "vitest";
import { ProtobufReader, ProtobufWriter, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from "./protobufWire.js";

/** The canonical LEB128 bytes of a value, computed the slow, obvious way. */
function leb128(value: bigint): number[] {
  const bytes: number[] = [];
  do {
    let byte = Number(value & 0x7fn);
    value >>= 7n;
    if (value > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0n);
  return bytes;
}

const EDGES = [0n, 1n, 127n, 128n, 300n, 2n ** 28n - 1n, 2n ** 28n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n + 5n,
  2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 56n, 2n ** 63n, 1_795_659_989_891_000_000n * 2n, 2n ** 64n - 1n];

describe("protobuf wire varints", () => {
  it("writes and reads every width up to 64 bits exactly", () => {
    for (const value of EDGES) {
      const bytes = new ProtobufWriter().varint(value).finish();
      expect([...bytes], String(value)).toEqual(leb128(value));
      if (value <= BigInt(Number.MAX_SAFE_INTEGER)) expect([...new ProtobufWriter().varint(Number(value)).finish()]).toEqual(leb128(value));
      // As a field, so the reader's key and value paths both run.
      const field = new ProtobufWriter().uint64Field(1, value).finish();
      expect(new ProtobufReader(field).next()).toEqual({ field: 1, wireType: WIRE_VARINT, varint: value });
    }
  });

  it("refuses varints past 64 bits or 10 bytes, and truncated ones", () => {
    const key = [0x08];
    expect(() => new ProtobufReader(Uint8Array.from([...key, ...leb128(2n ** 64n)])).next()).toThrow(/exceeds 64 bits/);
    expect(() => new ProtobufReader(Uint8Array.from([...key, ...Array(10).fill(0x80), 0x01])).next()).toThrow(/longer than 10 bytes/);
    expect(() => new ProtobufReader(Uint8Array.of(0x08, 0x80)).next()).toThrow(/truncated varint/);
  });

  it("reads large field numbers and refuses lengths past the message", () => {
    const bytes = new ProtobufWriter().bytesField(536_870_911, Uint8Array.of(7)).finish();
    expect(new ProtobufReader(bytes).next()).toEqual({ field: 536_870_911, wireType: WIRE_LENGTH_DELIMITED, bytes: Uint8Array.of(7) });
    expect(() => new ProtobufReader(Uint8Array.from([0x0a, ...leb128(2n ** 40n)])).next()).toThrow(/field length 1099511627776 runs past the end/);
    expect(() => new ProtobufReader(Uint8Array.from([0x0a, ...leb128(2n ** 60n)])).next()).toThrow(/field length 1152921504606846976 runs past the end/);
  });
});
