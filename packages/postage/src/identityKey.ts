// The identity key that signs seals and grants: the writer's XMTP identity key in its v2 form (SignedPublicKey),
// vouched for by its wallet's "XMTP : Create Identity" signature exactly as in a v2 contact bundle. Its wallet is
// recovered with @xmtp-ts/crypto's own functions, through the key's legacy form: every key SDK 13 and our client
// create has one (millisecond created_ns), and the Create-Identity text covers the same unsigned bytes in both forms.
import {
  equalBytes,
  getPublicKey,
  legacyPublicKeyFromSigned,
  publicKeyPoint,
  signedPublicKeyPoint,
  unsignedPublicKeyBytes,
  walletAddressOfIdentityKey,
  type UserKeys,
} from "@xmtp-ts/crypto";
import type { SignedPublicKey } from "@xmtp-ts/proto";

/** What a client needs to seal envelopes and sign grants: its identity scalar and the wallet-signed public key. */
export interface IdentityKeyMaterial {
  privateKey: Uint8Array;
  publicKey: SignedPublicKey;
}

export class InvalidIdentityKeyError extends Error {
  readonly code = "invalid_identity_key";
  constructor(readonly reason: string) {
    super(`invalid identity key: ${reason}`);
    this.name = "InvalidIdentityKeyError";
  }
}

/** The identity key material of a client's own keys (as `userKeysFromBundle` derives them). */
export function identityKeyMaterialOf(keys: Pick<UserKeys, "identityPrivateKey" | "signedBundle">): IdentityKeyMaterial {
  const publicKey = keys.signedBundle.identityKey;
  if (!publicKey) throw new InvalidIdentityKeyError("the key bundle has no identity key");
  return { privateKey: keys.identityPrivateKey, publicKey };
}

export interface VerifiedIdentityKey {
  /** EIP-55 wallet that signed the key's Create-Identity text. */
  wallet: string;
  /** The key's 65-byte uncompressed point, which must have made the seal or grant signature. */
  point: Uint8Array;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Checks that an identity key is wallet-signed (wallet_ecdsa_compact, as a v2 bundle's identity key must be) over
 * its own key bytes, and returns the wallet and the point. Keys without a legacy form (nanosecond created_ns) and
 * key bytes in a non-canonical encoding are refused: the wallet signature could not be checked over them.
 */
export function verifyIdentityKey(key: SignedPublicKey | undefined): VerifiedIdentityKey {
  if (!key) throw new InvalidIdentityKeyError("missing");
  if (key.signature?.union.case !== "walletEcdsaCompact") {
    throw new InvalidIdentityKeyError("not signed by a wallet (wallet_ecdsa_compact expected)");
  }
  let legacy;
  try {
    legacy = legacyPublicKeyFromSigned(key);
  } catch (err) {
    throw new InvalidIdentityKeyError(describe(err));
  }
  if (!equalBytes(unsignedPublicKeyBytes(legacy), key.keyBytes)) {
    throw new InvalidIdentityKeyError("key bytes are not in their canonical encoding");
  }
  try {
    return { wallet: walletAddressOfIdentityKey(legacy), point: publicKeyPoint(legacy) };
  } catch (err) {
    throw new InvalidIdentityKeyError(`no valid wallet signature: ${describe(err)}`);
  }
}

/** Throws unless `material.privateKey` is the private half of `material.publicKey` (catches mixed-up keys early). */
export function assertIdentityKeyPair(material: IdentityKeyMaterial): void {
  let point: Uint8Array;
  try {
    point = signedPublicKeyPoint(material.publicKey);
  } catch (err) {
    throw new InvalidIdentityKeyError(describe(err));
  }
  if (!equalBytes(getPublicKey(material.privateKey), point)) {
    throw new InvalidIdentityKeyError("the private key is not the one of this public key");
  }
}
