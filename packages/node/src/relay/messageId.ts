// Gossipsub message ids for the Waku relay: sha256 of the message data, the same id gossipsub derives for unsigned
// (StrictNoSign) messages by default, so peers agree on ids (IHAVE/IWANT) whichever implementation they run. Only
// the computation is cheaper: the default hashes through multiformats with a fresh Hash object and an async call,
// and turns every id into a base64 string in JavaScript. Ids are computed for every message a node publishes or
// receives, and the string form is the key of gossipsub's seen, message and gossip caches.
import { createHash, hash } from "node:crypto";
import type { Message } from "@libp2p/gossipsub";

/** node:crypto's one-shot hash (Node.js >= 20.12) skips the Hash object; older versions fall back to createHash. */
const sha256: (data: Uint8Array) => Uint8Array =
  typeof hash === "function"
    ? (data) => hash("sha256", data, "buffer")
    : (data) => createHash("sha256").update(data).digest();

/** The message id: sha256(message data). */
export function relayMessageId(message: Message): Uint8Array {
  return sha256(message.data);
}

/**
 * The string form of a message id, used only as a map key inside this node: one character per byte (latin1), which
 * is exact and shorter than base64.
 */
export function relayMessageIdKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("latin1");
}
