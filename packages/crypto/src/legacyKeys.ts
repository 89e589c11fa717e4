// docs/protocol/identity.md §1.1, §2: the "legacy v1" keys SDK 13 generates: an identity key vouched for by the
// wallet's Create-Identity signature and a pre-key signed by the identity key over sha256(unsigned bytes). Timestamps
// are milliseconds.
import {
  create,
  PrivateKeyBundleV1Schema,
  PrivateKeySchema,
  PublicKeyBundleSchema,
  PublicKeySchema,
  type PrivateKey,
  type PrivateKeyBundleV1,
  type PublicKey,
  type PublicKeyBundle,
} from "@xmtp-ts/proto";
import { XmtpCryptoError } from "./errors.js";
import { sha256 } from "./hashes.js";
import { publicKeyPoint, unsignedPublicKeyBytes, walletAddressOfIdentityKey } from "./identityKey.js";
import { generatePrivateKey, getPublicKey, signDigest } from "./secp256k1.js";
import { createIdentityText, walletSignatureToCompact } from "./walletSignature.js";

/** Signs a personal_sign text with the user's wallet and returns the 65-byte r‖s‖v signature. */
export type SignText = (text: string) => Promise<Uint8Array>;

/** A legacy private key (timestamp in ms) whose public key is unsigned. */
export function createLegacyPrivateKey(timestampMs: bigint = BigInt(Date.now()), secret = generatePrivateKey()): PrivateKey {
  const point = getPublicKey(secret);
  return create(PrivateKeySchema, {
    timestamp: timestampMs,
    union: { case: "secp256k1", value: { bytes: secret } },
    publicKey: { timestamp: timestampMs, union: { case: "secp256k1Uncompressed", value: { bytes: point } } },
  });
}

/** The 32-byte secp256k1 scalar of a legacy private key. */
export function legacyPrivateKeyScalar(key: PrivateKey | undefined): Uint8Array {
  if (!key || key.union.case !== "secp256k1") throw new XmtpCryptoError("invalid_key", "private key has no secp256k1 scalar");
  const scalar = key.union.value.bytes;
  if (scalar.length !== 32) throw new XmtpCryptoError("invalid_key", `private key must be 32 bytes, got ${scalar.length}`);
  return scalar;
}

/** The legacy public key of a private key, or an error naming what is missing. */
export function legacyPublicKeyOf(key: PrivateKey): PublicKey {
  if (!key.publicKey) throw new XmtpCryptoError("invalid_key", "private key carries no public key");
  return key.publicKey;
}

/** `key` signed by `signerScalar` over sha256(unsigned bytes), as a pre-key is signed by its identity key. */
export function signLegacyPublicKey(key: PublicKey, signerScalar: Uint8Array): PublicKey {
  const signature = signDigest(sha256(unsignedPublicKeyBytes(key)), signerScalar);
  return create(PublicKeySchema, {
    timestamp: key.timestamp,
    union: { case: "secp256k1Uncompressed", value: { bytes: publicKeyPoint(key) } },
    signature: { union: { case: "ecdsaCompact", value: signature } },
  });
}

/** A new legacy identity key whose public key carries the wallet's signature of the Create-Identity text. */
export async function createWalletSignedIdentityKey(signText: SignText, timestampMs: bigint = BigInt(Date.now())): Promise<PrivateKey> {
  const identity = createLegacyPrivateKey(timestampMs);
  const identityPublic = legacyPublicKeyOf(identity);
  const walletSignature = walletSignatureToCompact(await signText(createIdentityText(unsignedPublicKeyBytes(identityPublic))));
  identity.publicKey = create(PublicKeySchema, {
    timestamp: identityPublic.timestamp,
    union: identityPublic.union,
    signature: { union: { case: "ecdsaCompact", value: walletSignature } },
  });
  return identity;
}

export interface GenerateKeyBundleOptions {
  /** The wallet expected to sign; a signature recovering to another address is refused. */
  walletAddress?: string;
  timestampMs?: bigint;
}

/**
 * A new identity: identity key signed by the wallet over the Create-Identity text (one wallet signature), and one
 * pre-key signed by the identity key.
 */
export async function generatePrivateKeyBundleV1(signText: SignText, options: GenerateKeyBundleOptions = {}): Promise<PrivateKeyBundleV1> {
  const timestampMs = options.timestampMs ?? BigInt(Date.now());
  const identity = await createWalletSignedIdentityKey(signText, timestampMs);
  if (options.walletAddress !== undefined) {
    const signer = walletAddressOfIdentityKey(legacyPublicKeyOf(identity));
    if (signer.toLowerCase() !== options.walletAddress.toLowerCase()) {
      throw new XmtpCryptoError("invalid_signature", `the Create-Identity signature is from ${signer}, not from ${options.walletAddress}`);
    }
  }
  const preKey = createLegacyPrivateKey(timestampMs);
  preKey.publicKey = signLegacyPublicKey(legacyPublicKeyOf(preKey), legacyPrivateKeyScalar(identity));
  return create(PrivateKeyBundleV1Schema, { identityKey: identity, preKeys: [preKey] });
}

/** The public half of a private bundle (legacy form, as ContactBundleV1 and MessageHeaderV1 carry it). */
export function publicKeyBundleOf(bundle: PrivateKeyBundleV1): PublicKeyBundle {
  const preKey = bundle.preKeys[0];
  if (!bundle.identityKey) throw new XmtpCryptoError("invalid_key", "private key bundle has no identity key");
  if (!preKey) throw new XmtpCryptoError("invalid_key", "private key bundle has no pre-key");
  return create(PublicKeyBundleSchema, { identityKey: legacyPublicKeyOf(bundle.identityKey), preKey: legacyPublicKeyOf(preKey) });
}
