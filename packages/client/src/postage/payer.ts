// The wallet that pays postage: signs EIP-712 vouchers (stamps) and sends vault transactions. An ethers 6 Signer
// connected to a provider is one; the type is spelled through @xmtp-ts/postage so the client names no wallet
// library itself.
import type { PostageVaultClient, TypedDataSigner } from "@xmtp-ts/postage";

/** What PostageVaultClient sends transactions and reads the chain through (ethers' ContractRunner). */
export type VaultRunner = ConstructorParameters<typeof PostageVaultClient>[1];

export type PostagePayer = TypedDataSigner &
  VaultRunner & {
    getAddress(): Promise<string>;
  };
