import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { fromHex, toBase64, toHex, utf8ToBytes } from "../../bytes.js";
import { CurveLoadError, XmtpCryptoError } from "../../errors.js";
import { sha256 } from "../../hashes.js";
import { secp256k1WasmFile } from "../../secp256k1WasmFile.js";
import type { RequireFunction } from "../nodeRuntime.js";
import { installedSecp256k1WasmFile } from "./installedWasm.js";
import { loadWasmCurve, type Secp256k1WasmSource } from "./wasmLoader.js";

const GENERATOR = toHex(secp256k1.getPublicKey(fromHex("01".padStart(64, "0")), false));
const wasmBytes = new Uint8Array(readFileSync(secp256k1WasmFile()));
const temporaryDirectories: string[] = [];
afterAll(() => temporaryDirectories.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A hand-assembled module exporting only its memory: valid WebAssembly, not libsecp256k1. */
const MEMORY_ONLY_MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, at least 1 page
  0x07, 0x0a, 0x01, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // export "memory" = memory 0
]);

function oneG(curve: Awaited<ReturnType<typeof loadWasmCurve>>): string {
  return toHex(curve.publicKey(fromHex("01".padStart(64, "0"))));
}

/** A require that resolves tiny-secp256k1 to a fake installation of `version`, with the real binary inside. */
function requireWithInstalledVersion(version: string): RequireFunction {
  const root = mkdtempSync(join(tmpdir(), "fake-tiny-secp256k1-"));
  temporaryDirectories.push(root);
  mkdirSync(join(root, "lib", "cjs"), { recursive: true });
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "tiny-secp256k1", version }));
  writeFileSync(join(root, "lib", "cjs", "index.cjs"), "");
  writeFileSync(join(root, "lib", "secp256k1.wasm"), wasmBytes);
  const real = createRequire(import.meta.url);
  const fake = (id: string) => real(id);
  fake.resolve = (id: string) => (id === "tiny-secp256k1" ? join(root, "lib", "cjs", "index.cjs") : real.resolve(id));
  return fake;
}

describe("loading libsecp256k1 as WebAssembly", () => {
  it("takes the binary as bytes, an ArrayBuffer, a compiled module, a Response, a promised Response or a URL", async () => {
    const dataUrl = "data:application/wasm;base64," + toBase64(wasmBytes);
    const sources: [string, Secp256k1WasmSource][] = [
      ["Uint8Array", wasmBytes],
      ["ArrayBuffer", wasmBytes.slice().buffer],
      ["DataView", new DataView(wasmBytes.buffer, wasmBytes.byteOffset, wasmBytes.byteLength)],
      ["WebAssembly.Module", await WebAssembly.compile(wasmBytes)],
      ["Response", new Response(wasmBytes)],
      ["Promise<Response>", Promise.resolve(new Response(wasmBytes))],
      ["URL string", dataUrl],
      ["URL", new URL(dataUrl)],
    ];
    for (const [kind, source] of sources) {
      expect(oneG(await loadWasmCurve(source)), kind).toBe(GENERATOR);
    }
  });

  it("reads the installed tiny-secp256k1 under Node.js when given no source", async () => {
    expect(installedSecp256k1WasmFile(createRequire(import.meta.url))).toMatch(/tiny-secp256k1[/\\]lib[/\\]secp256k1\.wasm$/);
    expect(oneG(await loadWasmCurve())).toBe(GENERATOR);
  });

  it("refuses another binary, naming the version it speaks to", async () => {
    const other = wasmBytes.slice();
    other[other.length - 1] ^= 1;
    for (const bytes of [MEMORY_ONLY_MODULE, other]) {
      const attempt = loadWasmCurve(bytes);
      await expect(attempt).rejects.toThrow(CurveLoadError);
      await expect(attempt).rejects.toThrow(/libsecp256k1-wasm: the \d+-byte binary \(sha256 [0-9a-f]{64}\) is not the secp256k1\.wasm of tiny-secp256k1 2\.2\.4/);
    }
  });

  it("refuses a compiled module without the exports it uses, listing them", async () => {
    const attempt = loadWasmCurve(await WebAssembly.compile(MEMORY_ONLY_MODULE));
    await expect(attempt).rejects.toThrow(CurveLoadError);
    await expect(attempt).rejects.toThrow(
      /lacks the exports PRIVATE_INPUT \(global\), PUBLIC_KEY_INPUT \(global\).*initializeContext \(function\).*recover \(function\).*tiny-secp256k1 2\.2\.4 only/,
    );
  });

  it("refuses an installed tiny-secp256k1 of another version", () => {
    expect(() => installedSecp256k1WasmFile(requireWithInstalledVersion("2.3.0"))).toThrow(
      /tiny-secp256k1 2\.3\.0 is installed, but the glue speaks to the secp256k1\.wasm ABI of version 2\.2\.4 only/,
    );
    expect(installedSecp256k1WasmFile(requireWithInstalledVersion("2.2.4"))).toMatch(/secp256k1\.wasm$/);
  });

  it("reports a failed download as a CurveLoadError", async () => {
    await expect(loadWasmCurve(new Response("not found", { status: 404 }))).rejects.toThrow(/fetching secp256k1\.wasm failed: HTTP 404/);
    await expect(loadWasmCurve(Promise.reject(new TypeError("network down")))).rejects.toThrow(/fetching secp256k1\.wasm failed: network down/);
  });
});

describe("the WebAssembly glue", () => {
  // The module reports unparsable input by calling an import that throws, which leaks a frame of its stack each
  // time; unchecked, about 3,000 of them corrupt the instance. The glue checks first, so none reach the module.
  it("stays correct after 20,000 refused inputs (off-curve points, r or s ≥ n, r no x coordinate)", async () => {
    const curve = await loadWasmCurve();
    const key = secp256k1.utils.randomSecretKey();
    const publicKey = secp256k1.getPublicKey(key, false);
    const offCurve = publicKey.slice();
    offCurve[64] ^= 1;
    const digest = sha256(utf8ToBytes("robust"));
    const { bytes, recovery } = curve.signDigest(digest, key);
    const rTooBig = Uint8Array.from([...new Uint8Array(32).fill(0xff), ...bytes.subarray(32)]);
    // x = 5: 5³ + 7 is no square modulo p, so no point has it.
    const noXCoordinate = Uint8Array.from([...fromHex("05".padStart(64, "0")), ...bytes.subarray(32)]);
    for (let i = 0; i < 4_000; i++) {
      expect(() => curve.ecdhPoint(key, offCurve)).toThrow(XmtpCryptoError);
      expect(curve.verifyDigest(digest, rTooBig, publicKey)).toBe(false);
      expect(curve.verifyDigest(digest, bytes, offCurve)).toBe(false);
      expect(() => curve.recoverPublicKey(digest, rTooBig, recovery)).toThrow(XmtpCryptoError);
      expect(() => curve.recoverPublicKey(digest, noXCoordinate, recovery)).toThrow(XmtpCryptoError);
    }
    expect(toHex(curve.ecdhPoint(key, publicKey))).toBe(toHex(secp256k1.getSharedSecret(key, publicKey, false)));
    expect(toHex(curve.recoverPublicKey(digest, bytes, recovery))).toBe(toHex(publicKey));
  });
});
