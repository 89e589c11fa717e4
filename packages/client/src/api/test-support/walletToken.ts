// Real publish tokens for integration tests: a fresh wallet, a legacy identity key it signs, and tokens the node
// verifies (built the way packages/crypto/src/authToken.test.ts does).
import { Wallet } from "ethers";
import { create, PublicKeySchema } from "@xmtp-ts/proto";
import {
  createAuthToken,
  createIdentityText,
  fromHex,
  generatePrivateKey,
  getPublicKey,
  unsignedPublicKeyBytes,
  walletSignatureToCompact,
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
  const identityPrivateKey = generatePrivateKey();
  const point = getPublicKey(identityPrivateKey);
  const timestamp = BigInt(Date.now());
  const unsigned = create(PublicKeySchema, { timestamp, union: { case: "secp256k1Uncompressed", value: { bytes: point } } });
  const signature = walletSignatureToCompact(
    fromHex(await wallet.signMessage(createIdentityText(unsignedPublicKeyBytes(unsigned)))),
  );
  const identityKey = create(PublicKeySchema, {
    timestamp,
    union: { case: "secp256k1Uncompressed", value: { bytes: point } },
    signature: { union: { case: "ecdsaCompact", value: signature } },
  });
  const token = (ageMs = 0) =>
    createAuthToken({
      identityKey,
      identityPrivateKey,
      walletAddress: wallet.address,
      createdNs: BigInt(Date.now() - ageMs) * 1_000_000n,
    });
  return { address: wallet.address, token, provider: async () => token() };
}
