// Frames of the catch-up protocol /xmtp-ts/sync/1.0.0. Their wire format, the exchange, the framing and the limits
// are specified in proto/xmtp-ts/sync/v1/sync.proto (see also docs/network.md, "Catch-up" section); this module maps
// the messages generated from it (@xmtp-ts/proto's `sync`) to the node's frame types and checks what a peer sends.
//
// One path is written by hand on purpose: encoding an envelope frame (ServerFrame.envelope), which a server does for
// every envelope a catch-up transfers. It sizes the frame up front and copies the message once, where the generated
// encoder copies a nested message's bytes twice more and takes 2-4 times the CPU per frame. syncMessages.test.ts
// checks that it produces exactly the generated encoder's bytes, so the .proto stays the contract.
import { ScalarType, create, fromBinary, sync, toBinary, type DescMessage } from "@xmtp-ts/proto";
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
  type ProtobufField,
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
  // Both fields of a request are set even when zero: the .proto gives them explicit presence so that the bytes are
  // the ones this protocol has always sent.
  const kind =
    frame.kind === "request"
      ? { case: "request" as const, value: { afterSequence: frame.afterSequence, limit: frame.limit } }
      : { case: "want" as const, value: { bitmap: frame.bitmap } };
  return toBinary(sync.ClientFrameSchema, create(sync.ClientFrameSchema, { kind }));
}

export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  const { kind } = decodeChecked(sync.ClientFrameSchema, bytes);
  switch (kind.case) {
    case "request":
      return { kind: "request", afterSequence: kind.value.afterSequence ?? 0n, limit: kind.value.limit ?? 0 };
    case "want":
      return { kind: "want", bitmap: copyBytes(kind.value.bitmap ?? EMPTY) };
    default:
      throw new ProtobufDecodeError("sync client frame has neither request nor want");
  }
}

export function encodeServerFrame(frame: ServerFrame): Uint8Array {
  let kind: sync.ServerFrame["kind"];
  switch (frame.kind) {
    case "envelope":
      return encodeEnvelopeFrame(frame.envelope);
    case "offer": {
      const digests = new Uint8Array(frame.digests.length * DIGEST_BYTES);
      frame.digests.forEach((digest, i) => {
        if (digest.length !== DIGEST_BYTES) throw new RangeError(`digest ${i} has ${digest.length} bytes, not ${DIGEST_BYTES}`);
        digests.set(digest, i * DIGEST_BYTES);
      });
      const offer = { digests, nextSequence: frame.nextSequence, caughtUp: frame.caughtUp };
      kind = { case: "offer", value: create(sync.PageOfferSchema, offer) };
      break;
    }
    case "pageEnd":
      kind = { case: "pageEnd", value: create(sync.PageEndSchema) };
      break;
    case "error":
      kind = { case: "error", value: frame.message };
      break;
  }
  return toBinary(sync.ServerFrameSchema, create(sync.ServerFrameSchema, { kind }));
}

export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  const { kind } = decodeChecked(sync.ServerFrameSchema, bytes);
  switch (kind.case) {
    case "envelope":
      return { kind: "envelope", envelope: fromSyncEnvelope(kind.value) };
    case "pageEnd":
      return { kind: "pageEnd" };
    case "error":
      return { kind: "error", message: kind.value };
    case "offer":
      return decodeOffer(kind.value);
    default:
      throw new ProtobufDecodeError("sync server frame has none of envelope, page_end, error, offer");
  }
}

const EMPTY = new Uint8Array(0);

function decodeOffer(offer: sync.PageOffer): ServerFrame {
  const packed = offer.digests ?? EMPTY;
  if (packed.length % DIGEST_BYTES !== 0) {
    throw new ProtobufDecodeError(`field offer.digests has ${packed.length} bytes, not a multiple of ${DIGEST_BYTES}`);
  }
  const digests: Uint8Array[] = [];
  for (let offset = 0; offset < packed.length; offset += DIGEST_BYTES) {
    digests.push(copyBytes(packed.subarray(offset, offset + DIGEST_BYTES)));
  }
  return { kind: "offer", digests, nextSequence: offer.nextSequence ?? 0n, caughtUp: offer.caughtUp ?? false };
}

/**
 * The node's envelope, with its bytes copied: the generated decoder returns views into the frame, which would keep
 * the whole receive buffer alive (and a Node.js Buffer compares unequal to a Uint8Array). An empty postage field
 * means none.
 */
function fromSyncEnvelope(received: sync.SyncEnvelope): Envelope {
  const envelope: Envelope = {
    contentTopic: received.contentTopic ?? "",
    timestampNs: received.timestampNs ?? 0n,
    message: copyBytes(received.message ?? EMPTY),
  };
  if (received.postage && received.postage.length > 0) envelope.postage = copyBytes(received.postage);
  return envelope;
}

/**
 * The ServerFrame{envelope = SyncEnvelope{content_topic = 1, timestamp_ns = 2, message = 3, postage = 15}} of
 * sync.proto, written by hand (see the top of this file): sized up front, one allocation, one copy of the message.
 */
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
  if (envelope.postage) writer.bytesField(SYNC_ENVELOPE_POSTAGE_FIELD, envelope.postage);
  return writer.finish();
}

const SYNC_ENVELOPE_POSTAGE_FIELD = sync.SyncEnvelopeSchema.field.postage.number;

/**
 * Runs the generated decoder after checking the frame against the schema, which that decoder does not do: a known
 * field with another wire type than its declaration (it would read the bytes as the declared type), a uint32 field
 * holding a larger value (it would keep the low 32 bits), and string fields that are not UTF-8. Each error names the
 * field; whatever else the decoder refuses is reported as a ProtobufDecodeError too.
 */
function decodeChecked<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array) {
  checkFields(schema, bytes, "");
  try {
    // Unknown fields (from a newer peer) are skipped, not kept: nothing forwards these messages.
    return fromBinary(schema, bytes, { readUnknownFields: false });
  } catch (error) {
    throw new ProtobufDecodeError(`${schema.typeName} is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function checkFields(schema: DescMessage, bytes: Uint8Array, path: string): void {
  const reader = new ProtobufReader(bytes);
  while (!reader.done) {
    let entry: ProtobufField;
    try {
      entry = reader.next();
    } catch (error) {
      if (!path) throw error;
      throw new ProtobufDecodeError(`field ${path} is malformed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const field = schema.fields.find((f) => f.number === entry.field);
    if (!field) continue;
    const name = path ? `${path}.${field.name}` : field.name;
    if (field.fieldKind === "message") {
      expectWireType(entry, WIRE_LENGTH_DELIMITED, name);
      checkFields(field.message, entry.bytes!, name);
    } else if (field.fieldKind === "scalar") {
      switch (field.scalar) {
        case ScalarType.UINT64:
        case ScalarType.BOOL:
          expectWireType(entry, WIRE_VARINT, name);
          break;
        case ScalarType.UINT32:
          expectWireType(entry, WIRE_VARINT, name);
          if (entry.varint! > 0xffffffffn) throw new ProtobufDecodeError(`field ${name} does not fit in uint32`);
          break;
        case ScalarType.BYTES:
          expectWireType(entry, WIRE_LENGTH_DELIMITED, name);
          break;
        case ScalarType.STRING:
          expectWireType(entry, WIRE_LENGTH_DELIMITED, name);
          decodeUtf8(entry.bytes!, name);
          break;
        default:
          throw new Error(`sync.proto field ${name} has a type this check does not know`);
      }
    } else {
      throw new Error(`sync.proto field ${name} is a ${field.fieldKind}, which this check does not know`);
    }
  }
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
