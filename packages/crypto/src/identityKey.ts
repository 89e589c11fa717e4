import {
  create,
  toBinary,
  PublicKeySchema,
  type PublicKey,
  type Signature,
} from "@xmtp-ts/proto";
import { InvalidSignatureError, type CompactSignature } from "./secp256k1.js";
import { createIdentityText, recoverWalletAddress } from "./walletSignature.js";

/** The 65-byte secp256k1 point of a legacy public key, or an error naming what is missing. */
export function publicKeyPoint(key: PublicKey): Uint8Array {
  if (key.union.case !== "secp256k1Uncompressed") throw new InvalidSignatureError("public key has no secp256k1 point");
  const point = key.union.value.bytes;
  if (point.length !== 65) throw new InvalidSignatureError(`public key point must be 65 bytes, got ${point.length}`);
  return point;
}

/**
 * The bytes a legacy public key's signature covers: the key re-encoded with only its timestamp (field 1)
 * and its point (field 3).
 */
export function unsignedPublicKeyBytes(key: PublicKey): Uint8Array {
  const unsigned = create(PublicKeySchema, {
    timestamp: key.timestamp,
    union: { case: "secp256k1Uncompressed", value: { bytes: publicKeyPoint(key) } },
  });
  return toBinary(PublicKeySchema, unsigned);
}

/** The compact signature inside a Signature message, whichever of the two ECDSA forms carries it. */
export function compactOf(signature: Signature | undefined): CompactSignature {
  const union = signature?.union;
  if (!union || (union.case !== "ecdsaCompact" && union.case !== "walletEcdsaCompact")) {
    throw new InvalidSignatureError("key carries no ECDSA signature");
  }
  return { bytes: union.value.bytes, recovery: union.value.recovery };
}

/** The wallet that signed the Create-Identity text for this identity key. */
export function walletAddressOfIdentityKey(key: PublicKey): string {
  return recoverWalletAddress(createIdentityText(unsignedPublicKeyBytes(key)), compactOf(key.signature));
}
