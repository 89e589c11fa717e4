// Real publish tokens for integration tests: a fresh wallet, a legacy identity key it signs, and tokens the node
// verifies.
import { Wallet } from "ethers";
import {
  createAuthToken,
  createWalletSignedIdentityKey,
  fromHex,
  legacyPrivateKeyScalar,
  legacyPublicKeyOf,
} from "@xmtp-ts/crypto";
import type { AuthTokenProvider } from "../types.js";

export interface TestIdentity {
  address: string;
  /** A token made `ageMs` ago (default now). */
  token(ageMs?: number): string;
  provider: AuthTokenProvider;
}

export async function testIdentity(): Promise<TestIdentity> {
  const wallet = Wallet.createRandom();
  const identity = await createWalletSignedIdentityKey(async (text) => fromHex(await wallet.signMessage(text)));
  const identityKey = legacyPublicKeyOf(identity);
  const identityPrivateKey = legacyPrivateKeyScalar(identity);
  const token = (ageMs = 0) =>
    createAuthToken({
      identityKey,
      identityPrivateKey,
      walletAddress: wallet.address,
      createdNs: BigInt(Date.now() - ageMs) * 1_000_000n,
    });
  return { address: wallet.address, token, provider: async () => token() };
}
