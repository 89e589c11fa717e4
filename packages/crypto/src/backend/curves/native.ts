// libsecp256k1 as a Node.js addon: the prebuilt binaries npm `secp256k1` ships (prebuilds/<platform>/), found by
// node-gyp-build at run time. Nothing is compiled at install (its install script is denied in the root
// package.json `allowScripts`); where no prebuilt binary fits, loading fails and the wasm build takes over.
// Only `secp256k1/bindings` is loaded: the package's main entry would silently fall back to `elliptic` in JS.
import { CurveLoadError } from "../../errors.js";
import type { RequireFunction } from "../nodeRuntime.js";
import type { Secp256k1Curve } from "../types.js";
import {
  checkDigest,
  checkPeerPointEncoding,
  checkPrivateKey,
  checkRecoverable,
  isUncompressedPointEncoding,
  isVerifiable,
  offCurvePeerPoint,
  rfc6979Digest,
  unrecoverable,
} from "./inputs.js";
import type { Secp256k1Binding } from "./nativeBinding.js";

export function createNativeCurve(binding: Secp256k1Binding): Secp256k1Curve {
  return {
    name: "libsecp256k1-native",
    publicKey(privateKey) {
      checkPrivateKey(privateKey);
      return binding.publicKeyCreate(privateKey, false);
    },
    ecdhPoint(privateKey, publicKey) {
      checkPrivateKey(privateKey);
      checkPeerPointEncoding(publicKey);
      // The scalar is checked above, so the only refusal left is a point that does not parse: off the curve.
      try {
        return binding.publicKeyTweakMul(publicKey, privateKey, false);
      } catch (err) {
        throw offCurvePeerPoint(err);
      }
    },
    signDigest(digest, privateKey) {
      checkDigest(digest);
      checkPrivateKey(privateKey);
      const { signature, recid } = binding.ecdsaSign(rfc6979Digest(digest), privateKey);
      return { bytes: signature, recovery: recid };
    },
    recoverPublicKey(digest, signature, recovery) {
      checkRecoverable(digest, signature, recovery);
      try {
        return binding.ecdsaRecover(signature, recovery, digest, false);
      } catch (err) {
        throw unrecoverable(err);
      }
    },
    verifyDigest(digest, signature, publicKey) {
      if (!isVerifiable(digest, signature, publicKey)) return false;
      try {
        return binding.ecdsaVerify(signature, digest, publicKey);
      } catch {
        return false; // the key is off the curve
      }
    },
    isValidPublicKey(publicKey) {
      return isUncompressedPointEncoding(publicKey) && binding.publicKeyVerify(publicKey);
    },
  };
}

/** Loads the addon with `require` (tests pass one that fails); throws CurveLoadError where it does not load. */
export function loadNativeCurve(require: RequireFunction): Secp256k1Curve {
  try {
    return createNativeCurve(require("secp256k1/bindings") as Secp256k1Binding);
  } catch (cause) {
    throw new CurveLoadError("libsecp256k1-native", `no prebuilt binary of npm secp256k1 loads here: ${(cause as Error).message}`, { cause });
  }
}
