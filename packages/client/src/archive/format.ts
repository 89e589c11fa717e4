// docs/storage.md §7: the inbox archive file. A plaintext header (magic, version, JSON header, its SHA-256), the body
// length, and a body sealed with the AEAD (docs/protocol/messages.md §1.2) under a secret derived from the user's
// identity private key, with the header (magic through its SHA-256) as associated data.
import { fromBinary, toBinary, CiphertextSchema } from "@xmtp-ts/proto";
import {
  bytesToUtf8,
  concatBytes,
  decryptAead,
  encryptAead,
  equalBytes,
  fromBase64,
  fromHex,
  getCryptoBackend,
  sha256,
  toBase64,
  toHex,
  utf8ToBytes,
  type UserKeys,
} from "@xmtp-ts/crypto";
import type { Envelope } from "../api/types.js";
import { ArchiveError } from "./ArchiveError.js";

/** The first 8 bytes of every inbox archive. */
export const ARCHIVE_MAGIC = utf8ToBytes("XMTPINBX");
export const ARCHIVE_VERSION = 1;
/** The HKDF salt of the archive secret: HKDF-SHA256(ikm = identity private key, salt = this, info = "", 32). */
export const ARCHIVE_KEY_SALT = "xmtp-ts inbox archive v1";

const PREFIX_LENGTH = 14; // magic 8, version 2, header length 4
const DIGEST_LENGTH = 32;
const BODY_LENGTH_LENGTH = 8;
const MAX_HEADER_LENGTH = 1 << 20;

/** The plaintext header, as the file's JSON spells it. */
interface HeaderJson {
  walletAddress: string;
  /** The 65-byte identity public key, lowercase hex. */
  identityKey: string;
  createdAtMs: number;
  topics: number;
  envelopes: number;
  /** The newest `privatestore-<address>/key_bundle` message, base64 (already sealed by the wallet), or null. */
  keyBundle: string | null;
}

/** What anyone can read of an archive without keys. */
export interface InboxArchiveHeader {
  version: number;
  walletAddress: string;
  /** The identity public key (65 bytes, 0x04‖X‖Y) whose private key seals the body. */
  identityKey: Uint8Array;
  createdAt: Date;
  topicCount: number;
  envelopeCount: number;
  /**
   * The wallet-sealed key bundle (docs/protocol/identity.md §5) as stored on the network: with one signature of the
   * wallet it yields the keys that open the body. Undefined when the exporter had none stored.
   */
  keyBundle?: Uint8Array;
}

export interface ArchivedTopic {
  topic: string;
  /** In the order the node gave them (timestamp, then arrival). */
  envelopes: Envelope[];
}

/** The secret the body is sealed under: HKDF-SHA256(identity private key, salt "xmtp-ts inbox archive v1", info "", 32). */
export async function archiveSecret(identityPrivateKey: Uint8Array): Promise<Uint8Array> {
  const backend = await getCryptoBackend();
  return backend.hkdfSha256(identityPrivateKey, utf8ToBytes(ARCHIVE_KEY_SALT), new Uint8Array(0), 32);
}

function u16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value);
  return out;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function u64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

/** Body plaintext: per envelope `u16` topic length, topic (UTF-8), `u64` timestampNs, `u32` message length, message. */
export function encodeRecords(topics: ArchivedTopic[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { topic, envelopes } of topics) {
    const topicBytes = utf8ToBytes(topic);
    if (topicBytes.length > 0xffff) throw new TypeError(`topic too long for an archive: ${topic.slice(0, 80)}…`);
    for (const envelope of envelopes) {
      parts.push(u16(topicBytes.length), topicBytes, u64(envelope.timestampNs), u32(envelope.message.length), envelope.message);
    }
  }
  return concatBytes(...parts);
}

