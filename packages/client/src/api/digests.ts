// The two digests the client keys envelopes by, each named for what it covers.
import { concatBytes, sha256, toHex, utf8ToBytes } from "@xmtp-ts/crypto";
import type { Envelope } from "./types.js";

/** sha256(message), hex: the same bytes on any topic (an invitation or intro copied to both parties' topics). */
export function messageDigestHex(message: Uint8Array): string {
  return toHex(sha256(message));
}

/** sha256(contentTopic ‖ message), hex: the node's envelope identity; the same bytes on another topic are another envelope. */
export function envelopeDigestHex(envelope: Pick<Envelope, "contentTopic" | "message">): string {
  return toHex(sha256(concatBytes(utf8ToBytes(envelope.contentTopic), envelope.message)));
}
