// docs/protocol/identity.md §5: the private key bundle as stored on the network (privatestore topic), encrypted under
// the wallet's Enable-Identity signature of a random 32-byte wallet pre-key.
import {
  create,
  fromBinary,
  toBinary,
  EncryptedPrivateKeyBundleSchema,
  EncryptedPrivateKeyBundleV1Schema,
  PrivateKeyBundleSchema,
  PrivateKeyBundleV1Schema,
  type EncryptedPrivateKeyBundleV1,
  type PrivateKeyBundleV1,
} from "@xmtp-ts/proto";
import { decryptAead, encryptAead } from "./aead.js";
import { randomBytes } from "./bytes.js";
import { DecryptionError, KeyStorageError } from "./errors.js";
import type { SignText } from "./legacyKeys.js";
import { enableIdentityText } from "./walletSignature.js";

export const WALLET_PRE_KEY_LENGTH = 32;

/** Encrypts the bundle for the privatestore topic; costs one wallet signature. */
export async function encryptKeyBundleForStorage(
  bundle: PrivateKeyBundleV1,
  signText: SignText,
  walletPreKey: Uint8Array = randomBytes(WALLET_PRE_KEY_LENGTH),
): Promise<Uint8Array> {
  const secret = await signText(enableIdentityText(walletPreKey));
  const plaintext = toBinary(PrivateKeyBundleSchema, create(PrivateKeyBundleSchema, { version: { case: "v1", value: bundle } }));
  const ciphertext = await encryptAead(secret, plaintext);
  return toBinary(
    EncryptedPrivateKeyBundleSchema,
    create(EncryptedPrivateKeyBundleSchema, { version: { case: "v1", value: { walletPreKey, ciphertext } } }),
  );
}

export interface StoredKeyBundle {
  bundle: PrivateKeyBundleV1;
  /** The stored bytes use an old format and should be saved again in the current one. */
  needsResave: boolean;
}

function isComplete(encrypted: EncryptedPrivateKeyBundleV1 | undefined): encrypted is EncryptedPrivateKeyBundleV1 {
  return (
    !!encrypted &&
    encrypted.walletPreKey.length === WALLET_PRE_KEY_LENGTH &&
    encrypted.ciphertext?.union.case === "aes256GcmHkdfSha256"
  );
}

function readEncrypted(bytes: Uint8Array): { encrypted: EncryptedPrivateKeyBundleV1; legacy: boolean } {
  try {
    const wrapped = fromBinary(EncryptedPrivateKeyBundleSchema, bytes);
    if (wrapped.version.case === "v1" && isComplete(wrapped.version.value)) return { encrypted: wrapped.version.value, legacy: false };
  } catch {
    // older clients stored a bare EncryptedPrivateKeyBundleV1
  }
  try {
    const bare = fromBinary(EncryptedPrivateKeyBundleV1Schema, bytes);
    if (isComplete(bare)) return { encrypted: bare, legacy: true };
  } catch {
    // reported below
  }
  throw new KeyStorageError("stored key bundle is neither an EncryptedPrivateKeyBundle nor an EncryptedPrivateKeyBundleV1");
}

function readPlaintext(bytes: Uint8Array): { bundle: PrivateKeyBundleV1; legacy: boolean } {
  try {
    const wrapped = fromBinary(PrivateKeyBundleSchema, bytes);
    if (wrapped.version.case === "v1" && wrapped.version.value.identityKey) return { bundle: wrapped.version.value, legacy: false };
  } catch {
    // older clients encrypted a bare PrivateKeyBundleV1
  }
  try {
    const bare = fromBinary(PrivateKeyBundleV1Schema, bytes);
    if (bare.identityKey) return { bundle: bare, legacy: true };
  } catch {
    // reported below
  }
  throw new KeyStorageError("decrypted key bundle is neither a PrivateKeyBundle v1 nor a PrivateKeyBundleV1");
}

/** v ∈ {27,28} ↔ {0,1}: wallets such as Ledger return the canonical form, others add 27. */
function withFlippedV(signature: Uint8Array): Uint8Array {
  const flipped = signature.slice();
  const v = flipped[64];
  flipped[64] = v < 27 ? v + 27 : v - 27;
  return flipped;
}

/** Decrypts stored keys; costs one wallet signature. Wrong wallet or tampered bytes give a KeyStorageError. */
export async function decryptStoredKeyBundle(bytes: Uint8Array, signText: SignText): Promise<StoredKeyBundle> {
  const { encrypted, legacy } = readEncrypted(bytes);
  const secret = await signText(enableIdentityText(encrypted.walletPreKey));
  let plaintext: Uint8Array;
  try {
    plaintext = await decryptAead(encrypted.ciphertext, secret);
  } catch (err) {
    if (!(err instanceof DecryptionError) || secret.length !== 65) {
      throw new KeyStorageError(`cannot decrypt the stored key bundle: ${(err as Error).message}`);
    }
    try {
      plaintext = await decryptAead(encrypted.ciphertext, withFlippedV(secret));
    } catch {
      throw new KeyStorageError("cannot decrypt the stored key bundle: the wallet signature is not the one it was encrypted with");
    }
  }
  const decoded = readPlaintext(plaintext);
  return { bundle: decoded.bundle, needsResave: legacy || decoded.legacy };
}
