import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "@xmtp-ts/crypto";
import { clone, create, fromBinary, postage, SignedPublicKeySchema, toBinary } from "@xmtp-ts/proto";
import { InvalidIdentityKeyError } from "./identityKey.js";
import { makeSenderSeal, sealSigningDigest, SEAL_DOMAIN, verifySenderSeal, InvalidSenderSealError } from "./seal.js";
import { reachTopic } from "./reachTopics.js";
import { envelopeOf, fixedIdentity, makePerson, type Person } from "./test-support/people.js";

const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function expectSealRefused(seal: postage.SenderSeal, digest: Uint8Array, reason: RegExp) {
  let caught: unknown;
  try {
    verifySenderSeal(seal, digest);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidSenderSealError);
  expect((caught as InvalidSenderSealError).code).toBe("invalid_sender_seal");
  expect((caught as InvalidSenderSealError).reason).toMatch(reason);
}

/** The same signature with s replaced by n − s and v flipped: valid ECDSA, but not the canonical encoding. */
function highS(signature: Uint8Array): Uint8Array {
  const out = Uint8Array.from(signature);
  const s = BigInt("0x" + toHex(out.subarray(32, 64)));
  out.set(fromHex((CURVE_ORDER - s).toString(16).padStart(64, "0")), 32);
  out[64] = out[64] === 27 ? 28 : 27;
  return out;
}

