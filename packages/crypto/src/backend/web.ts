// The portable back end: @noble/* for the curve and hashes, WebCrypto for AES-GCM. Runs in browsers and in Node.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { CryptoBackend } from "./types.js";

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

/** Through the Signature object the recovered point stays affine: no compress-then-decompress square root. */
export function recoverWithNoble(digest: Uint8Array, signature: Uint8Array, recovery: number): Uint8Array {
  return secp256k1.Signature.fromBytes(signature, "compact").addRecoveryBit(recovery).recoverPublicKey(digest).toBytes(false);
}

export const webBackend: CryptoBackend = {
  name: "web",
  async hmacSha256(key, message) {
    return hmac(sha256, key, message);
  },
  async hkdfSha256(ikm, salt, info, length) {
    return hkdf(sha256, ikm, salt, info, length);
  },
  async aes256GcmEncrypt(key, nonce, plaintext, aad) {
    const params: AesGcmParams = { name: "AES-GCM", iv: plain(nonce), tagLength: 128 };
    if (aad) params.additionalData = plain(aad);
    return new Uint8Array(await subtle().encrypt(params, await aesKey(key, "encrypt"), plain(plaintext)));
  },
  async aes256GcmDecrypt(key, nonce, payload, aad) {
    const params: AesGcmParams = { name: "AES-GCM", iv: plain(nonce), tagLength: 128 };
    if (aad) params.additionalData = plain(aad);
    return new Uint8Array(await subtle().decrypt(params, await aesKey(key, "decrypt"), plain(payload)));
  },
  async ecdhPoint(privateKey, publicKey) {
    return secp256k1.getSharedSecret(privateKey, publicKey, false);
  },
  async ecdhPointCandidates(privateKey, publicKey) {
    return [secp256k1.getSharedSecret(privateKey, publicKey, false)];
  },
  async recoverPublicKey(digest, signature, recovery) {
    return recoverWithNoble(digest, signature, recovery);
  },
  async verifySha256(message, signature, publicKey) {
    if (signature.length !== 64) return false;
    try {
      return secp256k1.verify(signature, sha256(message), publicKey, { prehash: false, lowS: true });
    } catch {
      return false;
    }
  },
};
