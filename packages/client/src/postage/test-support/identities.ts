// A wallet with real XMTP keys (wallet-signed identity key, as every client has), for tests that seal and grant.
import { getBytes } from "ethers";
import { generatePrivateKeyBundleV1, userKeysFromBundle, type UserKeys } from "@xmtp-ts/crypto";
import type { Wallet } from "ethers";
import { randomWallet } from "./wallets.js";

export interface TestIdentity {
  wallet: Wallet;
  address: string;
  keys: UserKeys;
}

export async function makeIdentity(): Promise<TestIdentity> {
  const wallet = randomWallet();
  const keys = userKeysFromBundle(await generatePrivateKeyBundleV1(async (text) => getBytes(await wallet.signMessage(text))));
  return { wallet, address: wallet.address, keys };
}
