// Results kept for a fixed time, with the clock injectable (tests move it instead of waiting).

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    /** Entries kept at most; the oldest go first. */
    private readonly maxEntries = 10_000,
  ) {}

  /** The value stored under `key` if it has not expired; `found` tells a stored undefined/null from none. */
  get(key: string): { found: true; value: V } | { found: false } {
    const entry = this.entries.get(key);
    if (!entry) return { found: false };
    if (this.now() >= entry.expiresAt) {
      this.entries.delete(key);
      return { found: false };
    }
    return { found: true, value: entry.value };
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  clear(): void {
    this.entries.clear();
  }
}
