// Fresh wallets for postage tests: a random key (no mnemonic derivation, so fast), optionally on a provider.
import { hexlify, randomBytes, Wallet, type Provider } from "ethers";
import type { PostagePayer } from "../payer.js";

export function randomWallet(provider?: Provider): Wallet {
  return new Wallet(hexlify(randomBytes(32)), provider);
}

/** A payer that counts how often it is asked to sign: a refused stamp must not cost a wallet prompt. */
export function countingPayer(wallet: Wallet): PostagePayer & { signatures: number; address: string } {
  const payer = {
    address: wallet.address,
    signatures: 0,
    provider: wallet.provider,
    getAddress: () => wallet.getAddress(),
    signTypedData: async (...args: Parameters<PostagePayer["signTypedData"]>) => {
      payer.signatures++;
      return wallet.signTypedData(...args);
    },
  };
  return payer;
}
