// Addresses inside proofs and topics are compared as exact strings, so they must be in the one form every party
// writes: EIP-55 (docs/postage.md §3). Lower-case or otherwise mis-cased addresses are refused, never normalized,
// so two spellings of one proof cannot both be valid.
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";

export function isEip55Address(value: string): boolean {
  return isAddress(value) && toChecksumAddress(value) === value;
}
