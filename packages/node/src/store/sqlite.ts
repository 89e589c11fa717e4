// EnvelopeStore on SQLite (better-sqlite3) in WAL mode.
//
// Durability: an append resolves only after its transaction is committed. With synchronous "full" (the default)
// it also waits until the WAL file is flushed to disk (fdatasync), so an acknowledged envelope survives kill -9
// and power loss; "normal" skips that flush and survives kill -9 (the commit is in the OS page cache) only.
// The flush runs on libuv's thread pool instead of inside SQLite's commit (PRAGMA synchronous=FULL would block
// the event loop on every commit), and one flush covers every commit made before it started (group commit).
// Appends that arrive in the same event-loop turn also share one transaction.
//
// Checkpoints (copying the WAL into the database file, with an fsync of each) run on a worker thread with its own
// connection instead of inside whichever commit crosses SQLite's auto-checkpoint threshold, so they never stall the
// event loop. SQLite starts the WAL over only when a write begins with every frame copied; commits made while a
// background checkpoint copies would prevent that forever (the WAL would grow without bound), so each checkpoint
// ends with a short second pass during which new appends wait (reads go on): the bulk is copied with writes
// flowing, the pause covers only what came in meanwhile.
//
// Queries: a page is first read as row numbers only, from the covering (topic, timestamp_ns) index; rows already
// in the in-memory cache of recently read envelopes are not read again (a hot page costs no blob copies and no
// BigInt conversions, and the HTTP layer's per-envelope JSON, keyed by the envelope object, stays valid). Rows are
// immutable once stored, so the cache never goes stale. LIMIT is written into the SQL, one cached statement per
// page size: SQLite (built with STAT4) re-prepares a statement on every execution when its LIMIT is a bound
// parameter, which cost more than the rest of the query.
import Database from "better-sqlite3";
import { closeSync, fdatasync, mkdirSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import {
  DEFAULT_WAKU_BACKFILL_BATCH_SIZE,
  WakuCursorNotFoundError,
  type AppendOptions,
  type DigestPage,
  type EnvelopePage,
  type EnvelopeQuery,
  type EnvelopeStore,
  type SortDirection,
  type StoredEnvelope,
  type WakuEnvelopeStore,
  type WakuHasher,
  type WakuHashOptions,
  type WakuStoredEnvelope,
  type WakuStorePage,
  type WakuStoreQuery,
} from "./EnvelopeStore.js";
import { asUint8Array } from "./driverBytes.js";
import { checkWakuQuery } from "./wakuQuery.js";
import { SQLITE_POSTAGE_SCHEMA, SqlitePostageLedger } from "./sqlitePostageLedger.js";
import type { PostageLedger } from "./postageLedger.js";
import { asSqliteFault, describeSqliteFault } from "./sqliteFaults.js";

// SQLite integers are signed 64-bit; timestamps are uint64. Shifting by 2^63 maps [0, 2^64) onto the signed range
// and keeps the order, so ranges and ORDER BY work on the column directly.
const TIMESTAMP_OFFSET = 1n << 63n;
const toColumn = (timestampNs: bigint) => timestampNs - TIMESTAMP_OFFSET;
const fromColumn = (value: bigint) => value + TIMESTAMP_OFFSET;
const MIN_COLUMN = toColumn(0n);
const MAX_COLUMN = toColumn((1n << 64n) - 1n);
// Sequence bounds that no row reaches, for "no cursor" and "cursor envelope unknown".
const BEFORE_ALL_SEQ = -1n;
const AFTER_ALL_SEQ = 1n << 62n;
const MAX_CONCURRENT_WAL_SYNCS = 3;
/**
 * Checkpoint once the WAL has grown by about this many pages (as estimated by PAGES_PER_ENVELOPE) since the last one;
 * the WAL file then peaks at ~30 MB. Ten times SQLite's default: every envelope dirties a random leaf of the digest
 * index, and a checkpoint copies each dirtied page once however often the WAL rewrote it, so longer intervals copy
 * far fewer pages per envelope. Appending batches of 40 to a 140 000-envelope store took 28.7 us of CPU per envelope
 * with checkpoints every 1 000 pages and 19.8 us with 10 000; query throughput in bench/run.js stayed level with the
 * bare server (0.99-1.01x).
 */
export const DEFAULT_CHECKPOINT_AFTER_PAGES = 10_000;
const PAGE_BYTES = 4096;
/** Pages a stored envelope dirties besides its bytes: the table leaf and a leaf of each of the two indexes. */
const PAGES_PER_ENVELOPE = 3;
/**
 * Page sizes up to this get their own cached prepared statements (the API's largest page is 500; sync pages 1,000);
 * a larger one is prepared for its call only.
 */
const MAX_LITERAL_LIMIT = 1000;
/** Default memory budget of the envelope cache: message and topic bytes of the envelopes kept. */
export const DEFAULT_ENVELOPE_CACHE_BYTES = 8 * 1024 * 1024;
/** What a cached envelope costs beyond its message and topic bytes (objects, digest, map entry), roughly. */
const CACHE_ENTRY_OVERHEAD_BYTES = 200;
/** Cache keys are plain numbers; rows numbered beyond this (never in practice) are not cached. */
const MAX_CACHED_SEQ = BigInt(Number.MAX_SAFE_INTEGER);

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
    // by the back-fill at open (see backfillWakuHashes). Adding a nullable column rewrites no row. Not UNIQUE: RFC 14's
    // concatenation lets two different envelopes of different topics be crafted to share a hash, and an append must
    // never be refused for it. store_meta records the configuration the column was computed under.
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
];
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;
/** Message bytes read per back-fill batch at most (beside the row count), so large messages cannot blow up memory. */
const WAKU_BACKFILL_BATCH_BYTES = 16 * 1024 * 1024;

