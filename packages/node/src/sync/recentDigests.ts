// The digests of the envelopes this node stored most recently (through the relay, catch-up or a local publish), so
// a sync pass can skip what gossip already delivered. Only envelopes known to be committed are added: an entry
// means "stored here", and a false entry would make catch-up skip an envelope for good.
import type { Envelope } from "../store/EnvelopeStore.js";
import { envelopeDigest } from "../store/digest.js";

/** About 90 bytes per entry: the default keeps ~9 MB, several anti-entropy intervals at a thousand envelopes/s. */
export const DEFAULT_RECENT_DIGESTS = 100_000;

export class RecentDigests {
  // A Set iterates in insertion order, so its first key is the oldest.
  private readonly keys = new Set<string>();

  constructor(private readonly capacity = DEFAULT_RECENT_DIGESTS) {}

  get size(): number {
    return this.keys.size;
  }

  has(digest: Uint8Array): boolean {
    return this.keys.has(keyOf(digest));
  }

  add(digest: Uint8Array): void {
    const key = keyOf(digest);
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value!);
  }

  /** Adds stored envelopes, using their digest when they carry one. */
  addEnvelopes(envelopes: readonly (Envelope & { digest?: Uint8Array })[]): void {
    for (const envelope of envelopes) this.add(envelope.digest ?? envelopeDigest(envelope.contentTopic, envelope.message));
  }
}

// latin1 maps each byte to one character: a compact, exact key.
function keyOf(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString("latin1");
}
