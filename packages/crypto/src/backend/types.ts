import type { CurveLoadError } from "../errors.js";

/**
 * The secp256k1 implementations, fastest first: libsecp256k1 as a Node.js addon (npm `secp256k1`), libsecp256k1
 * compiled to WebAssembly (the binary of npm `tiny-secp256k1`), and @noble/curves in plain JavaScript.
 */
export type CurveName = "libsecp256k1-native" | "libsecp256k1-wasm" | "noble";

/** A compact ECDSA signature as XMTP carries it: 64 bytes r‖s plus the recovery bit. */
export interface CompactSignature {
  bytes: Uint8Array;
  recovery: number;
}

/**
 * The curve operations the protocol needs, synchronous on every implementation once loaded. All implementations
 * accept and refuse exactly the same inputs and give byte-identical results.
 */
export interface Secp256k1Curve {
  readonly name: CurveName;
  /** k·G uncompressed (65 bytes); throws XmtpCryptoError "invalid_key" unless k is 32 bytes in [1, n). */
  publicKey(privateKey: Uint8Array): Uint8Array;
  /**
   * The full shared point k·P uncompressed (65 bytes), as XMTP's X3DH concatenates it. P must be a 65-byte
   * uncompressed point on the curve: anything else (an invalid-curve attack on k) throws XmtpCryptoError
   * "invalid_key", as does a bad k.
   */
  ecdhPoint(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /**
   * Deterministic (RFC 6979), low-S ECDSA over a 32-byte digest, which is used as is (never hashed again). Throws
   * XmtpCryptoError "invalid_argument" for a digest of another size, "invalid_key" for a bad key.
   */
  signDigest(digest: Uint8Array, privateKey: Uint8Array): CompactSignature;
  /**
   * The uncompressed public key whose signature r‖s with recovery bit 0 or 1 this is, over a 32-byte digest. High-S
   * signatures recover too (with the other bit). Throws XmtpCryptoError "invalid_signature" for wrong sizes, a
   * recovery bit other than 0/1, r or s outside [1, n), an r that is no x coordinate, or no key at all.
   */
  recoverPublicKey(digest: Uint8Array, signature: Uint8Array, recovery: number): Uint8Array;
  /** ECDSA verification over a 32-byte digest accepting low-S only; false for every malformed input. */
  verifyDigest(digest: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  /** Whether the bytes are a 65-byte uncompressed point on the curve. */
  isValidPublicKey(publicKey: Uint8Array): boolean;
}

/** Where the symmetric primitives come from: node:crypto (OpenSSL) in Node.js, WebCrypto and @noble/hashes elsewhere. */
export type SymmetricName = "node-crypto" | "webcrypto";

export interface SymmetricPrimitives {
  hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;
  /** AES-256-GCM; returns ciphertext with the 16-byte tag appended. */
  aes256GcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** AES-256-GCM open of ciphertext‖tag; throws (any error) when the tag does not authenticate. */
  aes256GcmDecrypt(key: Uint8Array, nonce: Uint8Array, payload: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
}

export interface SymmetricCrypto extends SymmetricPrimitives {
  readonly name: SymmetricName;
}

/** Both parts of a back end, e.g. "libsecp256k1-native+node-crypto" or "noble+webcrypto". */
export type CryptoBackendName = `${CurveName}+${SymmetricName}`;

/** What every protocol function computes with: a curve and the symmetric primitives. See `getCryptoBackend()`. */
export interface CryptoBackend extends SymmetricPrimitives {
  readonly name: CryptoBackendName;
  readonly curve: Secp256k1Curve;
  /** Why faster curves were passed over when this back end was chosen (empty when the first choice loaded). */
  readonly curveLoadErrors: readonly CurveLoadError[];
}
