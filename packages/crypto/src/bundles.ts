// docs/protocol/identity.md §3: verifying a peer's key bundle (pre-key signed by the identity key, identity key signed
// by a wallet) and recovering its wallet address, for both the legacy and the v2 form; contact bundle encoding
// (docs/protocol/identity.md §3.2, §4).
import {
  create,
  fromBinary,
  toBinary,
  ContactBundleSchema,
  PublicKeyBundleSchema,
  type PublicKeyBundle,
  type SignedPublicKeyBundle,
} from "@xmtp-ts/proto";
import { getCryptoBackend } from "./backend/index.js";
import type { Secp256k1Curve } from "./backend/types.js";
import { concatBytes, toHex } from "./bytes.js";
import { InvalidKeyBundleError } from "./errors.js";
import { sha256 } from "./hashes.js";
import { compactOf, publicKeyPoint, unsignedPublicKeyBytes } from "./identityKey.js";
import { signedPublicKeyPoint } from "./signedKeys.js";
import { publicKeyToAddress } from "./address.js";
import { createIdentityText, hashPersonalMessage } from "./walletSignature.js";

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function checkPreKeySignature(
  curve: Secp256k1Curve,
  signedBytes: Uint8Array,
  signature: Parameters<typeof compactOf>[0],
  identityPoint: Uint8Array,
): void {
  let compact;
  try {
    compact = compactOf(signature);
  } catch {
    throw new InvalidKeyBundleError("pre-key carries no signature");
  }
  if (!curve.verifyDigest(sha256(signedBytes), compact.bytes, identityPoint)) {
    throw new InvalidKeyBundleError("pre-key is not signed by the identity key");
  }
}

function recoverIdentityWallet(curve: Secp256k1Curve, keyBytes: Uint8Array, signature: Parameters<typeof compactOf>[0]): string {
  try {
    const { bytes, recovery } = compactOf(signature);
    return publicKeyToAddress(curve.recoverPublicKey(hashPersonalMessage(createIdentityText(keyBytes)), bytes, recovery));
  } catch (err) {
    throw new InvalidKeyBundleError(`identity key has no valid wallet signature: ${describe(err)}`);
  }
}

/** Checks a legacy bundle and returns the wallet address that vouched for it. */
export async function verifyPublicKeyBundle(bundle: PublicKeyBundle): Promise<string> {
  const { identityKey, preKey } = bundle;
  if (!identityKey || !preKey) throw new InvalidKeyBundleError("key bundle is missing its identity key or pre-key");
  let identityPoint: Uint8Array;
  let preKeyBytes: Uint8Array;
  try {
    identityPoint = publicKeyPoint(identityKey);
    preKeyBytes = unsignedPublicKeyBytes(preKey);
  } catch (err) {
    throw new InvalidKeyBundleError(`malformed key bundle: ${describe(err)}`);
  }
  const { curve } = await getCryptoBackend();
  checkPreKeySignature(curve, preKeyBytes, preKey.signature, identityPoint);
  return recoverIdentityWallet(curve, unsignedPublicKeyBytes(identityKey), identityKey.signature);
}

/** Checks a v2 bundle (the identity signature must be `wallet_ecdsa_compact`) and returns its wallet address. */
export async function verifySignedPublicKeyBundle(bundle: SignedPublicKeyBundle): Promise<string> {
  const { identityKey, preKey } = bundle;
  if (!identityKey || !preKey) throw new InvalidKeyBundleError("key bundle is missing its identity key or pre-key");
  if (identityKey.signature?.union.case !== "walletEcdsaCompact") {
    throw new InvalidKeyBundleError("identity key was not signed by a wallet (wallet_ecdsa_compact expected)");
  }
  let identityPoint: Uint8Array;
  try {
    identityPoint = signedPublicKeyPoint(identityKey);
    signedPublicKeyPoint(preKey);
  } catch (err) {
    throw new InvalidKeyBundleError(`malformed key bundle: ${describe(err)}`);
  }
  const { curve } = await getCryptoBackend();
  checkPreKeySignature(curve, preKey.keyBytes, preKey.signature, identityPoint);
  return recoverIdentityWallet(curve, identityKey.keyBytes, identityKey.signature);
}

