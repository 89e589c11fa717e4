import { beforeAll, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import {
  create,
  fromBinary,
  toBinary,
  PublicKeyBundleSchema,
  SignedPublicKeyBundleSchema,
  PublicKeySchema,
  Signature_ECDSACompactSchema,
  type PublicKeyBundle,
} from "@xmtp-ts/proto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { setCryptoBackend } from "./backend/index.js";
import {
  decodeContactBundle,
  encodeContactBundleV1,
  encodeContactBundleV2,
  KeyBundleVerifier,
  verifyPublicKeyBundle,
  verifySignedPublicKeyBundle,
} from "./bundles.js";
import { fromHex, toHex } from "./bytes.js";
import { InvalidKeyBundleError } from "./errors.js";
import { createLegacyPrivateKey, generatePrivateKeyBundleV1, legacyPrivateKeyScalar, signLegacyPublicKey } from "./legacyKeys.js";
import { legacyPublicKeyBundleFromSigned, signedPublicKeyBundleFromLegacy } from "./signedKeys.js";
import { decodePrivateKeyBundle, encodePrivateKeyBundle, userKeysFromBundle } from "./userKeys.js";
import { backends } from "./test-support/backends.js";
import { sdk, sdkProto, signTextWith } from "./test-support/sdk.js";

const CURVE_ORDER = secp256k1.Point.CURVE().n;

async function sdkBundle(wallet = Wallet.createRandom()) {
  const bundle = await sdk.PrivateKeyBundleV1.generate(wallet);
  return { wallet, bundle, publicBundle: bundle.getPublicKeyBundle() };
}

function withHighS(bundle: PublicKeyBundle): PublicKeyBundle {
  const copy = fromBinary(PublicKeyBundleSchema, toBinary(PublicKeyBundleSchema, bundle));
  const sig = copy.preKey!.signature!.union.value!;
  const s = BigInt("0x" + toHex(sig.bytes.subarray(32)));
  sig.bytes.set(fromHex((CURVE_ORDER - s).toString(16).padStart(64, "0")), 32);
  sig.recovery ^= 1;
  return copy;
}

describe.each(backends)("keys and bundles (docs/protocol/identity.md §1-§3) on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));

  it("reads a bundle the SDK generated: same wallet, same public bundles in both forms", async () => {
    const { wallet, bundle, publicBundle } = await sdkBundle();
    const keys = userKeysFromBundle(decodePrivateKeyBundle(bundle.encode()));
    expect(keys.walletAddress).toBe(wallet.address);
    expect(toHex(toBinary(PublicKeyBundleSchema, keys.publicBundle))).toBe(toHex(publicBundle.toBytes()));
    expect(toHex(toBinary(SignedPublicKeyBundleSchema, keys.signedBundle))).toBe(
      toHex(sdk.SignedPublicKeyBundle.fromLegacyBundle(publicBundle).toBytes()),
    );
    expect(await verifyPublicKeyBundle(keys.publicBundle)).toBe(wallet.address);
    expect(await verifySignedPublicKeyBundle(keys.signedBundle)).toBe(wallet.address);
  });

  it("generates a bundle the SDK accepts (two wallet texts, ms timestamps, low-S pre-key signature)", async () => {
    const wallet = Wallet.createRandom();
    const texts: string[] = [];
    const sign = signTextWith(wallet);
    const bundle = await generatePrivateKeyBundleV1(async (text) => (texts.push(text), sign(text)), { walletAddress: wallet.address });
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatch(/^XMTP : Create Identity\n[0-9a-f]{152}\n\nFor more info: https:\/\/xmtp.org\/signatures\/$/);
    expect(bundle.identityKey!.timestamp).toBeLessThan(10n ** 15n);

    const decoded = sdkProto.privateKey.PrivateKeyBundle.decode(encodePrivateKeyBundle(bundle));
    const theirs = new sdk.PrivateKeyBundleV1(decoded.v1);
    const publicBundle = theirs.getPublicKeyBundle();
    expect(await theirs.identityKey.publicKey.verifyKey(publicBundle.preKey)).toBe(true);
    expect(publicBundle.walletSignatureAddress()).toBe(wallet.address);
    const signed = sdk.SignedPublicKeyBundle.fromLegacyBundle(publicBundle);
    expect(await signed.walletSignatureAddress()).toBe(wallet.address);
    expect(await signed.identityKey.verifyKey(signed.preKey)).toBe(true);
  });

  it("refuses a Create-Identity signature from another wallet than expected", async () => {
    const sign = signTextWith(Wallet.createRandom());
    await expect(generatePrivateKeyBundleV1(sign, { walletAddress: Wallet.createRandom().address })).rejects.toThrow(/Create-Identity signature is from/);
  });

  it("converts legacy ↔ v2 bundles without new signatures", async () => {
    const { publicBundle } = await sdkBundle();
    const legacy = fromBinary(PublicKeyBundleSchema, publicBundle.toBytes());
    const back = legacyPublicKeyBundleFromSigned(signedPublicKeyBundleFromLegacy(legacy));
    expect(toHex(toBinary(PublicKeyBundleSchema, back))).toBe(toHex(publicBundle.toBytes()));
  });

  it("rejects a pre-key signed by another key", async () => {
    const { publicBundle } = await sdkBundle();
    const legacy = fromBinary(PublicKeyBundleSchema, publicBundle.toBytes());
    const stranger = createLegacyPrivateKey();
    legacy.preKey = signLegacyPublicKey(legacy.preKey!, legacyPrivateKeyScalar(stranger));
    await expect(verifyPublicKeyBundle(legacy)).rejects.toThrow(/pre-key is not signed by the identity key/);
    await expect(verifySignedPublicKeyBundle(signedPublicKeyBundleFromLegacy(legacy))).rejects.toThrow(InvalidKeyBundleError);
  });

  it("rejects a high-S pre-key signature, as the SDK does", async () => {
    const { publicBundle } = await sdkBundle();
    const legacy = fromBinary(PublicKeyBundleSchema, publicBundle.toBytes());
    const highS = withHighS(legacy);
    await expect(verifyPublicKeyBundle(highS)).rejects.toThrow(/pre-key is not signed/);
    const theirs = new sdk.PublicKeyBundle(sdkProto.publicKey.PublicKeyBundle.decode(toBinary(PublicKeyBundleSchema, highS)));
    expect(await theirs.identityKey.verifyKey(theirs.preKey)).toBe(false);
  });

  it("recovers the wallet that really signed the identity key, not the one the bundle is published for", async () => {
    const owner = Wallet.createRandom();
    const impostor = Wallet.createRandom();
    const bundle = await generatePrivateKeyBundleV1(signTextWith(impostor));
    const keys = userKeysFromBundle(bundle);
    expect(await verifyPublicKeyBundle(keys.publicBundle)).toBe(impostor.address);
    expect(await verifySignedPublicKeyBundle(keys.signedBundle)).not.toBe(owner.address);
  });

  it("refuses a v2 identity key not signed as wallet_ecdsa_compact", async () => {
    const { publicBundle } = await sdkBundle();
    const signed = signedPublicKeyBundleFromLegacy(fromBinary(PublicKeyBundleSchema, publicBundle.toBytes()));
    const { bytes, recovery } = signed.identityKey!.signature!.union.value!;
    signed.identityKey!.signature!.union = { case: "ecdsaCompact", value: create(Signature_ECDSACompactSchema, { bytes, recovery }) };
    await expect(verifySignedPublicKeyBundle(signed)).rejects.toThrow(/not signed by a wallet/);
  });

  it("caches verified bundles but not failures", async () => {
    const { wallet, publicBundle } = await sdkBundle();
    const verifier = new KeyBundleVerifier();
    const legacy = fromBinary(PublicKeyBundleSchema, publicBundle.toBytes());
    const first = verifier.verifyLegacy(legacy);
    expect(verifier.verifyLegacy(fromBinary(PublicKeyBundleSchema, publicBundle.toBytes()))).toBe(first);
    expect(await first).toBe(wallet.address);
    const bad = withHighS(legacy);
    await expect(verifier.verifyLegacy(bad)).rejects.toThrow(InvalidKeyBundleError);
    await expect(verifier.verifyLegacy(bad)).rejects.toThrow(InvalidKeyBundleError);
  });
});

