// EnvelopeStore on SQLite (better-sqlite3) in WAL mode.
//
// Durability: an append resolves only after its transaction is committed. With synchronous "full" (the default)
// it also waits until the WAL file is flushed to disk (sqliteWalFlusher.ts), so an acknowledged envelope survives
// kill -9 and power loss; "normal" skips that flush and survives kill -9 (the commit is in the OS page cache) only.
// Appends that arrive in the same event-loop turn share one transaction, and one flush covers them all.
// Checkpoints run on a worker thread, never inside a commit (sqliteCheckpointer.ts).
//
// Retention (prune): each call is one short transaction, run with the appends' commits (so it waits, like them, while
// a checkpoint's last pass holds writes) and resolved at its COMMIT, without waiting for a WAL flush: a deletion lost
// to a power cut only brings back envelopes the next pruner pass deletes again, and nobody is told anything that
// depends on it being durable. The row with the highest seq is never deleted: seq is SQLite's rowid (no AUTOINCREMENT),
// which would hand a deleted largest rowid to the next append, and catch-up's sequences (readDigestsSince) must never
// go back; it is pruned once anything newer arrives.
//
// Queries: a page is first read as row numbers only, from the covering (topic, timestamp_ns) index; rows already
// in the in-memory cache of recently read envelopes (sqliteReadCache.ts) are not read again. LIMIT is written into
// the SQL, one cached statement per page size: SQLite (built with STAT4) re-prepares a statement on every execution
// when its LIMIT is a bound parameter, which cost more than the rest of the query.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  DEFAULT_WAKU_BACKFILL_BATCH_SIZE,
  WakuCursorNotFoundError,
  type AppendOptions,
  type DigestPage,
  type EnvelopePage,
  type EnvelopeQuery,
  type PruneResult,
  type RetentionRule,
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
import { SqlitePostageLedger } from "./sqlitePostageLedger.js";
import type { PostageLedger } from "./postageLedger.js";
import { asSqliteFault, describeSqliteFault } from "./sqliteFaults.js";
import { StoreClosedError } from "./storeErrors.js";
import {
  AFTER_ALL_SEQ,
  BEFORE_ALL_SEQ,
  checkPruneArguments,
  olderThanColumnBound,
  timestampColumnRange,
  topicPrefixRange,
} from "./storeColumns.js";
import { indexPageCursor, wakuPageCursor } from "./pageCursor.js";
import { toColumn, toEnvelope, type EnvelopeRow } from "./sqliteRows.js";
import { createOrMigrateSchema } from "./sqliteSchema.js";
import { backfillWakuHashes } from "./sqliteWakuBackfill.js";
import { DEFAULT_ENVELOPE_CACHE_BYTES, EnvelopeCache } from "./sqliteReadCache.js";
import { DEFAULT_CHECKPOINT_AFTER_PAGES, SqliteCheckpointer } from "./sqliteCheckpointer.js";
import { WalFlusher } from "./sqliteWalFlusher.js";
import { digestKey } from "./digest.js";

export { SQLITE_SCHEMA_VERSION } from "./sqliteSchema.js";
export { DEFAULT_ENVELOPE_CACHE_BYTES } from "./sqliteReadCache.js";
export { DEFAULT_CHECKPOINT_AFTER_PAGES } from "./sqliteCheckpointer.js";

/**
 * Page sizes up to this get their own cached prepared statements (the API's largest page is 500; sync pages 1,000);
 * a larger one is prepared for its call only.
 */
const MAX_LITERAL_LIMIT = 1000;

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

/** Digests looked up per statement by hasDigests. */
const DIGESTS_PER_LOOKUP = 64;

interface PendingPrune {
  rule: RetentionRule;
  limit: number;
  resolve: (result: PruneResult) => void;
  reject: (error: unknown) => void;
}

/** The statement parameters of a retention rule: the topic range and the age bound or the count kept. */
interface PruneParameters {
  low: string;
  high?: string;
  bound?: bigint;
  keep?: number;
  limit?: number;
}

