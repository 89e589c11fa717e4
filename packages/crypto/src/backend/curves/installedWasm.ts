// Under Node.js, the secp256k1.wasm of the installed tiny-secp256k1. Its package exports map exports only ".", so
// the file is found from the package's main entry (lib/cjs/index.cjs) rather than by a subpath.
import { CurveLoadError } from "../../errors.js";
import type { RequireFunction } from "../nodeRuntime.js";
import { TINY_SECP256K1_VERSION } from "./wasm.js";

/** The path of the installed tiny-secp256k1's lib/secp256k1.wasm; throws CurveLoadError unless version 2.2.4 is installed. */
export function installedSecp256k1WasmFile(require: RequireFunction): string {
  let main: string;
  try {
    main = require.resolve("tiny-secp256k1");
  } catch (cause) {
    throw new CurveLoadError("libsecp256k1-wasm", "npm package tiny-secp256k1 is not installed", { cause });
  }
  const path = require("node:path") as typeof import("node:path");
  const fs = require("node:fs") as typeof import("node:fs");
  const libDirectory = path.resolve(path.dirname(main), "..");
  const packageJson = path.join(libDirectory, "..", "package.json");
  let version: unknown;
  try {
    version = (JSON.parse(fs.readFileSync(packageJson, "utf8")) as { version?: unknown }).version;
  } catch (cause) {
    throw new CurveLoadError("libsecp256k1-wasm", `cannot read the version of tiny-secp256k1 from ${packageJson}`, { cause });
  }
  if (version !== TINY_SECP256K1_VERSION) {
    throw new CurveLoadError(
      "libsecp256k1-wasm",
      `tiny-secp256k1 ${String(version)} is installed, but the glue speaks to the secp256k1.wasm ABI of version ${TINY_SECP256K1_VERSION} only`,
    );
  }
  return path.join(libDirectory, "secp256k1.wasm");
}

export function readInstalledSecp256k1Wasm(require: RequireFunction): Uint8Array {
  const fs = require("node:fs") as typeof import("node:fs");
  const file = installedSecp256k1WasmFile(require);
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (cause) {
    throw new CurveLoadError("libsecp256k1-wasm", `cannot read ${file}`, { cause });
  }
}
