import {
  compactToWalletSignature,
  concatBytes,
  hashPersonalMessage,
  keccak256,
  signDigest,
  toHex,
  utf8ToBytes,
} from "@xmtp-ts/crypto";
import type { WalletIdentity } from "./identity.js";

/** The wallet interface the client asks for: an address and EIP-191 personal_sign. */
export interface WalletSigner {
  getAddress(): Promise<string>;
  signMessage(message: string | Uint8Array): Promise<string>;
}

function personalMessageDigest(message: string | Uint8Array): Uint8Array {
  if (typeof message === "string") return hashPersonalMessage(message);
  return keccak256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

/** A signer over a raw private key, producing the 0x-hex r||s||v signatures wallets produce (v = 27/28). */
export function privateKeySigner(identity: WalletIdentity): WalletSigner {
  return {
    async getAddress() {
      return identity.address;
    },
    async signMessage(message) {
      const signature = signDigest(personalMessageDigest(message), identity.privateKey);
      return "0x" + toHex(compactToWalletSignature(signature));
    },
  };
}
