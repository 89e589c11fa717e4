// HMAC and HKDF on @noble/hashes, AES-GCM on WebCrypto: available in every browser and in Node.js.
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { SymmetricCrypto } from "./types.js";

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error("WebCrypto (crypto.subtle) is not available in this environment");
  return s;
}

// WebCrypto rejects views over SharedArrayBuffer and some typed-array subclasses; a plain copy is always accepted.
function plain(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

async function aesKey(key: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  return subtle().importKey("raw", plain(key), { name: "AES-GCM" }, false, [usage]);
}

function gcmParams(nonce: Uint8Array, aad: Uint8Array | undefined): AesGcmParams {
  const params: AesGcmParams = { name: "AES-GCM", iv: plain(nonce), tagLength: 128 };
  if (aad) params.additionalData = plain(aad);
  return params;
}

export const webSymmetric: SymmetricCrypto = {
  name: "webcrypto",
  async hmacSha256(key, message) {
    return hmac(sha256, key, message);
  },
  async hkdfSha256(ikm, salt, info, length) {
    return hkdf(sha256, ikm, salt, info, length);
  },
  async aes256GcmEncrypt(key, nonce, plaintext, aad) {
    return new Uint8Array(await subtle().encrypt(gcmParams(nonce, aad), await aesKey(key, "encrypt"), plain(plaintext)));
  },
  async aes256GcmDecrypt(key, nonce, payload, aad) {
    return new Uint8Array(await subtle().decrypt(gcmParams(nonce, aad), await aesKey(key, "decrypt"), plain(payload)));
  },
};
