// The functions of npm `secp256k1` 5.0.2's native binding (`require("secp256k1/bindings")`: its argument checks
// over libsecp256k1 compiled as a Node.js addon) that ./native.ts calls. The package ships no types and no
// @types package is used; these mirror its API.md. Each throws an Error when libsecp256k1 refuses the input.

export interface Secp256k1Binding {
  /** Whether libsecp256k1 parses the bytes as a public key (on the curve). */
  publicKeyVerify(publicKey: Uint8Array): boolean;
  publicKeyCreate(privateKey: Uint8Array, compressed: false): Uint8Array;
  /** publicKey·tweak; throws when the point does not parse or the tweak is 0 or ≥ n. */
  publicKeyTweakMul(publicKey: Uint8Array, tweak: Uint8Array, compressed: false): Uint8Array;
  /** RFC 6979 nonce (no extra data, default nonce function), low-S, with the recovery id. */
  ecdsaSign(digest: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  /** libsecp256k1's verify: false for high-S; throws when r or s ≥ n or the key does not parse. */
  ecdsaVerify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean;
  ecdsaRecover(signature: Uint8Array, recid: number, digest: Uint8Array, compressed: false): Uint8Array;
}
