// The checks a page-level snapshot's database passes before anything uses it (docs/storage.md §6), once its bytes
// matched the SHA-256 of the trailer: that digest proves the file is the one the source wrote, not that what the
// source wrote is a sound database of this node's schema. A file that fails is refused with a SnapshotError; the
// caller removes it.
import Database from "better-sqlite3";
import { open } from "node:fs/promises";
import type { WakuHasher } from "../store/EnvelopeStore.js";
import { SQLITE_SCHEMA_VERSION, createOrMigrateSchema } from "../store/sqliteSchema.js";
import { backfillWakuHashes } from "../store/sqliteWakuBackfill.js";
import { DROPPED_TABLES, dropNodeLocalState } from "./nodeLocalState.js";
import { SnapshotError, type SnapshotHeader } from "./snapshotFormat.js";

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");
/** Rows per back-fill transaction when the Waku hashes are derived again (the store's own back-fill, in a file no one else has open). */
const WAKU_BACKFILL_BATCH = 10_000;
/** SQLite's query-planner statistics (ANALYZE): derived data a node may have, harmless to keep. */
const STATISTICS_TABLES = new Set(["sqlite_stat1", "sqlite_stat4"]);

export interface CheckSnapshotDatabaseOptions {
  /**
   * The restored node's Waku hasher, when the database becomes its store: hashes the source computed under the same
   * configuration are kept, any others (or none) are computed as the store would at open. Without one, the column and
   * the configuration it records stay as the source left them: the store re-hashes at any later open with a hasher
   * whose configuration differs, exactly as on the source.
   */
  wakuHasher?: WakuHasher;
  /** Remove node-local state and switch to WAL: the file becomes a node's store. Otherwise it is only read from. */
  forStore: boolean;
}

/**
 * Checks, in this order: the SQLite header; PRAGMA quick_check; that every table, index, trigger and view is one
 * this node's schema has (node-local tables aside), before anything writes to the file; the schema version (older:
 * migrated as the store would at open; newer: refused); every table's columns and every index's columns, uniqueness
 * and origin against a database this node creates; the envelope count and head sequence against the header.
 */
export async function checkSnapshotDatabase(path: string, header: SnapshotHeader, options: CheckSnapshotDatabaseOptions): Promise<void> {
  const start = Buffer.alloc(SQLITE_MAGIC.length);
  const file = await open(path, "r");
  try {
    await file.read(start, 0, start.length, 0);
  } finally {
    await file.close();
  }
  if (!start.equals(SQLITE_MAGIC)) throw new SnapshotError("corrupt", "the snapshot's body is not a SQLite database (no SQLite header)");
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    throw new SnapshotError("corrupt", `the snapshot's database does not open (${(error as Error).message})`);
  }
  try {
    // Nothing in the file's schema (a view's or trigger's SQL) may call functions with side effects.
    db.pragma("trusted_schema = OFF");
    // The file is this restore's own until it is renamed into place: a crash leaves it to be removed, never opened.
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    checkIntegrity(db);
    const reference = new Database(":memory:");
    try {
      createOrMigrateSchema(reference);
      checkObjects(db, reference);
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version > SQLITE_SCHEMA_VERSION) {
        throw new SnapshotError(
          "unsupported_version",
          `the snapshot's database has schema version ${version}, newer than this node understands (${SQLITE_SCHEMA_VERSION})`,
        );
      }
      if (version < SQLITE_SCHEMA_VERSION) createOrMigrateSchema(db);
      const actual = describeSchema(db);
      const wanted = describeSchema(reference);
      const differences = [
        ...actual.filter((line) => !wanted.includes(line)).map((line) => `unexpected ${line}`),
        ...wanted.filter((line) => !actual.includes(line)).map((line) => `missing ${line}`),
      ];
      if (differences.length > 0) {
        throw new SnapshotError("corrupt", `the snapshot's database does not have this node's schema: ${differences.join("; ")}`);
      }
    } finally {
      reference.close();
    }
    if (options.forStore) dropNodeLocalState(db);
    const { count, head } = db.prepare("SELECT count(*) AS count, coalesce(max(seq), 0) AS head FROM envelopes").safeIntegers(true).get() as { count: bigint; head: bigint };
    if (Number(count) !== header.envelopeCount) {
      throw new SnapshotError("count_mismatch", `the snapshot's database holds ${count} envelopes where its header counts ${header.envelopeCount}`);
    }
    if (head !== header.headSequence) {
      throw new SnapshotError("corrupt", `the snapshot's database ends at sequence ${head} where its header says ${header.headSequence}`);
    }
    if (options.forStore) {
      if (options.wakuHasher) backfillWakuHashes(db, options.wakuHasher, WAKU_BACKFILL_BATCH);
      db.pragma("journal_mode = WAL");
    }
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    throw new SnapshotError("corrupt", `the snapshot's database is damaged (${(error as Error).message})`);
  } finally {
    db.close();
  }
}

