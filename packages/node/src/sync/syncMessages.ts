// Messages of the catch-up protocol /xmtp-ts/sync/1.0.0 (see docs/network.md). Every frame on the stream is a
// varint length and one of these protobuf messages:
//
//   client → server   message ClientFrame { oneof kind { SyncRequest request = 1; SyncWant want = 2; } }
//                     message SyncRequest { uint64 after_sequence = 1; uint32 limit = 2; }
//                     message SyncWant    { bytes bitmap = 1; }   // bit i (byte i/8, bit i%8 from the LSB) = send #i
//
//   server → client   message ServerFrame { oneof kind { xmtp.message_api.v1.Envelope envelope = 1;
//                                                        PageEnd page_end = 2; string error = 3; PageOffer offer = 4; } }
//                     message PageOffer   { bytes digests = 1;        // 32 bytes per envelope of the page, in order
//                                           uint64 next_sequence = 2; bool caught_up = 3; }
//                     message PageEnd     { }
//
// Envelope frames are written and read field by field here rather than through @xmtp-ts/proto's generic codec:
// catch-up moves every envelope of a store through them, and the direct path allocates once per frame.
import type { Envelope } from "../store/EnvelopeStore.js";
import {
  ProtobufDecodeError,
  ProtobufReader,
  ProtobufWriter,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  copyBytes,
  decodeUtf8,
  expectWireType,
  varintLength,
} from "../p2p/protobufWire.js";

export const SYNC_PROTOCOL = "/xmtp-ts/sync/1.0.0";
export const DIGEST_BYTES = 32;

const textEncoder = new TextEncoder();

export type ClientFrame =
  | { kind: "request"; afterSequence: bigint; limit: number }
  | { kind: "want"; bitmap: Uint8Array };

export type ServerFrame =
  /**
   * The page's envelopes by digest. caughtUp: the page ended because the store had nothing after nextSequence (not
   * because of the page limit).
   */
  | { kind: "offer"; digests: Uint8Array[]; nextSequence: bigint; caughtUp: boolean }
  | { kind: "envelope"; envelope: Envelope }
  | { kind: "pageEnd" }
  | { kind: "error"; message: string };

export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  if (frame.kind === "request") {
    const request = new ProtobufWriter().uint64Field(1, frame.afterSequence).uint64Field(2, frame.limit).finish();
    return new ProtobufWriter(request.length + 4).bytesField(1, request).finish();
  }
  const want = new ProtobufWriter(frame.bitmap.length + 8).bytesField(1, frame.bitmap).finish();
  return new ProtobufWriter(want.length + 8).bytesField(2, want).finish();
}

export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  let frame: ClientFrame | undefined;
  for (const entry of fields(bytes)) {
    if (entry.field === 1) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "request");
      const request = { kind: "request" as const, afterSequence: 0n, limit: 0 };
      for (const inner of fields(entry.bytes!)) {
        if (inner.field === 1) {
          expectWireType(inner, WIRE_VARINT, "request.after_sequence");
          request.afterSequence = inner.varint!;
        } else if (inner.field === 2) {
          expectWireType(inner, WIRE_VARINT, "request.limit");
          if (inner.varint! > 0xffffffffn) throw new ProtobufDecodeError("field request.limit does not fit in uint32");
          request.limit = Number(inner.varint!);
        }
      }
      frame = request;
    } else if (entry.field === 2) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "want");
      let bitmap: Uint8Array = new Uint8Array(0);
      for (const inner of fields(entry.bytes!)) {
        if (inner.field === 1) {
          expectWireType(inner, WIRE_LENGTH_DELIMITED, "want.bitmap");
          bitmap = copyBytes(inner.bytes!);
        }
      }
      frame = { kind: "want", bitmap };
    }
  }
  if (!frame) throw new ProtobufDecodeError("sync client frame has neither request nor want");
  return frame;
}

export function encodeServerFrame(frame: ServerFrame): Uint8Array {
  switch (frame.kind) {
    case "envelope":
      return encodeEnvelopeFrame(frame.envelope);
    case "offer": {
      const digests = new Uint8Array(frame.digests.length * DIGEST_BYTES);
      frame.digests.forEach((digest, i) => {
        if (digest.length !== DIGEST_BYTES) throw new RangeError(`digest ${i} has ${digest.length} bytes, not ${DIGEST_BYTES}`);
        digests.set(digest, i * DIGEST_BYTES);
      });
      const offer = new ProtobufWriter(digests.length + 32)
        .bytesField(1, digests)
        .uint64Field(2, frame.nextSequence)
        .boolField(3, frame.caughtUp)
        .finish();
      return new ProtobufWriter(offer.length + 8).bytesField(4, offer).finish();
    }
    case "pageEnd":
      return new ProtobufWriter(2).bytesField(2, new Uint8Array(0)).finish();
    case "error":
      return new ProtobufWriter().stringField(3, frame.message).finish();
  }
}

