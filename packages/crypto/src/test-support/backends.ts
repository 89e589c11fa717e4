// Test helpers: every curve and the back ends the protocol tests run on, each loaded directly (no fallback), so a
// curve that fails to load fails the tests instead of being skipped.
import { composeBackend } from "../backend/index.js";
import { loadNativeCurve } from "../backend/curves/native.js";
import { nobleCurve } from "../backend/curves/noble.js";
import { loadWasmCurve } from "../backend/curves/wasmLoader.js";
import { nodeRequire } from "../backend/nodeRuntime.js";
import { loadNodeSymmetric } from "../backend/nodeSymmetric.js";
import type { CryptoBackend, Secp256k1Curve } from "../backend/types.js";
import { webSymmetric } from "../backend/webSymmetric.js";

export const nativeCurve = loadNativeCurve(await nodeRequire());
export const wasmCurve = await loadWasmCurve();
export const curves: Secp256k1Curve[] = [nobleCurve, nativeCurve, wasmCurve];

/** A browser's default, a browser that loaded the wasm curve, and Node.js's default: all three curves, both symmetric parts. */
export const backends: CryptoBackend[] = [
  composeBackend(nobleCurve, webSymmetric),
  composeBackend(wasmCurve, webSymmetric),
  composeBackend(nativeCurve, await loadNodeSymmetric()),
];
