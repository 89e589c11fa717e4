// The Node.js back end: node:crypto (OpenSSL) for ECDH, ECDSA verify, AES-GCM, HKDF and HMAC. Loaded only through
// a dynamic import in ./index.ts, so browser bundles never see node:crypto.
import type * as NodeCrypto from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type { CryptoBackend } from "./types.js";

const CURVE_ORDER = secp256k1.Point.CURVE().n;
const FIELD_PRIME = secp256k1.Point.CURVE().p;
const HALF_ORDER = CURVE_ORDER >> 1n;
// DER prefixes of an SPKI secp256k1 public key (followed by the 65-byte point) and of a SEC1 private key (followed
// by the 32-byte scalar, then the curve OID).
const SPKI_PREFIX = hexBytes("3056301006072a8648ce3d020106052b8104000a034200");
const SEC1_PREFIX = hexBytes("302e0201010420");
const SEC1_SUFFIX = hexBytes("a00706052b8104000a");
const KEY_CACHE_LIMIT = 4096;

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
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

function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function bigIntTo32Bytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** A small insertion-ordered cache: importing a key into OpenSSL costs about as much as one ECDH. */
class KeyCache<V> {
  private readonly entries = new Map<string, V>();
  get(bytes: Uint8Array, make: () => V): V {
    const id = String.fromCharCode(...bytes);
    let value = this.entries.get(id);
    if (value === undefined) {
      value = make();
      if (this.entries.size >= KEY_CACHE_LIMIT) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(id, value);
    }
    return value;
  }
}

/** A plain Uint8Array (tests and callers compare with Uint8Array; Buffers from the pool would alias). */
function copy(buffer: Uint8Array | ArrayBuffer): Uint8Array {
  return buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer);
}

export function createNodeBackend(nodeCrypto: typeof NodeCrypto): CryptoBackend {
  const publicKeys = new KeyCache<NodeCrypto.KeyObject>();
  const privateKeys = new KeyCache<NodeCrypto.KeyObject>();
  // For each private key k, the key k+1: x((k+1)·Q) = x(k·Q + Q) tells which of the two candidate points is k·Q.
  const nextPrivateKeys = new KeyCache<NodeCrypto.KeyObject | null>();

  const publicKeyObject = (point: Uint8Array) =>
    publicKeys.get(point, () =>
      nodeCrypto.createPublicKey({ key: Buffer.from(join(SPKI_PREFIX, point)), format: "der", type: "spki" }),
    );
  const privateKeyObjectOf = (scalar: Uint8Array) =>
    nodeCrypto.createPrivateKey({ key: Buffer.from(join(SEC1_PREFIX, scalar, SEC1_SUFFIX)), format: "der", type: "sec1" });
  const privateKeyObject = (scalar: Uint8Array) => privateKeys.get(scalar, () => privateKeyObjectOf(scalar));

  const sharedX = (privateKey: Uint8Array, publicKey: Uint8Array) =>
    nodeCrypto.diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) });

  // OpenSSL's ECDH yields only x. Native decompression gives the even-y point; the odd one is its negation.
  const candidatesFromX = (x: Uint8Array): Uint8Array[] => {
    const even = copy(
      nodeCrypto.ECDH.convertKey(Buffer.from(join(Uint8Array.of(2), x)), "secp256k1", undefined, undefined, "uncompressed") as Buffer,
    );
    const odd = even.slice();
    odd.set(bigIntTo32Bytes(FIELD_PRIME - bytesToBigInt(even.subarray(33))), 33);
    return [even, odd];
  };

  return {
    name: "node",
    async hmacSha256(key, message) {
      return copy(nodeCrypto.createHmac("sha256", key).update(message).digest());
    },
    async hkdfSha256(ikm, salt, info, length) {
      return copy(nodeCrypto.hkdfSync("sha256", ikm, salt, info, length));
    },
    async aes256GcmEncrypt(key, nonce, plaintext, aad) {
      const cipher = nodeCrypto.createCipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
      if (aad) cipher.setAAD(aad);
      const head = cipher.update(plaintext);
      const tail = cipher.final();
      return join(head, tail, cipher.getAuthTag());
    },
    async aes256GcmDecrypt(key, nonce, payload, aad) {
      if (payload.length < 16) throw new Error("AES-GCM payload is shorter than its tag");
      const decipher = nodeCrypto.createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
      decipher.setAuthTag(payload.subarray(payload.length - 16));
      if (aad) decipher.setAAD(aad);
      const head = decipher.update(payload.subarray(0, payload.length - 16));
      const tail = decipher.final();
      return join(head, tail);
    },
    async ecdhPointCandidates(privateKey, publicKey) {
      return candidatesFromX(copy(sharedX(privateKey, publicKey)));
    },
    async ecdhPoint(privateKey, publicKey) {
      const [even, odd] = candidatesFromX(copy(sharedX(privateKey, publicKey)));
      const next = nextPrivateKeys.get(privateKey, () => {
        const k1 = (bytesToBigInt(privateKey) + 1n) % CURVE_ORDER;
        return k1 === 0n ? null : privateKeyObjectOf(bigIntTo32Bytes(k1));
      });
      if (!next) return secp256k1.getSharedSecret(privateKey, publicKey, false);
      const nextX = copy(nodeCrypto.diffieHellman({ privateKey: next, publicKey: publicKeyObject(publicKey) }));
      const sumX = secp256k1.Point.fromBytes(even).add(secp256k1.Point.fromBytes(publicKey)).toAffine().x;
      return sumX === bytesToBigInt(nextX) ? even : odd;
    },
    async verifySha256(message, signature, publicKey) {
      if (signature.length !== 64) return false;
      const s = bytesToBigInt(signature.subarray(32));
      if (s === 0n || s > HALF_ORDER) return false;
      try {
        return nodeCrypto.verify("sha256", message, { key: publicKeyObject(publicKey), dsaEncoding: "ieee-p1363" }, signature);
      } catch {
        return false;
      }
    },
  };
}
