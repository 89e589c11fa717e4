import { publicKeyToAddress } from "./address.js";
import { concatBytes, toHex, utf8ToBytes } from "./bytes.js";
import { keccak256 } from "./hashes.js";
import { getPublicKey, InvalidSignatureError, recoverPublicKey, signDigest, type CompactSignature } from "./secp256k1.js";

const SIGNATURES_INFO = "\n\nFor more info: https://xmtp.org/signatures/";

/** The text a wallet signs to vouch for a new identity key (over the key's unsigned bytes). */
export function createIdentityText(unsignedKeyBytes: Uint8Array): string {
  return "XMTP : Create Identity\n" + toHex(unsignedKeyBytes) + SIGNATURES_INFO;
}

/** The text a wallet signs to derive the secret that encrypts its stored private keys. */
export function enableIdentityText(walletPreKey: Uint8Array): string {
  return "XMTP : Enable Identity\n" + toHex(walletPreKey) + SIGNATURES_INFO;
}

/** EIP-191 personal_sign digest of a text (UTF-8) or of raw bytes. */
export function hashPersonalMessage(message: string | Uint8Array): Uint8Array {
  const body = typeof message === "string" ? utf8ToBytes(message) : message;
  return keccak256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${body.length}`), body));
}

/** Splits a 65-byte wallet signature r||s||v (v in 27/28 or 0/1) into XMTP's compact form. */
export function walletSignatureToCompact(signature: Uint8Array): CompactSignature {
  if (signature.length !== 65) {
    throw new InvalidSignatureError(`wallet signature must be 65 bytes, got ${signature.length}`);
  }
  let v = signature[64];
  if (v === 0 || v === 1) v += 27;
  if (v !== 27 && v !== 28) throw new InvalidSignatureError(`wallet signature has an invalid v byte ${signature[64]}`);
  return { bytes: signature.slice(0, 64), recovery: 1 - (v % 2) };
}

/** Joins a compact signature back into the 65-byte r||s||v form wallets produce (v = 27 + recovery). */
export function compactToWalletSignature(signature: CompactSignature): Uint8Array {
  return concatBytes(signature.bytes, new Uint8Array([27 + signature.recovery]));
}

/** The EIP-55 address of the wallet that personal_signed `text`. */
export function recoverWalletAddress(text: string, signature: CompactSignature): string {
  return publicKeyToAddress(recoverPublicKey(hashPersonalMessage(text), signature));
}

/** What XMTP asks of a wallet: its address and EIP-191 personal_sign returning 0x-hex r||s||v. */
export interface PersonalSigner {
  getAddress(): Promise<string>;
  signMessage(message: string | Uint8Array): Promise<string>;
}

/** A wallet over a raw secp256k1 private key, signing exactly as ethers and viem do (v = 27/28, low-S). */
export function privateKeySigner(privateKey: Uint8Array): PersonalSigner & { address: string } {
  const address = publicKeyToAddress(getPublicKey(privateKey));
  return {
    address,
    async getAddress() {
      return address;
    },
    async signMessage(message) {
      return "0x" + toHex(compactToWalletSignature(signDigest(hashPersonalMessage(message), privateKey)));
    },
  };
}
