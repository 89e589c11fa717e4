// Messages of the catch-up protocol /xmtp-ts/sync/1.0.0 (see docs/network.md):
//   message SyncRequest { uint64 after_sequence = 1; uint32 limit = 2; }
//   message SyncFrame   { oneof kind { xmtp.message_api.v1.Envelope envelope = 1; PageEnd page_end = 2;
//                                      string error = 3; } }
//   message PageEnd     { uint64 next_sequence = 1; bool caught_up = 2; }
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
} from "../relay/protobufWire.js";

const textEncoder = new TextEncoder();

export const SYNC_PROTOCOL = "/xmtp-ts/sync/1.0.0";

export interface SyncRequest {
  afterSequence: bigint;
  limit: number;
}

export type SyncFrame =
  | { kind: "envelope"; envelope: Envelope }
  /** caughtUp: the page ended because the store has nothing after nextSequence (not because of the page limit). */
  | { kind: "pageEnd"; nextSequence: bigint; caughtUp: boolean }
  | { kind: "error"; message: string };

export function encodeSyncRequest(request: SyncRequest): Uint8Array {
  return new ProtobufWriter().uint64Field(1, request.afterSequence).uint64Field(2, request.limit).finish();
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  const reader = new ProtobufReader(bytes);
  const request: SyncRequest = { afterSequence: 0n, limit: 0 };
  while (!reader.done) {
    const entry = reader.next();
    if (entry.field === 1) {
      expectWireType(entry, WIRE_VARINT, "after_sequence");
      request.afterSequence = entry.varint!;
    } else if (entry.field === 2) {
      expectWireType(entry, WIRE_VARINT, "limit");
      if (entry.varint! > 0xffffffffn) throw new ProtobufDecodeError("field limit does not fit in uint32");
      request.limit = Number(entry.varint!);
    }
  }
  return request;
}

export function encodeSyncFrame(frame: SyncFrame): Uint8Array {
  const writer = new ProtobufWriter();
  switch (frame.kind) {
    case "envelope":
      return encodeEnvelopeFrame(frame.envelope);
    case "pageEnd":
      return writer
        .bytesField(2, new ProtobufWriter().uint64Field(1, frame.nextSequence).boolField(2, frame.caughtUp).finish())
        .finish();
    case "error":
      return writer.stringField(3, frame.message).finish();
  }
}

export function decodeSyncFrame(bytes: Uint8Array): SyncFrame {
  const reader = new ProtobufReader(bytes);
  let frame: SyncFrame | undefined;
  while (!reader.done) {
    const entry = reader.next();
    if (entry.field === 1) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "envelope");
      frame = { kind: "envelope", envelope: decodeEnvelope(entry.bytes!) };
    } else if (entry.field === 2) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "page_end");
      let nextSequence = 0n;
      let caughtUp = false;
      const inner = new ProtobufReader(entry.bytes!);
      while (!inner.done) {
        const field = inner.next();
        if (field.field === 1) {
          expectWireType(field, WIRE_VARINT, "page_end.next_sequence");
          nextSequence = field.varint!;
        } else if (field.field === 2) {
          expectWireType(field, WIRE_VARINT, "page_end.caught_up");
          caughtUp = field.varint! !== 0n;
        }
      }
      frame = { kind: "pageEnd", nextSequence, caughtUp };
    } else if (entry.field === 3) {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, "error");
      frame = { kind: "error", message: decodeUtf8(entry.bytes!, "error") };
    }
  }
  if (!frame) throw new ProtobufDecodeError("sync frame has none of envelope, page_end, error");
  return frame;
}

/** SyncFrame{envelope = Envelope{content_topic = 1, timestamp_ns = 2, message = 3}}, sized up front. */
function encodeEnvelopeFrame(envelope: Envelope): Uint8Array {
  const topic = textEncoder.encode(envelope.contentTopic);
  const innerLength =
    1 + varintLength(topic.length) + topic.length +
    1 + varintLength(envelope.timestampNs) +
    1 + varintLength(envelope.message.length) + envelope.message.length;
  const writer = new ProtobufWriter(1 + varintLength(innerLength) + innerLength);
  writer.tag(1, WIRE_LENGTH_DELIMITED).varint(innerLength);
  writer.bytesField(1, topic).uint64Field(2, envelope.timestampNs).bytesField(3, envelope.message);
  return writer.finish();
}

/** xmtp.message_api.v1.Envelope, with the message copied out of the frame. */
function decodeEnvelope(bytes: Uint8Array): Envelope {
  const envelope: Envelope = { contentTopic: "", timestampNs: 0n, message: new Uint8Array(0) };
  const reader = new ProtobufReader(bytes);
  try {
    while (!reader.done) {
      const field = reader.next();
      if (field.field === 1) {
        expectWireType(field, WIRE_LENGTH_DELIMITED, "envelope.content_topic");
        envelope.contentTopic = decodeUtf8(field.bytes!, "envelope.content_topic");
      } else if (field.field === 2) {
        expectWireType(field, WIRE_VARINT, "envelope.timestamp_ns");
        envelope.timestampNs = field.varint!;
      } else if (field.field === 3) {
        expectWireType(field, WIRE_LENGTH_DELIMITED, "envelope.message");
        envelope.message = copyBytes(field.bytes!);
      }
    }
  } catch (error) {
    throw new ProtobufDecodeError(`field envelope is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return envelope;
}