export interface SqliteStoreOptions extends WakuHashOptions {
  synchronous?: "full" | "normal";
  /**
   * Memory budget for envelopes kept after queries read them (message and topic bytes), default 8 MiB; 0 turns the
   * cache off. Envelopes handed out by query() may be shared between calls: callers must not modify them.
   */
  cacheBytes?: number;
  /** WAL growth in pages after which a background checkpoint starts; default DEFAULT_CHECKPOINT_AFTER_PAGES. */
  checkpointAfterPages?: number;
}

interface Row {
  seq: bigint;
  digest: Buffer;
  topic?: string;
  timestamp_ns: bigint;
  message: Buffer;
}

interface PageStatements {
  /** Row numbers of the page, in page order. */
  seqs: Database.Statement;
  /** The page's rows. */
  rows: Database.Statement;
}

/** Called with the envelopes an append stored, right after their COMMIT and before the WAL flush. */
export type CommittedListener = (added: StoredEnvelope[]) => void;

interface PendingAppend {
  envelopes: StoredEnvelope[];
  onCommitted: CommittedListener | undefined;
  durable: boolean;
  resolve: (added: StoredEnvelope[]) => void;
  reject: (error: unknown) => void;
}

export class SqliteEnvelopeStore implements WakuEnvelopeStore {
  private readonly db: Database.Database;
  private readonly wakuHasher: WakuHasher | undefined;
  private readonly pagesPerEnvelope: number;
  private readonly wakuKeyStatements = { ascending: new Map<number, Database.Statement>(), descending: new Map<number, Database.Statement>() };
  private wakuStatementsCache: WakuStatements | undefined;
  private readonly insert: Database.Statement;
  /** Postage proofs, relationships and vouchers, in this database (docs/postage.md). */
  readonly postage: PostageLedger;
  private readonly cursorSeq: Database.Statement;
  private readonly pageStatements = { ascending: new Map<number, PageStatements>(), descending: new Map<number, PageStatements>() };
  private readonly digestsSinceStatements = new Map<number, Database.Statement>();
  private readonly bySequence: Database.Statement;
  private readonly cache: EnvelopeCache;
  private readonly insertAll: (batch: PendingAppend[]) => StoredEnvelope[][];
  private readonly flushWal: boolean;
  private walFd: number | undefined;
  /** Committed appends waiting for the next WAL flush. */
  private awaitingSync: Array<{ acknowledge: () => void; fail: (error: unknown) => void }> = [];
  /** WAL flushes in progress; a few may overlap so a commit never waits for an older flush to finish first. */
  private syncsRunning = 0;
  private syncsDone = new Set<Promise<void>>();
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  /** A commit has happened since the store was opened (so the WAL file exists). */
  private committedSinceOpen = false;
  private readonly checkpointer: BackgroundCheckpointer | undefined;
  /** Estimated WAL pages written since the last checkpoint was started. */
  private walPagesSinceCheckpoint = 0;
  private readonly checkpointAfterPages: number;
  /** The checkpoint in progress (both passes). */
  private checkpointing: Promise<void> | undefined;
  /** Appends wait (stay pending) while the last pass of a checkpoint runs. */
  private writesHeld = false;

