// One user's own keys in every shape the protocol needs, derived once from the stored PrivateKeyBundleV1.
import {
  create,
  fromBinary,
  toBinary,
  PrivateKeyBundleSchema,
  PrivateKeyBundleV1Schema,
  PrivateKeySchema,
  type PrivateKeyBundleV1,
  type PublicKey,
  type PublicKeyBundle,
  type SignedPrivateKey,
  type SignedPublicKey,
  type SignedPublicKeyBundle,
} from "@xmtp-ts/proto";
import { equalBytes } from "./bytes.js";
import { XmtpCryptoError } from "./errors.js";
import { publicKeyPoint, walletAddressOfIdentityKey } from "./identityKey.js";
import { legacyPrivateKeyScalar, legacyPublicKeyOf, publicKeyBundleOf } from "./legacyKeys.js";
import { getPublicKey } from "./secp256k1.js";
import { legacyPublicKeyFromSigned, signedPublicKeyBundleFromLegacy, signedPublicKeyFromLegacy } from "./signedKeys.js";

export interface UserPreKey {
  privateKey: Uint8Array;
  /** 65-byte point. */
  publicKey: Uint8Array;
  legacy: PublicKey;
  signed: SignedPublicKey;
}

export interface UserKeys {
  walletAddress: string;
  bundle: PrivateKeyBundleV1;
  identityPrivateKey: Uint8Array;
  identityPublicKey: Uint8Array;
  /** The identity public key with its wallet signature (legacy form; also the auth token's identity key). */
  identityKey: PublicKey;
  /** Newest first; the first is the current pre-key. */
  preKeys: UserPreKey[];
  publicBundle: PublicKeyBundle;
  signedBundle: SignedPublicKeyBundle;
}

/** Derives every form of a user's keys and checks that each private key matches its public key. */
export function userKeysFromBundle(bundle: PrivateKeyBundleV1): UserKeys {
  if (!bundle.identityKey) throw new XmtpCryptoError("invalid_key", "private key bundle has no identity key");
  if (bundle.preKeys.length === 0) throw new XmtpCryptoError("invalid_key", "private key bundle has no pre-key");
  const identityPrivateKey = legacyPrivateKeyScalar(bundle.identityKey);
  const identityKey = legacyPublicKeyOf(bundle.identityKey);
  const identityPublicKey = publicKeyPoint(identityKey);
  if (!equalBytes(getPublicKey(identityPrivateKey), identityPublicKey)) {
    throw new XmtpCryptoError("invalid_key", "identity private key does not match its public key");
  }
  const walletAddress = walletAddressOfIdentityKey(identityKey);
  const preKeys = bundle.preKeys.map((preKey, i): UserPreKey => {
    const privateKey = legacyPrivateKeyScalar(preKey);
    const legacy = legacyPublicKeyOf(preKey);
    const publicKey = publicKeyPoint(legacy);
    if (!equalBytes(getPublicKey(privateKey), publicKey)) {
      throw new XmtpCryptoError("invalid_key", `pre-key ${i} does not match its public key`);
    }
    return { privateKey, publicKey, legacy, signed: signedPublicKeyFromLegacy(legacy, false) };
  });
  const publicBundle = publicKeyBundleOf(bundle);
  return {
    walletAddress,
    bundle,
    identityPrivateKey,
    identityPublicKey,
    identityKey,
    preKeys,
    publicBundle,
    signedBundle: signedPublicKeyBundleFromLegacy(publicBundle),
  };
}

/** `PrivateKeyBundle{v1}` bytes: the SDK's key export format (`Client.getKeys`, `privateKeyOverride`). */
export function encodePrivateKeyBundle(bundle: PrivateKeyBundleV1): Uint8Array {
  return toBinary(PrivateKeyBundleSchema, create(PrivateKeyBundleSchema, { version: { case: "v1", value: bundle } }));
}

function legacyPrivateKeyFromSigned(key: SignedPrivateKey, role: string) {
  if (key.union.case !== "secp256k1" || !key.publicKey) {
    throw new XmtpCryptoError("invalid_key", `v2 ${role} key has no secp256k1 scalar or public key`);
  }
  return create(PrivateKeySchema, {
    timestamp: key.createdNs,
    union: { case: "secp256k1", value: { bytes: key.union.value.bytes } },
    publicKey: legacyPublicKeyFromSigned(key.publicKey),
  });
}

/**
 * Reads exported keys: `PrivateKeyBundle` v1 (the SDK's export), v2 when its keys have legacy (ms) timestamps, or a
 * bare `PrivateKeyBundleV1`.
 */
export function decodePrivateKeyBundle(bytes: Uint8Array): PrivateKeyBundleV1 {
  try {
    const wrapped = fromBinary(PrivateKeyBundleSchema, bytes);
    if (wrapped.version.case === "v1" && wrapped.version.value.identityKey) return wrapped.version.value;
    if (wrapped.version.case === "v2" && wrapped.version.value.identityKey) {
      const v2 = wrapped.version.value;
      return create(PrivateKeyBundleV1Schema, {
        identityKey: legacyPrivateKeyFromSigned(v2.identityKey!, "identity"),
        preKeys: v2.preKeys.map((k) => legacyPrivateKeyFromSigned(k, "pre-")),
      });
    }
  } catch (err) {
    if (err instanceof XmtpCryptoError) throw err;
    // not a PrivateKeyBundle; try the bare legacy form below
  }
  try {
    const bare = fromBinary(PrivateKeyBundleV1Schema, bytes);
    if (bare.identityKey?.union.case === "secp256k1") return bare;
  } catch {
    // fall through to the error below
  }
  throw new XmtpCryptoError("invalid_key", "bytes are not a PrivateKeyBundle (v1 or v2) nor a PrivateKeyBundleV1");
}

/** The pre-key of mine whose v2 form equals `signed` byte for byte (signature included), if any. */
export function findPreKey(keys: UserKeys, signed: SignedPublicKey | undefined): UserPreKey | undefined {
  if (!signed) return undefined;
  return keys.preKeys.find(
    (k) => equalBytes(k.signed.keyBytes, signed.keyBytes) && signatureBytesEqual(k.signed, signed),
  );
}

function signatureBytesEqual(a: SignedPublicKey, b: SignedPublicKey): boolean {
  const x = a.signature?.union;
  const y = b.signature?.union;
  if (!x?.case || !y?.case) return false;
  return equalBytes(x.value.bytes, y.value.bytes) && x.value.recovery === y.value.recovery;
}
