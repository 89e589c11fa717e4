// The curve operations as synchronous functions. They run on the best curve loaded so far (`currentCurve()`:
// libsecp256k1 once loaded, noble before); asynchronous code awaits getCryptoBackend() and uses its curve instead.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { currentCurve } from "./backend/index.js";
import type { CompactSignature } from "./backend/types.js";

export type { CompactSignature } from "./backend/types.js";

export class InvalidSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidSignatureError";
  }
}

export function generatePrivateKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/** The 65-byte uncompressed public key (0x04 || X || Y). */
export function getPublicKey(privateKey: Uint8Array): Uint8Array {
  return currentCurve().publicKey(privateKey);
}

/** Signs a 32-byte digest (never re-hashed), returning a deterministic (RFC 6979) low-S signature. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): CompactSignature {
  return currentCurve().signDigest(digest, privateKey);
}

/** Recovers the uncompressed public key that signed `digest`; throws InvalidSignatureError when none does. */
export function recoverPublicKey(digest: Uint8Array, signature: CompactSignature): Uint8Array {
  try {
    return currentCurve().recoverPublicKey(digest, signature.bytes, signature.recovery);
  } catch (err) {
    throw new InvalidSignatureError(`cannot recover a public key: ${(err as Error).message}`);
  }
}

/** Verifies a low-S signature over a 32-byte digest; high-S signatures are rejected as the SDK does. */
export function verifyDigest(digest: Uint8Array, signature: CompactSignature, publicKey: Uint8Array): boolean {
  return currentCurve().verifyDigest(digest, signature.bytes, publicKey);
}

/** The shared point of an ECDH exchange, uncompressed (65 bytes), as XMTP's X3DH concatenates it. */
export function sharedPoint(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return currentCurve().ecdhPoint(privateKey, publicKey);
}

/** Whether the bytes are a 65-byte uncompressed point on the curve. */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return currentCurve().isValidPublicKey(publicKey);
}
