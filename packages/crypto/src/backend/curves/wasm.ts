// libsecp256k1 compiled to WebAssembly: the secp256k1.wasm binary of npm tiny-secp256k1 2.2.4, driven through its
// exported ABI by this glue instead of the package's JavaScript (whose browser loader needs a bundler plugin for
// ESM-wasm imports). About 5 times slower than the native addon and 5 to 13 times faster than noble.
//
// The ABI, which belongs to that version (hence the pin below): the module exports its memory and, as globals,
// the addresses of fixed buffers in it. A function reads its inputs from those buffers, writes its result into
// one of them (a public key into PUBLIC_KEY_INPUT, a signature into SIGNATURE_INPUT) and returns 1, or 0 when
// libsecp256k1 says no. Lengths (33/65) are passed as arguments.
//
// An input the module cannot parse makes it call the imported throwError. A JavaScript exception thrown there
// unwinds the wasm frames without restoring the module's stack pointer (a mutable global of the module), so each
// leaks a stack frame: measured on 2.2.4, the instance corrupts its own memory after about 3,000 of them. The glue
// therefore checks every input before the module sees it (./inputs.ts, plus isPoint for points), which makes
// throwError unreachable.
import { toHex } from "../../bytes.js";
import { CurveLoadError, XmtpCryptoError } from "../../errors.js";
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
  SCALAR_LENGTH,
  SIGNATURE_LENGTH,
  UNCOMPRESSED_POINT_LENGTH,
  unrecoverable,
} from "./inputs.js";

/** The tiny-secp256k1 release whose secp256k1.wasm this glue speaks to. */
export const TINY_SECP256K1_VERSION = "2.2.4";
/** SHA-256 of that release's lib/secp256k1.wasm. */
export const SECP256K1_WASM_SHA256 = "5cbbcb8adc7acc3b78a3fd31c76d573302705ff5fd714d03f5a2602591197cb5";

const BUFFERS = ["PRIVATE_INPUT", "PUBLIC_KEY_INPUT", "TWEAK_INPUT", "HASH_INPUT", "SIGNATURE_INPUT"] as const;
const FUNCTIONS = ["initializeContext", "isPoint", "pointFromScalar", "pointMultiply", "signRecoverable", "verify", "recover"] as const;
const RANDOM_MODULE = "./rand.js";
const ERROR_MODULE = "./validate_error.js";

/** What the glue uses of the instance's exports (the module has more: schnorr, tweaks, x-only keys). */
interface Secp256k1WasmExports {
  memory: WebAssembly.Memory;
  PRIVATE_INPUT: WebAssembly.Global;
  PUBLIC_KEY_INPUT: WebAssembly.Global;
  TWEAK_INPUT: WebAssembly.Global;
  HASH_INPUT: WebAssembly.Global;
  SIGNATURE_INPUT: WebAssembly.Global;
  /** Creates the signing/verification context, randomized with 8 imported generateInt32 calls (side-channel blinding). */
  initializeContext(): void;
  /** Whether PUBLIC_KEY_INPUT[0, length) parses as a point on the curve. */
  isPoint(length: number): number;
  /** PRIVATE_INPUT·G into PUBLIC_KEY_INPUT. */
  pointFromScalar(outputLength: number): number;
  /** PUBLIC_KEY_INPUT·TWEAK_INPUT into PUBLIC_KEY_INPUT; the point must parse. */
  pointMultiply(inputLength: number, outputLength: number): number;
  /** Signs HASH_INPUT with PRIVATE_INPUT (RFC 6979, low-S; extra entropy from EXTRA_DATA_INPUT when 1) into SIGNATURE_INPUT; returns the recovery id. */
  signRecoverable(withExtraData: 0 | 1): number;
  /** Verifies SIGNATURE_INPUT over HASH_INPUT by PUBLIC_KEY_INPUT; strict 1 refuses high-S, 0 normalizes it first. */
  verify(inputLength: number, strict: 0 | 1): number;
  /** Recovers from SIGNATURE_INPUT over HASH_INPUT with the recovery id into PUBLIC_KEY_INPUT. */
  recover(outputLength: number, recoveryId: number): number;
}

/** 1·G, to check that an instance computes what libsecp256k1 does. */
const GENERATOR =
  "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
  "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

function notTheExpectedBinary(problem: string): CurveLoadError {
  return new CurveLoadError("libsecp256k1-wasm", `${problem}: this glue speaks to the secp256k1.wasm of tiny-secp256k1 ${TINY_SECP256K1_VERSION} only`);
}

/** Refuses a module that lacks the exports the glue uses or imports something the glue does not provide. */
function checkInterface(module: WebAssembly.Module): void {
  const exported = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  const expected: [string, WebAssembly.ImportExportKind][] = [
    ["memory", "memory"],
    ...BUFFERS.map((name): [string, WebAssembly.ImportExportKind] => [name, "global"]),
    ...FUNCTIONS.map((name): [string, WebAssembly.ImportExportKind] => [name, "function"]),
  ];
  const missing = expected.filter(([name, kind]) => exported.get(name) !== kind).map(([name, kind]) => `${name} (${kind})`);
  if (missing.length > 0) throw notTheExpectedBinary(`the module lacks the exports ${missing.join(", ")}`);
  const provided = new Set([`${RANDOM_MODULE}:generateInt32`, `${ERROR_MODULE}:throwError`]);
  const unknown = WebAssembly.Module.imports(module).filter((i) => !provided.has(`${i.module}:${i.name}`));
  if (unknown.length > 0) throw notTheExpectedBinary(`the module imports ${unknown.map((i) => `${i.module}:${i.name}`).join(", ")}`);
}

