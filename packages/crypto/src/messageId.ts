import { toHex } from "./bytes.js";
import { sha256 } from "./hashes.js";

/** A message's id on both sides: lowercase hex of sha256(envelope message bytes). */
export function messageId(envelopeMessage: Uint8Array): string {
  return toHex(sha256(envelopeMessage));
}
