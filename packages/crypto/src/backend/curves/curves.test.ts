// Every curve against the others: on random inputs all must give the same bytes, and on edge cases all must accept
// or refuse alike (with the same typed error).
import { describe, expect, it } from "vitest";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { fromHex, toHex, utf8ToBytes } from "../../bytes.js";
import { XmtpCryptoError } from "../../errors.js";
import { sha256 } from "../../hashes.js";
import { curves } from "../../test-support/backends.js";
import type { CompactSignature, Secp256k1Curve } from "../types.js";

const CURVE_ORDER = secp256k1.Point.CURVE().n;
const scalarBytes = (n: bigint) => fromHex(n.toString(16).padStart(64, "0"));
const scalarOf = (bytes: Uint8Array) => BigInt("0x" + toHex(bytes));
const randomKey = () => secp256k1.utils.randomSecretKey();
const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

type Answer = Uint8Array | boolean | CompactSignature;

/** What each curve answers, as text: the result in hex (a signature with its recovery bit), or the error's code. */
function answers(run: (curve: Secp256k1Curve) => Answer): string[] {
  return curves.map((curve) => {
    try {
      const result = run(curve);
      if (typeof result === "boolean") return String(result);
      return result instanceof Uint8Array ? toHex(result) : `${toHex(result.bytes)} recovery ${result.recovery}`;
    } catch (err) {
      return err instanceof XmtpCryptoError ? `error ${err.code}` : `untyped error ${(err as Error).message}`;
    }
  });
}

/** A public key, from noble (the curves' agreement on public keys is tested on its own). */
const publicKeyOf = (privateKey: Uint8Array) => secp256k1.getPublicKey(privateKey, false);

/** The one answer all curves agree on. */
function agreed(run: (curve: Secp256k1Curve) => Answer): string {
  const all = answers(run);
  expect(new Set(all).size, `${curves.map((c, i) => `${c.name}: ${all[i]}`).join("\n")}`).toBe(1);
  return all[0];
}

