// The SQLite store's tables and their migrations, applied when a database is opened.
import type Database from "better-sqlite3";
import { SQLITE_POSTAGE_SCHEMA } from "./sqlitePostageLedger.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS envelopes (
  seq INTEGER PRIMARY KEY,
  digest BLOB NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  timestamp_ns INTEGER NOT NULL,
  message BLOB NOT NULL
);
-- The implicit rowid (seq) ends this index, so it serves ORDER BY timestamp_ns, seq within a topic.
CREATE INDEX IF NOT EXISTS envelopes_by_topic_time ON envelopes (topic, timestamp_ns);
-- One row rewritten by probeWrite(): proves the disk takes writes again after a fault, without touching envelopes.
CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, filler BLOB NOT NULL);
`;

/**
 * Schema versions after the original one (PRAGMA user_version 0, the SCHEMA above), applied in order at open, each
 * in one transaction with the version bump. A database of a newer version than this list is refused.
 */
const SQLITE_MIGRATIONS: Array<{ version: number; migrate: (db: Database.Database) => void }> = [
  {
    // The Waku (RFC 14) hash of each envelope, for Store v3 cursors and hash lookups: nullable, filled on append and
    // by the back-fill at open (see sqliteWakuBackfill.ts). Adding a nullable column rewrites no row. Not UNIQUE: RFC
    // 14's concatenation lets two different envelopes of different topics be crafted to share a hash, and an append
    // must never be refused for it. store_meta records the configuration the column was computed under.
    version: 1,
    migrate(db) {
      const columns = db.prepare("PRAGMA table_info(envelopes)").all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === "waku_hash")) db.exec("ALTER TABLE envelopes ADD COLUMN waku_hash BLOB");
      db.exec(`CREATE INDEX IF NOT EXISTS envelopes_by_waku_hash ON envelopes (waku_hash);
               CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    },
  },
  {
    // Postage (docs/postage.md): proofs kept beside the envelopes they came with, relationships, accepted vouchers.
    version: 2,
    migrate(db) {
      db.exec(SQLITE_POSTAGE_SCHEMA);
    },
  },
  {
    // Retention (docs/storage.md): pruning by age walks the envelopes from the oldest (the implicit rowid ends the
    // index, so it is ordered by timestamp_ns, seq), and each batch starts where the previous one's deletions left
    // off instead of rescanning a whole class of topics. Live traffic writes it near its right edge (sender times of
    // new envelopes are close to now): about one more page per commit, not per envelope. Building it on a big
    // database takes a while, once, at open.
    version: 3,
    migrate(db) {
      db.exec("CREATE INDEX IF NOT EXISTS envelopes_by_time ON envelopes (timestamp_ns)");
    },
  },
];
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;

/** Creates the tables of a new database and brings an older one up to SQLITE_SCHEMA_VERSION. */
export function createOrMigrateSchema(db: Database.Database): void {
  db.exec(SCHEMA);
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this node understands (${SQLITE_SCHEMA_VERSION})`);
  }
  for (const migration of SQLITE_MIGRATIONS) {
    if (migration.version <= version) continue;
    db.transaction(() => {
      migration.migrate(db);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