export class SqliteEnvelopeStore implements WakuEnvelopeStore {
  private readonly db: Database.Database;
  private readonly wakuHasher: WakuHasher | undefined;
  private readonly wakuKeyStatements = { ascending: new Map<number, Database.Statement>(), descending: new Map<number, Database.Statement>() };
  private wakuStatementsCache: WakuStatements | undefined;
  private readonly insert: Database.Statement;
  /** Postage proofs, relationships and vouchers, in this database (docs/postage.md). */
  readonly postage: PostageLedger;
  private readonly cursorSeq: Database.Statement;
  private readonly pageStatements = { ascending: new Map<number, PageStatements>(), descending: new Map<number, PageStatements>() };
  private readonly digestsSinceStatements = new Map<number, Database.Statement>();
  private readonly bySequence: Database.Statement;
  private readonly digestsStored: Database.Statement;
  private readonly cache: EnvelopeCache;
  private readonly insertAll: (batch: PendingAppend[]) => StoredEnvelope[][];
  /** Makes commits durable; absent with synchronous "normal" (and in memory). */
  private readonly wal: WalFlusher | undefined;
  private pending: PendingAppend[] = [];
  private prunes: PendingPrune[] = [];
  private readonly pruneStatements = new Map<string, Database.Statement>();
  private readonly deleteEnvelope: Database.Statement;
  private readonly deleteProof: Database.Statement;
  private readonly pruneBatch: (rule: RetentionRule, limit: number) => { seqs: bigint[]; messageBytes: number };
  private flushScheduled = false;
  private closed = false;
  /** Absent in memory: SQLite then checkpoints by itself. */
  private readonly checkpointer: SqliteCheckpointer | undefined;