describe("the curves agree", () => {
  it("are all three: noble, libsecp256k1 native and libsecp256k1 as WebAssembly", () => {
    expect(curves.map((c) => c.name)).toEqual(["noble", "libsecp256k1-native", "libsecp256k1-wasm"]);
  });

  it("on public keys, ECDH points (both y parities), signatures, recovery and verification of random inputs", () => {
    const parities = new Set<number>();
    for (let i = 0; i < 150; i++) {
      const a = randomKey();
      const b = randomKey();
      const publicA = agreed((c) => c.publicKey(a));
      const publicB = agreed((c) => c.publicKey(b));
      expect(publicA).toBe(toHex(secp256k1.getPublicKey(a, false)));
      const shared = agreed((c) => c.ecdhPoint(a, fromHex(publicB)));
      expect(agreed((c) => c.ecdhPoint(b, fromHex(publicA)))).toBe(shared);
      parities.add(fromHex(shared)[64] & 1);

      const digest = sha256(Uint8Array.of(i, i >> 8, 7));
      agreed((c) => c.signDigest(digest, a));
      const { bytes, recovery } = curves[0].signDigest(digest, a);
      expect(scalarOf(bytes.subarray(32))).toBeLessThanOrEqual(CURVE_ORDER >> 1n);
      expect(agreed((c) => c.recoverPublicKey(digest, bytes, recovery))).toBe(publicA);
      expect(agreed((c) => c.verifyDigest(digest, bytes, fromHex(publicA)))).toBe("true");
      expect(agreed((c) => c.verifyDigest(digest, bytes, fromHex(publicB)))).toBe("false");

      const tampered = digest.slice();
      tampered[i % 32] ^= 1 << i % 8;
      expect(agreed((c) => c.verifyDigest(tampered, bytes, fromHex(publicA)))).toBe("false");
      expect(agreed((c) => c.recoverPublicKey(tampered, bytes, recovery))).not.toBe(publicA);
      agreed((c) => c.recoverPublicKey(digest, bytes, 1 - recovery));
    }
    expect(parities).toEqual(new Set([0, 1]));
  });

  it("on the private keys 1 and n−1, whose points are ±G", () => {
    const one = scalarBytes(1n);
    const last = scalarBytes(CURVE_ORDER - 1n);
    const g = fromHex(agreed((c) => c.publicKey(one)));
    const minusG = fromHex(agreed((c) => c.publicKey(last)));
    expect(toHex(minusG.subarray(0, 33))).toBe(toHex(g.subarray(0, 33)));
    expect(toHex(minusG.subarray(33))).not.toBe(toHex(g.subarray(33)));
    const peer = publicKeyOf(randomKey());
    expect(agreed((c) => c.ecdhPoint(one, peer))).toBe(toHex(peer));
    agreed((c) => c.ecdhPoint(last, peer));
    agreed((c) => c.signDigest(sha256(utf8ToBytes("last key")), last));
  });

  it("on refusing private keys 0, n, 2^256−1 and of 31 or 33 bytes", () => {
    const peer = publicKeyOf(randomKey());
    const digest = sha256(utf8ToBytes("refused"));
    for (const bad of [new Uint8Array(32), scalarBytes(CURVE_ORDER), new Uint8Array(32).fill(0xff), randomKey().subarray(1), join(randomKey(), Uint8Array.of(1))]) {
      expect(agreed((c) => c.publicKey(bad))).toBe("error invalid_key");
      expect(agreed((c) => c.ecdhPoint(bad, peer))).toBe("error invalid_key");
      expect(agreed((c) => c.signDigest(digest, bad))).toBe("error invalid_key");
    }
  });

  it("on digests ≡ 0 (mod n), digests ≥ n (RFC 6979 reduces them) and refusing digests of other sizes", () => {
    const key = randomKey();
    const publicKey = fromHex(agreed((c) => c.publicKey(key)));
    for (const digest of [new Uint8Array(32), scalarBytes(CURVE_ORDER), scalarBytes(CURVE_ORDER + 1n), new Uint8Array(32).fill(0xff)]) {
      agreed((c) => c.signDigest(digest, key));
      const { bytes, recovery } = curves[0].signDigest(digest, key);
      expect(agreed((c) => c.recoverPublicKey(digest, bytes, recovery))).toBe(toHex(publicKey));
      expect(agreed((c) => c.verifyDigest(digest, bytes, publicKey))).toBe("true");
    }
    // e = n and e = 0 are the same number to ECDSA: one signature verifies for both.
    const forN = curves[0].signDigest(scalarBytes(CURVE_ORDER), key);
    expect(agreed((c) => c.verifyDigest(new Uint8Array(32), forN.bytes, publicKey))).toBe("true");
    for (const wrongSize of [new Uint8Array(31), new Uint8Array(33)]) {
      expect(agreed((c) => c.signDigest(wrongSize, key))).toBe("error invalid_argument");
      expect(agreed((c) => c.verifyDigest(wrongSize, forN.bytes, publicKey))).toBe("false");
      expect(agreed((c) => c.recoverPublicKey(wrongSize, forN.bytes, forN.recovery))).toBe("error invalid_signature");
    }
  });

  it("on high-S signatures: verification refuses them, recovery finds the signer with the other bit", () => {
    for (let i = 0; i < 20; i++) {
      const key = randomKey();
      const publicKey = fromHex(agreed((c) => c.publicKey(key)));
      const digest = sha256(Uint8Array.of(i, 9));
      const { bytes, recovery } = curves[0].signDigest(digest, key);
      const highS = join(bytes.subarray(0, 32), scalarBytes(CURVE_ORDER - scalarOf(bytes.subarray(32))));
      expect(agreed((c) => c.verifyDigest(digest, highS, publicKey))).toBe("false");
      expect(agreed((c) => c.recoverPublicKey(digest, highS, 1 - recovery))).toBe(toHex(publicKey));
    }
  });

  it("on signatures whose r is no x coordinate (recovery refuses them) and others that recover another key", () => {
    let noXCoordinate = 0;
    for (let i = 0; i < 200; i++) {
      const key = randomKey();
      const digest = sha256(Uint8Array.of(i, 3));
      const { bytes, recovery } = curves[0].signDigest(digest, key);
      const forgedR = bytes.slice();
      forgedR[31] ^= 0x5a;
      const answer = agreed((c) => c.recoverPublicKey(digest, forgedR, recovery));
      if (answer === "error invalid_signature") noXCoordinate++;
    }
    // About half of all numbers below p are the x coordinate of a point.
    expect(noXCoordinate).toBeGreaterThan(50);
    expect(noXCoordinate).toBeLessThan(150);
  });

  it("on refusing r or s of 0 or n, signatures of 63 or 65 bytes and recovery bits other than 0 and 1", () => {
    const key = randomKey();
    const publicKey = fromHex(agreed((c) => c.publicKey(key)));
    const digest = sha256(utf8ToBytes("edges"));
    const { bytes, recovery } = curves[0].signDigest(digest, key);
    const [r, s] = [bytes.subarray(0, 32), bytes.subarray(32)];
    const zero = new Uint8Array(32);
    const n = scalarBytes(CURVE_ORDER);
    for (const bad of [join(zero, s), join(r, zero), join(n, s), join(r, n), bytes.subarray(0, 63), join(bytes, Uint8Array.of(0))]) {
      expect(agreed((c) => c.recoverPublicKey(digest, bad, recovery))).toBe("error invalid_signature");
      expect(agreed((c) => c.verifyDigest(digest, bad, publicKey))).toBe("false");
    }
    for (const badBit of [2, 3, -1, 0.5]) {
      expect(agreed((c) => c.recoverPublicKey(digest, bytes, badBit))).toBe("error invalid_signature");
    }
  });

  it("on refusing peer points off the curve (invalid-curve attack), compressed, hybrid or of the wrong size", () => {
    const key = randomKey();
    const valid = publicKeyOf(randomKey());
    const offCurve = valid.slice();
    offCurve[64] ^= 1;
    const compressed = join(Uint8Array.of(2 + (valid[64] & 1)), valid.subarray(1, 33));
    // Hybrid encoding: 0x06/0x07 carries the parity of y in the prefix; libsecp256k1 parses it, we do not.
    const hybrid = join(Uint8Array.of(6 + (valid[64] & 1)), valid.subarray(1));
    const xOnly = valid.subarray(1, 33);
    const infinity = Uint8Array.of(0);
    for (const bad of [offCurve, compressed, hybrid, xOnly, valid.subarray(0, 64), infinity, new Uint8Array(65)]) {
      expect(agreed((c) => c.ecdhPoint(key, bad))).toBe("error invalid_key");
      expect(agreed((c) => c.isValidPublicKey(bad))).toBe("false");
    }
    expect(agreed((c) => c.isValidPublicKey(valid))).toBe("true");
    const digest = sha256(utf8ToBytes("key check"));
    const signature = curves[0].signDigest(digest, key).bytes;
    expect(agreed((c) => c.verifyDigest(digest, signature, offCurve))).toBe("false");
  });
});
