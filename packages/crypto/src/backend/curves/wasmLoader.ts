// Getting the libsecp256k1 WebAssembly binary from wherever the app has it, checking it is the one the glue speaks
// to, and compiling it. Browsers pass the URL their bundler emitted (see the README); Node.js reads the file of the
// installed tiny-secp256k1.
import { toHex } from "../../bytes.js";
import { CurveLoadError } from "../../errors.js";
import { sha256 } from "../../hashes.js";
import { isNode, nodeRequire } from "../nodeRuntime.js";
import type { Secp256k1Curve } from "../types.js";
import { readInstalledSecp256k1Wasm } from "./installedWasm.js";
import { instantiateWasmCurve, SECP256K1_WASM_SHA256, TINY_SECP256K1_VERSION } from "./wasm.js";

/** tiny-secp256k1 2.2.4's lib/secp256k1.wasm as bytes, a response (or its promise) carrying them, or a URL to fetch. */
type Secp256k1WasmBytes = BufferSource | Response | PromiseLike<Response> | URL | string;

/** Where the binary comes from: see Secp256k1WasmBytes, or the module already compiled. */
export type Secp256k1WasmSource = Secp256k1WasmBytes | WebAssembly.Module;

function failure(message: string, cause?: unknown): CurveLoadError {
  return new CurveLoadError("libsecp256k1-wasm", message, { cause });
}

async function fetched(response: Response | PromiseLike<Response>): Promise<Uint8Array> {
  let settled: Response;
  try {
    settled = await response;
  } catch (cause) {
    throw failure(`fetching secp256k1.wasm failed: ${(cause as Error).message}`, cause);
  }
  if (!settled.ok) throw failure(`fetching secp256k1.wasm failed: HTTP ${settled.status} from ${settled.url || "the response"}`);
  try {
    return new Uint8Array(await settled.arrayBuffer());
  } catch (cause) {
    throw failure(`reading secp256k1.wasm failed: ${(cause as Error).message}`, cause);
  }
}

async function bytesOf(source: Secp256k1WasmBytes): Promise<Uint8Array> {
  if (typeof source === "string" || source instanceof URL) return fetched(fetch(source));
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return fetched(source);
}

/**
 * The compiled module, after checking the bytes are exactly tiny-secp256k1 2.2.4's binary (the ABI changes between
 * versions). A module passed in compiled can only be checked by its interface, in ./wasm.ts.
 */
async function compiledSecp256k1Wasm(source: Secp256k1WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  // A Module has no members, so TypeScript cannot narrow the union by excluding it.
  const bytes = await bytesOf(source as Secp256k1WasmBytes);
  const digest = toHex(sha256(bytes));
  if (digest !== SECP256K1_WASM_SHA256) {
    throw failure(
      `the ${bytes.length}-byte binary (sha256 ${digest}) is not the secp256k1.wasm of tiny-secp256k1 ${TINY_SECP256K1_VERSION}, ` +
        "the only ABI this glue speaks",
    );
  }
  // Asynchronous: browsers refuse to compile a module this big synchronously on the main thread.
  return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
}

/**
 * libsecp256k1 as WebAssembly, from `source`; without one, under Node.js, from the installed tiny-secp256k1.
 * Throws CurveLoadError when the binary is missing, unreachable or not tiny-secp256k1 2.2.4's.
 */
export async function loadWasmCurve(source?: Secp256k1WasmSource): Promise<Secp256k1Curve> {
  if (source === undefined) {
    if (!isNode()) throw failure("outside Node.js, pass the URL (or bytes) of secp256k1.wasm: the app serves the file");
    source = readInstalledSecp256k1Wasm(await nodeRequire());
  }
  return instantiateWasmCurve(await compiledSecp256k1Wasm(source));
}
