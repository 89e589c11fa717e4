import { privateKeySigner as signerOverKey, type PersonalSigner } from "@xmtp-ts/crypto";
import type { WalletIdentity } from "./identity.js";

/** The wallet interface the client asks for: an address and EIP-191 personal_sign. */
export type WalletSigner = PersonalSigner;

/** A signer over the identity's raw private key, producing the signatures wallets produce (v = 27/28). */
export function privateKeySigner(identity: WalletIdentity): WalletSigner {
  return signerOverKey(identity.privateKey);
}
