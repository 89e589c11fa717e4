// Filling the SQLite store's waku_hash column at open: rows stored before it existed, without a hasher, or under
// another Waku configuration.
import type Database from "better-sqlite3";
import type { WakuHasher } from "./EnvelopeStore.js";
import { toEnvelope, type EnvelopeRow } from "./sqliteRows.js";

/** Message bytes read per back-fill batch at most (beside the row count), so large messages cannot blow up memory. */
const WAKU_BACKFILL_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Brings the waku_hash column in line with `hasher`, in transactions of at most `batchSize` rows (and about 16 MiB
 * of messages), so an interrupted back-fill keeps its progress and resumes at the next open:
 * - store_meta `waku_hash_config` is the configuration every non-NULL waku_hash was computed under. Opening with
 *   another one records the new configuration and marks the rows (0, max seq] as stale (`waku_rehash_after`,
 *   `waku_rehash_through`); they are re-hashed in seq order, the position saved with each batch. Rows appended from
 *   now on are hashed under the new configuration.
 * - then every row still without a hash (stored before the column existed, or while the store had no hasher) is
 *   hashed, found through the waku_hash index (where NULLs sort first).
 */
export function backfillWakuHashes(db: Database.Database, hasher: WakuHasher, batchSize: number): void {
  const getMeta = db.prepare("SELECT value FROM store_meta WHERE key = ?").pluck();
  const setMeta = db.prepare("INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  const update = db.prepare("UPDATE envelopes SET waku_hash = ? WHERE seq = ?");
  db.transaction(() => {
    const recorded = getMeta.get("waku_hash_config") as string | undefined;
    if (recorded === hasher.configuration) return;
    if (recorded !== undefined) {
      const maxSeq = db.prepare("SELECT coalesce(max(seq), 0) FROM envelopes").pluck().safeIntegers(true).get() as bigint;
      setMeta.run("waku_rehash_after", "0");
      setMeta.run("waku_rehash_through", maxSeq.toString());
    }
    setMeta.run("waku_hash_config", hasher.configuration);
  }).immediate();

  const readBatch = (statement: Database.Statement, ...args: unknown[]): EnvelopeRow[] => {
    const rows: EnvelopeRow[] = [];
    let bytes = 0;
    for (const row of statement.iterate(...args) as IterableIterator<EnvelopeRow>) {
      rows.push(row);
      bytes += row.message.byteLength;
      if (bytes >= WAKU_BACKFILL_BATCH_BYTES) break;
    }
    return rows;
  };
  const hashRows = (rows: EnvelopeRow[]) => {
    for (const row of rows) update.run(hasher.hash(toEnvelope(row, row.topic!)), row.seq);
  };

  const staleRows = db
    .prepare(`SELECT seq, digest, topic, timestamp_ns, message FROM envelopes WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ${batchSize}`)
    .safeIntegers(true);
  for (;;) {
    const after = BigInt((getMeta.get("waku_rehash_after") as string | undefined) ?? "0");
    const through = BigInt((getMeta.get("waku_rehash_through") as string | undefined) ?? "0");
    if (after >= through) break;
    const rows = readBatch(staleRows, after, through);
    db.transaction(() => {
      hashRows(rows);
      setMeta.run("waku_rehash_after", (rows.length > 0 ? rows[rows.length - 1].seq : through).toString());
    }).immediate();
  }

  const unhashedRows = db
    .prepare(`SELECT seq, digest, topic, timestamp_ns, message FROM envelopes WHERE waku_hash IS NULL LIMIT ${batchSize}`)
    .safeIntegers(true);
  for (;;) {
    const rows = readBatch(unhashedRows);
    if (rows.length === 0) break;
    db.transaction(() => hashRows(rows)).immediate();
  }
}
