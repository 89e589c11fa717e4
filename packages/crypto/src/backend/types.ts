/**
 * The primitives whose speed matters, behind one interface so Node.js can use node:crypto (native, much faster)
 * while browsers use @noble/* and WebCrypto. Every protocol module goes through `getCryptoBackend()`.
 */
export interface CryptoBackend {
  readonly name: "node" | "web";
  hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;
  /** AES-256-GCM; returns ciphertext with the 16-byte tag appended. */
  aes256GcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** AES-256-GCM open of ciphertext‖tag; throws (any error) when the tag does not authenticate. */
  aes256GcmDecrypt(key: Uint8Array, nonce: Uint8Array, payload: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** The secp256k1 shared point priv·pub, uncompressed (65 bytes). */
  ecdhPoint(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;
  /**
   * The possible shared points priv·pub when only its x coordinate is cheap to compute: one entry when exact, or
   * the two points with that x (even y first). Callers that can test a candidate (an AEAD tag) use this and skip
   * the cost of resolving y.
   */
  ecdhPointCandidates(privateKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array[]>;
  /** ECDSA verify over sha256(message) with a 64-byte r‖s signature; high-S signatures are rejected. */
  verifySha256(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  /**
   * The uncompressed public key that made the 64-byte r‖s signature with recovery bit `recovery` (0 or 1) over a
   * 32-byte digest; throws when the signature recovers no key. Same results as @noble/curves' recoverPublicKey.
   */
  recoverPublicKey(digest: Uint8Array, signature: Uint8Array, recovery: number): Promise<Uint8Array>;
}