  constructor(readonly path: string, options: SqliteStoreOptions = {}) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // NORMAL: SQLite itself syncs only at checkpoints (WAL before, database after); commits are made durable
    // by our own fdatasync of the WAL (sqliteWalFlusher.ts) unless synchronous is "normal".
    this.db.pragma("synchronous = NORMAL");
    this.wal = options.synchronous !== "normal" && path !== ":memory:" ? new WalFlusher(`${path}-wal`) : undefined;
    const cacheBytes = options.cacheBytes ?? DEFAULT_ENVELOPE_CACHE_BYTES;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new TypeError(`cacheBytes must be a non-negative integer, got ${cacheBytes}`);
    }
    this.cache = new EnvelopeCache(cacheBytes);
    const checkpointAfterPages = options.checkpointAfterPages ?? DEFAULT_CHECKPOINT_AFTER_PAGES;
    if (!Number.isSafeInteger(checkpointAfterPages) || checkpointAfterPages < 1) {
      throw new TypeError(`checkpointAfterPages must be a positive integer, got ${checkpointAfterPages}`);
    }
    this.db.pragma("busy_timeout = 5000");
    createOrMigrateSchema(this.db);
    this.wakuHasher = options.wakuHasher;
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
      this.checkpointer = new SqliteCheckpointer(path, {
        afterPages: checkpointAfterPages,
        wakuHashIndex: this.wakuHasher !== undefined,
        onUnavailable: () => {
          if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${checkpointAfterPages}`);
        },
        // Appends held back by the checkpoint are committed now.
        onWritesReleased: () => {
          if ((this.pending.length > 0 || this.prunes.length > 0) && !this.closed) this.scheduleFlush();
        },
      });
    }

    this.insert = this.db.prepare(
      "INSERT OR IGNORE INTO envelopes (digest, topic, timestamp_ns, message, waku_hash) VALUES (?, ?, ?, ?, ?)",
    );
    this.bySequence = this.db
      .prepare("SELECT seq, digest, topic, timestamp_ns, message FROM envelopes WHERE seq = ?")
      .safeIntegers(true);
    this.digestsStored = this.db
      .prepare(`SELECT digest FROM envelopes WHERE digest IN (${Array(DIGESTS_PER_LOOKUP).fill("?").join(", ")})`)
      .pluck();
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
    this.deleteEnvelope = this.db.prepare("DELETE FROM envelopes WHERE seq = ?");
    this.deleteProof = this.db.prepare("DELETE FROM postage_proofs WHERE digest = ?");
    const pruneTransaction = this.db.transaction((rule: RetentionRule, limit: number) => {
        const parameters = pruneParameters(rule, limit);
        const seqs: bigint[] = [];
        let messageBytes = 0;
        if (!parameters) return { seqs, messageBytes };
        const rows = this.pruneStatement("batch", rule, parameters).all(parameters) as Array<[bigint, Buffer, bigint]>;
        for (const [seq, digest, bytes] of rows) {
          this.deleteEnvelope.run(seq);
          this.deleteProof.run(digest);
          seqs.push(seq);
          messageBytes += Number(bytes);
        }
        return { seqs, messageBytes };
      });
    this.pruneBatch = (rule, limit) => pruneTransaction.immediate(rule, limit);
  }

  /**
   * EnvelopeStore.append. `onCommitted`, when given, learns the new envelopes as soon as they are committed (visible
   * to queries), before the WAL flush that the returned promise waits for: live subscribers need not wait for the
   * disk. If that flush then fails, the promise rejects although the listener already ran.
   */
  append(envelopes: StoredEnvelope[], onCommitted?: CommittedListener, options: AppendOptions = {}): Promise<StoredEnvelope[]> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    if (envelopes.length === 0) return Promise.resolve([]);
    const durable = options.durable ?? true;
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, onCommitted, durable, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Commits the pending appends at the next turn of the event loop, together. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.checkpointer?.writesHeld) return; // flushed when the checkpoint releases the writes
    this.flushAppends();
    const prunes = this.prunes;
    this.prunes = [];
    for (const prune of prunes) this.runPrune(prune);
  }

  private flushAppends(): void {
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
    this.checkpointer?.countCommitted(results);
    for (let i = 0; i < batch.length; i++) {
      const listener = batch[i].onCommitted;
      if (!listener) continue;
      try {
        listener(results[i]);
      } catch {
        // A listener's failure is its caller's business; it must not keep the batch's other appends waiting.
      }
    }
    const wal = this.wal;
    if (!wal) return batch.forEach((p, i) => p.resolve(results[i]));
    wal.noteCommit();
    // Appends that need not wait for the disk are done at the commit; the others wait for the WAL flush.
    const durable: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      if (batch[i].durable) durable.push(i);
      else batch[i].resolve(results[i]);
    }
    if (durable.length === 0) return;
    wal.wait({
      acknowledge: () => durable.forEach((i) => batch[i].resolve(results[i])),
      fail: (error) => durable.forEach((i) => batch[i].reject(error)),
    });
    // Next tick, not now: what the commit listeners wrote to subscriber sockets goes out at the next tick (Node
    // uncorks them there, in order), so it reaches the kernel before this dispatch, which can stall on the thread
    // pool's lock when the machine is busy.
    process.nextTick(() => wal.sync());
  }

  /**
   * EnvelopeStore.prune: one transaction, committed with the next group of appends (see the top of this file for why
   * it resolves at COMMIT, before the WAL flush, and why the newest row is kept).
   */
  prune(rule: RetentionRule, limit: number): Promise<PruneResult> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    try {
      checkPruneArguments(rule, limit);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.prunes.push({ rule, limit, resolve, reject });
      this.scheduleFlush();
    });
  }

  private runPrune({ rule, limit, resolve, reject }: PendingPrune): void {
    let deleted: { seqs: bigint[]; messageBytes: number };
    try {
      deleted = this.pruneBatch(rule, limit);
    } catch (error) {
      reject(asSqliteFault(error, "write"));
      return;
    }
    if (deleted.seqs.length > 0) {
      for (const seq of deleted.seqs) this.cache.forget(seq);
      this.checkpointer?.countDeleted(deleted.seqs.length);
      this.wal?.noteCommit();
    }
    resolve({ envelopes: deleted.seqs.length, messageBytes: deleted.messageBytes });
  }

  async countPrunable(rule: RetentionRule): Promise<PruneResult> {
    if (this.closed) throw new StoreClosedError();
    checkPruneArguments(rule, undefined);
    const parameters = pruneParameters(rule, undefined);
    if (!parameters) return { envelopes: 0, messageBytes: 0 };
    const [envelopes, messageBytes] = this.pruneStatement("count", rule, parameters).get(parameters) as [bigint, bigint];
    return { envelopes: Number(envelopes), messageBytes: Number(messageBytes) };
  }

  /**
   * The rows `rule` selects: `batch` reads (seq, digest, message length) of at most @limit of them, `count` their
   * number and total message length. By age: walks the timestamp index from the oldest row, so a batch never rescans
   * what earlier batches deleted (it does pass over old rows of topics outside the class, reading their topic). By
   * count: numbers each topic's rows from the newest in the class's range of the (topic, timestamp_ns) index.
   */
  private pruneStatement(kind: "batch" | "count", rule: RetentionRule, parameters: PruneParameters): Database.Statement {
    const byAge = rule.olderThanNs !== undefined;
    const bounded = parameters.high !== undefined;
    const key = `${kind} ${byAge ? "age" : "count"} ${bounded}`;
    let statement = this.pruneStatements.get(key);
    if (statement) return statement;
    const topics = `topic >= @low${bounded ? " AND topic < @high" : ""}`;
    // Never the row with the highest seq (see the top of this file).
    const notNewest = "seq < (SELECT max(seq) FROM envelopes)";
    const columns = kind === "batch" ? "seq, digest, length(message)" : "count(*), coalesce(sum(length(message)), 0)";
    let sql: string;
    if (byAge) {
      sql =
        `SELECT ${columns} FROM envelopes INDEXED BY envelopes_by_time WHERE timestamp_ns <= @bound AND ${topics} AND ${notNewest}` +
        (kind === "batch" ? " ORDER BY timestamp_ns LIMIT @limit" : "");
    } else {
      sql =
        `SELECT ${columns} FROM envelopes WHERE seq IN (SELECT seq FROM (` +
        `SELECT seq, row_number() OVER (PARTITION BY topic ORDER BY timestamp_ns DESC, seq DESC) AS newer FROM envelopes WHERE ${topics}` +
        `) WHERE newer > @keep AND ${notNewest}${kind === "batch" ? " LIMIT @limit" : ""})`;
    }
    statement = this.db.prepare(sql).raw().safeIntegers(true);
    this.pruneStatements.set(key, statement);
    return statement;
  }

  /**
   * Copies the committed WAL into the database file on the checkpoint worker, so that the next commit starts the
   * WAL over; resolves when done. Runs by itself as the WAL grows; exposed for tests and maintenance.
   */
  checkpointInBackground(): Promise<void> {
    if (!this.checkpointer || this.closed) return Promise.resolve();
    return this.checkpointer.checkpoint();
  }

  /**
   * Resolves once every append committed before the call is on disk (a WAL flush, shared with any other waiting
   * commits). A durability barrier for appends made with `durable: false`.
   */
  flushCommitted(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    return this.wal ? this.wal.flushCommitted() : Promise.resolve();
  }

  async query(query: EnvelopeQuery): Promise<EnvelopePage> {
    if (this.closed) throw new StoreClosedError();
    const ascending = query.direction === "ascending";
    let { low, high } = timestampColumnRange(query, toColumn);
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
    let envelopes = this.cache.enabled ? this.cache.page(statements.seqs.all(...args) as number[], maxBytes) : undefined;
    if (!envelopes) {
      envelopes = [];
      if (maxBytes === undefined) {
        for (const row of statements.rows.all(...args) as EnvelopeRow[]) envelopes.push(this.remember(row, query.topic));
      } else {
        // Row by row, so that the messages of rows past the budget are never read: leaving the loop resets the statement.
        let bytes = 0;
        for (const row of statements.rows.iterate(...args) as IterableIterator<EnvelopeRow>) {
          envelopes.push(this.remember(row, query.topic));
          bytes += row.message.byteLength;
          if (bytes >= maxBytes) break;
        }
      }
    }
    return { envelopes, cursor: indexPageCursor(envelopes, query.limit, maxBytes) };
  }

  private remember(row: EnvelopeRow, topic: string): StoredEnvelope {
    const envelope = toEnvelope(row, topic);
    this.cache.add(row.seq, envelope);
    return envelope;
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
    if (this.closed) throw new StoreClosedError();
    const hasher = this.requireWakuHasher();
    const topics = checkWakuQuery(query);
    const ascending = query.direction === "ascending";
    let { low, high } = timestampColumnRange(query, toColumn);
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
      const row = statements.row.get(seq) as (EnvelopeRow & { waku_hash: Buffer | null }) | undefined;
      if (!row) continue; // deleted by retention since its key was read: cannot happen within this synchronous loop
      const envelope = toEnvelope(row, row.topic!) as WakuStoredEnvelope;
      envelope.wakuHash = row.waku_hash ? asUint8Array(row.waku_hash) : hasher.hash(envelope);
      envelopes.push(envelope);
      bytes += envelope.message.byteLength;
    }
    return { envelopes, cursor: wakuPageCursor(envelopes, query.limit, query.maxBytes) };
  }

  async readByWakuHashes(hashes: readonly Uint8Array[]): Promise<WakuStoredEnvelope[]> {
    if (this.closed) throw new StoreClosedError();
    const hasher = this.requireWakuHasher();
    const statements = this.wakuStatements();
    const seen = new Set<string>();
    const envelopes: WakuStoredEnvelope[] = [];
    for (const hash of hashes) {
      const key = Buffer.from(hash).toString("hex");
      if (seen.has(key)) continue;
      seen.add(key);
      const row = statements.byHash.get(hash) as (EnvelopeRow & { waku_hash: Buffer | null }) | undefined;
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

  async hasDigests(digests: readonly Uint8Array[]): Promise<boolean[]> {
    if (this.closed) throw new StoreClosedError();
    // DIGESTS_PER_LOOKUP at a time in one statement (the last group padded with its first digest): less than half the
    // CPU of one statement per digest, measured on a catch-up of 200,000 envelopes.
    const stored = new Set<string>();
    for (let i = 0; i < digests.length; i += DIGESTS_PER_LOOKUP) {
      const group = digests.slice(i, i + DIGESTS_PER_LOOKUP);
      while (group.length < DIGESTS_PER_LOOKUP) group.push(group[0]);
      for (const digest of this.digestsStored.all(...group) as Buffer[]) stored.add(digest.toString("hex"));
    }
    return digests.map((digest) => stored.has(digestKey(digest)));
  }

  async readDigestsSince(afterSequence: bigint, limit: number): Promise<DigestPage> {
    if (this.closed) throw new StoreClosedError();
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
    if (this.closed) throw new StoreClosedError();
    const envelopes: StoredEnvelope[] = [];
    for (const sequence of sequences) {
      const row = this.bySequence.get(sequence) as EnvelopeRow | undefined;
      if (row) envelopes.push(toEnvelope(row, row.topic!));
    }
    return envelopes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A checkpoint may be holding appends back: let it finish, then commit them.
    await this.checkpointer?.stop();
    if (this.pending.length > 0 || this.prunes.length > 0) this.flush();
    await this.wal?.close();
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
    if (this.closed) return Promise.reject(new StoreClosedError());
    try {
      this.db.prepare("INSERT OR REPLACE INTO write_probe (id, filler) VALUES (1, zeroblob(65536))").run();
    } catch (error) {
      return Promise.reject(asSqliteFault(error, "write"));
    }
    return this.flushDirectWrite();
  }

  /** Makes durable a write committed on the connection directly, outside append's batches. */
  private flushDirectWrite(): Promise<void> {
    if (!this.wal) return Promise.resolve();
    this.wal.noteCommit();
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

/** The named parameters of a prune statement; undefined when the rule selects nothing (older than time 0). */
function pruneParameters(rule: RetentionRule, limit: number | undefined): PruneParameters | undefined {
  const { low, high } = topicPrefixRange(rule.topicPrefix);
  const parameters: PruneParameters = { low };
  if (high !== undefined) parameters.high = high;
  if (limit !== undefined) parameters.limit = limit;
  if (rule.olderThanNs !== undefined) {
    const bound = olderThanColumnBound(rule.olderThanNs, toColumn);
    if (bound === undefined) return undefined;
    parameters.bound = bound;
  } else {
    parameters.keep = rule.keepNewest;
  }
  return parameters;
}

interface WakuStatements {
  cursor: Database.Statement;
  row: Database.Statement;
  byHash: Database.Statement;
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<WakuEnvelopeStore & { postage: PostageLedger }> {
  return Promise.resolve(new SqliteEnvelopeStore(path, options));
}
