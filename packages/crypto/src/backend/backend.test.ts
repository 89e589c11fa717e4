import { describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { backends } from "../test-support/sdk.js";
import { fromHex, toHex } from "../bytes.js";
import { sha256 } from "../hashes.js";
import { getCryptoBackend } from "./index.js";

const CURVE_ORDER = secp256k1.Point.CURVE().n;

describe("getCryptoBackend", () => {
  it("picks node:crypto under Node.js", async () => {
    expect((await getCryptoBackend()).name).toBe("node");
  });
});

describe.each(backends)("crypto back end $name", (backend) => {
  it("computes the full uncompressed ECDH point for random keys (both y parities occur)", async () => {
    const parities = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const a = secp256k1.utils.randomSecretKey();
      const b = secp256k1.utils.randomSecretKey();
      const expected = secp256k1.getSharedSecret(a, secp256k1.getPublicKey(b, false), false);
      const got = await backend.ecdhPoint(a, secp256k1.getPublicKey(b, false));
      expect(toHex(got)).toBe(toHex(expected));
      parities.add(expected[64] & 1);
      const candidates = await backend.ecdhPointCandidates(a, secp256k1.getPublicKey(b, false));
      expect(candidates.map(toHex)).toContain(toHex(expected));
    }
    expect(parities.size).toBe(2);
  });

  it("handles the private key n-1, whose successor is zero", async () => {
    const a = fromHex((CURVE_ORDER - 1n).toString(16).padStart(64, "0"));
    const pub = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
    expect(toHex(await backend.ecdhPoint(a, pub))).toBe(toHex(secp256k1.getSharedSecret(a, pub, false)));
  });

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
    const mac = await backend.hmacSha256(new TextEncoder().encode("Jefe"), new TextEncoder().encode("what do ya want for nothing?"));
    expect(toHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("AES-256-GCM round-trips with AAD and rejects a flipped byte or other AAD", async () => {
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(12).fill(9);
    const aad = new Uint8Array([1, 2, 3]);
    const sealed = await backend.aes256GcmEncrypt(key, nonce, new TextEncoder().encode("hello"), aad);
    expect(sealed.length).toBe(5 + 16);
    expect(new TextDecoder().decode(await backend.aes256GcmDecrypt(key, nonce, sealed, aad))).toBe("hello");
    const flipped = sealed.slice();
    flipped[0] ^= 1;
    await expect(backend.aes256GcmDecrypt(key, nonce, flipped, aad)).rejects.toThrow();
    await expect(backend.aes256GcmDecrypt(key, nonce, sealed, new Uint8Array([1, 2, 4]))).rejects.toThrow();
    await expect(backend.aes256GcmDecrypt(key, nonce, sealed)).rejects.toThrow();
  });

  it("AES-256-GCM agrees between back ends (NIST-style fixed vector)", async () => {
    // Test case 16 of the GCM spec (McGrew & Viega), 256-bit key with AAD.
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

  it("verifies low-S signatures over sha256 and rejects high-S, wrong key and altered messages", async () => {
    const key = secp256k1.utils.randomSecretKey();
    const pub = secp256k1.getPublicKey(key, false);
    const message = new TextEncoder().encode("signed content");
    const sig = secp256k1.sign(sha256(message), key, { prehash: false, lowS: true });
    expect(await backend.verifySha256(message, sig, pub)).toBe(true);
    // The same signature with s' = n - s is mathematically valid but not canonical.
    const s = BigInt("0x" + toHex(sig.subarray(32)));
    const highS = new Uint8Array(64);
    highS.set(sig.subarray(0, 32));
    highS.set(fromHex((CURVE_ORDER - s).toString(16).padStart(64, "0")), 32);
    expect(await backend.verifySha256(message, highS, pub)).toBe(false);
    const other = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
    expect(await backend.verifySha256(message, sig, other)).toBe(false);
    expect(await backend.verifySha256(new TextEncoder().encode("signed contenT"), sig, pub)).toBe(false);
    expect(await backend.verifySha256(message, sig.subarray(0, 63), pub)).toBe(false);
  });
});

describe.each(backends)("public key recovery on back end $name", (backend) => {
  const recoverOrError = async (digest: Uint8Array, signature: Uint8Array, recovery: number) => {
    try {
      return toHex(await backend.recoverPublicKey(digest, signature, recovery));
    } catch {
      return "error";
    }
  };
  const nobleOrError = (digest: Uint8Array, signature: Uint8Array, recovery: number) => {
    try {
      return toHex(secp256k1.Signature.fromBytes(signature, "compact").addRecoveryBit(recovery).recoverPublicKey(digest).toBytes(false));
    } catch {
      return "error";
    }
  };
  const scalarBytes = (n: bigint) => fromHex(n.toString(16).padStart(64, "0"));

  it("recovers the signer of 2000 random signatures, as noble does, and a flipped bit or recovery bit recovers another key", async () => {
    let flippedDiffer = 0;
    for (let i = 0; i < 2000; i++) {
      const key = secp256k1.utils.randomSecretKey();
      const digest = sha256(Uint8Array.of(i & 0xff, i >> 8, 7));
      const signed = secp256k1.sign(digest, key, { prehash: false, format: "recovered", lowS: true });
      const signature = signed.subarray(1);
      expect(toHex(await backend.recoverPublicKey(digest, signature, signed[0]))).toBe(toHex(secp256k1.getPublicKey(key, false)));
      if (i % 20 === 0) {
        const otherBit = await recoverOrError(digest, signature, 1 - signed[0]);
        expect(otherBit).toBe(nobleOrError(digest, signature, 1 - signed[0]));
        const tampered = digest.slice();
        tampered[i % 32] ^= 1 << i % 8;
        const fromTampered = await recoverOrError(tampered, signature, signed[0]);
        expect(fromTampered).toBe(nobleOrError(tampered, signature, signed[0]));
        if (fromTampered !== toHex(secp256k1.getPublicKey(key, false))) flippedDiffer++;
      }
    }
    expect(flippedDiffer).toBe(100);
  });

  it("agrees with noble on high-S signatures and on signatures whose r is no x coordinate", async () => {
    let notOnCurve = 0;
    for (let i = 0; i < 200; i++) {
      const key = secp256k1.utils.randomSecretKey();
      const digest = sha256(Uint8Array.of(i, 9));
      const signed = secp256k1.sign(digest, key, { prehash: false, format: "recovered", lowS: true });
      const highS = signed.slice(1);
      highS.set(scalarBytes(CURVE_ORDER - BigInt("0x" + toHex(signed.subarray(33)))), 32);
      // s → n − s recovers the same key with the other recovery bit.
      expect(await recoverOrError(digest, highS, 1 - signed[0])).toBe(toHex(secp256k1.getPublicKey(key, false)));
      const forgedR = signed.slice(1);
      forgedR[31] ^= 0x5a;
      const expected = nobleOrError(digest, forgedR, signed[0]);
      if (expected === "error") notOnCurve++;
      expect(await recoverOrError(digest, forgedR, signed[0])).toBe(expected);
    }
    // About half of all r values are not the x coordinate of a curve point.
    expect(notOnCurve).toBeGreaterThan(50);
  });

  it("rejects out-of-range r and s, wrong sizes and recovery bits like noble, and handles a digest ≡ 0 (mod n)", async () => {
    const key = secp256k1.utils.randomSecretKey();
    const digest = sha256(Uint8Array.of(1));
    const signed = secp256k1.sign(digest, key, { prehash: false, format: "recovered", lowS: true });
    const r = signed.subarray(1, 33);
    const s = signed.subarray(33);
    const join = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b]);
    for (const bad of [
      join(new Uint8Array(32), s),
      join(r, new Uint8Array(32)),
      join(scalarBytes(CURVE_ORDER), s),
      join(r, scalarBytes(CURVE_ORDER)),
    ]) {
      expect(await recoverOrError(digest, bad, signed[0])).toBe("error");
    }
    await expect(backend.recoverPublicKey(digest, signed.subarray(1, 64), signed[0])).rejects.toThrow();
    await expect(backend.recoverPublicKey(digest, signed.subarray(1), 2)).rejects.toThrow();
    // e = n: u1 = 0, so the key is u2·R alone.
    for (const zeroDigest of [scalarBytes(CURVE_ORDER), new Uint8Array(32)]) {
      expect(await recoverOrError(zeroDigest, signed.subarray(1), signed[0])).toBe(nobleOrError(zeroDigest, signed.subarray(1), signed[0]));
    }
  });
});

describe.each(backends)("ECDH input checks on back end $name", (backend) => {
  it("refuses a peer point off the curve (invalid-curve attack) instead of multiplying it", async () => {
    const key = secp256k1.utils.randomSecretKey();
    const offCurve = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), false);
    offCurve[64] ^= 1;
    await expect(backend.ecdhPoint(key, offCurve)).rejects.toThrow();
    await expect(backend.ecdhPointCandidates(key, offCurve)).rejects.toThrow();
    await expect(backend.ecdhPoint(key, offCurve.subarray(0, 64))).rejects.toThrow();
  });
});
