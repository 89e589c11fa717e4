// The digests of the envelopes this node stored most recently (through the relay, catch-up or a local publish), so
// a sync pass can skip what gossip already delivered. Only envelopes known to be committed are added: an entry
// means "stored here", and a false entry would make catch-up skip an envelope for good.
//
// Every stored envelope is added and every offered one looked up, so both must be cheap: entries are keyed by the
// digest's first 48 bits as a number (no string made per digest), and a hit counts only if the whole digest matches.
// Two digests sharing 48 bits (about once in 2^48 pairs) only cost a re-transfer: the later one replaces the earlier,
// which then reads as unknown and is fetched again, and the store drops the duplicate.
import type { Envelope } from "../store/EnvelopeStore.js";
import { envelopeDigest } from "../store/digest.js";
import { equalBytes } from "@xmtp-ts/crypto";

/** About 200 bytes per entry (map slot and digest): the default keeps ~20 MB, several anti-entropy intervals at a thousand envelopes/s. */
export const DEFAULT_RECENT_DIGESTS = 100_000;

export class RecentDigests {
  // A Map iterates in insertion order, so its first key is the oldest.
  private readonly entries = new Map<number, Uint8Array>();

  constructor(private readonly capacity = DEFAULT_RECENT_DIGESTS) {}

  get size(): number {
    return this.entries.size;
  }

  has(digest: Uint8Array): boolean {
    const known = this.entries.get(keyOf(digest));
    return known !== undefined && equalBytes(known, digest);
  }

  add(digest: Uint8Array): void {
    const key = keyOf(digest);
    this.entries.delete(key);
    this.entries.set(key, digest);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Adds stored envelopes, using their digest when they carry one. */
  addEnvelopes(envelopes: readonly (Envelope & { digest?: Uint8Array })[]): void {
    for (const envelope of envelopes) this.add(envelope.digest ?? envelopeDigest(envelope.contentTopic, envelope.message));
  }
}

function keyOf(digest: Uint8Array): number {
  if (digest.length < 6) throw new RangeError(`a digest has 32 bytes, got ${digest.length}`);
  return digest[0] * 2 ** 40 + digest[1] * 2 ** 32 + digest[2] * 2 ** 24 + digest[3] * 2 ** 16 + digest[4] * 2 ** 8 + digest[5];
}