describe("sender seal (docs/postage.md §3.1)", () => {
  describe("known-answer vector", () => {
    // Fixed wallet, identity scalar and timestamp: every byte below is reproducible (RFC 6979 signatures).
    const WALLET_KEY = "0x" + "11".repeat(32);
    const IDENTITY_SECRET = "22".repeat(32);
    const TIMESTAMP_MS = 1_700_000_000_000n;
    const TOPIC_OWNER = "0x5CbDd86a2FA8Dc4bDdd8a8f69dBa48572EeC07FB";
    const MESSAGE = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ENVELOPE_DIGEST = "9748da92f5d614eb90dd2d8d0442cd8fea439e2538e249f506ac3004c372ef2b";
    const SEAL_DIGEST = "33cd0d621d148eb16bcbb7bde0688e03286c7d1ece51f7342aa549f3ca732558";
    const SEAL_SIGNATURE =
      "d237633113c45b2aa8859dfd12d7d39245b2b4502304cc262c62a3f4c39476830b1fa54662998e01f7d77be87b556f6a04dd493b3e16baa238503793f0e28ccc1b";
    const IDENTITY_KEY =
      "0a4c0880d095ffbc311a430a4104466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f276728176c3c6431f8eeda4538dc37c865e2" +
      "784f3a9e77d044f33e407797e1278a124412420a4062a8e304e8933fd585da85002effbfb75fba62f86699e97e046581b52d55d5477b5a76256ebe274b10" +
      "07099a7a25fcc79486f2d7d6be8a9621aa3dbe38827cf7";
    const WALLET = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";

    it("hashes the domain and the envelope digest as the spec says", () => {
      const envelope = envelopeOf(`/xmtp/0/invite-${TOPIC_OWNER}/proto`, MESSAGE);
      expect(toHex(envelope.digest)).toBe(ENVELOPE_DIGEST);
      const independent = createHash("sha256").update("xmtp-ts/postage/seal/1", "utf8").update(envelope.digest).digest("hex");
      expect(SEAL_DOMAIN).toBe("xmtp-ts/postage/seal/1");
      expect(toHex(sealSigningDigest(envelope.digest))).toBe(independent);
      expect(toHex(sealSigningDigest(envelope.digest))).toBe(SEAL_DIGEST);
    });

    it("signs deterministically and verifies to the wallet", async () => {
      const { address, material } = await fixedIdentity(WALLET_KEY, IDENTITY_SECRET, TIMESTAMP_MS);
      expect(address).toBe(WALLET);
      expect(toHex(toBinary(SignedPublicKeySchema, material.publicKey))).toBe(IDENTITY_KEY);
      const seal = makeSenderSeal(material, fromHex(ENVELOPE_DIGEST));
      expect(toHex(seal.signature)).toBe(SEAL_SIGNATURE);
      // A frozen seal verifies without the private key.
      const frozen = create(postage.SenderSealSchema, {
        identityKey: fromBinary(SignedPublicKeySchema, fromHex(IDENTITY_KEY)),
        signature: fromHex(SEAL_SIGNATURE),
      });
      expect(verifySenderSeal(frozen, fromHex(ENVELOPE_DIGEST))).toBe(WALLET);
    });
  });

  describe("with real keys", () => {
    let alice: Person;
    let mallory: Person;
    let digest: Uint8Array;
    beforeAll(async () => {
      [alice, mallory] = await Promise.all([makePerson(), makePerson()]);
      digest = envelopeOf(reachTopic("invite", mallory.address), Uint8Array.of(7, 7, 7)).digest;
    });

    it("verifies to the sealing wallet, in EIP-55 form", () => {
      expect(verifySenderSeal(makeSenderSeal(alice.identity, digest), digest)).toBe(alice.address);
    });

    it("refuses a seal moved to another envelope", () => {
      const seal = makeSenderSeal(alice.identity, digest);
      const other = envelopeOf(reachTopic("invite", mallory.address), Uint8Array.of(7, 7, 8)).digest;
      expectSealRefused(seal, other, /not signed by the identity key of 0x[0-9a-fA-F]{40} over this envelope/);
    });

    it("refuses an altered signature", () => {
      const seal = makeSenderSeal(alice.identity, digest);
      seal.signature[10] ^= 1;
      expectSealRefused(seal, digest, /not signed by the identity key|signature/);
    });

    it("refuses another wallet's identity key put on a seal signed by someone else (seal by another wallet)", () => {
      // Mallory signs with her identity key but presents Alice's wallet-signed identity key.
      const seal = makeSenderSeal(mallory.identity, digest);
      seal.identityKey = clone(SignedPublicKeySchema, alice.identity.publicKey);
      expectSealRefused(seal, digest, /not signed by the identity key of/);
    });

    it("never reports Alice for her identity key with altered key bytes", () => {
      // Changing created_ns changes the Create-Identity text Alice's wallet signed: the wallet signature then
      // recovers some other address (or none). The seal still matches the point, so at most it names a wallet
      // nobody holds, never Alice.
      const seal = makeSenderSeal(alice.identity, digest);
      const key = clone(SignedPublicKeySchema, alice.identity.publicKey);
      const bytes = Uint8Array.from(key.keyBytes);
      bytes[2] ^= 1;
      key.keyBytes = bytes;
      seal.identityKey = key;
      let wallet: string | undefined;
      try {
        wallet = verifySenderSeal(seal, digest);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidSenderSealError);
      }
      expect(wallet).not.toBe(alice.address);
    });

    it("refuses an identity key that is not wallet-signed", () => {
      const seal = makeSenderSeal(alice.identity, digest);
      const sig = alice.identity.publicKey.signature!.union;
      if (sig.case !== "walletEcdsaCompact") throw new Error("expected a wallet signature");
      seal.identityKey = create(SignedPublicKeySchema, {
        keyBytes: alice.identity.publicKey.keyBytes,
        signature: { union: { case: "ecdsaCompact", value: { bytes: sig.value.bytes, recovery: sig.value.recovery } } },
      });
      expectSealRefused(seal, digest, /identity key: not signed by a wallet/);
    });

    it("refuses a seal without an identity key", () => {
      const seal = makeSenderSeal(alice.identity, digest);
      seal.identityKey = undefined;
      expectSealRefused(seal, digest, /identity key: missing/);
    });

    it("accepts only the canonical encoding: no high s, no v of 0/1, exactly 65 bytes", () => {
      const seal = makeSenderSeal(alice.identity, digest);
      expectSealRefused({ ...seal, signature: highS(seal.signature) }, digest, /high-s/);
      const v01 = Uint8Array.from(seal.signature);
      v01[64] -= 27;
      expectSealRefused({ ...seal, signature: v01 }, digest, /v must be 27 or 28/);
      expectSealRefused({ ...seal, signature: seal.signature.subarray(0, 64) }, digest, /65 bytes/);
      const zeroR = Uint8Array.from(seal.signature);
      zeroR.fill(0, 0, 32);
      expectSealRefused({ ...seal, signature: zeroR }, digest, /r is out of range/);
    });

    it("refuses to seal with a private key that is not the identity key's", () => {
      expect(() => makeSenderSeal({ privateKey: mallory.identity.privateKey, publicKey: alice.identity.publicKey }, digest)).toThrow(
        InvalidIdentityKeyError,
      );
    });

    it("takes only 32-byte envelope digests", () => {
      expect(() => sealSigningDigest(new Uint8Array(31))).toThrow(TypeError);
    });
  });
});

