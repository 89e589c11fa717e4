// The envelope's identity (docs/postage.md §3, docs/protocol/api.md §2.2): sha256(utf8(content_topic) ‖ message).
// The node hashes it with node:crypto (packages/node/src/store/digest.ts); seals and stamps are made in browsers
// too, so this one uses the portable hash of @xmtp-ts/crypto. Both give the same 32 bytes.
import { concatBytes, sha256, utf8ToBytes } from "@xmtp-ts/crypto";

export const ENVELOPE_DIGEST_BYTES = 32;

export function envelopeDigest(contentTopic: string, message: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8ToBytes(contentTopic), message));
}
