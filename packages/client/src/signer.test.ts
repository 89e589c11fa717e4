import { describe, expect, it } from "vitest";
import { Wallet, getBytes } from "ethers";
import { recoverWalletAddress, walletSignatureToCompact } from "@xmtp-ts/crypto";
import { SignerError, toWalletSigner } from "./signer.js";

const wallet = Wallet.createRandom();

describe("toWalletSigner", () => {
  it("adapts an ethers Wallet; signatures recover to it", async () => {
    const signer = await toWalletSigner(wallet);
    expect(signer.address).toBe(wallet.address);
    const sig = await signer.signText("hello");
    expect(recoverWalletAddress("hello", walletSignatureToCompact(sig))).toBe(wallet.address);
  });

  it("adapts a viem LocalAccount and a viem WalletClient (with account or getAddresses)", async () => {
    const account = { address: wallet.address.toLowerCase(), type: "local", signMessage: ({ message }: { message: string }) => wallet.signMessage(message) };
    expect((await toWalletSigner(account)).address).toBe(wallet.address);
    const seen: unknown[] = [];
    const client = {
      account: { address: wallet.address },
      signMessage: ({ message, account: used }: { message: string; account: unknown }) => (seen.push(used), wallet.signMessage(message)),
    };
    await (await toWalletSigner(client)).signText("x");
    expect(seen).toEqual([{ address: wallet.address }]);
    const listing = { account: undefined, getAddresses: async () => [wallet.address], signMessage: ({ message }: { message: string }) => wallet.signMessage(message) };
    const adapted = await toWalletSigner(listing);
    expect(adapted.address).toBe(wallet.address);
    await expect(adapted.signText("y")).resolves.toHaveLength(65);
  });

  it("accepts a plain { getAddress, signMessage } returning bytes, with v as 0/1", async () => {
    const plain = {
      getAddress: () => wallet.address,
      signMessage: async (m: string) => {
        const sig = getBytes(await wallet.signMessage(m));
        sig[64] -= 27;
        return sig;
      },
    };
    const sig = await (await toWalletSigner(plain)).signText("z");
    expect(sig[64]).toBeLessThan(2);
  });

  it("refuses signatures from another key, malformed signatures and unusable objects", async () => {
    const other = Wallet.createRandom();
    const liar = { getAddress: async () => wallet.address, signMessage: (m: string) => other.signMessage(m) };
    await expect((await toWalletSigner(liar)).signText("t")).rejects.toThrow(`the wallet signed as ${other.address}, not as ${wallet.address}`);
    const short = { getAddress: async () => wallet.address, signMessage: async () => "0x" + "ab".repeat(64) };
    await expect((await toWalletSigner(short)).signText("t")).rejects.toThrow(/64-byte signature; expected 65/);
    const notHex = { getAddress: async () => wallet.address, signMessage: async () => "not a signature" };
    await expect((await toWalletSigner(notHex)).signText("t")).rejects.toThrow(SignerError);
    await expect(toWalletSigner({ getAddress: async () => "bob", signMessage: async () => "0x" })).rejects.toThrow(/did not give an Ethereum address: bob/);
    await expect(toWalletSigner({} as never)).rejects.toThrow(/no signMessage method/);
  });
});
