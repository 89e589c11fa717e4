// RecordCrypto on WebCrypto (browsers; Node.js has it too). The keys are imported once per database, and a batch
// puts every operation in flight at once: the browser runs them off the main thread.
import { additionalData } from "./additionalData.js";
import type { DatabaseKeys } from "./keys.js";
import { NONCE_BYTES, randomNonces, TAG_BYTES, type RecordCrypto } from "./recordCrypto.js";

export async function createWebRecordCrypto(keys: DatabaseKeys): Promise<RecordCrypto> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error("WebCrypto (crypto.subtle) is not available: it needs a secure context (https or localhost)");
  const [encryptionKey, indexKey] = await Promise.all([
    subtle.importKey("raw", ownBuffer(keys.encryptionKey), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]),
    subtle.importKey("raw", ownBuffer(keys.indexKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
  ]);

  return {
    name: "WebCrypto",
    async blind(messages) {
      const macs = await Promise.all(messages.map((message) => subtle.sign("HMAC", indexKey, ownBuffer(message))));
      return macs.map((mac) => new Uint8Array(mac));
    },
    async seal(items) {
      const nonces = randomNonces(items.length);
      return Promise.all(
        items.map(async ({ plaintext, place }, i) => {
          const nonce = nonces.slice(i * NONCE_BYTES, (i + 1) * NONCE_BYTES);
          const params: AesGcmParams = { name: "AES-GCM", iv: nonce, additionalData: ownBuffer(additionalData(place)), tagLength: TAG_BYTES * 8 };
          const ciphertext = await subtle.encrypt(params, encryptionKey, concat(plaintext));
          const sealed = new Uint8Array(NONCE_BYTES + ciphertext.byteLength);
          sealed.set(nonce);
          sealed.set(new Uint8Array(ciphertext), NONCE_BYTES);
          return sealed;
        }),
      );
    },
    async open(items) {
      return Promise.all(
        items.map(async ({ sealed, place }) => {
          if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
          const bytes = ownBuffer(sealed);
          try {
            const params: AesGcmParams = {
              name: "AES-GCM",
              iv: bytes.subarray(0, NONCE_BYTES),
              additionalData: ownBuffer(additionalData(place)),
              tagLength: TAG_BYTES * 8,
            };
            return new Uint8Array(await subtle.decrypt(params, encryptionKey, bytes.subarray(NONCE_BYTES)));
          } catch {
            return undefined;
          }
        }),
      );
    },
  };
}

/** WebCrypto takes views over an ArrayBuffer only (not a SharedArrayBuffer): copy in the rare other case. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  if (parts.length === 1) return ownBuffer(parts[0]);
  const joined = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
