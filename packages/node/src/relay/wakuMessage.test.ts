import { describe, expect, it } from "vitest";
import { decodeWakuMessage, encodeWakuMessage } from "./wakuMessage.js";
import { ProtobufDecodeError } from "../p2p/protobufWire.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));

describe("WakuMessage codec", () => {
  it("encodes the fields with their protobuf numbers and types", () => {
    const bytes = encodeWakuMessage({ payload: Uint8Array.of(1, 2, 3), contentTopic: "a", timestamp: 1n, ephemeral: true });
    // payload(1,bytes) content_topic(2,string) timestamp(10,sint64 zigzag 1→2) ephemeral(31,bool: key f8 01)
    expect(hex(bytes)).toBe("0a03010203" + "120161" + "5002" + "f80101");
  });

  it("round-trips every field, including a negative timestamp and a large one", () => {
    for (const timestamp of [0n, -1n, 1_795_659_984_974_000_000n, (1n << 63n) - 1n, -(1n << 63n)]) {
      const message = {
        payload: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
        contentTopic: "/xmtp/0/m-abc/proto",
        version: 7,
        timestamp,
        meta: Uint8Array.of(9, 9),
        ephemeral: false,
      };
      expect(decodeWakuMessage(encodeWakuMessage(message))).toEqual(message);
    }
  });

  it("decodes a message written by another encoder, skipping fields it does not know", () => {
    // field 4 (varint 5), field 7 (bytes "zz"), field 13 (fixed64), field 14 (fixed32), then the known ones
    const bytes = fromHex("2005" + "3a027a7a" + "690102030405060708" + "7501020304" + "0a01ff" + "120178" + "5004");
    expect(decodeWakuMessage(bytes)).toEqual({ payload: Uint8Array.of(0xff), contentTopic: "x", timestamp: 2n });
  });

  it("leaves out absent optional fields", () => {
    const decoded = decodeWakuMessage(encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "t" }));
    expect(decoded.timestamp).toBeUndefined();
    expect(decoded.ephemeral).toBeUndefined();
    expect(decoded.version).toBeUndefined();
  });

  it("rejects truncated and malformed input with a reason", () => {
    expect(() => decodeWakuMessage(fromHex("0a05010203"))).toThrow(/runs past the end/);
    expect(() => decodeWakuMessage(fromHex("50"))).toThrow(/truncated varint/);
    expect(() => decodeWakuMessage(fromHex("0a"))).toThrow(ProtobufDecodeError);
    expect(() => decodeWakuMessage(fromHex("1202c328"))).toThrow(/content_topic is not valid UTF-8/);
    expect(() => decodeWakuMessage(fromHex("0801"))).toThrow(/payload \(1\) has wire type 0/);
    expect(() => decodeWakuMessage(fromHex("0f"))).toThrow(/unsupported wire type 7/);
    expect(() => decodeWakuMessage(fromHex("ffffffffffffffffffff01"))).toThrow(/varint/);
    expect(() => decodeWakuMessage(fromHex("0001"))).toThrow(/field number 0/);
  });

  it("refuses to encode a timestamp outside sint64", () => {
    expect(() => encodeWakuMessage({ payload: Uint8Array.of(1), contentTopic: "t", timestamp: 1n << 63n })).toThrow(
      /does not fit in sint64/,
    );
  });
});
