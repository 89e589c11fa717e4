import { Wallet, verifyMessage } from "ethers";
import { describe, expect, it } from "vitest";
import { identityFromPrivateKey } from "./identity.js";
import { privateKeySigner } from "./signer.js";

describe("privateKeySigner", () => {
  it("produces exactly the personal_sign signature ethers produces, for text and for bytes", async () => {
    const wallet = Wallet.createRandom();
    const signer = privateKeySigner(identityFromPrivateKey(wallet.privateKey, "test"));
    expect(await signer.getAddress()).toBe(wallet.address);
    const text = "XMTP : Create Identity\n0a0b\n\nFor more info: https://xmtp.org/signatures/";
    expect(await signer.signMessage(text)).toBe(await wallet.signMessage(text));
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    expect(await signer.signMessage(bytes)).toBe(await wallet.signMessage(bytes));
  });

  it("signs as its own key, not another", async () => {
    const signer = privateKeySigner(identityFromPrivateKey(Wallet.createRandom().privateKey, "test"));
    const other = Wallet.createRandom();
    const signature = await signer.signMessage("hello");
    expect(verifyMessage("hello", signature)).toBe(await signer.getAddress());
    expect(verifyMessage("hello", signature)).not.toBe(other.address);
    expect(verifyMessage("hello!", signature)).not.toBe(await signer.getAddress());
  });
});
