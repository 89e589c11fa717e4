import { describe, expect, it } from "vitest";
import { randomBytes } from "ethers";
import { concatBytes, fromHex, generatePrivateKey, getPublicKey, toHex } from "@xmtp-ts/crypto";
import { identitySignatureSigner, InvalidIdentitySignatureError, parseIdentitySignature, signWithIdentityKey } from "./identitySignature.js";

const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const word = (value: bigint) => fromHex(value.toString(16).padStart(64, "0"));

describe("identity key signatures (r ‖ s ‖ v)", () => {
  const privateKey = generatePrivateKey();
  const digest = randomBytes(32);
  const signature = signWithIdentityKey(digest, privateKey);

  it("signs low-s with v 27/28 and recovers the signer", () => {
    expect(signature.length).toBe(65);
    expect([27, 28]).toContain(signature[64]);
    expect(toHex(identitySignatureSigner(digest, signature))).toBe(toHex(getPublicKey(privateKey)));
  });

  it("refuses every other encoding with a typed error", () => {
    const r = signature.subarray(0, 32);
    const s = signature.subarray(32, 64);
    const cases: Array<[Uint8Array, RegExp]> = [
      [concatBytes(word(0n), s, Uint8Array.of(27)), /r is out of range/],
      [concatBytes(word(CURVE_ORDER), s, Uint8Array.of(27)), /r is out of range/],
      [concatBytes(r, word(0n), Uint8Array.of(27)), /s is out of range/],
      [concatBytes(r, word(CURVE_ORDER), Uint8Array.of(27)), /s is out of range/],
      [concatBytes(r, word(CURVE_ORDER - 1n), Uint8Array.of(27)), /high-s/],
      [concatBytes(r, s, Uint8Array.of(29)), /v must be 27 or 28/],
      [concatBytes(r, s, Uint8Array.of(1)), /v must be 27 or 28/],
      [signature.subarray(0, 64), /expected 65 bytes/],
    ];
    for (const [bytes, reason] of cases) {
      expect(() => parseIdentitySignature(bytes)).toThrow(InvalidIdentitySignatureError);
      expect(() => parseIdentitySignature(bytes)).toThrow(reason);
    }
  });

  it("recovers someone else, never the signer, from the wrong v", () => {
    const flipped = Uint8Array.from(signature);
    flipped[64] = flipped[64] === 27 ? 28 : 27;
    let recovered: Uint8Array | undefined;
    try {
      recovered = identitySignatureSigner(digest, flipped);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidIdentitySignatureError);
    }
    if (recovered) expect(toHex(recovered)).not.toBe(toHex(getPublicKey(privateKey)));
  });
});
