// secp256k1 in plain JavaScript (@noble/curves): runs anywhere, 35 to 70 times slower than libsecp256k1 natively
// on ECDH, recovery and verification.
// The fallback where neither libsecp256k1 build loads, and the browsers' default until the app loads the wasm one.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type { Secp256k1Curve } from "../types.js";
import {
  checkDigest,
  checkPeerPointEncoding,
  checkPrivateKey,
  checkRecoverable,
  isUncompressedPointEncoding,
  isVerifiable,
  offCurvePeerPoint,
  unrecoverable,
} from "./inputs.js";

function isOnCurve(point: Uint8Array): boolean {
  try {
    secp256k1.Point.fromBytes(point).assertValidity();
    return true;
  } catch {
    return false;
  }
}

export const nobleCurve: Secp256k1Curve = {
  name: "noble",
  publicKey(privateKey) {
    checkPrivateKey(privateKey);
    return secp256k1.getPublicKey(privateKey, false);
  },
  ecdhPoint(privateKey, publicKey) {
    checkPrivateKey(privateKey);
    checkPeerPointEncoding(publicKey);
    if (!isOnCurve(publicKey)) throw offCurvePeerPoint();
    return secp256k1.getSharedSecret(privateKey, publicKey, false);
  },
  signDigest(digest, privateKey) {
    checkDigest(digest);
    checkPrivateKey(privateKey);
    // No extra entropy: the nonce is RFC 6979's, so the signature is the one libsecp256k1 makes.
    const signed = secp256k1.sign(digest, privateKey, { prehash: false, format: "recovered", lowS: true, extraEntropy: false });
    return { bytes: signed.slice(1), recovery: signed[0] };
  },
  recoverPublicKey(digest, signature, recovery) {
    checkRecoverable(digest, signature, recovery);
    try {
      // Through the Signature object the recovered point stays affine: no compress-then-decompress square root.
      return secp256k1.Signature.fromBytes(signature, "compact").addRecoveryBit(recovery).recoverPublicKey(digest).toBytes(false);
    } catch (err) {
      throw unrecoverable(err);
    }
  },
  verifyDigest(digest, signature, publicKey) {
    if (!isVerifiable(digest, signature, publicKey)) return false;
    try {
      return secp256k1.verify(signature, digest, publicKey, { prehash: false, lowS: true, format: "compact" });
    } catch {
      return false;
    }
  },
  isValidPublicKey(publicKey) {
    return isUncompressedPointEncoding(publicKey) && isOnCurve(publicKey);
  },
};
