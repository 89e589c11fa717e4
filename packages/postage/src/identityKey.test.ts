import { beforeAll, describe, expect, it } from "vitest";
import { getBytes, hexlify, randomBytes, Wallet } from "ethers";
import { concatBytes, createIdentityText, generatePrivateKey, getPublicKey, walletSignatureToCompact } from "@xmtp-ts/crypto";
import { create, SignedPublicKeySchema, toBinary, UnsignedPublicKeySchema } from "@xmtp-ts/proto";
import { InvalidIdentityKeyError, verifyIdentityKey } from "./identityKey.js";
import { makePerson, type Person } from "./test-support/people.js";

/** A v2 identity key over arbitrary key bytes, honestly signed by `wallet`. */
async function walletSignedKey(wallet: Wallet, keyBytes: Uint8Array) {
  const signature = walletSignatureToCompact(getBytes(await wallet.signMessage(createIdentityText(keyBytes))));
  return create(SignedPublicKeySchema, { keyBytes, signature: { union: { case: "walletEcdsaCompact", value: signature } } });
}

describe("identity keys of seals and grants", () => {
  let alice: Person;
  beforeAll(async () => {
    alice = await makePerson();
  });

  it("recovers the wallet and point of a client's identity key", () => {
    expect(verifyIdentityKey(alice.identity.publicKey)).toEqual({ wallet: alice.address, point: alice.keys.identityPublicKey });
  });

  it("refuses keys with no legacy form or in a non-canonical encoding, even when honestly wallet-signed", async () => {
    const wallet = new Wallet(hexlify(randomBytes(32)));
    const point = getPublicKey(generatePrivateKey());
    const nanosecondKey = toBinary(
      UnsignedPublicKeySchema,
      create(UnsignedPublicKeySchema, { createdNs: 1_700_000_000_000_000_000n, union: { case: "secp256k1Uncompressed", value: { bytes: point } } }),
    );
    expect(() => verifyIdentityKey(undefined)).toThrow(InvalidIdentityKeyError);
    expect(() => verifyIdentityKey(undefined)).toThrow(/missing/);
    expect(() => verifyIdentityKey(create(SignedPublicKeySchema, {}))).toThrow(/not signed by a wallet/);
    const ns = await walletSignedKey(wallet, nanosecondKey);
    expect(() => verifyIdentityKey(ns)).toThrow(/nanosecond/);
    const legacy = toBinary(
      UnsignedPublicKeySchema,
      create(UnsignedPublicKeySchema, { createdNs: 1_700_000_000_000n, union: { case: "secp256k1Uncompressed", value: { bytes: point } } }),
    );
    expect(verifyIdentityKey(await walletSignedKey(wallet, legacy)).wallet).toBe(wallet.address);
    // The same key with an unknown field appended (field 15, varint 1): the wallet signed these bytes, but they
    // are not the key's canonical encoding, which is what the wallet signature is checked over.
    const padded = await walletSignedKey(wallet, concatBytes(legacy, Uint8Array.of(0x78, 0x01)));
    expect(() => verifyIdentityKey(padded)).toThrow(/canonical encoding/);
  });
});
