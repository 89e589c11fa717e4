// HMAC, HKDF and AES-GCM on node:crypto (OpenSSL): native, several times faster than WebCrypto's promise round
// trips for the many small inputs of the protocol. Loaded only under Node.js, through a computed import.
import type * as NodeCrypto from "node:crypto";
import { useNativeSha256 } from "../hashes.js";
import { importNodeBuiltin } from "./nodeRuntime.js";
import type { SymmetricCrypto } from "./types.js";

const GCM_TAG_LENGTH = 16;

/** A plain Uint8Array: callers compare with Uint8Array, and Buffers from Node's pool would alias each other. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function createNodeSymmetric(nodeCrypto: typeof NodeCrypto): SymmetricCrypto {
  return {
    name: "node-crypto",
    async hmacSha256(key, message) {
      return plain(nodeCrypto.createHmac("sha256", key).update(message).digest());
    },
    async hkdfSha256(ikm, salt, info, length) {
      return new Uint8Array(nodeCrypto.hkdfSync("sha256", ikm, salt, info, length));
    },
    async aes256GcmEncrypt(key, nonce, plaintext, aad) {
      const cipher = nodeCrypto.createCipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_LENGTH });
      if (aad) cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      return join(head, tail, cipher.getAuthTag());
    },
    async aes256GcmDecrypt(key, nonce, payload, aad) {
      if (payload.length < GCM_TAG_LENGTH) throw new Error("AES-GCM payload is shorter than its tag");
      const decipher = nodeCrypto.createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_LENGTH });
      decipher.setAuthTag(payload.subarray(payload.length - GCM_TAG_LENGTH));
      if (aad) decipher.setAAD(aad);
      const head = decipher.update(payload.subarray(0, payload.length - GCM_TAG_LENGTH));
      const tail = decipher.final();
      return join(head, tail);
    },
  };
}

/** The node:crypto primitives; rejects outside Node.js. SHA-256 moves to node:crypto too (message ids, digests). */
export async function loadNodeSymmetric(): Promise<SymmetricCrypto> {
  const nodeCrypto = await importNodeBuiltin<typeof NodeCrypto>("crypto");
  useNativeSha256((data) => plain(nodeCrypto.createHash("sha256").update(data).digest()));
  return createNodeSymmetric(nodeCrypto);
}
