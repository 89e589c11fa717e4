// The snapshot file format (docs/storage.md §6): a checksummed header, a body, and a fixed-size trailer with the count
// and SHA-256 digests of the body as stored and of what it holds uncompressed. Version 1's body is the envelopes as
// length-prefixed records in one brotli stream; version 2's is a SQLite database file of the node's schema, stored as
// is (the page-level format, which a SQLite node restores by putting the file in place). Pure encoding and decoding;
// no I/O (createSnapshot.ts, createDatabaseSnapshot.ts and the restore modules do that).
import { createHash } from "node:crypto";
import type { Envelope } from "../store/EnvelopeStore.js";

export const SNAPSHOT_MAGIC = Buffer.from("XMTPSNAP", "ascii");
export const SNAPSHOT_TRAILER_MAGIC = Buffer.from("XMTPTAIL", "ascii");
/** Version 1: the body is brotli-compressed records. */
export const SNAPSHOT_VERSION = 1;
/** Version 2: the body is a SQLite database file, uncompressed. A node that reads only version 1 refuses it by number. */
export const SNAPSHOT_VERSION_DATABASE = 2;
/** The body's compression: 1 = brotli (version 1's only), 0 = none (version 2's only: ciphertext pages gain nothing). */
export const COMPRESSION_BROTLI = 1;
export const COMPRESSION_NONE = 0;
/** The compression each version's body must have. */
const COMPRESSION_OF_VERSION: Record<number, number> = { [SNAPSHOT_VERSION]: COMPRESSION_BROTLI, [SNAPSHOT_VERSION_DATABASE]: COMPRESSION_NONE };
/** Header bytes before the peer id. */
const HEADER_FIXED = 39;
const HEADER_DIGEST = 32;
export const HEADER_MIN_BYTES = HEADER_FIXED + HEADER_DIGEST;
export const TRAILER_BYTES = 96;
const MAX_PEER_ID_BYTES = 255;
/** Bytes of a record before its topic (flags, topic length, timestamp, message length, postage length). */
const RECORD_FIXED = 1 + 2 + 8 + 4 + 4;
/** No record exceeds this (a message is at most a few MiB): a larger length prefix means a damaged body. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const FLAG_POSTAGE = 1;

export type SnapshotStoreKind = "sqlite" | "postgres";
const STORE_KIND_CODES: Record<SnapshotStoreKind, number> = { sqlite: 1, postgres: 2 };

export type SnapshotErrorCode =
  | "bad_magic"
  | "unsupported_version"
  | "truncated"
  | "checksum_mismatch"
  | "count_mismatch"
  | "corrupt"
  | "target_not_empty";

/** Why a snapshot cannot be read or restored; `code` names the failure for callers and tests. */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SnapshotHeader {
  version: number;
  compression: number;
  sourceKind: SnapshotStoreKind;
  createdAtMs: number;
  /** The source's highest sequence when the snapshot began: every envelope at or below it that was not pruned is in it. */
  headSequence: bigint;
  envelopeCount: number;
  /** The source node's libp2p peer id, when its data directory had a node key. */
  sourcePeerId?: string;
}

export interface SnapshotTrailer {
  envelopeCount: number;
  /** Bytes of the uncompressed record stream (version 1) or of the database file (version 2). */
  recordBytes: bigint;
  bodyBytes: bigint;
  /** SHA-256 of the body as stored in the file. */
  bodySha256: Uint8Array;
  /** SHA-256 of the uncompressed record stream (version 1) or of the database file (version 2). */
  recordsSha256: Uint8Array;
}

/** The header of a version 1 snapshot unless `version` says otherwise; the compression is the version's own. */
export function encodeHeader(header: Omit<SnapshotHeader, "version" | "compression">, version: number = SNAPSHOT_VERSION): Buffer {
  const compression = COMPRESSION_OF_VERSION[version];
  if (compression === undefined) throw new RangeError(`unknown snapshot format version ${version}`);
  const peerId = Buffer.from(header.sourcePeerId ?? "", "utf8");
  if (peerId.length > MAX_PEER_ID_BYTES) throw new RangeError(`peer id too long (${peerId.length} bytes)`);
  const length = HEADER_FIXED + peerId.length + HEADER_DIGEST;
  const out = Buffer.alloc(length);
  SNAPSHOT_MAGIC.copy(out, 0);
  out.writeUInt16BE(version, 8);
  out.writeUInt16BE(length, 10);
  out.writeUInt8(compression, 12);
  out.writeUInt8(STORE_KIND_CODES[header.sourceKind], 13);
  out.writeBigUInt64BE(BigInt(header.createdAtMs), 14);
  out.writeBigUInt64BE(header.headSequence, 22);
  out.writeBigUInt64BE(BigInt(header.envelopeCount), 30);
  out.writeUInt8(peerId.length, 38);
  peerId.copy(out, HEADER_FIXED);
  sha256(out.subarray(0, length - HEADER_DIGEST)).copy(out, length - HEADER_DIGEST);
  return out;
}