/** The records back, grouped by topic in first-appearance order; throws ArchiveError("archive_corrupt"). */
export function decodeRecords(bytes: Uint8Array): ArchivedTopic[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const byTopic = new Map<string, Envelope[]>();
  const corrupt = () => new ArchiveError("archive_corrupt", "the archive body's records are malformed");
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw corrupt();
    const topicLength = view.getUint16(at);
    at += 2;
    if (at + topicLength + 12 > bytes.length) throw corrupt();
    const contentTopic = bytesToUtf8(bytes.subarray(at, at + topicLength));
    at += topicLength;
    const timestampNs = view.getBigUint64(at);
    const messageLength = view.getUint32(at + 8);
    at += 12;
    if (at + messageLength > bytes.length) throw corrupt();
    const message = bytes.slice(at, at + messageLength);
    at += messageLength;
    let list = byTopic.get(contentTopic);
    if (!list) byTopic.set(contentTopic, (list = []));
    list.push({ contentTopic, timestampNs, message });
  }
  return [...byTopic].map(([topic, envelopes]) => ({ topic, envelopes }));
}

export interface SealInput {
  keys: UserKeys;
  topics: ArchivedTopic[];
  keyBundle?: Uint8Array;
  createdAt?: Date;
}

/** The archive file's bytes. */
export async function sealArchive({ keys, topics, keyBundle, createdAt = new Date() }: SealInput): Promise<Uint8Array> {
  const header: HeaderJson = {
    walletAddress: keys.walletAddress,
    identityKey: toHex(keys.identityPublicKey),
    createdAtMs: createdAt.getTime(),
    topics: topics.length,
    envelopes: topics.reduce((n, t) => n + t.envelopes.length, 0),
    keyBundle: keyBundle ? toBase64(keyBundle) : null,
  };
  const headerBytes = utf8ToBytes(JSON.stringify(header));
  const prefix = concatBytes(ARCHIVE_MAGIC, u16(ARCHIVE_VERSION), u32(headerBytes.length), headerBytes);
  const records = encodeRecords(topics);
  const aad = concatBytes(prefix, sha256(prefix));
  const body = toBinary(CiphertextSchema, await encryptAead(await archiveSecret(keys.identityPrivateKey), records, aad));
  return concatBytes(aad, u64(BigInt(body.length)), body);
}

interface Framed {
  header: InboxArchiveHeader;
  aad: Uint8Array;
  body: Uint8Array;
}

function parseHeaderJson(bytes: Uint8Array): HeaderJson {
  let json: Partial<HeaderJson>;
  try {
    json = JSON.parse(bytesToUtf8(bytes)) as Partial<HeaderJson>;
  } catch {
    throw new ArchiveError("archive_corrupt", "the archive header is not valid JSON");
  }
  const ok =
    typeof json === "object" &&
    json !== null &&
    typeof json.walletAddress === "string" &&
    typeof json.identityKey === "string" &&
    /^04[0-9a-f]{128}$/.test(json.identityKey) &&
    Number.isSafeInteger(json.createdAtMs) &&
    Number.isSafeInteger(json.topics) &&
    Number.isSafeInteger(json.envelopes) &&
    (json.keyBundle === null || typeof json.keyBundle === "string");
  if (!ok) throw new ArchiveError("archive_corrupt", "the archive header lacks a field or has a malformed one");
  return json as HeaderJson;
}

