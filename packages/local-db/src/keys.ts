// The three sub-keys of a local database, derived from the caller's secret with HKDF-SHA256. The salt names this
// package and format, so the same secret used elsewhere (the client passes its identity private key) yields
// unrelated keys here, and a future format with another salt yields keys unrelated to these.
//
// HKDF runs on WebCrypto (Node.js 20 and every browser have it), once per open. @xmtp-ts/crypto's back end would
// compute the same bytes, but getting it loads a secp256k1 implementation (a native addon or WebAssembly) that
// this package never uses.

export const MIN_SECRET_BYTES = 32;
const encoder = new TextEncoder();
const SALT = encoder.encode("@xmtp-ts/local-db format 1 key derivation");

export interface DatabaseKeys {
  /** AES-256-GCM key of the record values. */
  readonly encryptionKey: Uint8Array;
  /** HMAC-SHA256 key of the blind indexes that stand in for collection names and record keys. */
  readonly indexKey: Uint8Array;
  /**
   * Stored in clear in the store's metadata and compared at open: a wrong key is reported before any record is
   * read. An independent HKDF output, so it reveals nothing about the two keys above.
   */
  readonly keyCheck: Uint8Array;
}

export function checkSecret(secret: unknown): asserts secret is Uint8Array {
  if (!(secret instanceof Uint8Array)) throw new TypeError("the local database key must be a Uint8Array");
  if (secret.length < MIN_SECRET_BYTES) {
    throw new RangeError(`the local database key must be at least ${MIN_SECRET_BYTES} bytes (got ${secret.length})`);
  }
}

export async function deriveDatabaseKeys(secret: Uint8Array): Promise<DatabaseKeys> {
  checkSecret(secret);
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error("WebCrypto (crypto.subtle) is not available: it needs a secure context (https or localhost)");
  const ikm = await subtle.importKey("raw", new Uint8Array(secret), "HKDF", false, ["deriveBits"]);
  const derive = async (purpose: string) =>
    new Uint8Array(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: SALT, info: encoder.encode(purpose) }, ikm, 256));
  const [encryptionKey, indexKey, keyCheck] = await Promise.all([
    derive("record encryption key"),
    derive("blind index key"),
    derive("key check value"),
  ]);
  return { encryptionKey, indexKey, keyCheck };
}

/** Whether a stored key-check value matches; both are public values, so timing does not matter. */
export function keyCheckMatches(stored: Uint8Array, derived: Uint8Array): boolean {
  return stored.length === derived.length && stored.every((byte, i) => byte === derived[i]);
}
