// Filling a new SQLite database in one go (snapshot restore into a data directory that has none, docs/storage.md §6).
// Appending through the store makes every batch durable on its own: a WAL flush per commit, every row written twice
// (WAL, then checkpoint), and each of the four indexes updated entry by entry at random places. Here the rows go into
// `${path}.restoring` with no journal and no sync, the secondary indexes are dropped and built once at the end
// (SQLite sorts, then writes each index front to back), and the file is synced and renamed to `path` only on commit.
// Until then no database exists at `path`: a failed or interrupted load leaves nothing a node would open (abort, or
// the next load, removes the half-written file).
import Database from "better-sqlite3";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { StoredEnvelope, WakuHasher } from "./EnvelopeStore.js";
import { removeDatabaseFiles, syncPath } from "./sqliteFiles.js";
import { toColumn } from "./sqliteRows.js";
import { createOrMigrateSchema } from "./sqliteSchema.js";

/**
 * SQLite's page cache while loading. The digest's UNIQUE index is the one still filled entry by entry (in random
 * order); kept in memory it costs no reads. About 50 bytes an entry: 256 MiB holds the index of ~5 million envelopes.
 */
const LOAD_CACHE_KIB = 256 * 1024;

export interface SqliteBulkLoadOptions {
  /** Computes each envelope's Waku hash as the store would (openConfiguredStore's hasher); none leaves it NULL. */
  wakuHasher?: WakuHasher;
}

export class SqliteBulkLoader {
  private readonly db: Database.Database;
  private readonly loadPath: string;
  /** The secondary indexes of `envelopes` (name and DDL), dropped while loading and created again on commit. */
  private readonly indexes: Array<{ name: string; sql: string }>;
  /** The first directory this load created, removed again by abort. */
  private readonly createdDirectory: string | undefined;
  private readonly insertBatch: (envelopes: StoredEnvelope[]) => number;
  private finished = false;

  /** Refuses a path where a database exists: it would be replaced, whatever it holds. */
  constructor(readonly path: string, options: SqliteBulkLoadOptions = {}) {
    if (existsSync(path)) throw new Error(`a database already exists at ${path}: a bulk load fills a new one only`);
    this.loadPath = `${path}.restoring`;
    this.createdDirectory = mkdirSync(dirname(path), { recursive: true });
    removeDatabaseFiles(this.loadPath); // left by a load that was interrupted
    this.db = new Database(this.loadPath);
    try {
      this.db.pragma("journal_mode = OFF");
      this.db.pragma("synchronous = OFF");
      this.db.pragma("locking_mode = EXCLUSIVE");
      this.db.pragma(`cache_size = -${LOAD_CACHE_KIB}`);
      createOrMigrateSchema(this.db);
      const hasher = options.wakuHasher;
      if (hasher) {
        // Every row gets its hash here, so the store's back-fill at open finds nothing to do.
        this.db.prepare("INSERT INTO store_meta (key, value) VALUES ('waku_hash_config', ?)").run(hasher.configuration);
      }
      this.indexes = this.db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'envelopes' AND sql IS NOT NULL")
        .all() as Array<{ name: string; sql: string }>;
      for (const { name } of this.indexes) this.db.exec(`DROP INDEX "${name}"`);
      const insert = this.db.prepare(
        "INSERT OR IGNORE INTO envelopes (digest, topic, timestamp_ns, message, waku_hash) VALUES (?, ?, ?, ?, ?)",
      );
      const insertProof = this.db.prepare("INSERT OR IGNORE INTO postage_proofs (digest, proof) VALUES (?, ?)");
      this.insertBatch = this.db.transaction((envelopes: StoredEnvelope[]) => {
        let added = 0;
        for (const e of envelopes) {
          if (insert.run(e.digest, e.contentTopic, toColumn(e.timestampNs), e.message, hasher?.hash(e) ?? null).changes !== 1) continue;
          if (e.postage) insertProof.run(e.digest, e.postage);
          added++;
        }
        return added;
      });
    } catch (error) {
      this.db.close();
      removeDatabaseFiles(this.loadPath);
      throw error;
    }
  }

  /** Appends in order (each gets the next sequence); returns how many were new (a repeated digest is skipped). */
  append(envelopes: StoredEnvelope[]): number {
    if (this.finished) throw new Error("the bulk load is finished");
    return this.insertBatch(envelopes);
  }

  /** Builds the indexes, switches the file to WAL as the store runs it, syncs it and puts it at `path`. */
  commit(): void {
    if (this.finished) throw new Error("the bulk load is finished");
    this.finished = true;
    try {
      for (const { sql } of this.indexes) this.db.exec(sql);
      this.db.pragma("journal_mode = WAL");
      this.db.close();
      syncPath(this.loadPath);
      renameSync(this.loadPath, this.path);
      syncPath(dirname(this.path));
    } catch (error) {
      if (this.db.open) this.db.close();
      removeDatabaseFiles(this.loadPath);
      throw error;
    }
  }

  /** Discards the load: no database at `path`, and the directory removed again if the load created it. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.db.close();
    removeDatabaseFiles(this.loadPath);
    if (this.createdDirectory) rmSync(this.createdDirectory, { recursive: true, force: true });
  }
}
