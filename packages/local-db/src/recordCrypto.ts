// The per-record cryptography, batch-shaped: a list opens thousands of records, a write seals a whole batch, and
// each implementation does a batch its fastest way (node:crypto synchronously in one loop; WebCrypto with every
// operation in flight at once). Measured per small record on the reference machine: node:crypto called directly
// with raw keys 9-13 us, the same through @xmtp-ts/crypto's async backend 15-16 us (it allocates and awaits per
// call); WebCrypto in Chromium 12-14 us with the CryptoKey imported once, where the web backend imports it on every
// call. A nonce from getRandomValues costs ~5 us per call, so a batch draws all its nonces at once.

import type { RecordPlace } from "./additionalData.js";

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export interface SealInput {
  /** Concatenated to form the plaintext (a header and the value, without copying them together first). */
  plaintext: readonly Uint8Array[];
  /** Bound as additional data (additionalData.ts). */
  place: RecordPlace;
}

export interface OpenInput {
  /** nonce ‖ ciphertext ‖ tag, as seal() made it. */
  sealed: Uint8Array;
  place: RecordPlace;
}

export interface RecordCrypto {
  readonly name: string;
  /** HMAC-SHA256 with the index key over each message (blind indexes). */
  blind(messages: readonly Uint8Array[]): Promise<Uint8Array[]>;
  /** AES-256-GCM with the encryption key and a fresh random nonce per item: nonce ‖ ciphertext ‖ tag. */
  seal(items: readonly SealInput[]): Promise<Uint8Array[]>;
  /** Each item's plaintext, or undefined for an item that does not authenticate. */
  open(items: readonly OpenInput[]): Promise<Array<Uint8Array | undefined>>;
}

/** getRandomValues fills at most this many bytes per call. */
const RANDOM_CHUNK_BYTES = 65_536;

/** `count` random 12-byte nonces, back to back, drawn in as few calls as possible. */
export function randomNonces(count: number): Uint8Array {
  const nonces = new Uint8Array(count * NONCE_BYTES);
  for (let offset = 0; offset < nonces.length; offset += RANDOM_CHUNK_BYTES) {
    globalThis.crypto.getRandomValues(nonces.subarray(offset, Math.min(offset + RANDOM_CHUNK_BYTES, nonces.length)));
  }
  return nonces;
}
