// For build tools running under Node.js, such as a vite config: where the secp256k1.wasm that
// `useWasmSecp256k1` needs lies on disk, so the bundler can emit it and give the app its URL (see the README).
// tiny-secp256k1's exports map does not export the file, so a bundler cannot import it by package subpath.
import { createRequire } from "node:module";
import { installedSecp256k1WasmFile } from "./backend/curves/installedWasm.js";

/** The path of tiny-secp256k1 2.2.4's lib/secp256k1.wasm as installed for this package; throws CurveLoadError otherwise. */
export function secp256k1WasmFile(): string {
  return installedSecp256k1WasmFile(createRequire(import.meta.url));
}
