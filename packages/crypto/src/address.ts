import { toHex, utf8ToBytes } from "./bytes.js";
import { keccak256 } from "./hashes.js";

export class InvalidAddressError extends TypeError {
  constructor(readonly address: string) {
    super(`invalid Ethereum address: ${JSON.stringify(address.length > 60 ? address.slice(0, 60) + "…" : address)}`);
    this.name = "InvalidAddressError";
  }
}

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;

export function isAddress(value: string): boolean {
  return ADDRESS_RE.test(value);
}

/** EIP-55 mixed-case checksum form of a 20-byte hex address (input in any case). */
export function toChecksumAddress(address: string): string {
  if (!ADDRESS_RE.test(address)) throw new InvalidAddressError(address);
  const lower = address.slice(2).toLowerCase();
  const hash = toHex(keccak256(utf8ToBytes(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  }
  return out;
}

/** The EIP-55 address of an uncompressed (65-byte) secp256k1 public key. */
export function publicKeyToAddress(publicKey: Uint8Array): string {
  if (publicKey.length !== 65 || publicKey[0] !== 4) {
    throw new TypeError(`expected a 65-byte uncompressed public key, got ${publicKey.length} bytes`);
  }
  const hash = keccak256(publicKey.subarray(1));
  return toChecksumAddress("0x" + toHex(hash.subarray(12)));
}