/** Checks the framing and the header's digest; reads nothing sealed. */
export function frameArchive(archive: Uint8Array): Framed {
  if (archive.length < ARCHIVE_MAGIC.length || !equalBytes(archive.subarray(0, ARCHIVE_MAGIC.length), ARCHIVE_MAGIC)) {
    if (archive.length < ARCHIVE_MAGIC.length && equalBytes(archive, ARCHIVE_MAGIC.subarray(0, archive.length))) {
      throw new ArchiveError("archive_truncated", "the archive ends inside its header");
    }
    throw new ArchiveError("archive_bad_magic", "not an xmtp-ts inbox archive (no XMTPINBX magic)");
  }
  if (archive.length < PREFIX_LENGTH) throw new ArchiveError("archive_truncated", "the archive ends inside its header");
  const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  const version = view.getUint16(8);
  if (version !== ARCHIVE_VERSION) {
    throw new ArchiveError("archive_unsupported_version", `archive format version ${version} is not supported (this client reads ${ARCHIVE_VERSION})`);
  }
  const headerLength = view.getUint32(10);
  if (headerLength > MAX_HEADER_LENGTH) throw new ArchiveError("archive_corrupt", `the archive header claims ${headerLength} bytes`);
  const digestAt = PREFIX_LENGTH + headerLength;
  const bodyAt = digestAt + DIGEST_LENGTH + BODY_LENGTH_LENGTH;
  if (archive.length < bodyAt) throw new ArchiveError("archive_truncated", "the archive ends inside its header");
  if (!equalBytes(sha256(archive.subarray(0, digestAt)), archive.subarray(digestAt, digestAt + DIGEST_LENGTH))) {
    throw new ArchiveError("archive_corrupt", "the archive header does not match its SHA-256 (altered or damaged)");
  }
  const json = parseHeaderJson(archive.subarray(PREFIX_LENGTH, digestAt));
  const bodyLength = view.getBigUint64(digestAt + DIGEST_LENGTH);
  const actual = BigInt(archive.length - bodyAt);
  if (actual < bodyLength) throw new ArchiveError("archive_truncated", `the archive body has ${actual} of its ${bodyLength} bytes`);
  if (actual > bodyLength) throw new ArchiveError("archive_corrupt", `the archive has ${actual - bodyLength} bytes after its body`);
  const header: InboxArchiveHeader = {
    version,
    walletAddress: json.walletAddress,
    identityKey: fromHex(json.identityKey),
    createdAt: new Date(json.createdAtMs),
    topicCount: json.topics,
    envelopeCount: json.envelopes,
    ...(json.keyBundle !== null ? { keyBundle: fromBase64(json.keyBundle) } : {}),
  };
  return { header, aad: archive.subarray(0, digestAt + DIGEST_LENGTH), body: archive.subarray(bodyAt) };
}

/** The plaintext header of an archive (framing and header digest checked; the body is not opened). */
export function readArchiveHeader(archive: Uint8Array): InboxArchiveHeader {
  return frameArchive(archive).header;
}

/** Opens the body with `keys`: ArchiveError when the keys are not the archive's or any sealed byte was altered. */
export async function unsealArchive(archive: Uint8Array, keys: UserKeys): Promise<{ header: InboxArchiveHeader; topics: ArchivedTopic[] }> {
  const { header, aad, body } = frameArchive(archive);
  if (!equalBytes(header.identityKey, keys.identityPublicKey) || header.walletAddress !== keys.walletAddress) {
    throw new ArchiveError(
      "archive_wrong_keys",
      `the archive belongs to ${header.walletAddress}; the keys given are ${keys.walletAddress}'s` +
        (header.walletAddress === keys.walletAddress ? " but another identity key" : ""),
    );
  }
  let records: Uint8Array;
  try {
    records = await decryptAead(fromBinary(CiphertextSchema, body), await archiveSecret(keys.identityPrivateKey), aad);
  } catch (cause) {
    throw new ArchiveError("archive_tampered", "the archive's sealed body does not open: it or its header was altered", { cause });
  }
  const topics = decodeRecords(records);
  const envelopes = topics.reduce((n, t) => n + t.envelopes.length, 0);
  if (topics.length !== header.topicCount || envelopes !== header.envelopeCount) {
    throw new ArchiveError(
      "archive_corrupt",
      `the archive header counts ${header.topicCount} topics and ${header.envelopeCount} envelopes; the body holds ${topics.length} and ${envelopes}`,
    );
  }
  return { header, topics };
}
