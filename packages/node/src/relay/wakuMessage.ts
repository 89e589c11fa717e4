// The Waku v2 message that carries one XMTP envelope on the relay (RFC 14/WAKU2-MESSAGE):
//   message WakuMessage { bytes payload = 1; string content_topic = 2; optional uint32 version = 3;
//                         optional sint64 timestamp = 10; optional bytes meta = 11; optional bool ephemeral = 31; }
import {
  ProtobufDecodeError,
  ProtobufReader,
  ProtobufWriter,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  decodeUtf8,
  expectWireType,
  copyBytes,
  zigzagDecode,
} from "../p2p/protobufWire.js";

export interface WakuMessage {
  payload: Uint8Array;
  contentTopic: string;
  version?: number;
  /** Nanoseconds; for XMTP envelopes this is the envelope's timestampNs. */
  timestamp?: bigint;
  meta?: Uint8Array;
  ephemeral?: boolean;
}

const FIELD_PAYLOAD = 1;
const FIELD_CONTENT_TOPIC = 2;
const FIELD_VERSION = 3;
const FIELD_TIMESTAMP = 10;
const FIELD_META = 11;
const FIELD_EPHEMERAL = 31;

const SINT64_MIN = -(1n << 63n);
const SINT64_MAX = (1n << 63n) - 1n;

export function encodeWakuMessage(message: WakuMessage): Uint8Array {
  // Room for every field up front (a topic's UTF-8 is at most 3 bytes per UTF-16 unit), so the buffer never grows.
  const writer = new ProtobufWriter(
    message.payload.length + message.contentTopic.length * 3 + (message.meta?.length ?? 0) + 48,
  );
  if (message.payload.length > 0) writer.bytesField(FIELD_PAYLOAD, message.payload);
  if (message.contentTopic.length > 0) writer.stringField(FIELD_CONTENT_TOPIC, message.contentTopic);
  if (message.version !== undefined) writer.uint64Field(FIELD_VERSION, message.version);
  if (message.timestamp !== undefined) {
    if (message.timestamp < SINT64_MIN || message.timestamp > SINT64_MAX) {
      throw new RangeError(`WakuMessage timestamp ${message.timestamp} does not fit in sint64`);
    }
    writer.sint64Field(FIELD_TIMESTAMP, message.timestamp);
  }
  if (message.meta !== undefined) writer.bytesField(FIELD_META, message.meta);
  if (message.ephemeral !== undefined) writer.boolField(FIELD_EPHEMERAL, message.ephemeral);
  return writer.finish();
}

/** Decodes a WakuMessage; unknown fields are skipped as protobuf requires, malformed bytes throw. */
export function decodeWakuMessage(bytes: Uint8Array): WakuMessage {
  const reader = new ProtobufReader(bytes);
  const message: WakuMessage = { payload: new Uint8Array(0), contentTopic: "" };
  while (!reader.done) {
    const entry = reader.next();
    switch (entry.field) {
      case FIELD_PAYLOAD:
        expectWireType(entry, WIRE_LENGTH_DELIMITED, "payload");
        message.payload = copyBytes(entry.bytes!);
        break;
      case FIELD_CONTENT_TOPIC:
        expectWireType(entry, WIRE_LENGTH_DELIMITED, "content_topic");
        message.contentTopic = decodeUtf8(entry.bytes!, "content_topic");
        break;
      case FIELD_VERSION:
        expectWireType(entry, WIRE_VARINT, "version");
        if (entry.varint! > 0xffffffffn) throw new ProtobufDecodeError("field version does not fit in uint32");
        message.version = Number(entry.varint!);
        break;
      case FIELD_TIMESTAMP:
        expectWireType(entry, WIRE_VARINT, "timestamp");
        message.timestamp = zigzagDecode(entry.varint!);
        break;
      case FIELD_META:
        expectWireType(entry, WIRE_LENGTH_DELIMITED, "meta");
        message.meta = copyBytes(entry.bytes!);
        break;
      case FIELD_EPHEMERAL:
        expectWireType(entry, WIRE_VARINT, "ephemeral");
        message.ephemeral = entry.varint! !== 0n;
        break;
      default:
        break;
    }
  }
  return message;
}