describe("KeyBundleVerifier on v2 bundles", () => {
  it("serves a cache hit only for the same keys and signatures: any other field value is checked afresh", async () => {
    const { wallet, publicBundle } = await sdkBundle();
    const verifier = new KeyBundleVerifier();
    const fresh = () => signedPublicKeyBundleFromLegacy(fromBinary(PublicKeyBundleSchema, publicBundle.toBytes()));
    const first = verifier.verifySigned(fresh());
    expect(verifier.verifySigned(fresh())).toBe(first);
    expect(await first).toBe(wallet.address);
    const tamperings: ((bundle: ReturnType<typeof fresh>) => void)[] = [
      (b) => (b.preKey!.keyBytes = Uint8Array.from(b.preKey!.keyBytes, (x, i) => (i === b.preKey!.keyBytes.length - 1 ? x ^ 1 : x))),
      (b) => ((b.preKey!.signature!.union.value as { bytes: Uint8Array }).bytes[5] ^= 1),
      (b) => ((b.preKey!.signature!.union.value as { recovery: number }).recovery ^= 1),
      (b) => ((b.identityKey!.signature!.union.value as { recovery: number }).recovery += 256),
      (b) => ((b.identityKey!.signature!.union.value as { bytes: Uint8Array }).bytes[40] ^= 1),
    ];
    for (const tamper of tamperings) {
      const forged = fresh();
      tamper(forged);
      // Checked afresh (another promise), whatever the check then says of the changed field.
      const result = verifier.verifySigned(forged);
      expect(result).not.toBe(first);
      await result.catch(() => undefined);
    }
    const forged = fresh();
    tamperings[1](forged);
    await expect(verifier.verifySigned(forged)).rejects.toThrow(InvalidKeyBundleError);
  });
});

