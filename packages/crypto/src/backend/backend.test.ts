import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Wallet } from "ethers";
import { createAuthToken, verifyAuthToken } from "../authToken.js";
import { fromHex, toHex, utf8ToBytes } from "../bytes.js";
import { CurveLoadError } from "../errors.js";
import { createInvitation, openSealedInvitation } from "../invitation.js";
import { generatePrivateKeyBundleV1 } from "../legacyKeys.js";
import { decryptMessageV2, encryptMessageV2 } from "../messageV2.js";
import { getPublicKey, recoverPublicKey, sharedPoint, signDigest, verifyDigest } from "../secp256k1.js";
import { secp256k1WasmFile } from "../secp256k1WasmFile.js";
import { backends, nativeCurve } from "../test-support/backends.js";
import { signTextWith } from "../test-support/sdk.js";
import { userKeysFromBundle } from "../userKeys.js";
import { selectNodeCurve } from "./curves/nodeCurveSelection.js";
import { composeBackend, currentCurve, getCryptoBackend, secp256k1WasmModuleInUse, setCryptoBackend, useWasmSecp256k1 } from "./index.js";
import type { RequireFunction } from "./nodeRuntime.js";
import type { Secp256k1Curve } from "./types.js";
import { webSymmetric } from "./webSymmetric.js";

const realRequire = createRequire(import.meta.url);

/** A require under which `missing` packages fail to load, as where no prebuilt binary fits. */
function requireWithout(...missing: string[]): RequireFunction {
  const fails = (id: string) => {
    if (missing.some((m) => id === m || id.startsWith(m + "/"))) throw new Error(`Cannot find module '${id}'`);
  };
  const fake = (id: string) => {
    fails(id);
    return realRequire(id);
  };
  fake.resolve = (id: string) => {
    fails(id);
    return realRequire.resolve(id);
  };
  return fake;
}

const inUseBefore = await getCryptoBackend();
afterAll(() => setCryptoBackend(inUseBefore));

describe("choosing the curve under Node.js", () => {
  it("picks libsecp256k1 native with node:crypto by default, and the synchronous functions run on it", async () => {
    const backend = await getCryptoBackend();
    expect(backend.name).toBe("libsecp256k1-native+node-crypto");
    expect(backend.curveLoadErrors).toEqual([]);
    expect(currentCurve()).toBe(backend.curve);
  });

  it("falls back to libsecp256k1 as WebAssembly when the native binary does not load", async () => {
    const { curve, loadErrors } = await selectNodeCurve(requireWithout("secp256k1"));
    expect(curve.name).toBe("libsecp256k1-wasm");
    expect(loadErrors.map((e) => [e.curve, e.code])).toEqual([["libsecp256k1-native", "curve_unavailable"]]);
    expect(loadErrors[0].message).toMatch(/^libsecp256k1-native: no prebuilt binary of npm secp256k1 loads here: Cannot find module 'secp256k1\/bindings'/);
  });

  it("falls back to noble when neither libsecp256k1 build loads", async () => {
    const { curve, loadErrors } = await selectNodeCurve(requireWithout("secp256k1", "tiny-secp256k1"));
    expect(curve.name).toBe("noble");
    expect(loadErrors.map((e) => e.curve)).toEqual(["libsecp256k1-native", "libsecp256k1-wasm"]);
    expect(loadErrors[1].message).toMatch(/tiny-secp256k1 is not installed/);
    const withWrongBinary = await selectNodeCurve(requireWithout("secp256k1"), new Uint8Array(8));
    expect(withWrongBinary.curve.name).toBe("noble");
    expect(withWrongBinary.loadErrors[1]).toBeInstanceOf(CurveLoadError);
  });
});

