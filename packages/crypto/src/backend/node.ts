// The Node.js back end: node:crypto (OpenSSL) for ECDH, ECDSA verify, key recovery, AES-GCM, HKDF and HMAC. Loaded only through
// a dynamic import in ./index.ts, so browser bundles never see node:crypto.
import type * as NodeCrypto from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type { CryptoBackend } from "./types.js";
import { recoverWithNoble } from "./web.js";

const CURVE_ORDER = secp256k1.Point.CURVE().n;
const FIELD_PRIME = secp256k1.Point.CURVE().p;
const HALF_ORDER = CURVE_ORDER >> 1n;
// DER prefix of an SPKI secp256k1 public key (followed by the 65-byte point).
const SPKI_PREFIX = hexBytes("3056301006072a8648ce3d020106052b8104000a034200");
const KEY_CACHE_LIMIT = 4096;

// DER helpers for the explicit-parameters key below (lengths here never exceed 65535).
function derLength(length: number): number[] {
  return length < 0x80 ? [length] : length < 0x100 ? [0x81, length] : [0x82, length >> 8, length & 0xff];
}
function der(tag: number, ...body: Uint8Array[]): Uint8Array {
  const content = join(...body);
  return join(Uint8Array.from([tag, ...derLength(content.length)]), content);
}
function derUnsigned(n: bigint): Uint8Array {
  const bytes = bigIntTo32Bytes(n);
  let start = 0;
  while (start < 31 && bytes[start] === 0 && bytes[start + 1] < 0x80) start++;
  return der(0x02, bytes[start] >= 0x80 ? Uint8Array.of(0) : new Uint8Array(0), bytes.subarray(start));
}

/**
 * OpenSSL returns only x from ECDH, but derives a private key's full public point k·G when importing it. Given a
 * SEC1 key whose explicit curve parameters name `point` as the generator (secp256k1 otherwise), that import
 * computes k·point natively, both coordinates. The key is fixed-size, so it is a template with two holes.
 */
function explicitGeneratorKeyTemplate(): { template: Uint8Array; scalarOffset: number; pointOffset: number } {
  const scalarHole = new Uint8Array(32).fill(0xaa);
  const pointHole = new Uint8Array(65).fill(0xbb);
  const parameters = der(
    0x30,
    derUnsigned(1n),
    der(0x30, hexBytes("06072a8648ce3d0101"), derUnsigned(FIELD_PRIME)), // prime-field, p
    der(0x30, der(0x04, new Uint8Array(32)), der(0x04, bigIntTo32Bytes(7n))), // a = 0, b = 7
    der(0x04, pointHole),
    derUnsigned(CURVE_ORDER),
    derUnsigned(1n), // cofactor
  );
  const template = der(0x30, derUnsigned(1n), der(0x04, scalarHole), der(0xa0, parameters));
  const find = (hole: Uint8Array) => {
    for (let i = 0; i + hole.length <= template.length; i++) {
      if (hole.every((b, j) => template[i + j] === b)) return i;
    }
    throw new Error("explicit key template is malformed");
  };
  return { template, scalarOffset: find(scalarHole), pointOffset: find(pointHole) };
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r >= 0n ? r : r + m;
}

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
  const publicKeyObject = (point: Uint8Array) =>
    publicKeys.get(point, () =>
      nodeCrypto.createPublicKey({ key: Buffer.from(join(SPKI_PREFIX, point)), format: "der", type: "spki" }),
    );
  const explicitKey = explicitGeneratorKeyTemplate();
  /** scalar·point with both coordinates, uncompressed; the point must be on the curve and the scalar in [1, n). */
  const multiplyFull = (scalar: bigint, point: Uint8Array): Uint8Array => {
    const key = explicitKey.template.slice();
    key.set(bigIntTo32Bytes(scalar), explicitKey.scalarOffset);
    key.set(point, explicitKey.pointOffset);
    const privateKey = nodeCrypto.createPrivateKey({ key: Buffer.from(key), format: "der", type: "sec1" });
    // PEM, then base64-decoded here: OpenSSL 3.0 writes it in half the time of DER for explicit-curve keys.
    const pem = nodeCrypto.createPublicKey(privateKey).export({ format: "pem", type: "spki" }) as string;
    const spki = Buffer.from(pem.replace(/-----[^-]*-----|\s/g, ""), "base64");
    const product = copy(spki.subarray(spki.length - 65));
    if (product[0] !== 4) throw new Error("OpenSSL did not export an uncompressed point");
    return product;
  };

  const exactEcdhPoint = (privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array => {
    // The explicit-parameters import would take any point as generator, also one off the curve (an invalid-curve
    // attack on our private key): only a validated point goes there.
    const scalar = bytesToBigInt(privateKey);
    let valid = false;
    try {
      secp256k1.Point.fromBytes(publicKey).assertValidity();
      valid = publicKey.length === 65 && scalar > 0n && scalar < CURVE_ORDER;
    } catch {
      // noble below throws the error that names the problem
    }
    if (valid) {
      try {
        return multiplyFull(scalar, publicKey);
      } catch {
        // OpenSSL without explicit-curve support: noble computes the same point
      }
    }
    return secp256k1.getSharedSecret(privateKey, publicKey, false);
  };

  // Q = r⁻¹(s·R − e·G) = u2·R + u1·G with u1 = −e/r, u2 = s/r: u2·R natively with both coordinates, u1·G in noble
  // (public scalar, precomputed base table: cheap), then one affine addition. Anything unusual (out-of-range r or
  // s, r not an x coordinate, u1 = 0, a zero sum, OpenSSL refusing explicit curves) goes to noble, which decides.
  const recoverFast = (digest: Uint8Array, signature: Uint8Array, recovery: number): Uint8Array | undefined => {
    if (digest.length !== 32 || signature.length !== 64 || (recovery !== 0 && recovery !== 1)) return undefined;
    const r = bytesToBigInt(signature.subarray(0, 32));
    const s = bytesToBigInt(signature.subarray(32));
    if (r === 0n || r >= CURVE_ORDER || s === 0n || s >= CURVE_ORDER) return undefined;
    const rInverse = secp256k1.Point.Fn.inv(r);
    const u1 = mod(-bytesToBigInt(digest) * rInverse, CURVE_ORDER);
    const u2 = mod(s * rInverse, CURVE_ORDER);
    if (u1 === 0n) return undefined;
    try {
      const bigR = copy(
        nodeCrypto.ECDH.convertKey(
          Buffer.from(join(Uint8Array.of(2 + recovery), signature.subarray(0, 32))),
          "secp256k1",
          undefined,
          undefined,
          "uncompressed",
        ) as Buffer,
      );
      const sum = secp256k1.Point.fromBytes(multiplyFull(u2, bigR)).add(secp256k1.Point.BASE.multiplyUnsafe(u1));
      return sum.is0() ? undefined : sum.toBytes(false);
    } catch {
      return undefined;
    }
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
    // A full-point product costs one native multiplication and no AEAD trials, where diffieHellman also re-checks
    // the peer key (a second multiplication, by n) and leaves the sign of y open.
    async ecdhPointCandidates(privateKey, publicKey) {
      return [exactEcdhPoint(privateKey, publicKey)];
    },
    async ecdhPoint(privateKey, publicKey) {
      return exactEcdhPoint(privateKey, publicKey);
    },
    async recoverPublicKey(digest, signature, recovery) {
      return recoverFast(digest, signature, recovery) ?? recoverWithNoble(digest, signature, recovery);
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
