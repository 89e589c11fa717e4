// EnvelopeStore on SQLite (better-sqlite3) in WAL mode.
//
// Durability: an append resolves only after its transaction is committed. With synchronous "full" (the default)
// it also waits until the WAL file is flushed to disk (fdatasync), so an acknowledged envelope survives kill -9
// and power loss; "normal" skips that flush and survives kill -9 (the commit is in the OS page cache) only.
// The flush runs on libuv's thread pool instead of inside SQLite's commit (PRAGMA synchronous=FULL would block
// the event loop on every commit), and one flush covers every commit made before it started (group commit).
// Appends that arrive in the same event-loop turn also share one transaction.
import Database from "better-sqlite3";
import { closeSync, fdatasync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type {
  EnvelopePage,
  EnvelopeQuery,
  EnvelopeStore,
  ReplicationPage,
  StoredEnvelope,
} from "./EnvelopeStore.js";

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
`;

export interface SqliteStoreOptions {
  synchronous?: "full" | "normal";
}

interface Row {
  seq: bigint;
  digest: Buffer;
  topic?: string;
  timestamp_ns: bigint;
  message: Buffer;
}

interface PendingAppend {
  envelopes: StoredEnvelope[];
  resolve: (added: StoredEnvelope[]) => void;
  reject: (error: unknown) => void;
}

export class SqliteEnvelopeStore implements EnvelopeStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly cursorSeq: Database.Statement;
  private readonly pageAscending: Database.Statement;
  private readonly pageDescending: Database.Statement;
  private readonly since: Database.Statement;
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

  constructor(readonly path: string, options: SqliteStoreOptions = {}) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    // NORMAL: SQLite itself syncs only at checkpoints (WAL before, database after); commits are made durable
    // by our own fdatasync of the WAL below when flushWal is set.
    this.db.pragma("synchronous = NORMAL");
    this.flushWal = options.synchronous !== "normal" && path !== ":memory:";
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);

    this.insert = this.db.prepare(
      "INSERT OR IGNORE INTO envelopes (digest, topic, timestamp_ns, message) VALUES (?, ?, ?, ?)",
    );
    this.cursorSeq = this.db
      .prepare("SELECT seq FROM envelopes WHERE digest = ? AND timestamp_ns = ?")
      .pluck()
      .safeIntegers(true);
    const columns = "SELECT seq, digest, timestamp_ns, message FROM envelopes";
    this.pageAscending = this.db
      .prepare(
        `${columns} WHERE topic = ? AND timestamp_ns >= ? AND timestamp_ns <= ? AND (timestamp_ns > ? OR seq > ?)
         ORDER BY timestamp_ns ASC, seq ASC LIMIT ?`,
      )
      .safeIntegers(true);
    this.pageDescending = this.db
      .prepare(
        `${columns} WHERE topic = ? AND timestamp_ns >= ? AND timestamp_ns <= ? AND (timestamp_ns < ? OR seq < ?)
         ORDER BY timestamp_ns DESC, seq DESC LIMIT ?`,
      )
      .safeIntegers(true);
    this.since = this.db
      .prepare("SELECT seq, digest, topic, timestamp_ns, message FROM envelopes WHERE seq > ? ORDER BY seq LIMIT ?")
      .safeIntegers(true);
    this.insertAll = this.db.transaction((batch: PendingAppend[]) =>
      batch.map(({ envelopes }) =>
        envelopes.filter(
          (e) => this.insert.run(e.digest, e.contentTopic, toColumn(e.timestampNs), e.message).changes === 1,
        ),
      ),
    );
  }

  append(envelopes: StoredEnvelope[]): Promise<StoredEnvelope[]> {
    if (this.closed) return Promise.reject(new Error("envelope store is closed"));
    if (envelopes.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let results: StoredEnvelope[][];
    try {
      results = this.insertAll(batch);
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    const acknowledge = () => batch.forEach((p, i) => p.resolve(results[i]));
    if (!this.flushWal) return acknowledge();
    this.awaitingSync.push({ acknowledge, fail: (error) => batch.forEach((p) => p.reject(error)) });
    this.syncWal();
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
        for (const waiter of covered) (error ? waiter.fail(error) : waiter.acknowledge());
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
    const statement = ascending ? this.pageAscending : this.pageDescending;
    const rows = statement.all(query.topic, low, high, cursorTime, cursorSeq, query.limit) as Row[];
    const envelopes = rows.map((row) => toEnvelope(row, query.topic));
    const last = envelopes[envelopes.length - 1];
    return {
      envelopes,
      cursor:
        envelopes.length >= query.limit && last ? { digest: last.digest, senderTimeNs: last.timestampNs } : undefined,
    };
  }

  async readSince(afterSequence: bigint, limit: number): Promise<ReplicationPage> {
    if (this.closed) throw new Error("envelope store is closed");
    const rows = this.since.all(afterSequence, limit) as Row[];
    return {
      envelopes: rows.map((row) => toEnvelope(row, row.topic!)),
      nextSequence: rows.length > 0 ? rows[rows.length - 1].seq : afterSequence,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) this.flush();
    this.closed = true;
    while (this.syncsRunning > 0 || this.awaitingSync.length > 0) {
      this.syncWal();
      await Promise.all(this.syncsDone);
    }
    if (this.walFd !== undefined) closeSync(this.walFd);
    // Fold the WAL back into the main file so a cleanly stopped node leaves a single database file.
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    this.db.close();
  }
}

function toEnvelope(row: Row, topic: string): StoredEnvelope {
  return {
    contentTopic: topic,
    timestampNs: fromColumn(row.timestamp_ns),
    message: asUint8Array(row.message),
    digest: asUint8Array(row.digest),
  };
}

// A view, not a copy: callers get plain Uint8Arrays whatever the driver hands out.
function asUint8Array(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<EnvelopeStore> {
  return Promise.resolve(new SqliteEnvelopeStore(path, options));
}