describe("the back end in use", () => {
  it("names both parts", () => {
    expect(backends.map((b) => b.name)).toEqual(["noble+webcrypto", "libsecp256k1-wasm+webcrypto", "libsecp256k1-native+node-crypto"]);
  });

  it("is what setCryptoBackend puts in use, for the synchronous functions too, at once", async () => {
    for (const backend of backends) {
      setCryptoBackend(backend);
      expect(currentCurve()).toBe(backend.curve);
      expect(await getCryptoBackend()).toBe(backend);
    }
  });

  it("becomes libsecp256k1 as WebAssembly with useWasmSecp256k1, and stays as it was when that fails", async () => {
    setCryptoBackend(backends[0]);
    await expect(useWasmSecp256k1(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))).rejects.toThrow(CurveLoadError);
    expect((await getCryptoBackend()).name).toBe("noble+webcrypto");
    const wasm = await useWasmSecp256k1();
    expect(wasm.name).toBe("libsecp256k1-wasm+node-crypto");
    expect(await getCryptoBackend()).toBe(wasm);
    expect(currentCurve().name).toBe("libsecp256k1-wasm");
  });

  it("gives the compiled secp256k1.wasm behind its curve, for other threads to load, and none behind other curves", async () => {
    const compiled = await WebAssembly.compile(readFileSync(secp256k1WasmFile()));
    await useWasmSecp256k1(compiled);
    expect(secp256k1WasmModuleInUse()).toBe(compiled);
    const loadedFromFile = (await useWasmSecp256k1()).curve;
    const module = secp256k1WasmModuleInUse();
    expect(module).toBeInstanceOf(WebAssembly.Module);
    expect(module).not.toBe(compiled);
    const again = await useWasmSecp256k1(module);
    expect(again.curve).not.toBe(loadedFromFile);
    expect(toHex(again.curve.publicKey(fromHex("07".padStart(64, "0"))))).toBe(toHex(loadedFromFile.publicKey(fromHex("07".padStart(64, "0")))));
    for (const backend of backends.filter((b) => b.curve.name !== "libsecp256k1-wasm")) {
      setCryptoBackend(backend);
      expect(secp256k1WasmModuleInUse(), backend.name).toBeUndefined();
    }
  });

  it("stays the one set even when the default one finishes loading later", async () => {
    vi.resetModules();
    // A fresh copy of the module starts loading the default back end as it is imported.
    const fresh = await import("./index.js");
    fresh.setCryptoBackend(backends[0]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fresh.currentCurve().name).toBe("noble");
    expect((await fresh.getCryptoBackend()).name).toBe("noble+webcrypto");
  });
});

/** The native curve, counting the calls of each operation. */
function countingCurve(): { curve: Secp256k1Curve; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const counted = <A extends unknown[], R>(name: string, f: (...args: A) => R) => (...args: A) => {
    calls[name] = (calls[name] ?? 0) + 1;
    return f(...args);
  };
  const curve: Secp256k1Curve = {
    name: nativeCurve.name,
    publicKey: counted("publicKey", nativeCurve.publicKey),
    ecdhPoint: counted("ecdhPoint", nativeCurve.ecdhPoint),
    signDigest: counted("signDigest", nativeCurve.signDigest),
    recoverPublicKey: counted("recoverPublicKey", nativeCurve.recoverPublicKey),
    verifyDigest: counted("verifyDigest", nativeCurve.verifyDigest),
    isValidPublicKey: counted("isValidPublicKey", nativeCurve.isValidPublicKey),
  };
  return { curve, calls };
}

