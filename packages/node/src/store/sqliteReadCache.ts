// The SQLite store's memory of recently read envelopes, by row number. Rows are immutable once stored, so an entry
// never goes stale; rows deleted by retention are forgotten in the same turn as their deletion (and a page is
// always first read as row numbers from the database, so a deleted row is never asked for anyway); a hot page costs
// no blob copies and no BigInt conversions, and the HTTP layer's per-envelope JSON,
// keyed by the envelope object, stays valid.
import type { StoredEnvelope } from "./EnvelopeStore.js";

/** Default memory budget of the envelope cache: message and topic bytes of the envelopes kept. */
export const DEFAULT_ENVELOPE_CACHE_BYTES = 8 * 1024 * 1024;
/** What a cached envelope costs beyond its message and topic bytes (objects, digest, map entry), roughly. */
const CACHE_ENTRY_OVERHEAD_BYTES = 200;
/** Cache keys are plain numbers; rows numbered beyond this (never in practice) are not cached. */
const MAX_CACHED_SEQ = BigInt(Number.MAX_SAFE_INTEGER);

/** Row numbers the admission filter remembers per generation, per byte of cache budget (one per 512 bytes). */
const ASKED_ROWS_PER_BUDGET_BYTE = 1 / 512;

/**
 * Recently read envelopes by row number, within a byte budget. Eviction is second-chance (CLOCK): a hit only sets
 * a flag, so reading a hot page costs no map reordering; the oldest entry is evicted unless it was used since it
 * last came up, in which case it goes to the back once.
 *
 * Admission: while the budget has room, every envelope read is kept; once it is full, only an envelope read before
 * (and remembered by AskedBefore) displaces another. On a big store read at random, most pages are read once: keeping
 * each of them evicted another envelope for nothing (measured with a variant of bench/store.js on 1,000,000
 * envelopes: a page in the middle took 0.4-0.6 ms more at p50, and a query 30-50% more CPU, with the cache than
 * without it, while a cache too small to admit anything cost no more than none; most likely the garbage collector's
 * work on the kept objects, not measured apart).
 */
export class EnvelopeCache {
  private readonly entries = new Map<number, { envelope: StoredEnvelope; bytes: number; used: boolean }>();
  private readonly askedBefore: AskedBefore;
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {
    this.askedBefore = new AskedBefore(Math.max(1_024, Math.ceil(budgetBytes * ASKED_ROWS_PER_BUDGET_BYTE)));
  }

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
    if (this.bytes + bytes > this.budgetBytes && !this.askedBefore.check(key)) return;
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

/**
 * Row numbers read recently but not admitted to the cache: two generations of sets, the older dropped when the newer
 * fills, so it remembers between `capacity` and twice as many, in a few hundred KB.
 */
class AskedBefore {
  private current = new Set<number>();
  private previous = new Set<number>();

  constructor(private readonly capacity: number) {}

  /** Whether `key` was checked before (and is still remembered); if not, it is remembered from now on. */
  check(key: number): boolean {
    if (this.current.has(key) || this.previous.has(key)) return true;
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(key);
    return false;
  }
}
