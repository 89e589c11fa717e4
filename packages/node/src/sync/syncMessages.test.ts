// The sync frames against their contract, proto/xmtp-ts/sync/v1/sync.proto: frozen bytes (which nodes of every
// version put on the wire and must keep reading), the hand-written envelope encoder against the generated one, and
// forged input.
import { describe, expect, it } from "vitest";
import { create, fromBinary, sync, toBinary } from "@xmtp-ts/proto";
import { ProtobufDecodeError } from "../p2p/protobufWire.js";
import type { Envelope } from "../store/EnvelopeStore.js";
import {
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  type ClientFrame,
  type ServerFrame,
} from "./syncMessages.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));
/** n bytes counting up from start (mod 256). */
const counting = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);

const TOPIC = "/xmtp/0/m-a/proto";
const TOPIC_HEX = "2f786d74702f302f6d2d612f70726f746f"; // 17 bytes of UTF-8

// Each vector was written once from the encoding nodes have always sent (field by field, zero values included), and
// checked against the encoder of the previous version.
const clientVectors: [string, ClientFrame, string][] = [
  ["a first request, zeros written out", { kind: "request", afterSequence: 0n, limit: 0 }, "0a04" + "0800" + "1000"],
  [
    "a request from the largest sequence",
    { kind: "request", afterSequence: 2n ** 64n - 1n, limit: 1000 },
    "0a0e" + "08ffffffffffffffffff01" + "10e807",
  ],
  ["a want for #0, #2 and #9", { kind: "want", bitmap: Uint8Array.of(0b101, 0b10) }, "1204" + "0a020502"],
];

const serverVectors: [string, ServerFrame, string][] = [
  [
    "an offer of two envelopes",
    { kind: "offer", digests: [counting(0x00, 32), counting(0xe0, 32)], nextSequence: 300n, caughtUp: true },
    "2247" + "0a40" + hex(counting(0x00, 32)) + hex(counting(0xe0, 32)) + "10ac02" + "1801",
  ],
  ["an empty offer, zeros written out", { kind: "offer", digests: [], nextSequence: 7n, caughtUp: false }, "2206" + "0a00" + "1007" + "1800"],
  ["a page end", { kind: "pageEnd" }, "1200"],
  ["an error", { kind: "error", message: "nope" }, "1a04" + "6e6f7065"],
  [
    "an envelope",
    { kind: "envelope", envelope: { contentTopic: TOPIC, timestampNs: 1_700_000_000_000_000_000n, message: Uint8Array.of(1, 2, 3) } },
    "0a22" + "0a11" + TOPIC_HEX + "108080a8b1e39fe7cb17" + "1a03010203",
  ],
  [
    "an envelope with a postage proof",
    { kind: "envelope", envelope: { contentTopic: TOPIC, timestampNs: 5n, message: Uint8Array.of(9), postage: Uint8Array.of(0xde, 0xad) } },
    "0a1c" + "0a11" + TOPIC_HEX + "1005" + "1a0109" + "7a02dead",
  ],
];

describe("sync frames: known-answer vectors", () => {
  it.each(clientVectors)("client frame: %s", (_, frame, expected) => {
    expect(hex(encodeClientFrame(frame))).toBe(expected);
    expect(decodeClientFrame(fromHex(expected))).toEqual(frame);
  });

  it.each(serverVectors)("server frame: %s", (_, frame, expected) => {
    expect(hex(encodeServerFrame(frame))).toBe(expected);
    expect(decodeServerFrame(fromHex(expected))).toEqual(frame);
  });

  it("reads the fields a sender left out as zero, and skips fields it does not know", () => {
    expect(decodeClientFrame(fromHex("0a00"))).toEqual({ kind: "request", afterSequence: 0n, limit: 0 });
    expect(decodeServerFrame(fromHex("2200"))).toEqual({ kind: "offer", digests: [], nextSequence: 0n, caughtUp: false });
    // A newer peer's field 9 (bytes) in the request and field 20 (varint) in the envelope.
    expect(decodeClientFrame(fromHex("0a07" + "0805" + "4a0100" + "100a"))).toEqual({ kind: "request", afterSequence: 5n, limit: 10 });
    expect(decodeServerFrame(fromHex("0a0a" + "0a00" + "1001" + "a00107" + "1a0142"))).toEqual({
      kind: "envelope",
      envelope: { contentTopic: "", timestampNs: 1n, message: Uint8Array.of(0x42) },
    });
  });
});