/**
 * quick_check: every page of every b-tree and overflow chain is well formed, the free list accounts for the rest, and
 * every row's NOT NULL and CHECK constraints hold. integrity_check would also prove that each index holds exactly its
 * table's rows; on 1,000,000 envelopes (1.66 GB) it took 9.2 s of CPU against 2.4 s, more than the rest of the restore
 * together. An index that disagrees with its table is not damage a transfer causes (the file's SHA-256 proves it is
 * the bytes the source's SQLite wrote): only a source database already broken that way, or a file crafted so.
 */
function checkIntegrity(db: Database.Database): void {
  const problems = db.prepare("PRAGMA quick_check(20)").pluck().all() as string[];
  if (problems.length !== 1 || problems[0] !== "ok") {
    throw new SnapshotError("corrupt", `the snapshot's database fails SQLite's integrity check: ${problems.slice(0, 3).join("; ")}`);
  }
}

/** Refuses any object the node's schema does not have, before the file is migrated or written to. */
function checkObjects(db: Database.Database, reference: Database.Database): void {
  const known = new Set((reference.prepare("SELECT type || ' ' || name FROM sqlite_master").pluck().all() as string[]));
  for (const table of DROPPED_TABLES) known.add(`table ${table}`);
  for (const table of STATISTICS_TABLES) known.add(`table ${table}`);
  // Autoindexes of node-local tables (their PRIMARY KEY) go with them.
  const objects = db.prepare("SELECT type, name, tbl_name FROM sqlite_master").all() as Array<{ type: string; name: string; tbl_name: string }>;
  const foreign = objects.filter((o) => !known.has(`${o.type} ${o.name}`) && !(o.type === "index" && DROPPED_TABLES.includes(o.tbl_name) && o.name.startsWith("sqlite_autoindex_")));
  if (foreign.length > 0) {
    throw new SnapshotError("corrupt", `the snapshot's database does not have this node's schema: it has ${foreign.map((o) => `${o.type} ${o.name}`).join(", ")}`);
  }
}

/** Every table's columns and every index's columns, uniqueness and origin, one line each, statistics and node-local tables aside. */
function describeSchema(db: Database.Database): string[] {
  const lines: string[] = [];
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  for (const table of tables) {
    if (STATISTICS_TABLES.has(table) || DROPPED_TABLES.includes(table)) continue;
    const columns = db.prepare("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?)").all(table);
    lines.push(`table ${table} ${JSON.stringify(columns)}`);
    const indexes = db.prepare("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name").all(table) as Array<{ name: string }>;
    for (const index of indexes) {
      const keys = db.prepare("SELECT name, \"desc\", coll, key FROM pragma_index_xinfo(?)").all(index.name);
      lines.push(`index ${index.name} on ${table} ${JSON.stringify(index)} ${JSON.stringify(keys)}`);
    }
  }
  return lines;
}
