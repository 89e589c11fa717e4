import { createHash } from "node:crypto";
import type { Envelope, StoredEnvelope } from "./EnvelopeStore.js";

/**
 * sha256(contentTopic ‖ message), the envelope's identity for dedupe and cursors (docs/protocol/api.md §2.2, §2.3).
 * node:crypto hashes the two parts in place, with no concatenated copy of a message of up to 1 MiB.
 */
export function envelopeDigest(contentTopic: string, message: Uint8Array): Uint8Array {
  const digest = createHash("sha256").update(contentTopic, "utf8").update(message).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

export function withDigest(envelope: Envelope): StoredEnvelope {
  return { ...envelope, digest: envelopeDigest(envelope.contentTopic, envelope.message) };
}

/** A digest as a string (hex), for Maps and Sets keyed by envelope identity. */
export function digestKey(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString("hex");
}