describe("contact bundles (docs/protocol/identity.md §3.2)", () => {
  it("decodes the SDK's v1, v2 and bare PublicKeyBundle forms", async () => {
    const { wallet, publicBundle } = await sdkBundle();
    const signed = sdk.SignedPublicKeyBundle.fromLegacyBundle(publicBundle);
    const v1 = sdkProto.contact.ContactBundle.encode({ v1: { keyBundle: publicBundle }, v2: undefined }).finish();
    const v2 = sdkProto.contact.ContactBundle.encode({ v1: undefined, v2: { keyBundle: signed } }).finish();
    const a = decodeContactBundle(v1);
    const b = decodeContactBundle(v2);
    const c = decodeContactBundle(publicBundle.toBytes());
    expect([a.version, b.version, c.version]).toEqual(["v1", "v2", "v1"]);
    expect(await verifyPublicKeyBundle(a.bundle as PublicKeyBundle)).toBe(wallet.address);
    expect(await verifyPublicKeyBundle(c.bundle as PublicKeyBundle)).toBe(wallet.address);
    expect(await verifySignedPublicKeyBundle(b.bundle as never)).toBe(wallet.address);
  });

  it("encodes bundles the SDK decodes", async () => {
    const { wallet, publicBundle } = await sdkBundle();
    const legacy = fromBinary(PublicKeyBundleSchema, publicBundle.toBytes());
    const v1 = sdk.decodeContactBundle(encodeContactBundleV1(legacy));
    const v2 = sdk.decodeContactBundle(encodeContactBundleV2(signedPublicKeyBundleFromLegacy(legacy)));
    expect(v1.walletSignatureAddress()).toBe(wallet.address);
    expect(await v2.walletSignatureAddress()).toBe(wallet.address);
    expect(v2.constructor.name).toBe("SignedPublicKeyBundle");
  });

  it("names garbage", () => {
    expect(() => decodeContactBundle(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(InvalidKeyBundleError);
    const unsignedOnly = toBinary(PublicKeySchema, create(PublicKeySchema, { timestamp: 1n }));
    expect(() => decodeContactBundle(unsignedOnly)).toThrow(/neither a ContactBundle nor a PublicKeyBundle/);
  });
});