describe("sync frames: the hand-written envelope encoder is the generated one", () => {
  const envelopes: [string, Envelope][] = [
    ["small", { contentTopic: TOPIC, timestampNs: 1_700_000_000_000_000_000n, message: counting(7, 300) }],
    ["all zero", { contentTopic: "", timestampNs: 0n, message: new Uint8Array(0) }],
    ["largest timestamp, non-ASCII topic", { contentTopic: "/xmtp/0/m-é✓😀/proto", timestampNs: 2n ** 64n - 1n, message: Uint8Array.of(0) }],
    ["with postage", { contentTopic: TOPIC, timestampNs: 42n, message: counting(1, 40), postage: counting(9, 200) }],
    ["with empty postage", { contentTopic: TOPIC, timestampNs: 42n, message: counting(1, 40), postage: new Uint8Array(0) }],
    ["1 MiB message", { contentTopic: TOPIC, timestampNs: 3n, message: counting(3, 1024 * 1024) }],
  ];

  it.each(envelopes)("%s", (_, envelope) => {
    const generated = toBinary(
      sync.ServerFrameSchema,
      create(sync.ServerFrameSchema, {
        kind: {
          case: "envelope",
          value: {
            contentTopic: envelope.contentTopic,
            timestampNs: envelope.timestampNs,
            message: envelope.message,
            postage: envelope.postage,
          },
        },
      }),
    );
    const hand = encodeServerFrame({ kind: "envelope", envelope });
    expect(Buffer.compare(hand, generated)).toBe(0);

    // Hand-written bytes read by the generated decoder...
    const read = fromBinary(sync.ServerFrameSchema, hand);
    expect(read.kind.case).toBe("envelope");
    const value = read.kind.value as sync.SyncEnvelope;
    expect(value.contentTopic).toBe(envelope.contentTopic);
    expect(value.timestampNs).toBe(envelope.timestampNs);
    expect(Buffer.compare(value.message!, envelope.message)).toBe(0);
    expect(value.postage === undefined ? undefined : hex(value.postage)).toBe(envelope.postage && hex(envelope.postage));
    // ...and generated bytes by the node's decoder, which takes an empty postage field for none. (Compared field by
    // field: deep equality of a 1 MiB array takes seconds.)
    const decoded = decodeServerFrame(generated);
    if (decoded.kind !== "envelope") throw new Error(`decoded a ${decoded.kind}`);
    expect(decoded.envelope.contentTopic).toBe(envelope.contentTopic);
    expect(decoded.envelope.timestampNs).toBe(envelope.timestampNs);
    expect(Buffer.compare(decoded.envelope.message, envelope.message)).toBe(0);
    const postage = envelope.postage?.length ? hex(envelope.postage) : undefined;
    expect(decoded.envelope.postage && hex(decoded.envelope.postage)).toBe(postage);
    expect("postage" in decoded.envelope).toBe(postage !== undefined);
  });

  it("copies the envelope out of the frame", () => {
    const frame = encodeServerFrame({ kind: "envelope", envelope: { contentTopic: TOPIC, timestampNs: 1n, message: Uint8Array.of(1, 2) } });
    const decoded = decodeServerFrame(frame);
    frame.fill(0);
    expect(decoded).toMatchObject({ kind: "envelope", envelope: { message: Uint8Array.of(1, 2) } });
    expect(decoded.kind === "envelope" && decoded.envelope.message.buffer.byteLength).toBe(2);
  });
});

describe("sync frames: malformed and forged input", () => {
  const cases: [string, "client" | "server", string, RegExp][] = [
    ["an empty client frame", "client", "", /sync client frame has neither request nor want/],
    ["an empty server frame", "server", "", /sync server frame has none of envelope, page_end, error, offer/],
    ["only unknown fields", "server", "3a0100", /has none of envelope, page_end, error, offer/],
    ["a request sent as a varint", "client", "0805", /field request \(1\) has wire type 0, expected 2/],
    ["after_sequence as bytes", "client", "0a02" + "0a00", /field request\.after_sequence \(1\) has wire type 2, expected 0/],
    ["a limit past uint32", "client", "0a06" + "108080808010", /field request\.limit does not fit in uint32/],
    ["a want bitmap as a varint", "client", "1202" + "0801", /field want\.bitmap \(1\) has wire type 0, expected 2/],
    ["a truncated request", "client", "0a01" + "08", /field request is malformed: truncated varint/],
    ["a frame cut short", "server", "0a05" + "0a01", /field length 5 runs past the end of the message/],
    ["an envelope cut inside", "server", "0a02" + "ffff", /field envelope is malformed: truncated varint/],
    ["an envelope message as a varint", "server", "0a02" + "1805", /field envelope\.message \(3\) has wire type 0, expected 2/],
    ["a topic that is not UTF-8", "server", "0a03" + "0a01ff", /field envelope\.content_topic is not valid UTF-8/],
    ["an error that is not UTF-8", "server", "1a01" + "ff", /field error is not valid UTF-8/],
    ["an offer as a varint", "server", "2001", /field offer \(4\) has wire type 0, expected 2/],
    ["caught_up as bytes", "server", "2202" + "1a00", /field offer\.caught_up \(3\) has wire type 2, expected 0/],
    ["digests that are not whole", "server", "2203" + "0a0100", /field offer\.digests has 1 bytes, not a multiple of 32/],
    ["field number 0", "server", "0000", /field number 0 is not allowed/],
    ["a group", "client", "0b", /unsupported wire type 3 for field 1/],
    ["a varint over 64 bits", "client", "0a0b" + "08ffffffffffffffffff7f", /field request is malformed: varint exceeds 64 bits/],
  ];

  it.each(cases)("%s", (_, side, input, reason) => {
    const decode = side === "client" ? decodeClientFrame : decodeServerFrame;
    let thrown: unknown;
    try {
      decode(fromHex(input));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProtobufDecodeError);
    expect((thrown as Error).message).toMatch(reason);
  });
});