/**
 * The header at the start of `bytes` (which may hold more of the file, or less than a header: `fileBytes` is the
 * whole file's size), checked in this order: magic, version, length, digest.
 */
export function decodeHeader(bytes: Buffer, fileBytes: number): { header: SnapshotHeader; length: number } {
  if (fileBytes < SNAPSHOT_MAGIC.length || bytes.length < SNAPSHOT_MAGIC.length) {
    throw new SnapshotError("truncated", `the file is ${fileBytes} bytes long, shorter than a snapshot header: truncated`);
  }
  if (!bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
    throw new SnapshotError("bad_magic", `not an xmtp-node snapshot (the file does not start with "XMTPSNAP")`);
  }
  if (bytes.length < 12) throw new SnapshotError("truncated", "the snapshot header is cut short: truncated");
  const version = bytes.readUInt16BE(8);
  if (COMPRESSION_OF_VERSION[version] === undefined) {
    throw new SnapshotError(
      "unsupported_version",
      `snapshot format version ${version} is not supported (this node reads versions ${SNAPSHOT_VERSION} and ${SNAPSHOT_VERSION_DATABASE})`,
    );
  }
  const length = bytes.readUInt16BE(10);
  if (length < HEADER_MIN_BYTES || length > HEADER_MIN_BYTES + MAX_PEER_ID_BYTES) {
    throw new SnapshotError("checksum_mismatch", `the snapshot header is damaged (its length field says ${length} bytes)`);
  }
  if (bytes.length < length) throw new SnapshotError("truncated", "the snapshot header is cut short: truncated");
  const body = bytes.subarray(0, length - HEADER_DIGEST);
  if (!sha256(body).equals(bytes.subarray(length - HEADER_DIGEST, length))) {
    throw new SnapshotError("checksum_mismatch", "the snapshot header's SHA-256 does not match: the header is damaged");
  }
  const peerIdLength = bytes.readUInt8(38);
  if (HEADER_FIXED + peerIdLength + HEADER_DIGEST !== length) {
    throw new SnapshotError("corrupt", "the snapshot header's peer id length disagrees with its length");
  }
  const kindCode = bytes.readUInt8(13);
  const sourceKind = (Object.keys(STORE_KIND_CODES) as SnapshotStoreKind[]).find((k) => STORE_KIND_CODES[k] === kindCode);
  const compression = bytes.readUInt8(12);
  if (!sourceKind) throw new SnapshotError("unsupported_version", `unknown source store kind ${kindCode} in the snapshot header`);
  if (compression !== COMPRESSION_OF_VERSION[version]) {
    throw new SnapshotError("unsupported_version", `unknown compression ${compression} for snapshot format version ${version}`);
  }
  const header: SnapshotHeader = {
    version,
    compression,
    sourceKind,
    createdAtMs: Number(bytes.readBigUInt64BE(14)),
    headSequence: bytes.readBigUInt64BE(22),
    envelopeCount: Number(bytes.readBigUInt64BE(30)),
  };
  if (peerIdLength > 0) header.sourcePeerId = bytes.subarray(HEADER_FIXED, HEADER_FIXED + peerIdLength).toString("utf8");
  return { header, length };
}

export function encodeTrailer(trailer: SnapshotTrailer): Buffer {
  const out = Buffer.alloc(TRAILER_BYTES);
  SNAPSHOT_TRAILER_MAGIC.copy(out, 0);
  out.writeBigUInt64BE(BigInt(trailer.envelopeCount), 8);
  out.writeBigUInt64BE(trailer.recordBytes, 16);
  out.writeBigUInt64BE(trailer.bodyBytes, 24);
  Buffer.from(trailer.bodySha256).copy(out, 32);
  Buffer.from(trailer.recordsSha256).copy(out, 64);
  return out;
}

