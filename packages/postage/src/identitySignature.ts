// The one signature form of seals and grants (docs/postage.md §3): 65 bytes r ‖ s ‖ v made by an identity key
// over a 32-byte digest, v = 27 or 28, s in the lower half of the curve order. Exactly one encoding is accepted
// for each signature: a stored or relayed proof cannot be re-encoded (flipped s, v = 0/1) into different bytes
// that still verify, so the proof bytes a node stores are the ones its writer made.
import { compactToWalletSignature, recoverPublicKey, signDigest, toHex, type CompactSignature } from "@xmtp-ts/crypto";

export const IDENTITY_SIGNATURE_BYTES = 65;

// secp256k1's group order n and ⌊n/2⌋, the largest s a low-s signature may have.
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_CURVE_ORDER = CURVE_ORDER >> 1n;

export class InvalidIdentitySignatureError extends Error {
  readonly code = "invalid_identity_signature";
  constructor(readonly reason: string) {
    super(`invalid signature: ${reason}`);
    this.name = "InvalidIdentitySignatureError";
  }
}

/** Signs a 32-byte digest with an identity key's scalar, as r ‖ s ‖ v (low s, v = 27 + recovery). */
export function signWithIdentityKey(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
  return compactToWalletSignature(signDigest(digest, privateKey));
}

function bigEndian(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt("0x" + toHex(bytes));
}

/** The compact form of a canonical r ‖ s ‖ v signature; any other encoding is an InvalidIdentitySignatureError. */
export function parseIdentitySignature(signature: Uint8Array): CompactSignature {
  if (signature.length !== IDENTITY_SIGNATURE_BYTES) {
    throw new InvalidIdentitySignatureError(`expected ${IDENTITY_SIGNATURE_BYTES} bytes r ‖ s ‖ v, got ${signature.length}`);
  }
  const v = signature[64];
  if (v !== 27 && v !== 28) throw new InvalidIdentitySignatureError(`v must be 27 or 28, got ${v}`);
  const r = bigEndian(signature.subarray(0, 32));
  const s = bigEndian(signature.subarray(32, 64));
  if (r === 0n || r >= CURVE_ORDER) throw new InvalidIdentitySignatureError("r is out of range");
  if (s === 0n || s >= CURVE_ORDER) throw new InvalidIdentitySignatureError("s is out of range");
  if (s > HALF_CURVE_ORDER) throw new InvalidIdentitySignatureError("s is in the upper half of the curve order (high-s)");
  return { bytes: signature.slice(0, 64), recovery: v - 27 };
}

/** The 65-byte uncompressed public key that made `signature` over `digest`. */
export function identitySignatureSigner(digest: Uint8Array, signature: Uint8Array): Uint8Array {
  const compact = parseIdentitySignature(signature);
  try {
    return recoverPublicKey(digest, compact);
  } catch (err) {
    throw new InvalidIdentitySignatureError((err as Error).message);
  }
}
