// Where `snapshot restore` writes envelopes: any EnvelopeStore through durable appends (PostgreSQL, a SQLite database
// that exists already), or a new SQLite database file loaded in bulk (a record-format snapshot) or copied whole (a
// page-level one) and put in place only when complete (docs/storage.md §6).
import type { EnvelopeStore, StoredEnvelope, WakuHasher } from "../store/EnvelopeStore.js";
import { SqliteBulkLoader } from "../store/sqliteBulkLoad.js";
import { SnapshotError } from "./snapshotFormat.js";

export interface SnapshotTarget {
  /**
   * Whether `abort` undoes every `load`. Restore then checks the records while it loads them, in one pass; into a
   * target that cannot be undone, it reads the whole snapshot once to check it before the first `load`.
   */
  readonly atomic: boolean;
  /** Envelopes handed to one `load`, at most. */
  readonly batchSize: number;
  /**
   * Set when the target is a SQLite database that does not exist yet: a page-level snapshot's database file is put
   * there whole (restoreDatabaseSnapshot.ts) instead of loaded row by row, with the Waku hashes the node keeps.
   */
  readonly newDatabase?: { path: string; wakuHasher?: WakuHasher };
  /** Opens the target; refuses (`target_not_empty`) one that holds envelopes. */
  open(): Promise<void>;
  /** Stores the envelopes after those already loaded, in order; resolves with how many were new. */
  load(envelopes: StoredEnvelope[]): Promise<number>;
  /** Makes everything loaded durable and the target usable; called once the whole snapshot checked out. */
  commit(): Promise<void>;
  /** Ends a load that failed: an atomic target is left as it was before `open`. */
  abort(): Promise<void>;
}

/** Appends through the store contract, 1,000 envelopes per durable append. */
export function storeSnapshotTarget(openStore: () => Promise<EnvelopeStore>): SnapshotTarget {
  let store: EnvelopeStore | undefined;
  return {
    atomic: false,
    batchSize: 1_000,
    async open() {
      const opened = await openStore();
      store = opened;
      const existing = await opened.readDigestsSince(0n, 1);
      if (existing.sequences.length > 0) {
        throw new SnapshotError("target_not_empty", "the target store already holds envelopes: a snapshot is restored into an empty store only");
      }
    },
    async load(envelopes) {
      return (await store!.append(envelopes, undefined, { durable: true })).length;
    },
    async commit() {
      await store!.flushCommitted();
      await store!.close();
    },
    async abort() {
      await store?.close();
    },
  };
}

/**
 * Loads a SQLite database that does not exist yet (SqliteBulkLoader): rows written without a journal, indexes built
 * at the end, the file renamed into place on commit (rates in the README's "Store at scale", from bench/store.js).
 */
export function sqliteFileSnapshotTarget(path: string, options: { wakuHasher?: WakuHasher } = {}): SnapshotTarget {
  let loader: SqliteBulkLoader | undefined;
  return {
    atomic: true,
    batchSize: 10_000,
    newDatabase: { path, ...(options.wakuHasher ? { wakuHasher: options.wakuHasher } : {}) },
    async open() {
      loader = new SqliteBulkLoader(path, options);
    },
    async load(envelopes) {
      return loader!.append(envelopes);
    },
    async commit() {
      loader!.commit();
    },
    async abort() {
      loader?.abort();
    },
  };
}