/** The trailer from the last TRAILER_BYTES of the file. A file without one was cut short (or never finished). */
export function decodeTrailer(bytes: Buffer): SnapshotTrailer {
  if (bytes.length !== TRAILER_BYTES || !bytes.subarray(0, 8).equals(SNAPSHOT_TRAILER_MAGIC)) {
    throw new SnapshotError("truncated", "the snapshot has no trailer at its end: it is truncated or was never finished");
  }
  return {
    envelopeCount: Number(bytes.readBigUInt64BE(8)),
    recordBytes: bytes.readBigUInt64BE(16),
    bodyBytes: bytes.readBigUInt64BE(24),
    bodySha256: bytes.subarray(32, 64),
    recordsSha256: bytes.subarray(64, 96),
  };
}

/** One envelope as a record: u32 length of the rest, then flags, topic, timestamp, message, postage proof. */
export function encodeRecord(envelope: Envelope): Buffer {
  const topic = Buffer.from(envelope.contentTopic, "utf8");
  if (topic.length > 0xffff) throw new RangeError(`topic too long (${topic.length} bytes)`);
  const postage = envelope.postage;
  const rest = RECORD_FIXED + topic.length + envelope.message.length + (postage?.length ?? 0);
  const out = Buffer.allocUnsafe(4 + rest);
  let at = out.writeUInt32BE(rest, 0);
  at = out.writeUInt8(postage ? FLAG_POSTAGE : 0, at);
  at = out.writeUInt16BE(topic.length, at);
  at += topic.copy(out, at);
  at = out.writeBigUInt64BE(envelope.timestampNs, at);
  at = out.writeUInt32BE(envelope.message.length, at);
  at += Buffer.from(envelope.message.buffer, envelope.message.byteOffset, envelope.message.byteLength).copy(out, at);
  at = out.writeUInt32BE(postage?.length ?? 0, at);
  if (postage) Buffer.from(postage.buffer, postage.byteOffset, postage.byteLength).copy(out, at);
  return out;
}

/** Cuts a stream of record bytes, fed in chunks of any size, into envelopes. */
export class RecordReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** The envelopes completed by this chunk. */
  push(chunk: Buffer): Envelope[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const envelopes: Envelope[] = [];
    let buffer = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    let at = 0;
    while (buffer.length - at >= 4) {
      const rest = buffer.readUInt32BE(at);
      if (rest < RECORD_FIXED || rest > MAX_RECORD_BYTES) throw new SnapshotError("corrupt", `a record in the snapshot body has an impossible length (${rest})`);
      if (buffer.length - at - 4 < rest) break;
      envelopes.push(decodeRecord(buffer.subarray(at + 4, at + 4 + rest)));
      at += 4 + rest;
    }
    buffer = buffer.subarray(at);
    this.pending = buffer.length > 0 ? [buffer] : [];
    this.pendingBytes = buffer.length;
    return envelopes;
  }

  /** Throws when the stream ended inside a record. */
  end(): void {
    if (this.pendingBytes > 0) throw new SnapshotError("truncated", `the snapshot body ends inside a record (${this.pendingBytes} bytes left over)`);
  }
}

function decodeRecord(record: Buffer): Envelope {
  const fail = () => new SnapshotError("corrupt", "a record in the snapshot body is malformed");
  const flags = record.readUInt8(0);
  const topicLength = record.readUInt16BE(1);
  let at = 3;
  if (record.length < RECORD_FIXED + topicLength) throw fail();
  const contentTopic = record.toString("utf8", at, at + topicLength);
  at += topicLength;
  const timestampNs = record.readBigUInt64BE(at);
  at += 8;
  const messageLength = record.readUInt32BE(at);
  at += 4;
  if (record.length < at + messageLength + 4) throw fail();
  const message = new Uint8Array(record.subarray(at, at + messageLength));
  at += messageLength;
  const postageLength = record.readUInt32BE(at);
  at += 4;
  if (record.length !== at + postageLength || ((flags & FLAG_POSTAGE) === 0 && postageLength > 0) || (flags & ~FLAG_POSTAGE) !== 0) throw fail();
  const envelope: Envelope = { contentTopic, timestampNs, message };
  if (flags & FLAG_POSTAGE) envelope.postage = new Uint8Array(record.subarray(at, at + postageLength));
  return envelope;
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}
