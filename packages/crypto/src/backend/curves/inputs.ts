// Input checks every curve runs before touching its library, so that all of them accept and refuse exactly the
// same inputs. The libraries differ at the edges: libsecp256k1 parses hybrid (0x06/0x07) points, noble takes
// compressed ones for ECDH, and the WebAssembly build must never see input it would reject (see ./wasm.ts).
import { XmtpCryptoError } from "../../errors.js";

export const SCALAR_LENGTH = 32;
export const DIGEST_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const UNCOMPRESSED_POINT_LENGTH = 65;

/** n, the order of the group, big-endian. */
const CURVE_ORDER = Uint8Array.from(
  "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141".match(/../g)!.map((b) => parseInt(b, 16)),
);

/** Compares a 32-byte big-endian number with n: negative below, 0 equal, positive above. */
function compareWithOrder(bytes: Uint8Array): number {
  for (let i = 0; i < SCALAR_LENGTH; i++) {
    if (bytes[i] !== CURVE_ORDER[i]) return bytes[i] - CURVE_ORDER[i];
  }
  return 0;
}

/** Whether 32 bytes read big-endian are in [1, n): a private key, or r or s of a signature. */
export function isScalarInRange(bytes: Uint8Array): boolean {
  return bytes.length === SCALAR_LENGTH && bytes.some((b) => b !== 0) && compareWithOrder(bytes) < 0;
}

export function checkPrivateKey(privateKey: Uint8Array): void {
  if (!isScalarInRange(privateKey)) {
    throw new XmtpCryptoError("invalid_key", `a private key must be 32 bytes in [1, n), got ${describeScalar(privateKey)}`);
  }
}

function describeScalar(bytes: Uint8Array): string {
  return bytes.length === SCALAR_LENGTH ? "a number outside it" : `${bytes.length} bytes`;
}

/** Length and prefix of an uncompressed point; whether it is on the curve is for each library to say. */
export function isUncompressedPointEncoding(point: Uint8Array): boolean {
  return point.length === UNCOMPRESSED_POINT_LENGTH && point[0] === 0x04;
}

export function checkPeerPointEncoding(point: Uint8Array): void {
  if (!isUncompressedPointEncoding(point)) {
    throw new XmtpCryptoError("invalid_key", `a peer public key must be a 65-byte uncompressed point (0x04‖x‖y), got ${point.length} bytes`);
  }
}

export function offCurvePeerPoint(cause?: unknown): XmtpCryptoError {
  return new XmtpCryptoError("invalid_key", "the peer public key is not a point on secp256k1", { cause });
}

export function checkDigest(digest: Uint8Array): void {
  if (digest.length !== DIGEST_LENGTH) {
    throw new XmtpCryptoError("invalid_argument", `a digest must be 32 bytes, got ${digest.length}`);
  }
}

/**
 * The digest reduced modulo n, as RFC 6979 feeds it to the nonce derivation (bits2octets). libsecp256k1 feeds the raw
 * 32 bytes instead, so for a digest ≥ n (about one in 2^128) its signature would differ from noble's and from the
 * RFC; reducing first makes every curve produce the RFC's signature. The ECDSA equation is unchanged: it uses the
 * digest modulo n anyway. A digest is below 2^256 < 2n, so one subtraction reduces it.
 */
export function rfc6979Digest(digest: Uint8Array): Uint8Array {
  if (compareWithOrder(digest) < 0) return digest;
  const reduced = new Uint8Array(DIGEST_LENGTH);
  let borrow = 0;
  for (let i = DIGEST_LENGTH - 1; i >= 0; i--) {
    const difference = digest[i] - CURVE_ORDER[i] - borrow;
    reduced[i] = difference & 0xff;
    borrow = difference < 0 ? 1 : 0;
  }
  return reduced;
}

/** Sizes, recovery bit and r, s in [1, n): what recovery needs before a library sees the signature. */
export function checkRecoverable(digest: Uint8Array, signature: Uint8Array, recovery: number): void {
  const refuse = (problem: string) => {
    throw new XmtpCryptoError("invalid_signature", problem);
  };
  if (digest.length !== DIGEST_LENGTH) refuse(`the digest must be 32 bytes, got ${digest.length}`);
  if (signature.length !== SIGNATURE_LENGTH) refuse(`a signature must be 64 bytes, got ${signature.length}`);
  if (recovery !== 0 && recovery !== 1) refuse(`the recovery bit must be 0 or 1, got ${recovery}`);
  if (!isScalarInRange(signature.subarray(0, 32)) || !isScalarInRange(signature.subarray(32))) refuse("r and s must be in [1, n)");
}

export function unrecoverable(cause?: unknown): XmtpCryptoError {
  return new XmtpCryptoError("invalid_signature", "the signature recovers no public key", { cause });
}

/** Whether verification can even start: sizes, point encoding, r and s in [1, n). */
export function isVerifiable(digest: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return (
    digest.length === DIGEST_LENGTH &&
    signature.length === SIGNATURE_LENGTH &&
    isScalarInRange(signature.subarray(0, 32)) &&
    isScalarInRange(signature.subarray(32)) &&
    isUncompressedPointEncoding(publicKey)
  );
}
