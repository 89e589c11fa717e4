import { secp256k1 } from "@noble/curves/secp256k1.js";
import { getCryptoBackend } from "./backend/index.js";
import { recoverWithNoble } from "./backend/web.js";

/** A compact ECDSA signature as XMTP carries it: 64 bytes r||s plus the recovery bit. */
export interface CompactSignature {
  bytes: Uint8Array;
  recovery: number;
}

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
  return secp256k1.getPublicKey(privateKey, false);
}

/** Signs a 32-byte digest (never re-hashed), returning a low-S signature. */
export function signDigest(digest: Uint8Array, privateKey: Uint8Array): CompactSignature {
  const recovered = secp256k1.sign(digest, privateKey, { prehash: false, format: "recovered", lowS: true });
  return { bytes: recovered.slice(1), recovery: recovered[0] };
}

function checkShape(signature: CompactSignature): void {
  if (signature.bytes.length !== 64) {
    throw new InvalidSignatureError(`signature must be 64 bytes, got ${signature.bytes.length}`);
  }
  if (signature.recovery !== 0 && signature.recovery !== 1) {
    throw new InvalidSignatureError(`signature recovery must be 0 or 1, got ${signature.recovery}`);
  }
}

/** Recovers the uncompressed public key that signed `digest`; throws InvalidSignatureError when none does. */
export function recoverPublicKey(digest: Uint8Array, signature: CompactSignature): Uint8Array {
  checkShape(signature);
  try {
    return recoverWithNoble(digest, signature.bytes, signature.recovery);
  } catch (err) {
    throw new InvalidSignatureError(`cannot recover a public key: ${(err as Error).message}`);
  }
}

/** `recoverPublicKey` through the crypto back end: same result, natively accelerated under Node.js. */
export async function recoverPublicKeyFast(digest: Uint8Array, signature: CompactSignature): Promise<Uint8Array> {
  checkShape(signature);
  const backend = await getCryptoBackend();
  try {
    return await backend.recoverPublicKey(digest, signature.bytes, signature.recovery);
  } catch (err) {
    throw new InvalidSignatureError(`cannot recover a public key: ${(err as Error).message}`);
  }
}

/** Verifies a low-S signature over a 32-byte digest; high-S signatures are rejected as the SDK does. */
export function verifyDigest(digest: Uint8Array, signature: CompactSignature, publicKey: Uint8Array): boolean {
  if (signature.bytes.length !== 64) return false;
  try {
    return secp256k1.verify(signature.bytes, digest, publicKey, { prehash: false, lowS: true });
  } catch {
    return false;
  }
}

/** The shared point of an ECDH exchange, uncompressed (65 bytes), as XMTP's X3DH concatenates it. */
export function sharedPoint(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return secp256k1.getSharedSecret(privateKey, publicKey, false);
}

export function isValidPublicKey(publicKey: Uint8Array): boolean {
  try {
    secp256k1.Point.fromBytes(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
}
