// docs/protocol/messages.md §1.2: XMTP's one AEAD. key = HKDF-SHA256(secret, salt, info "", 32); AES-256-GCM with the
// tag appended.
import { create, CiphertextSchema, type Ciphertext } from "@xmtp-ts/proto";
import { getCryptoBackend } from "./backend/index.js";
import { randomBytes } from "./bytes.js";
import { DecryptionError, XmtpCryptoError } from "./errors.js";

export const AEAD_SALT_LENGTH = 32;
export const AEAD_NONCE_LENGTH = 12;
export const AEAD_TAG_LENGTH = 16;
const EMPTY = new Uint8Array(0);

export interface AeadParts {
  hkdfSalt: Uint8Array;
  gcmNonce: Uint8Array;
  payload: Uint8Array;
}

/** Encrypts under `secret` (any length: an X3DH secret, key material, a wallet signature) with optional AAD. */
export async function encryptAead(secret: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Ciphertext> {
  const backend = await getCryptoBackend();
  const hkdfSalt = randomBytes(AEAD_SALT_LENGTH);
  const gcmNonce = randomBytes(AEAD_NONCE_LENGTH);
  const key = await backend.hkdfSha256(secret, hkdfSalt, EMPTY, 32);
  const payload = await backend.aes256GcmEncrypt(key, gcmNonce, plaintext, aad);
  return create(CiphertextSchema, { union: { case: "aes256GcmHkdfSha256", value: { hkdfSalt, gcmNonce, payload } } });
}

/** The salt, nonce and payload of a Ciphertext, checked for the sizes the SDK requires. */
export function aeadParts(ciphertext: Ciphertext | undefined): AeadParts {
  const union = ciphertext?.union;
  if (!union || union.case !== "aes256GcmHkdfSha256") {
    throw new XmtpCryptoError("invalid_ciphertext", "ciphertext is not aes256_gcm_hkdf_sha256");
  }
  const { hkdfSalt, gcmNonce, payload } = union.value;
  if (hkdfSalt.length !== AEAD_SALT_LENGTH) {
    throw new XmtpCryptoError("invalid_ciphertext", `ciphertext salt must be ${AEAD_SALT_LENGTH} bytes, got ${hkdfSalt.length}`);
  }
  if (gcmNonce.length !== AEAD_NONCE_LENGTH) {
    throw new XmtpCryptoError("invalid_ciphertext", `ciphertext nonce must be ${AEAD_NONCE_LENGTH} bytes, got ${gcmNonce.length}`);
  }
  if (payload.length < AEAD_TAG_LENGTH) {
    throw new XmtpCryptoError("invalid_ciphertext", `ciphertext payload must be at least ${AEAD_TAG_LENGTH} bytes, got ${payload.length}`);
  }
  return { hkdfSalt, gcmNonce, payload };
}

/** Decrypts; a wrong secret, tampered bytes or wrong AAD all give DecryptionError. */
export async function decryptAead(ciphertext: Ciphertext | undefined, secret: Uint8Array, aad?: Uint8Array): Promise<Uint8Array> {
  const { hkdfSalt, gcmNonce, payload } = aeadParts(ciphertext);
  const backend = await getCryptoBackend();
  const key = await backend.hkdfSha256(secret, hkdfSalt, EMPTY, 32);
  try {
    return await backend.aes256GcmDecrypt(key, gcmNonce, payload, aad);
  } catch {
    throw new DecryptionError();
  }
}
