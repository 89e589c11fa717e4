// Which curve Node.js uses: libsecp256k1 native, else libsecp256k1 as WebAssembly, else noble.
import { CurveLoadError } from "../../errors.js";
import type { RequireFunction } from "../nodeRuntime.js";
import type { Secp256k1Curve } from "../types.js";
import { readInstalledSecp256k1Wasm } from "./installedWasm.js";
import { loadNativeCurve } from "./native.js";
import { nobleCurve } from "./noble.js";
import { loadWasmCurve, type Secp256k1WasmSource } from "./wasmLoader.js";

export interface CurveSelection {
  curve: Secp256k1Curve;
  /** Why the curves before the chosen one did not load. */
  loadErrors: CurveLoadError[];
}

function asLoadError(curve: CurveLoadError["curve"], err: unknown): CurveLoadError {
  return err instanceof CurveLoadError ? err : new CurveLoadError(curve, (err as Error).message, { cause: err });
}

/**
 * The fastest curve that loads. `require` finds the npm packages (the native addon, the installed wasm binary);
 * `wasmSource` replaces the installed binary.
 */
export async function selectNodeCurve(require: RequireFunction, wasmSource?: Secp256k1WasmSource): Promise<CurveSelection> {
  const loadErrors: CurveLoadError[] = [];
  try {
    return { curve: loadNativeCurve(require), loadErrors };
  } catch (err) {
    loadErrors.push(asLoadError("libsecp256k1-native", err));
  }
  try {
    return { curve: await loadWasmCurve(wasmSource ?? readInstalledSecp256k1Wasm(require)), loadErrors };
  } catch (err) {
    loadErrors.push(asLoadError("libsecp256k1-wasm", err));
  }
  return { curve: nobleCurve, loadErrors };
}
