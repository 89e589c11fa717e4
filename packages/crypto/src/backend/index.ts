// The back end in use: which secp256k1 curve and which symmetric primitives every protocol function computes with.
//
//   Node.js:  libsecp256k1 native, else libsecp256k1 as WebAssembly, else noble; node:crypto for the rest.
//   browsers: noble, until the app calls useWasmSecp256k1(url); WebCrypto and @noble/hashes for the rest.
//
// The curves are synchronous once loaded, so the synchronous functions of ../secp256k1.ts run on `currentCurve()`,
// the best one loaded so far, while asynchronous code awaits `getCryptoBackend()` and uses its curve.
import type { CurveLoadError } from "../errors.js";
import { nobleCurve } from "./curves/noble.js";
import { selectNodeCurve } from "./curves/nodeCurveSelection.js";
import { wasmModuleOf } from "./curves/wasm.js";
import { loadWasmCurve, type Secp256k1WasmSource } from "./curves/wasmLoader.js";
import { loadNodeSymmetric } from "./nodeSymmetric.js";
import { isNode, nodeRequire } from "./nodeRuntime.js";
import type { CryptoBackend, Secp256k1Curve, SymmetricCrypto } from "./types.js";
import { webSymmetric } from "./webSymmetric.js";

/** A back end of these two parts (the default ones are made by getCryptoBackend; tests make each kind). */
export function composeBackend(curve: Secp256k1Curve, symmetric: SymmetricCrypto, curveLoadErrors: CurveLoadError[] = []): CryptoBackend {
  return {
    name: `${curve.name}+${symmetric.name}`,
    curve,
    curveLoadErrors,
    hmacSha256: symmetric.hmacSha256,
    hkdfSha256: symmetric.hkdfSha256,
    aes256GcmEncrypt: symmetric.aes256GcmEncrypt,
    aes256GcmDecrypt: symmetric.aes256GcmDecrypt,
  };
}

let symmetricOfThisPlatform: Promise<SymmetricCrypto> | undefined;

function platformSymmetric(): Promise<SymmetricCrypto> {
  symmetricOfThisPlatform ??= isNode() ? loadNodeSymmetric().catch(() => webSymmetric) : Promise.resolve(webSymmetric);
  return symmetricOfThisPlatform;
}

async function defaultBackend(): Promise<CryptoBackend> {
  const symmetric = await platformSymmetric();
  if (!isNode()) return composeBackend(nobleCurve, symmetric);
  const { curve, loadErrors } = await selectNodeCurve(await nodeRequire());
  return composeBackend(curve, symmetric, loadErrors);
}

let selected: Promise<CryptoBackend> | undefined;
let curveInUse: Secp256k1Curve = nobleCurve;

/** The curve of the back end in use once loaded, noble before: what the synchronous curve functions run on. */
export function currentCurve(): Secp256k1Curve {
  return curveInUse;
}

/** The back end in use, loading the default one (see the top of this file) on the first call. */
export function getCryptoBackend(): Promise<CryptoBackend> {
  if (!selected) {
    const loading: Promise<CryptoBackend> = defaultBackend().then((backend) => {
      // A back end set meanwhile (setCryptoBackend, useWasmSecp256k1) keeps its curve.
      if (selected === loading) curveInUse = backend.curve;
      return backend;
    });
    selected = loading;
  }
  return selected;
}

/** Puts a back end in use, for the asynchronous and the synchronous functions alike (tests pin each in turn). */
export function setCryptoBackend(backend: CryptoBackend): void {
  selected = Promise.resolve(backend);
  curveInUse = backend.curve;
}

/**
 * Loads libsecp256k1 as WebAssembly and puts it in use: how a browser app gets libsecp256k1 instead of noble.
 * `source` is the URL of tiny-secp256k1 2.2.4's secp256k1.wasm as the app serves it (or its bytes, a Response, a
 * compiled module); under Node.js it defaults to the installed file. Rejects with CurveLoadError, leaving the
 * back end in use as it was, when the binary is missing or another one.
 */
export async function useWasmSecp256k1(source?: Secp256k1WasmSource): Promise<CryptoBackend> {
  const [curve, symmetric] = await Promise.all([loadWasmCurve(source), platformSymmetric()]);
  const backend = composeBackend(curve, symmetric);
  setCryptoBackend(backend);
  return backend;
}

/**
 * The compiled secp256k1.wasm behind the curve in use, or undefined when that curve is not libsecp256k1 as
 * WebAssembly. A page posts it to its Web Workers (a compiled module is structured-cloneable), which pass it to
 * their own `useWasmSecp256k1`: they then run on the page's curve without fetching or compiling the binary again.
 */
export function secp256k1WasmModuleInUse(): WebAssembly.Module | undefined {
  return wasmModuleOf(curveInUse);
}

// Under Node.js, start loading libsecp256k1 as this module loads, so that code calling only the synchronous
// functions (a node verifying auth tokens, a worker thread deriving keys) gets it after the first few milliseconds
// instead of staying on noble until something asynchronous asks. Never rejects: noble is the last resort.
if (isNode()) void getCryptoBackend();