/**
 * What the check of a v2 bundle depends on, and nothing else: both keys' bytes and signatures (with the kind of
 * signature), each length-prefixed, hashed. Built from the fields directly: re-encoding the bundle to key the cache
 * cost more than the rest of a cache hit, and a short key keeps 10,000 entries small.
 */
function signedBundleId(bundle: SignedPublicKeyBundle): string {
  const parts: Uint8Array[] = [];
  const add = (bytes: Uint8Array) => parts.push(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes);
  for (const key of [bundle.identityKey, bundle.preKey]) {
    const signature = key?.signature?.union;
    const compact = signature?.value as { bytes?: Uint8Array; recovery?: number } | undefined;
    add(key?.keyBytes ?? new Uint8Array(0));
    const recovery = compact?.recovery ?? 0xffffffff;
    const kind = signature?.case === "walletEcdsaCompact" ? 2 : signature?.case === "ecdsaCompact" ? 1 : 0;
    add(Uint8Array.of(kind, recovery >>> 24, (recovery >>> 16) & 0xff, (recovery >>> 8) & 0xff, recovery & 0xff));
    add(compact?.bytes ?? new Uint8Array(0));
  }
  return "2" + toHex(sha256(concatBytes(...parts)));
}

/**
 * Remembers verified bundles by their encoding so each distinct bundle costs one signature check and one wallet
 * recovery however often it appears (every message of a conversation carries the sender's bundle).
 * Failures are not remembered.
 */
export class KeyBundleVerifier {
  private readonly verified = new Map<string, Promise<string>>();
  constructor(private readonly limit = 10_000) {}

  verifySigned(bundle: SignedPublicKeyBundle): Promise<string> {
    return this.remember(signedBundleId(bundle), () => verifySignedPublicKeyBundle(bundle));
  }

  verifyLegacy(bundle: PublicKeyBundle): Promise<string> {
    return this.remember("1" + toHex(toBinary(PublicKeyBundleSchema, bundle)), () => verifyPublicKeyBundle(bundle));
  }

  private remember(id: string, verify: () => Promise<string>): Promise<string> {
    let result = this.verified.get(id);
    if (!result) {
      if (this.verified.size >= this.limit) this.verified.delete(this.verified.keys().next().value!);
      result = verify();
      this.verified.set(id, result);
      result.catch(() => this.verified.delete(id));
    }
    return result;
  }
}

export type DecodedContactBundle =
  | { version: "v1"; bundle: PublicKeyBundle }
  | { version: "v2"; bundle: SignedPublicKeyBundle };

export function encodeContactBundleV1(bundle: PublicKeyBundle): Uint8Array {
  return toBinary(ContactBundleSchema, create(ContactBundleSchema, { version: { case: "v1", value: { keyBundle: bundle } } }));
}

export function encodeContactBundleV2(bundle: SignedPublicKeyBundle): Uint8Array {
  return toBinary(ContactBundleSchema, create(ContactBundleSchema, { version: { case: "v2", value: { keyBundle: bundle } } }));
}

/** A contact topic entry: ContactBundle v1 or v2, or (very old clients) a bare PublicKeyBundle. */
export function decodeContactBundle(bytes: Uint8Array): DecodedContactBundle {
  try {
    const contact = fromBinary(ContactBundleSchema, bytes);
    const { version } = contact;
    if (version.case === "v1" && version.value.keyBundle?.identityKey) return { version: "v1", bundle: version.value.keyBundle };
    if (version.case === "v2" && version.value.keyBundle?.identityKey) return { version: "v2", bundle: version.value.keyBundle };
  } catch {
    // not a ContactBundle; older clients published a bare PublicKeyBundle
  }
  let bare: PublicKeyBundle;
  try {
    bare = fromBinary(PublicKeyBundleSchema, bytes);
  } catch (err) {
    throw new InvalidKeyBundleError(`contact is neither a ContactBundle nor a PublicKeyBundle: ${describe(err)}`);
  }
  if (!bare.identityKey || !bare.preKey || bare.identityKey.union.case !== "secp256k1Uncompressed") {
    throw new InvalidKeyBundleError("contact is neither a ContactBundle nor a PublicKeyBundle");
  }
  return { version: "v1", bundle: bare };
}
