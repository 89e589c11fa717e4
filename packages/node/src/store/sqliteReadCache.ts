// The SQLite store's memory of recently read envelopes, by row number. Rows are immutable once stored, so an entry
// never goes stale; rows deleted by retention are forgotten in the same turn as their deletion (and a page is
// always first read as row numbers from the database, so a deleted row is never asked for anyway); a hot page costs no blob copies and no BigInt conversions, and the HTTP layer's per-envelope JSON,
// keyed by the envelope object, stays valid.
import type { StoredEnvelope } from "./EnvelopeStore.js";

/** Default memory budget of the envelope cache: message and topic bytes of the envelopes kept. */
export const DEFAULT_ENVELOPE_CACHE_BYTES = 8 * 1024 * 1024;
/** What a cached envelope costs beyond its message and topic bytes (objects, digest, map entry), roughly. */
const CACHE_ENTRY_OVERHEAD_BYTES = 200;
/** Cache keys are plain numbers; rows numbered beyond this (never in practice) are not cached. */
const MAX_CACHED_SEQ = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Recently read envelopes by row number, within a byte budget. Eviction is second-chance (CLOCK): a hit only sets
 * a flag, so reading a hot page costs no map reordering; the oldest entry is evicted unless it was used since it
 * last came up, in which case it goes to the back once.
 */
export class EnvelopeCache {
  private readonly entries = new Map<number, { envelope: StoredEnvelope; bytes: number; used: boolean }>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  get enabled(): boolean {
    return this.budgetBytes > 0;
  }

  get(seq: number): StoredEnvelope | undefined {
    const entry = this.entries.get(seq);
    if (!entry) return undefined;
    entry.used = true;
    return entry.envelope;
  }

  /**
   * The page's envelopes when every one of them is cached (with a byte budget: every one up to and including the
   * envelope that reaches it); undefined otherwise.
   */
  page(seqs: number[], maxBytes: number | undefined): StoredEnvelope[] | undefined {
    const budget = maxBytes ?? Infinity;
    const envelopes: StoredEnvelope[] = [];
    let bytes = 0;
    for (let i = 0; i < seqs.length && bytes < budget; i++) {
      const envelope = this.get(seqs[i]);
      if (!envelope) return undefined;
      envelopes.push(envelope);
      bytes += envelope.message.byteLength;
    }
    return envelopes;
  }

  add(seq: bigint, envelope: StoredEnvelope): void {
    const bytes = envelope.message.byteLength + envelope.contentTopic.length + CACHE_ENTRY_OVERHEAD_BYTES;
    if (bytes > this.budgetBytes || seq > MAX_CACHED_SEQ) return;
    const key = Number(seq);
    if (this.entries.has(key)) return;
    while (this.bytes + bytes > this.budgetBytes) this.evictOne();
    this.entries.set(key, { envelope, bytes, used: false });
    this.bytes += bytes;
  }

  /** Forgets a row (deleted by retention). */
  forget(seq: bigint): void {
    if (seq > MAX_CACHED_SEQ) return;
    const key = Number(seq);
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (entry.used) {
        entry.used = false;
        this.entries.set(key, entry);
      } else {
        this.bytes -= entry.bytes;
        return;
      }
    }
  }
}
