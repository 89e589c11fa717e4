import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";

/** noble's until the back end finds node:crypto (under Node.js), whose native SHA-256 is several times faster. */
let sha256Implementation: (data: Uint8Array) => Uint8Array = nobleSha256;

/** Called by the back end once a native SHA-256 is loaded; the result must equal noble's for every input. */
export function useNativeSha256(implementation: (data: Uint8Array) => Uint8Array): void {
  sha256Implementation = implementation;
}

export function sha256(data: Uint8Array): Uint8Array {
  return sha256Implementation(data);
}

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}