  constructor(readonly path: string, options: SqliteStoreOptions = {}) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // NORMAL: SQLite itself syncs only at checkpoints (WAL before, database after); commits are made durable
    // by our own fdatasync of the WAL below when flushWal is set.
    this.db.pragma("synchronous = NORMAL");
    this.flushWal = options.synchronous !== "normal" && path !== ":memory:";
    const cacheBytes = options.cacheBytes ?? DEFAULT_ENVELOPE_CACHE_BYTES;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new TypeError(`cacheBytes must be a non-negative integer, got ${cacheBytes}`);
    }
    this.cache = new EnvelopeCache(cacheBytes);
    this.checkpointAfterPages = options.checkpointAfterPages ?? DEFAULT_CHECKPOINT_AFTER_PAGES;
    if (!Number.isSafeInteger(this.checkpointAfterPages) || this.checkpointAfterPages < 1) {
      throw new TypeError(`checkpointAfterPages must be a positive integer, got ${this.checkpointAfterPages}`);
    }
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    migrateSqlite(this.db);
    this.wakuHasher = options.wakuHasher;
    // The waku hash index is one more leaf dirtied per envelope once the column is filled.
    this.pagesPerEnvelope = PAGES_PER_ENVELOPE + (this.wakuHasher ? 1 : 0);
    if (this.wakuHasher) {
      const batchSize = options.wakuBackfillBatchSize ?? DEFAULT_WAKU_BACKFILL_BATCH_SIZE;
      if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
        throw new TypeError(`wakuBackfillBatchSize must be a positive integer, got ${batchSize}`);
      }
      backfillWakuHashes(this.db, this.wakuHasher, batchSize);
    }
    if (path !== ":memory:") {
      this.db.pragma("wal_autocheckpoint = 0");
      // If the worker cannot run, SQLite checkpoints inside commits again, as it does by default.
      this.checkpointer = new BackgroundCheckpointer(path, () => {
        if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.checkpointAfterPages}`);
      });
    }

    this.insert = this.db.prepare(
      "INSERT OR IGNORE INTO envelopes (digest, topic, timestamp_ns, message, waku_hash) VALUES (?, ?, ?, ?, ?)",
    );
    this.bySequence = this.db
      .prepare("SELECT seq, digest, topic, timestamp_ns, message FROM envelopes WHERE seq = ?")
      .safeIntegers(true);
    this.cursorSeq = this.db
      .prepare("SELECT seq FROM envelopes WHERE digest = ? AND timestamp_ns = ?")
      .pluck()
      .safeIntegers(true);
    const insertProof = this.db.prepare("INSERT OR IGNORE INTO postage_proofs (digest, proof) VALUES (?, ?)");
    this.insertAll = this.db.transaction((batch: PendingAppend[]) =>
      batch.map(({ envelopes }) =>
        envelopes.filter((e) => {
          const added =
            this.insert.run(e.digest, e.contentTopic, toColumn(e.timestampNs), e.message, this.wakuHasher?.hash(e) ?? null)
              .changes === 1;
          // Only the first copy's proof is kept: it is the one the envelope was accepted with.
          if (added && e.postage) insertProof.run(e.digest, e.postage);
          return added;
        }),
      ),
    );
    this.postage = new SqlitePostageLedger(this.db, () => this.flushDirectWrite());
  }

  /**
   * EnvelopeStore.append. `onCommitted`, when given, learns the new envelopes as soon as they are committed (visible
   * to queries), before the WAL flush that the returned promise waits for: live subscribers need not wait for the
   * disk. If that flush then fails, the promise rejects although the listener already ran.
   */
  append(envelopes: StoredEnvelope[], onCommitted?: CommittedListener, options: AppendOptions = {}): Promise<StoredEnvelope[]> {
    if (this.closed) return Promise.reject(new Error("envelope store is closed"));
    if (envelopes.length === 0) return Promise.resolve([]);
    const durable = options.durable ?? true;
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, onCommitted, durable, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.writesHeld) return; // flushed when the checkpoint releases the writes
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let results: StoredEnvelope[][];
    try {
      results = this.insertAll(batch);
    } catch (error) {
      // The transaction rolled back: nothing of the batch is stored. A full or failing disk is a 503, not a bug.
      const fault = asSqliteFault(error, "write");
      for (const p of batch) p.reject(fault);
      return;
    }
    this.countWalPages(results);
    for (let i = 0; i < batch.length; i++) {
      const listener = batch[i].onCommitted;
      if (!listener) continue;
      try {
        listener(results[i]);
      } catch {
        // A listener's failure is its caller's business; it must not keep the batch's other appends waiting.
      }
    }
    if (!this.flushWal) return batch.forEach((p, i) => p.resolve(results[i]));
    this.committedSinceOpen = true;
    // Appends that need not wait for the disk are done at the commit; the others wait for the WAL flush.
    const durable: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      if (batch[i].durable) durable.push(i);
      else batch[i].resolve(results[i]);
    }
    if (durable.length === 0) return;
    this.awaitingSync.push({
      acknowledge: () => durable.forEach((i) => batch[i].resolve(results[i])),
      fail: (error) => durable.forEach((i) => batch[i].reject(error)),
    });
    // Next tick, not now: what the commit listeners wrote to subscriber sockets goes out at the next tick (Node
    // uncorks them there, in order), so it reaches the kernel before this dispatch, which can stall on the thread
    // pool's lock when the machine is busy.
    process.nextTick(() => this.syncWal());
  }

  private countWalPages(committed: StoredEnvelope[][]): void {
    if (!this.checkpointer) return;
    for (const envelopes of committed) {
      for (const e of envelopes) this.walPagesSinceCheckpoint += this.pagesPerEnvelope + e.message.byteLength / PAGE_BYTES;
    }
    if (this.walPagesSinceCheckpoint >= this.checkpointAfterPages && !this.checkpointing) {
      this.walPagesSinceCheckpoint = 0;
      void this.checkpointInBackground();
    }
  }

  /**
   * Copies the committed WAL into the database file on the checkpoint worker, so that the next commit starts the
   * WAL over; resolves when done. Runs by itself as the WAL grows; exposed for tests and maintenance.
   */
  checkpointInBackground(): Promise<void> {
    const checkpointer = this.checkpointer;
    if (!checkpointer || this.closed) return Promise.resolve();
    return (this.checkpointing ??= (async () => {
      try {
        await checkpointer.run();
        this.writesHeld = true;
        await checkpointer.run();
      } finally {
        this.writesHeld = false;
        this.checkpointing = undefined;
        if (this.pending.length > 0 && !this.flushScheduled && !this.closed) {
          this.flushScheduled = true;
          setImmediate(() => this.flush());
        }
      }
    })());
  }

  /**
   * Resolves once every append committed before the call is on disk (a WAL flush, shared with any other waiting
   * commits). A durability barrier for appends made with `durable: false`.
   */
  flushCommitted(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("envelope store is closed"));
    // Nothing committed yet means nothing to flush (and, before the first commit, no WAL file to flush).
    if (!this.flushWal || !this.committedSinceOpen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.awaitingSync.push({ acknowledge: resolve, fail: reject });
      this.syncWal();
    });
  }

  /** fdatasync the WAL, then acknowledge every commit made before the flush started. */
  private syncWal(): void {
    if (this.syncsRunning >= MAX_CONCURRENT_WAL_SYNCS || this.awaitingSync.length === 0) return;
    this.syncsRunning++;
    const covered = this.awaitingSync;
    this.awaitingSync = [];
    const done = new Promise<void>((resolve) => {
      const finish = (error: unknown) => {
        this.syncsRunning--;
        // On error the commits are in the database but not known to be on disk: report, don't acknowledge.
        const fault = error ? asSqliteFault(error, "write") : undefined;
        for (const waiter of covered) (fault ? waiter.fail(fault) : waiter.acknowledge());
        this.syncsDone.delete(done);
        resolve();
        this.syncWal();
      };
      try {
        // The WAL exists from the first commit until close and is truncated in place, never replaced while open.
        this.walFd ??= openSync(`${this.path}-wal`, "r+");
      } catch (error) {
        return finish(error);
      }
      fdatasync(this.walFd, finish);
    });
    this.syncsDone.add(done);
  }

  async query(query: EnvelopeQuery): Promise<EnvelopePage> {
    if (this.closed) throw new Error("envelope store is closed");
    const ascending = query.direction === "ascending";
    let low = query.startTimeNs !== undefined ? toColumn(query.startTimeNs) : MIN_COLUMN;
    let high = query.endTimeNs !== undefined ? toColumn(query.endTimeNs) : MAX_COLUMN;
    let cursorTime = ascending ? low : high;
    let cursorSeq = ascending ? BEFORE_ALL_SEQ : AFTER_ALL_SEQ;
    if (query.cursor) {
      cursorTime = toColumn(query.cursor.senderTimeNs);
      if (ascending) low = cursorTime > low ? cursorTime : low;
      else high = cursorTime < high ? cursorTime : high;
      const seq = this.cursorSeq.get(query.cursor.digest, cursorTime) as bigint | undefined;
      // An unknown cursor envelope (e.g. from another node) still means "strictly after its timestamp".
      cursorSeq = seq ?? (ascending ? AFTER_ALL_SEQ : BEFORE_ALL_SEQ);
    }
    const maxBytes = query.maxBytes;
    if (maxBytes !== undefined && !(maxBytes >= 1)) throw new RangeError(`query maxBytes must be at least 1, got ${maxBytes}`);
    const statements = this.pageStatementsFor(query.direction, query.limit);
    const args = [query.topic, low, high, cursorTime, cursorSeq] as const;
    let envelopes = this.cache.enabled ? this.cachedPage(statements.seqs.all(...args) as number[], maxBytes) : undefined;
    if (!envelopes) {
      envelopes = [];
      if (maxBytes === undefined) {
        for (const row of statements.rows.all(...args) as Row[]) envelopes.push(this.remember(row, query.topic));
      } else {
        // Row by row, so that the messages of rows past the budget are never read: leaving the loop resets the statement.
        let bytes = 0;
        for (const row of statements.rows.iterate(...args) as IterableIterator<Row>) {
          envelopes.push(this.remember(row, query.topic));
          bytes += row.message.byteLength;
          if (bytes >= maxBytes) break;
        }
      }
    }
    const last = envelopes[envelopes.length - 1];
    const cut = envelopes.length >= query.limit || (maxBytes !== undefined && messageBytesOf(envelopes) >= maxBytes);
    return { envelopes, cursor: cut && last ? { digest: last.digest, senderTimeNs: last.timestampNs } : undefined };
  }

  private remember(row: Row, topic: string): StoredEnvelope {
    const envelope = toEnvelope(row, topic);
    this.cache.add(row.seq, envelope);
    return envelope;
  }

  /**
   * The page's envelopes when every one of them is cached (with a byte budget: every one up to and including the
   * envelope that reaches it); undefined otherwise.
   */
  private cachedPage(seqs: number[], maxBytes: number | undefined): StoredEnvelope[] | undefined {
    const budget = maxBytes ?? Infinity;
    const envelopes: StoredEnvelope[] = [];
    let bytes = 0;
    for (let i = 0; i < seqs.length && bytes < budget; i++) {
      const envelope = this.cache.get(seqs[i]);
      if (!envelope) return undefined;
      envelopes.push(envelope);
      bytes += envelope.message.byteLength;
    }
    return envelopes;
  }

  private pageStatementsFor(direction: SortDirection, limit: number): PageStatements {
    const ascending = direction === "ascending";
    const byLimit = ascending ? this.pageStatements.ascending : this.pageStatements.descending;
    return statementForLimit(byLimit, limit, "query", () => {
      const page =
        `FROM envelopes WHERE topic = ? AND timestamp_ns >= ? AND timestamp_ns <= ? ` +
        (ascending
          ? `AND (timestamp_ns > ? OR seq > ?) ORDER BY timestamp_ns ASC, seq ASC`
          : `AND (timestamp_ns < ? OR seq < ?) ORDER BY timestamp_ns DESC, seq DESC`) +
        ` LIMIT ${limit}`;
      return {
        // Row numbers as plain numbers: exact up to 2^53, far beyond any row count; larger ones are never cached.
        seqs: this.db.prepare(`SELECT seq ${page}`).pluck(),
        rows: this.db.prepare(`SELECT seq, digest, timestamp_ns, message ${page}`).safeIntegers(true),
      };
    });
  }

  get wakuConfiguration(): string | undefined {
    return this.wakuHasher?.configuration;
  }

  /**
   * WakuEnvelopeStore.queryWaku. Each topic's next `limit` keys (timestamp, row number) are read from the covering
   * (topic, timestamp_ns) index, merged, and cut to the page; only then are the page's rows read, one by one, so the
   * messages of rows past a byte budget are never read. The existing query() path and its cache are not involved.
   */
  async queryWaku(query: WakuStoreQuery): Promise<WakuStorePage> {
    if (this.closed) throw new Error("envelope store is closed");
    const hasher = this.requireWakuHasher();
    const topics = checkWakuQuery(query);
    const ascending = query.direction === "ascending";
    let low = query.startTimeNs !== undefined ? toColumn(query.startTimeNs) : MIN_COLUMN;
    let high = query.endTimeNs !== undefined ? toColumn(query.endTimeNs) : MAX_COLUMN;
    let cursorTime = ascending ? low : high;
    let cursorSeq = ascending ? BEFORE_ALL_SEQ : AFTER_ALL_SEQ;
    const statements = this.wakuStatements();
    if (query.cursor) {
      let found: { seq: bigint; timestamp_ns: bigint } | undefined;
      for (const topic of topics) {
        const row = statements.cursor.get(query.cursor, topic) as { seq: bigint; timestamp_ns: bigint } | undefined;
        if (row && (!found || row.seq < found.seq)) found = row;
      }
      if (!found) throw new WakuCursorNotFoundError(query.cursor);
      cursorTime = found.timestamp_ns;
      cursorSeq = found.seq;
      if (ascending) low = cursorTime > low ? cursorTime : low;
      else high = cursorTime < high ? cursorTime : high;
    }
    const keysStatement = statementForLimit(
      ascending ? this.wakuKeyStatements.ascending : this.wakuKeyStatements.descending,
      query.limit,
      "queryWaku",
      () =>
        this.db
          .prepare(
            `SELECT timestamp_ns, seq FROM envelopes WHERE topic = ? AND timestamp_ns >= ? AND timestamp_ns <= ? ` +
              (ascending
                ? `AND (timestamp_ns > ? OR seq > ?) ORDER BY timestamp_ns ASC, seq ASC`
                : `AND (timestamp_ns < ? OR seq < ?) ORDER BY timestamp_ns DESC, seq DESC`) +
              ` LIMIT ${query.limit}`,
          )
          .raw()
          .safeIntegers(true),
    );
    let keys: Array<[bigint, bigint]> = [];
    for (const topic of topics) keys.push(...(keysStatement.all(topic, low, high, cursorTime, cursorSeq) as Array<[bigint, bigint]>));
    if (topics.length > 1) {
      const sign = ascending ? 1 : -1;
      keys.sort((a, b) => sign * (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      keys = keys.slice(0, query.limit);
    }
    const envelopes: WakuStoredEnvelope[] = [];
    let bytes = 0;
    const budget = query.maxBytes ?? Infinity;
    for (const [, seq] of keys) {
      if (bytes >= budget) break;
      const row = statements.row.get(seq) as (Row & { waku_hash: Buffer | null }) | undefined;
      if (!row) continue; // rows are never deleted; defensive only
      const envelope = toEnvelope(row, row.topic!) as WakuStoredEnvelope;
      envelope.wakuHash = row.waku_hash ? asUint8Array(row.waku_hash) : hasher.hash(envelope);
      envelopes.push(envelope);
      bytes += envelope.message.byteLength;
    }
    const last = envelopes[envelopes.length - 1];
    const cut = envelopes.length >= query.limit || bytes >= budget;
    return { envelopes, cursor: cut && last ? last.wakuHash : undefined };
  }

  async readByWakuHashes(hashes: readonly Uint8Array[]): Promise<WakuStoredEnvelope[]> {
    if (this.closed) throw new Error("envelope store is closed");
    const hasher = this.requireWakuHasher();
    const statements = this.wakuStatements();
    const seen = new Set<string>();
    const envelopes: WakuStoredEnvelope[] = [];
    for (const hash of hashes) {
      const key = Buffer.from(hash).toString("hex");
      if (seen.has(key)) continue;
      seen.add(key);
      const row = statements.byHash.get(hash) as (Row & { waku_hash: Buffer | null }) | undefined;
      if (!row) continue;
      const envelope = toEnvelope(row, row.topic!) as WakuStoredEnvelope;
      envelope.wakuHash = row.waku_hash ? asUint8Array(row.waku_hash) : hasher.hash(envelope);
      envelopes.push(envelope);
    }
    return envelopes;
  }

  private requireWakuHasher(): WakuHasher {
    if (!this.wakuHasher) throw new Error("this envelope store was opened without a wakuHasher: Waku Store queries are not available");
    return this.wakuHasher;
  }

  private wakuStatements(): WakuStatements {
    return (this.wakuStatementsCache ??= {
      // Within one topic a hash names at most one envelope (same topic and hash means same message and timestamp);
      // across topics a crafted collision is possible, and the earliest row is taken.
      cursor: this.db
        .prepare("SELECT seq, timestamp_ns FROM envelopes WHERE waku_hash = ? AND topic = ? ORDER BY seq LIMIT 1")
        .safeIntegers(true),
      row: this.db.prepare("SELECT seq, digest, topic, timestamp_ns, message, waku_hash FROM envelopes WHERE seq = ?").safeIntegers(true),
      byHash: this.db
        .prepare("SELECT seq, digest, topic, timestamp_ns, message, waku_hash FROM envelopes WHERE waku_hash = ? ORDER BY seq LIMIT 1")
        .safeIntegers(true),
    });
  }

  async readDigestsSince(afterSequence: bigint, limit: number): Promise<DigestPage> {
    if (this.closed) throw new Error("envelope store is closed");
    const statement = statementForLimit(this.digestsSinceStatements, limit, "readDigestsSince", () =>
      this.db
        // length() of a blob reads its size from the record header, not the message itself.
        .prepare(`SELECT seq, digest, length(message) FROM envelopes WHERE seq > ? ORDER BY seq LIMIT ${limit}`)
        .raw()
        .safeIntegers(true),
    );
    const rows = statement.all(afterSequence) as [bigint, Buffer, bigint][];
    const sequences = new Array<bigint>(rows.length);
    const digests = new Array<Uint8Array>(rows.length);
    const messageBytes = new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      sequences[i] = rows[i][0];
      digests[i] = asUint8Array(rows[i][1]);
      messageBytes[i] = Number(rows[i][2]);
    }
    return { sequences, digests, messageBytes, nextSequence: rows.length > 0 ? sequences[rows.length - 1] : afterSequence };
  }

  async readBySequence(sequences: readonly bigint[]): Promise<StoredEnvelope[]> {
    if (this.closed) throw new Error("envelope store is closed");
    const envelopes: StoredEnvelope[] = [];
    for (const sequence of sequences) {
      const row = this.bySequence.get(sequence) as Row | undefined;
      if (row) envelopes.push(toEnvelope(row, row.topic!));
    }
    return envelopes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A checkpoint may be holding appends back: let it finish, then commit them.
    await this.checkpointing;
    if (this.pending.length > 0) this.flush();
    while (this.syncsRunning > 0 || this.awaitingSync.length > 0) {
      this.syncWal();
      await Promise.all(this.syncsDone);
    }
    if (this.walFd !== undefined) closeSync(this.walFd);
    await this.checkpointer?.close();
    // Fold the WAL back into the main file so a cleanly stopped node leaves a single database file. On a full or
    // failing disk this cannot be done; the WAL then stays beside the file, complete, and is read at the next start.
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } catch (error) {
      if (describeSqliteFault(error) === undefined) throw error;
    }
    this.db.close();
  }

  /**
   * A small real write (one row of its own table, 64 KiB, committed and synced like an append): resolves when the
   * disk takes writes, rejects with a StoreUnavailableError when it does not. The node's readiness uses it to learn
   * that a fault is over.
   */
  probeWrite(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("envelope store is closed"));
    try {
      this.db.prepare("INSERT OR REPLACE INTO write_probe (id, filler) VALUES (1, zeroblob(65536))").run();
    } catch (error) {
      return Promise.reject(asSqliteFault(error, "write"));
    }
    return this.flushDirectWrite();
  }

  /** Makes durable a write committed on the connection directly, outside append's batches. */
  private flushDirectWrite(): Promise<void> {
    if (!this.flushWal) return Promise.resolve();
    this.committedSinceOpen = true;
    return this.flushCommitted();
  }
}

/**
 * The statement(s) for a LIMIT, which is written into the SQL text: taken from `cache`, or prepared on first use.
 * Limits past MAX_LITERAL_LIMIT are prepared for the call only, so unusual sizes cannot grow the cache.
 */
function statementForLimit<T>(cache: Map<number, T>, limit: number, caller: string, prepare: () => T): T {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`${caller} limit must be a positive integer, got ${limit}`);
  let statement = cache.get(limit);
  if (!statement) {
    statement = prepare();
    if (limit <= MAX_LITERAL_LIMIT) cache.set(limit, statement);
  }
  return statement;
}

interface WakuStatements {
  cursor: Database.Statement;
  row: Database.Statement;
  byHash: Database.Statement;
}

function migrateSqlite(db: Database.Database): void {
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
function backfillWakuHashes(db: Database.Database, hasher: WakuHasher, batchSize: number): void {
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

  const readBatch = (statement: Database.Statement, ...args: unknown[]): Row[] => {
    const rows: Row[] = [];
    let bytes = 0;
    for (const row of statement.iterate(...args) as IterableIterator<Row>) {
      rows.push(row);
      bytes += row.message.byteLength;
      if (bytes >= WAKU_BACKFILL_BATCH_BYTES) break;
    }
    return rows;
  };
  const hashRows = (rows: Row[]) => {
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

function messageBytesOf(envelopes: readonly StoredEnvelope[]): number {
  let bytes = 0;
  for (const envelope of envelopes) bytes += envelope.message.byteLength;
  return bytes;
}

function toEnvelope(row: Row, topic: string): StoredEnvelope {
  return {
    contentTopic: topic,
    timestampNs: fromColumn(row.timestamp_ns),
    message: asUint8Array(row.message),
    digest: asUint8Array(row.digest),
  };
}


// The checkpoint worker: a second connection to the same file, in its own thread. PASSIVE never waits for (or
// blocks) the node's writes and reads; with synchronous=NORMAL it fsyncs the WAL before copying and the database
// file after, so acknowledged envelopes stay durable when the WAL is later reused. Plain CommonJS source (eval), so
// it runs the same from the TypeScript sources under vitest and from dist.
const CHECKPOINT_WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driverPath);
const db = new Database(workerData.databasePath, { fileMustExist: true });
db.pragma("busy_timeout = 5000");
db.pragma("synchronous = NORMAL");
parentPort.on("message", (message) => {
  if (message === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ ok: true });
  } catch {
    parentPort.postMessage({ ok: false });
  }
});
`;

/** Runs checkpoints on a worker thread, one at a time, starting the worker on first use. */
class BackgroundCheckpointer {
  private worker: Worker | undefined;
  private current: { done: Promise<void>; finish: () => void } | undefined;
  private failed = false;

  constructor(
    private readonly databasePath: string,
    private readonly onUnavailable: () => void,
  ) {}

  run(): Promise<void> {
    if (this.failed) return Promise.resolve();
    if (this.current) return this.current.done;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.current = { done, finish };
    const worker = (this.worker ??= this.start());
    // Running, the checkpoint keeps the process alive (someone may await it); idle, the worker does not.
    worker.ref();
    worker.postMessage("checkpoint");
    return done;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.current?.done;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.ref();
    worker.postMessage("close");
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(CHECKPOINT_WORKER_SOURCE, {
      eval: true,
      workerData: { driverPath: createRequire(import.meta.url).resolve("better-sqlite3"), databasePath: this.databasePath },
    });
    // A checkpoint that fails (an I/O error: PASSIVE does not fail for being busy) hands checkpoints back to SQLite.
    worker.on("message", (result: { ok: boolean }) => (result.ok ? this.settle() : this.giveUp()));
    worker.on("error", () => this.giveUp());
    worker.on("exit", () => {
      if (this.worker === worker) this.giveUp();
    });
    return worker;
  }

  private giveUp(): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = undefined;
    this.onUnavailable();
    this.settle();
  }

  private settle(): void {
    const current = this.current;
    this.current = undefined;
    this.worker?.unref();
    current?.finish();
  }
}

/**
 * Recently read envelopes by row number, within a byte budget. Eviction is second-chance (CLOCK): a hit only sets
 * a flag, so reading a hot page costs no map reordering; the oldest entry is evicted unless it was used since it
 * last came up, in which case it goes to the back once.
 */
class EnvelopeCache {
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

  add(seq: bigint, envelope: StoredEnvelope): void {
    const bytes = envelope.message.byteLength + envelope.contentTopic.length + CACHE_ENTRY_OVERHEAD_BYTES;
    if (bytes > this.budgetBytes || seq > MAX_CACHED_SEQ) return;
    const key = Number(seq);
    if (this.entries.has(key)) return;
    while (this.bytes + bytes > this.budgetBytes) this.evictOne();
    this.entries.set(key, { envelope, bytes, used: false });
    this.bytes += bytes;
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

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<WakuEnvelopeStore & { postage: PostageLedger }> {
  return Promise.resolve(new SqliteEnvelopeStore(path, options));
}
