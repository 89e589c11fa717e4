// The token parser under random and mutated input: it may only ever answer with an AuthTokenError, and no
// mutation of a valid token may authenticate a different wallet.
import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { AuthTokenError, fromBase64, toBase64, verifyAuthToken, type VerifiedAuthToken } from "@xmtp-ts/crypto";
import { create, toBinary, AuthDataSchema, TokenSchema } from "@xmtp-ts/proto";
import { createIdentity, nowNs, type Identity } from "../http/helpers.js";
import { fuzzParameters, mutatedBytes, mutatedText } from "./support.js";

/** Runs the parser; returns the result or the AuthTokenError, and lets any other kind of error escape. */
function outcome(token: string): VerifiedAuthToken | AuthTokenError {
  try {
    return verifyAuthToken(token, { nowNs: nowNs() });
  } catch (err) {
    if (err instanceof AuthTokenError) return err;
    throw new Error(`verifyAuthToken threw ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err });
  }
}

let identity: Identity;
let validToken: string;

beforeAll(async () => {
  identity = await createIdentity();
  validToken = identity.token();
});

describe("verifyAuthToken fuzzing", () => {
  it("accepts the unmutated token (the baseline the mutations start from)", () => {
    expect(outcome(validToken)).toEqual({ walletAddress: identity.address, createdNs: expect.any(BigInt) });
  });

  it("answers any string with an AuthTokenError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "grapheme", maxLength: 600 }), fc.base64String({ maxLength: 600 })), (text) => {
        expect(outcome(text)).toBeInstanceOf(AuthTokenError);
      }),
      fuzzParameters("random strings", 2000),
    );
  });

  it("answers any byte string (as base64) with an AuthTokenError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(outcome(toBase64(bytes))).toBeInstanceOf(AuthTokenError);
      }),
      fuzzParameters("random bytes", 2000),
    );
  });

  it("never lets a byte-mutated token authenticate another wallet", () => {
    const base = fromBase64(validToken);
    fc.assert(
      fc.property(mutatedBytes(base), (bytes) => {
        const result = outcome(toBase64(bytes));
        // A mutation that only touches bytes the signatures do not cover (e.g. an appended unknown field) may still
        // verify, but only ever as the same wallet.
        if (!(result instanceof AuthTokenError)) expect(result.walletAddress).toBe(identity.address);
      }),
      fuzzParameters("mutated token bytes", 1500),
    );
  });

  it("never accepts a text-mutated token as another wallet", () => {
    fc.assert(
      fc.property(mutatedText(validToken), (text) => {
        const result = outcome(text);
        if (!(result instanceof AuthTokenError)) expect(result.walletAddress).toBe(identity.address);
      }),
      fuzzParameters("mutated token text", 1500),
    );
  });

  it("refuses well-formed tokens whose fields are random", () => {
    const signature = fc.record({
      bytes: fc.uint8Array({ minLength: 0, maxLength: 70 }),
      recovery: fc.integer({ min: 0, max: 5 }),
    });
    const forged = fc.record({
      timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      point: fc.oneof(fc.uint8Array({ minLength: 65, maxLength: 65 }), fc.uint8Array({ maxLength: 80 })),
      walletSignature: signature,
      walletAddr: fc.oneof(fc.constant(identity?.address ?? ""), fc.string({ maxLength: 50 })),
      createdNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      authSignature: signature,
      useWalletForm: fc.boolean(),
    });
    fc.assert(
      fc.property(forged, (f) => {
        const authDataBytes = toBinary(AuthDataSchema, create(AuthDataSchema, { walletAddr: f.walletAddr, createdNs: f.createdNs }));
        const token = create(TokenSchema, {
          identityKey: {
            timestamp: f.timestamp,
            union: { case: "secp256k1Uncompressed", value: { bytes: f.point } },
            signature: {
              union: { case: f.useWalletForm ? "walletEcdsaCompact" : "ecdsaCompact", value: f.walletSignature },
            },
          },
          authDataBytes,
          authDataSignature: { union: { case: "ecdsaCompact", value: f.authSignature } },
        });
        expect(outcome(toBase64(toBinary(TokenSchema, token)))).toBeInstanceOf(AuthTokenError);
      }),
      fuzzParameters("structured forgeries", 400),
    );
  });

  it("refuses huge and deeply nested inputs without crashing", () => {
    const huge = "A".repeat(4 * 1024 * 1024);
    expect(outcome(huge)).toBeInstanceOf(AuthTokenError);
    // 2,000 nested length-delimited fields 1: a parser that recursed into unknown nesting would overflow.
    let nested = new Uint8Array(0);
    for (let depth = 0; depth < 2_000; depth++) {
      const length = encodeVarint(nested.length);
      const next = new Uint8Array(1 + length.length + nested.length);
      next[0] = 0x0a;
      next.set(length, 1);
      next.set(nested, 1 + length.length);
      nested = next;
    }
    expect(outcome(toBase64(nested))).toBeInstanceOf(AuthTokenError);
    // 100,000 nested start-group tags (wire type 3) in an unknown field.
    const groups = new Uint8Array(200_000);
    for (let i = 0; i < 100_000; i++) {
      groups[2 * i] = 0x7b; // field 15, start group
      groups[2 * i + 1] = 0x7b;
    }
    expect(outcome(toBase64(groups))).toBeInstanceOf(AuthTokenError);
  });
});

function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return Uint8Array.from(out);
}
