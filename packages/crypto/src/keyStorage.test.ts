import { beforeAll, describe, expect, it } from "vitest";
import { Wallet, getBytes, type BaseWallet } from "ethers";
import { create, toBinary, EncryptedPrivateKeyBundleSchema, fromBinary, PrivateKeyBundleV1Schema, EncryptedPrivateKeyBundleV1Schema } from "@xmtp-ts/proto";
import { encryptAead } from "./aead.js";
import { setCryptoBackend } from "./backend/index.js";
import { randomBytes, toHex } from "./bytes.js";
import { KeyStorageError } from "./errors.js";
import { decryptStoredKeyBundle, encryptKeyBundleForStorage } from "./keyStorage.js";
import { generatePrivateKeyBundleV1 } from "./legacyKeys.js";
import { encodePrivateKeyBundle } from "./userKeys.js";
import { enableIdentityText } from "./walletSignature.js";
import { backends } from "./test-support/backends.js";
import { FakeSdkApiClient, sdk, signTextWith } from "./test-support/sdk.js";

/** A Ledger-style wallet: v is 0/1 instead of 27/28. */
function canonicalV(wallet: BaseWallet) {
  return async (text: string) => {
    const sig = getBytes(await wallet.signMessage(text));
    sig[64] -= 27;
    return sig;
  };
}

describe.each(backends)("key storage (docs/protocol/identity.md §5) on the $name back end", (backend) => {
  beforeAll(() => setCryptoBackend(backend));

  it("round-trips and signs exactly the Enable-Identity text of the wallet pre-key", async () => {
    const wallet = Wallet.createRandom();
    const sign = signTextWith(wallet);
    const bundle = await generatePrivateKeyBundleV1(sign);
    const texts: string[] = [];
    const stored = await encryptKeyBundleForStorage(bundle, async (t) => (texts.push(t), sign(t)));
    const walletPreKey = fromBinary(EncryptedPrivateKeyBundleSchema, stored).version.value!.walletPreKey;
    expect(texts).toEqual([enableIdentityText(walletPreKey)]);
    const loaded = await decryptStoredKeyBundle(stored, sign);
    expect(loaded.needsResave).toBe(false);
    expect(toHex(encodePrivateKeyBundle(loaded.bundle))).toBe(toHex(encodePrivateKeyBundle(bundle)));
  });

  it("loads keys the SDK stored, and the SDK loads keys we stored", async () => {
    const wallet = Wallet.createRandom();
    const sdkApi = new FakeSdkApiClient();
    const keystore = await new sdk.KeyGeneratorKeystoreProvider().newKeystore({ env: "local" }, sdkApi, wallet);
    const sdkKeys = await keystore.getPrivateKeyBundle();
    const loaded = await decryptStoredKeyBundle(sdkApi.envelopes[0].message, signTextWith(wallet));
    expect(toHex(encodePrivateKeyBundle(loaded.bundle))).toBe(toHex(sdkKeys.encode()));

    const other = Wallet.createRandom();
    const ours = await generatePrivateKeyBundleV1(signTextWith(other));
    const api = new FakeSdkApiClient();
    await api.publish([{ contentTopic: `/xmtp/0/privatestore-${other.address}/key_bundle/proto`, message: await encryptKeyBundleForStorage(ours, signTextWith(other)) }]);
    const theirKeystore = await new sdk.NetworkKeystoreProvider().newKeystore({ env: "local" }, api, other);
    expect(toHex((await theirKeystore.getPrivateKeyBundle()).encode())).toBe(toHex(encodePrivateKeyBundle(ours)));
  });

  it("decrypts when the wallet's v byte changed form between storing and loading (Ledger)", async () => {
    const wallet = Wallet.createRandom();
    const bundle = await generatePrivateKeyBundleV1(signTextWith(wallet));
    const storedWithLedger = await encryptKeyBundleForStorage(bundle, canonicalV(wallet));
    expect((await decryptStoredKeyBundle(storedWithLedger, signTextWith(wallet))).bundle.identityKey).toBeTruthy();
    const storedNormally = await encryptKeyBundleForStorage(bundle, signTextWith(wallet));
    const loaded = await decryptStoredKeyBundle(storedNormally, canonicalV(wallet));
    expect(toHex(encodePrivateKeyBundle(loaded.bundle))).toBe(toHex(encodePrivateKeyBundle(bundle)));
  });

  it("reads the old formats (bare EncryptedPrivateKeyBundleV1, bare PrivateKeyBundleV1) and asks for a re-save", async () => {
    const wallet = Wallet.createRandom();
    const sign = signTextWith(wallet);
    const bundle = await generatePrivateKeyBundleV1(sign);
    const current = fromBinary(EncryptedPrivateKeyBundleSchema, await encryptKeyBundleForStorage(bundle, sign));
    const bareEncrypted = toBinary(EncryptedPrivateKeyBundleV1Schema, current.version.value!);
    const a = await decryptStoredKeyBundle(bareEncrypted, sign);
    expect(a.needsResave).toBe(true);
    expect(toHex(encodePrivateKeyBundle(a.bundle))).toBe(toHex(encodePrivateKeyBundle(bundle)));

    const walletPreKey = randomBytes(32);
    const secret = await sign(enableIdentityText(walletPreKey));
    const ciphertext = await encryptAead(secret, toBinary(PrivateKeyBundleV1Schema, bundle));
    const barePlaintext = toBinary(
      EncryptedPrivateKeyBundleSchema,
      create(EncryptedPrivateKeyBundleSchema, { version: { case: "v1", value: { walletPreKey, ciphertext } } }),
    );
    const b = await decryptStoredKeyBundle(barePlaintext, sign);
    expect(b.needsResave).toBe(true);
    expect(toHex(encodePrivateKeyBundle(b.bundle))).toBe(toHex(encodePrivateKeyBundle(bundle)));
  });

  it("refuses another wallet and tampered bytes with a KeyStorageError", async () => {
    const wallet = Wallet.createRandom();
    const bundle = await generatePrivateKeyBundleV1(signTextWith(wallet));
    const stored = await encryptKeyBundleForStorage(bundle, signTextWith(wallet));
    await expect(decryptStoredKeyBundle(stored, signTextWith(Wallet.createRandom()))).rejects.toThrow(KeyStorageError);
    const tampered = stored.slice();
    tampered[tampered.length - 5] ^= 1;
    await expect(decryptStoredKeyBundle(tampered, signTextWith(wallet))).rejects.toThrow(/cannot decrypt the stored key bundle/);
    await expect(decryptStoredKeyBundle(new Uint8Array([1, 2, 3]), signTextWith(wallet))).rejects.toThrow(KeyStorageError);
  });
});