describe("every curve operation of the package", () => {
  it("runs on the curve in use: synchronous functions, key derivation, auth tokens, invitations, v2 messages", async () => {
    const [alice, bob] = await Promise.all(
      [Wallet.createRandom(), Wallet.createRandom()].map(async (w) => userKeysFromBundle(await generatePrivateKeyBundleV1(signTextWith(w)))),
    );
    const { curve, calls } = countingCurve();
    setCryptoBackend(composeBackend(curve, webSymmetric));

    const key = fromHex("07".padStart(64, "0"));
    const digest = fromHex("11".repeat(32));
    const signature = signDigest(digest, key);
    expect(verifyDigest(digest, signature, getPublicKey(key))).toBe(true);
    expect(toHex(recoverPublicKey(digest, signature))).toBe(toHex(getPublicKey(key)));
    sharedPoint(key, getPublicKey(key));
    expect(calls).toMatchObject({ publicKey: 3, signDigest: 1, verifyDigest: 1, recoverPublicKey: 1, ecdhPoint: 1 });

    const wallet = Wallet.createRandom();
    userKeysFromBundle(await generatePrivateKeyBundleV1(signTextWith(wallet)));
    const token = createAuthToken({ identityKey: alice.identityKey, identityPrivateKey: alice.identityPrivateKey, walletAddress: alice.walletAddress, createdNs: 1n });
    verifyAuthToken(token, { nowNs: 2n });
    const sealed = await createInvitation({ sender: alice, recipient: bob.signedBundle });
    const opened = await openSealedInvitation(sealed.bytes, bob, sealed.createdNs);
    const message = await encryptMessageV2({ sender: alice, keyMaterial: opened.keyMaterial, topic: opened.topic, content: utf8ToBytes("hi") });
    await decryptMessageV2(message.bytes, opened.keyMaterial, opened.topic);
    // Keys: 2 public keys and 1 signature to generate, 2 public keys and 1 wallet recovery to derive. The token: 1
    // signature, then 1 recovery and 1 check. An invitation: a bundle check (1 check, 1 recovery) and 3 ECDH on
    // each side, plus 3 for the sealing secret when the sender's address sorts first (it then holds the recipient
    // role for the topic). A v2 message: 1 signature, then a bundle check (1 check, 1 recovery) and 1 signature check.
    const sealingEcdh = alice.walletAddress < bob.walletAddress ? 3 : 0;
    expect(calls).toEqual({ publicKey: 3 + 4, signDigest: 1 + 3, verifyDigest: 1 + 5, recoverPublicKey: 1 + 5, ecdhPoint: 1 + 6 + sealingEcdh });
  });
});

describe.each(backends)("symmetric primitives of the $name back end", (backend) => {
  it("HKDF-SHA256 matches RFC 5869 test case 1", async () => {
    const okm = await backend.hkdfSha256(
      fromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
      fromHex("000102030405060708090a0b0c"),
      fromHex("f0f1f2f3f4f5f6f7f8f9"),
      42,
    );
    expect(toHex(okm)).toBe("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  });

  it("HMAC-SHA256 matches RFC 4231 test case 2", async () => {
    const mac = await backend.hmacSha256(utf8ToBytes("Jefe"), utf8ToBytes("what do ya want for nothing?"));
    expect(toHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("AES-256-GCM round-trips with AAD and rejects a flipped byte or other AAD", async () => {
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(12).fill(9);
    const aad = new Uint8Array([1, 2, 3]);
    const sealed = await backend.aes256GcmEncrypt(key, nonce, utf8ToBytes("hello"), aad);
    expect(sealed.length).toBe(5 + 16);
    expect(new TextDecoder().decode(await backend.aes256GcmDecrypt(key, nonce, sealed, aad))).toBe("hello");
    const flipped = sealed.slice();
    flipped[0] ^= 1;
    await expect(backend.aes256GcmDecrypt(key, nonce, flipped, aad)).rejects.toThrow();
    await expect(backend.aes256GcmDecrypt(key, nonce, sealed, new Uint8Array([1, 2, 4]))).rejects.toThrow();
    await expect(backend.aes256GcmDecrypt(key, nonce, sealed)).rejects.toThrow();
  });

  it("AES-256-GCM gives the GCM spec's test case 16 (256-bit key with AAD)", async () => {
    const key = fromHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const nonce = fromHex("cafebabefacedbaddecaf888");
    const plaintext = fromHex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    const aad = fromHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const sealed = await backend.aes256GcmEncrypt(key, nonce, plaintext, aad);
    expect(toHex(sealed)).toBe(
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
        "76fc6ece0f4e1768cddf8853bb2d551b",
    );
  });
});