export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  let frame: ServerFrame | undefined;
  for (const entry of fields(bytes)) {
    if (entry.field === 1) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "envelope");
      frame = { kind: "envelope", envelope: decodeEnvelope(entry.bytes!) };
    } else if (entry.field === 2) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "page_end");
      frame = { kind: "pageEnd" };
    } else if (entry.field === 3) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "error");
      frame = { kind: "error", message: decodeUtf8(entry.bytes!, "error") };
    } else if (entry.field === 4) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "offer");
      frame = decodeOffer(entry.bytes!);
    }
  }
  if (!frame) throw new ProtobufDecodeError("sync server frame has none of envelope, page_end, error, offer");
  return frame;
}

function decodeOffer(bytes: Uint8Array): ServerFrame {
  let packed: Uint8Array = new Uint8Array(0);
  let nextSequence = 0n;
  let caughtUp = false;
  for (const entry of fields(bytes)) {
    if (entry.field === 1) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "offer.digests");
      packed = entry.bytes!;
    } else if (entry.field === 2) {
      expectWireType(entry, WIRE_VARINT, "offer.next_sequence");
      nextSequence = entry.varint!;
    } else if (entry.field === 3) {
      expectWireType(entry, WIRE_VARINT, "offer.caught_up");
      caughtUp = entry.varint! !== 0n;
    }
  }
  if (packed.length % DIGEST_BYTES !== 0) {
    throw new ProtobufDecodeError(`field offer.digests has ${packed.length} bytes, not a multiple of ${DIGEST_BYTES}`);
  }
  const digests: Uint8Array[] = [];
  for (let offset = 0; offset < packed.length; offset += DIGEST_BYTES) {
    digests.push(copyBytes(packed.subarray(offset, offset + DIGEST_BYTES)));
  }
  return { kind: "offer", digests, nextSequence, caughtUp };
}

function* fields(bytes: Uint8Array) {
  const reader = new ProtobufReader(bytes);
  while (!reader.done) yield reader.next();
}

/**
 * The envelope's postage proof (docs/postage.md §4), an xmtp-ts field beyond the XMTP Envelope's three; nodes of
 * earlier versions skip it as an unknown field.
 */
const ENVELOPE_POSTAGE_FIELD = 15;

/** ServerFrame{envelope = Envelope{content_topic = 1, timestamp_ns = 2, message = 3, postage = 15}}, sized up front. */
function encodeEnvelopeFrame(envelope: Envelope): Uint8Array {
  const topic = textEncoder.encode(envelope.contentTopic);
  const innerLength =
    1 + varintLength(topic.length) + topic.length +
    1 + varintLength(envelope.timestampNs) +
    1 + varintLength(envelope.message.length) + envelope.message.length +
    (envelope.postage ? 1 + varintLength(envelope.postage.length) + envelope.postage.length : 0);
  const writer = new ProtobufWriter(1 + varintLength(innerLength) + innerLength);
  writer.tag(1, WIRE_LENGTH_DELIMITED).varint(innerLength);
  writer.bytesField(1, topic).uint64Field(2, envelope.timestampNs).bytesField(3, envelope.message);
  if (envelope.postage) writer.bytesField(ENVELOPE_POSTAGE_FIELD, envelope.postage);
  return writer.finish();
}

/** xmtp.message_api.v1.Envelope, with the message copied out of the frame. */
function decodeEnvelope(bytes: Uint8Array): Envelope {
  const envelope: Envelope = { contentTopic: "", timestampNs: 0n, message: new Uint8Array(0) };
  try {
    for (const entry of fields(bytes)) {
      if (entry.field === 1) {
        expectWireType(entry, WIRE_LENGTH_DELIMITED, "envelope.content_topic");
        envelope.contentTopic = decodeUtf8(entry.bytes!, "envelope.content_topic");
      } else if (entry.field === 2) {
        expectWireType(entry, WIRE_VARINT, "envelope.timestamp_ns");
        envelope.timestampNs = entry.varint!;
      } else if (entry.field === 3) {
        expectWireType(entry, WIRE_LENGTH_DELIMITED, "envelope.message");
        envelope.message = copyBytes(entry.bytes!);
      } else if (entry.field === ENVELOPE_POSTAGE_FIELD) {
        expectWireType(entry, WIRE_LENGTH_DELIMITED, "envelope.postage");
        if (entry.bytes!.length > 0) envelope.postage = copyBytes(entry.bytes!);
      }
    }
  } catch (error) {
    throw new ProtobufDecodeError(`field envelope is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return envelope;
}

/** A want bitmap with bit i set when wanted(i). */
export function encodeWantBitmap(count: number, wanted: (index: number) => boolean): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(count / 8));
  for (let i = 0; i < count; i++) if (wanted(i)) bitmap[i >> 3] |= 1 << (i & 7);
  return bitmap;
}

export function isWanted(bitmap: Uint8Array, index: number): boolean {
  return (bitmap[index >> 3] & (1 << (index & 7))) !== 0;
}
