// docs/protocol/identity.md §1.2: the v2 shapes (SignedPublicKey, SignedPublicKeyBundle) derived from legacy keys
// without new signatures, and back. key_bytes is the legacy key's unsigned bytes read as an UnsignedPublicKey, so
// created_ns is in ms.
import {
  create,
  fromBinary,
  PublicKeyBundleSchema,
  PublicKeySchema,
  SignedPublicKeyBundleSchema,
  SignedPublicKeySchema,
  UnsignedPublicKeySchema,
  type PublicKey,
  type PublicKeyBundle,
  type SignedPublicKey,
  type SignedPublicKeyBundle,
  type UnsignedPublicKey,
} from "@xmtp-ts/proto";
import { InvalidKeyBundleError, XmtpCryptoError } from "./errors.js";
import { compactOf, unsignedPublicKeyBytes } from "./identityKey.js";

/** created_ns below this is a millisecond value: the key came from a legacy key and converts back to one. */
export const LEGACY_TIMESTAMP_LIMIT = 1_000_000_000_000_000_000n;

/** A legacy key in v2 form; an identity key's wallet signature becomes `wallet_ecdsa_compact`. */
export function signedPublicKeyFromLegacy(key: PublicKey, signedByWallet: boolean): SignedPublicKey {
  const compact = compactOf(key.signature);
  return create(SignedPublicKeySchema, {
    keyBytes: unsignedPublicKeyBytes(key),
    signature: {
      union: signedByWallet ? { case: "walletEcdsaCompact", value: compact } : { case: "ecdsaCompact", value: compact },
    },
  });
}

export function decodeUnsignedPublicKey(key: SignedPublicKey): UnsignedPublicKey {
  let unsigned: UnsignedPublicKey;
  try {
    unsigned = fromBinary(UnsignedPublicKeySchema, key.keyBytes);
  } catch (err) {
    throw new XmtpCryptoError("invalid_key", `cannot decode signed key bytes: ${(err as Error).message}`);
  }
  if (unsigned.union.case !== "secp256k1Uncompressed" || unsigned.union.value.bytes.length !== 65) {
    throw new XmtpCryptoError("invalid_key", "signed key has no 65-byte secp256k1 point");
  }
  return unsigned;
}

/**
 * Points already read, by the key_bytes array they came from: opening an invitation reads the same four keys
 * several times (whose bundle, which pre-key, the bundle check, X3DH), each a protobuf decode otherwise.
 */
const pointsOfKeyBytes = new WeakMap<Uint8Array, Uint8Array>();

/** The 65-byte point of a SignedPublicKey. */
export function signedPublicKeyPoint(key: SignedPublicKey): Uint8Array {
  let point = pointsOfKeyBytes.get(key.keyBytes);
  if (!point) {
    point = (decodeUnsignedPublicKey(key).union.value as { bytes: Uint8Array }).bytes;
    pointsOfKeyBytes.set(key.keyBytes, point);
  }
  return point;
}

export function isLegacyCompatible(key: SignedPublicKey): boolean {
  return decodeUnsignedPublicKey(key).createdNs < LEGACY_TIMESTAMP_LIMIT;
}

/** The legacy form of a v2 key (any wallet signature goes back to `ecdsa_compact`); ns-dated keys have none. */
export function legacyPublicKeyFromSigned(key: SignedPublicKey): PublicKey {
  const unsigned = decodeUnsignedPublicKey(key);
  if (unsigned.createdNs >= LEGACY_TIMESTAMP_LIMIT) {
    throw new XmtpCryptoError("invalid_key", "key was created with a nanosecond timestamp and has no legacy form");
  }
  return create(PublicKeySchema, {
    timestamp: unsigned.createdNs,
    union: { case: "secp256k1Uncompressed", value: { bytes: (unsigned.union.value as { bytes: Uint8Array }).bytes } },
    signature: { union: { case: "ecdsaCompact", value: compactOf(key.signature) } },
  });
}

export function signedPublicKeyBundleFromLegacy(bundle: PublicKeyBundle): SignedPublicKeyBundle {
  if (!bundle.identityKey || !bundle.preKey) throw new InvalidKeyBundleError("key bundle is missing its identity key or pre-key");
  return create(SignedPublicKeyBundleSchema, {
    identityKey: signedPublicKeyFromLegacy(bundle.identityKey, true),
    preKey: signedPublicKeyFromLegacy(bundle.preKey, false),
  });
}

export function legacyPublicKeyBundleFromSigned(bundle: SignedPublicKeyBundle): PublicKeyBundle {
  if (!bundle.identityKey || !bundle.preKey) throw new InvalidKeyBundleError("key bundle is missing its identity key or pre-key");
  return create(PublicKeyBundleSchema, {
    identityKey: legacyPublicKeyFromSigned(bundle.identityKey),
    preKey: legacyPublicKeyFromSigned(bundle.preKey),
  });
}