function importsForTheModule(): WebAssembly.Imports {
  return {
    [RANDOM_MODULE]: {
      generateInt32: () => crypto.getRandomValues(new Int32Array(1))[0],
    },
    [ERROR_MODULE]: {
      // Unreachable while the glue checks inputs first (see the top of this file).
      throwError: (code: number) => {
        throw new XmtpCryptoError("invalid_argument", `libsecp256k1-wasm refused an input the glue had checked (tiny-secp256k1 error ${code})`);
      },
    },
  };
}

function createWasmCurve(abi: Secp256k1WasmExports): Secp256k1Curve {
  const at = {
    privateKey: abi.PRIVATE_INPUT.value as number,
    publicKey: abi.PUBLIC_KEY_INPUT.value as number,
    tweak: abi.TWEAK_INPUT.value as number,
    hash: abi.HASH_INPUT.value as number,
    signature: abi.SIGNATURE_INPUT.value as number,
  };
  // A fresh view per call: a view over the memory's buffer would go stale if the memory ever grew.
  const heap = () => new Uint8Array(abi.memory.buffer);
  const isPoint = (memory: Uint8Array, point: Uint8Array) => {
    memory.set(point, at.publicKey);
    return abi.isPoint(UNCOMPRESSED_POINT_LENGTH) === 1;
  };
  const publicKeyOutput = (memory: Uint8Array) => memory.slice(at.publicKey, at.publicKey + UNCOMPRESSED_POINT_LENGTH);

  return {
    name: "libsecp256k1-wasm",
    publicKey(privateKey) {
      checkPrivateKey(privateKey);
      const memory = heap();
      memory.set(privateKey, at.privateKey);
      try {
        abi.pointFromScalar(UNCOMPRESSED_POINT_LENGTH); // cannot fail for a key in [1, n)
        return publicKeyOutput(memory);
      } finally {
        memory.fill(0, at.privateKey, at.privateKey + SCALAR_LENGTH); // no private key stays in the module's memory
      }
    },
    ecdhPoint(privateKey, publicKey) {
      checkPrivateKey(privateKey);
      checkPeerPointEncoding(publicKey);
      const memory = heap();
      if (!isPoint(memory, publicKey)) throw offCurvePeerPoint();
      memory.set(privateKey, at.tweak);
      try {
        abi.pointMultiply(UNCOMPRESSED_POINT_LENGTH, UNCOMPRESSED_POINT_LENGTH); // cannot fail for a point and a scalar in [1, n)
        return publicKeyOutput(memory);
      } finally {
        memory.fill(0, at.tweak, at.tweak + SCALAR_LENGTH);
      }
    },
    signDigest(digest, privateKey) {
      checkDigest(digest);
      checkPrivateKey(privateKey);
      const memory = heap();
      memory.set(rfc6979Digest(digest), at.hash);
      memory.set(privateKey, at.privateKey);
      try {
        const recovery = abi.signRecoverable(0);
        return { bytes: memory.slice(at.signature, at.signature + SIGNATURE_LENGTH), recovery };
      } finally {
        memory.fill(0, at.privateKey, at.privateKey + SCALAR_LENGTH);
      }
    },
    recoverPublicKey(digest, signature, recovery) {
      checkRecoverable(digest, signature, recovery);
      const memory = heap();
      memory.set(digest, at.hash);
      memory.set(signature, at.signature);
      if (abi.recover(UNCOMPRESSED_POINT_LENGTH, recovery) !== 1) throw unrecoverable();
      return publicKeyOutput(memory);
    },
    verifyDigest(digest, signature, publicKey) {
      if (!isVerifiable(digest, signature, publicKey)) return false;
      const memory = heap();
      if (!isPoint(memory, publicKey)) return false;
      memory.set(digest, at.hash);
      memory.set(signature, at.signature);
      return abi.verify(UNCOMPRESSED_POINT_LENGTH, 1) === 1;
    },
    isValidPublicKey(publicKey) {
      return isUncompressedPointEncoding(publicKey) && isPoint(heap(), publicKey);
    },
  };
}

/** The compiled module behind each curve made here, so other threads can instantiate it without fetching it again. */
const modulesOfCurves = new WeakMap<Secp256k1Curve, WebAssembly.Module>();

/** The compiled secp256k1.wasm `curve` runs on; undefined for a curve not made by instantiateWasmCurve. */
export function wasmModuleOf(curve: Secp256k1Curve): WebAssembly.Module | undefined {
  return modulesOfCurves.get(curve);
}

/**
 * A curve over a compiled secp256k1.wasm: checks its interface, instantiates it, randomizes its context and checks
 * that it computes 1·G right. Throws CurveLoadError for a module that is not tiny-secp256k1 2.2.4's.
 */
export async function instantiateWasmCurve(module: WebAssembly.Module): Promise<Secp256k1Curve> {
  checkInterface(module);
  const instance = await WebAssembly.instantiate(module, importsForTheModule());
  const abi = instance.exports as unknown as Secp256k1WasmExports;
  abi.initializeContext();
  const curve = createWasmCurve(abi);
  const one = new Uint8Array(SCALAR_LENGTH);
  one[SCALAR_LENGTH - 1] = 1;
  if (toHex(curve.publicKey(one)) !== GENERATOR) throw notTheExpectedBinary("the module computes a wrong 1·G");
  modulesOfCurves.set(curve, module);
  return curve;
}
