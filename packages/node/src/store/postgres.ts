// EnvelopeStore on PostgreSQL (node-postgres Pool), for deployments that outgrow one SQLite file.
//
// Same behaviour as the SQLite store: order by timestamp then arrival sequence, cursor = {digest, senderTimeNs} of
// the last envelope of a full page, dedupe by digest, append resolves after COMMIT (synchronous_commit is forced on
// for our sessions).
//
// Appends are group-committed: calls that arrive while a transaction is running are written together in the next
// one, with unnest() array inserts. Writers also take a transaction-scoped advisory lock, so sequence numbers are
// committed in increasing order even when several node processes share the database: a replication reader
// (readDigestsSince) that has seen sequence N can never later find a smaller sequence appear, which catch-up relies on,
// and so does the commit follower (postgresFollower.ts) that feeds every process's live subscribers.
//
// Retention (prune) deletes in one short statement per call, under a lock of its own (SchemaLocks.prune), not the
// writers' one: a deletion allocates no sequence number, so it cannot break the order in which sequences become
// visible (readDigestsSince and the commit follower read `seq > N`, and a deleted row is simply not read), and taking
// the writers' lock would hold every process's appends up for the length of each batch. The prune lock only keeps
// two processes' pruners from deleting the same rows at once (wasted work, or a deadlock between their row locks).
// Identity sequences are never reused, so deleting the newest row is safe here (unlike SQLite's rowid).
//
// Database faults (connection lost, server killed or restarting, failover, a hung server, a full disk) fail the
// request in flight with StoreUnavailableError (HTTP 503), never the process: see postgresPool.ts and
// postgresFaults.ts. The pool makes new connections on demand, so the store recovers by itself when the server is back.
import { createHash } from "node:crypto";
import type pg from "pg";
import {
  DEFAULT_WAKU_BACKFILL_BATCH_SIZE,
  WakuCursorNotFoundError,
  type DigestPage,
  type EnvelopePage,
  type EnvelopeQuery,
  type PruneResult,
  type RetentionRule,
  type CommitFollower,
  type CommitListener,
  type FollowOptions,
  type SharedEnvelopeStore,
  type StoredEnvelope,
  type WakuEnvelopeStore,
  type WakuHasher,
  type WakuHashOptions,
  type WakuStoredEnvelope,
  type WakuStorePage,
  type WakuStoreQuery,
} from "./EnvelopeStore.js";
import { checkWakuQuery } from "./wakuQuery.js";
import { POSTGRES_POSTAGE_SCHEMA, PostgresPostageLedger, insertProofs } from "./postgresPostageLedger.js";
import type { PostageLedger } from "./postageLedger.js";
import { asUint8Array } from "./driverBytes.js";
import { PostgresCommitFollower } from "./postgresFollower.js";
import { toColumn, toEnvelope, type EnvelopeRow as Row } from "./postgresRows.js";
import { createPostgresPool, inTransaction, poolQuery, type PostgresPool } from "./postgresPool.js";
import {
  AFTER_ALL_SEQ,
  BEFORE_ALL_SEQ,
  checkPruneArguments,
  olderThanColumnBound,
  timestampColumnRange,
  topicPrefixRange,
} from "./storeColumns.js";
import { digestKey } from "./digest.js";
import { indexPageCursor, wakuPageCursor } from "./pageCursor.js";
import { StoreClosedError } from "./storeErrors.js";

// The sequence bounds as node-postgres takes bigints: strings.
const BEFORE_ALL = BEFORE_ALL_SEQ.toString();
const AFTER_ALL = AFTER_ALL_SEQ.toString();

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** An insert statement carries at most this many message bytes; bigger group commits use several statements. */
const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;
const MAX_STATEMENT_ROWS = 5_000;
/** Message bytes read per back-fill batch at most (beside the row count). */
const WAKU_BACKFILL_BATCH_BYTES = 16 * 1024 * 1024;

interface Migration {
  version: number;
  statements: string[];
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE envelopes (
         seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         digest bytea NOT NULL UNIQUE,
         topic text NOT NULL,
         timestamp_ns bigint NOT NULL,
         message bytea NOT NULL
       )`,
      "CREATE INDEX envelopes_by_topic_time ON envelopes (topic, timestamp_ns, seq)",
    ],
  },
  {
    // The Waku (RFC 14) hash of each envelope, for Store v3 cursors and hash lookups. Nullable (adding it rewrites no
    // row): filled on append and by the back-fill at open (backfillWakuHashes). Not UNIQUE: RFC 14's concatenation
    // lets two envelopes of different topics be crafted to share a hash, and an append must never fail for it.
    // xmtp_store_meta records the configuration the column was computed under. The index is built inside the
    // migration transaction (writes to the table wait meanwhile, as for any migration at start).
    version: 2,
    statements: [
      "ALTER TABLE envelopes ADD COLUMN waku_hash bytea",
      "CREATE INDEX envelopes_by_waku_hash ON envelopes (waku_hash)",
      "CREATE TABLE xmtp_store_meta (key text PRIMARY KEY, value text NOT NULL)",
    ],
  },
  {
    // Postage (docs/postage.md): proofs kept beside the envelopes they came with, relationships, accepted vouchers.
    version: 3,
    statements: POSTGRES_POSTAGE_SCHEMA,
  },
  {
    // Ephemeral envelopes on their way to the other node processes sharing this schema (docs/scale-out.md): never
    // queried, kept about a minute for followers that lag, written without waiting for the disk.
    version: 4,
    statements: [
      `CREATE TABLE ephemeral_envelopes (
         seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         digest bytea NOT NULL,
         topic text NOT NULL,
         timestamp_ns bigint NOT NULL,
         message bytea NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now()
       )`,
      "CREATE INDEX ephemeral_envelopes_by_age ON ephemeral_envelopes (created_at)",
    ],
  },
  {
    // Retention (docs/storage.md): pruning by age walks the envelopes from the oldest, so each batch starts where the
    // previous one's deletions left off instead of rescanning a whole class of topics. Built inside the migration
    // transaction, like version 2's index: appends wait meanwhile, once, at the first start of this version.
    version: 5,
    statements: ["CREATE INDEX envelopes_by_time ON envelopes (timestamp_ns)"],
  },
];
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

const INSERT = {
  name: "xmtp_envelopes_insert",
  text: `INSERT INTO envelopes (digest, topic, timestamp_ns, message, waku_hash)
         SELECT digest, topic, timestamp_ns, message, waku_hash
           FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[]) WITH ORDINALITY
                AS batch(digest, topic, timestamp_ns, message, waku_hash, position)
          ORDER BY position
         ON CONFLICT (digest) DO NOTHING
         RETURNING digest, pg_notify($6, '') IS NULL AS announced`,
};

// The cursor's arrival sequence is looked up in the same statement; an unknown cursor envelope falls back to the
// given bound, which makes the row comparison mean "strictly after (before) its timestamp".
// $8 is the page's byte budget: the inner query numbers the bytes before each row with a running sum of
// octet_length(message), which reads a stored value's length without fetching (de-TOASTing) it; the outer filter keeps
// the rows that start below the budget, so the page ends with the row that reaches it, and only the messages of
// kept rows are ever fetched (they are de-TOASTed when sent). ROWS framing lets the window stream in index order.
const pageStatement = (name: string, comparison: "<" | ">", order: "ASC" | "DESC") => ({
  name,
  text: `SELECT seq, digest, timestamp_ns, message FROM (
           SELECT seq, digest, timestamp_ns, message,
                  sum(octet_length(message)) OVER (ORDER BY timestamp_ns ${order}, seq ${order} ROWS UNBOUNDED PRECEDING)
                    - octet_length(message) AS bytes_before
             FROM envelopes
            WHERE topic = $1 AND timestamp_ns >= $2 AND timestamp_ns <= $3
              AND (timestamp_ns, seq) ${comparison} ($4::bigint,
                   COALESCE((SELECT seq FROM envelopes WHERE digest = $5 AND timestamp_ns = $4::bigint), $6::bigint))
            ORDER BY timestamp_ns ${order}, seq ${order} LIMIT $7) AS page
          WHERE bytes_before < $8::bigint
          ORDER BY timestamp_ns ${order}, seq ${order}`,
});
const PAGE_ASCENDING = pageStatement("xmtp_envelopes_page_asc", ">", "ASC");
const PAGE_DESCENDING = pageStatement("xmtp_envelopes_page_desc", "<", "DESC");
/** The byte budget of a query without one: more than any page can hold. */
const UNLIMITED_PAGE_BYTES = "9223372036854775807";
// Store v3 pages over several topics: each topic's next $6 keys from the (topic, timestamp_ns, seq) index (a LATERAL
// scan per topic, in index order), merged and cut to $6, then the page's rows with the same byte budget as above ($7).
// ($4, $5) is the cursor's (timestamp, seq), or a bound no row passes the wrong side of.
const wakuPageStatement = (name: string, comparison: "<" | ">", order: "ASC" | "DESC") => ({
  name,
  text: `SELECT seq, digest, topic, timestamp_ns, message, waku_hash FROM (
           SELECT e.seq, e.digest, e.topic, e.timestamp_ns, e.message, e.waku_hash,
                  sum(octet_length(e.message)) OVER (ORDER BY e.timestamp_ns ${order}, e.seq ${order} ROWS UNBOUNDED PRECEDING)
                    - octet_length(e.message) AS bytes_before
             FROM (SELECT k.seq, k.timestamp_ns
                     FROM unnest($1::text[]) AS t(topic)
                     CROSS JOIN LATERAL (
                       SELECT seq, timestamp_ns FROM envelopes
                        WHERE topic = t.topic AND timestamp_ns >= $2 AND timestamp_ns <= $3
                          AND (timestamp_ns, seq) ${comparison} ($4::bigint, $5::bigint)
                        ORDER BY timestamp_ns ${order}, seq ${order} LIMIT $6) AS k
                    ORDER BY k.timestamp_ns ${order}, k.seq ${order} LIMIT $6) AS keys
             JOIN envelopes e ON e.seq = keys.seq) AS page
          WHERE bytes_before < $7::bigint
          ORDER BY timestamp_ns ${order}, seq ${order}`,
});
const WAKU_PAGE_ASCENDING = wakuPageStatement("xmtp_waku_page_asc", ">", "ASC");
const WAKU_PAGE_DESCENDING = wakuPageStatement("xmtp_waku_page_desc", "<", "DESC");
// Within one topic a hash names at most one envelope (same topic and hash means same message and timestamp); across
// topics a crafted collision is possible, and the earliest row is taken.
const WAKU_CURSOR = {
  name: "xmtp_waku_cursor",
  text: "SELECT seq, timestamp_ns FROM envelopes WHERE waku_hash = $1 AND topic = ANY($2::text[]) ORDER BY seq LIMIT 1",
};
const WAKU_BY_HASHES = {
  name: "xmtp_waku_by_hashes",
  text: `SELECT DISTINCT ON (waku_hash) seq, digest, topic, timestamp_ns, message, waku_hash
           FROM envelopes WHERE waku_hash = ANY($1::bytea[]) ORDER BY waku_hash, seq`,
};
const WAKU_SET_HASHES = {
  name: "xmtp_waku_set_hashes",
  text: `UPDATE envelopes SET waku_hash = batch.waku_hash
           FROM unnest($1::bigint[], $2::bytea[]) AS batch(seq, waku_hash) WHERE envelopes.seq = batch.seq`,
};

const INSERT_EPHEMERAL = {
  name: "xmtp_ephemeral_insert",
  text: `INSERT INTO ephemeral_envelopes (digest, topic, timestamp_ns, message)
         SELECT digest, topic, timestamp_ns, message
           FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::bytea[]) WITH ORDINALITY
                AS batch(digest, topic, timestamp_ns, message, position)
          ORDER BY position`,
};

const DIGESTS_SINCE = {
  name: "xmtp_digests_since",
  // octet_length() of a bytea is read from its header; the message itself is not fetched (or de-TOASTed).
  text: "SELECT seq, digest, octet_length(message) AS message_bytes FROM envelopes WHERE seq > $1 ORDER BY seq LIMIT $2",
};

const DIGESTS_STORED = {
  name: "xmtp_digests_stored",
  text: "SELECT digest FROM envelopes WHERE digest = ANY($1::bytea[])",
};

const BY_SEQUENCE = {
  name: "xmtp_envelopes_by_seq",
  text: "SELECT seq, digest, topic, timestamp_ns, message FROM envelopes WHERE seq = ANY($1::bigint[])",
};

interface PendingAppend {
  envelopes: StoredEnvelope[];
  resolve: (added: StoredEnvelope[]) => void;
  reject: (error: unknown) => void;
}

export interface PostgresStoreOptions extends WakuHashOptions {
  /** Pool size (default 10). */
  maxConnections?: number;
  /**
   * A schema of its own (created if missing), so several nodes can share one database. Also settable as the URL
   * parameter `?schema=name`. Default: the database's default search path (normally `public`).
   */
  schema?: string;
  /** Connecting (a new pool connection, or waiting for a free one) fails after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * A statement that has not answered after this long fails (default 10000 ms): the server's statement_timeout,
   * plus a client-side timer slightly later for a server that answers nothing.
   */
  queryTimeoutMs?: number;
}

export class PostgresEnvelopeStore implements WakuEnvelopeStore, SharedEnvelopeStore {
  /** Several node processes may serve this store at once (docs/scale-out.md). */
  readonly shared = true;
  private pending: PendingAppend[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;
  private readonly followers = new Set<PostgresCommitFollower>();

  private readonly pool: pg.Pool;
  /** Postage proofs, relationships and vouchers, in this database (docs/postage.md). */
  readonly postage: PostageLedger;

  private constructor(
    private readonly connections: PostgresPool,
    private readonly locks: SchemaLocks,
    private readonly wakuHasher: WakuHasher | undefined,
    /** Opens a pool of one for a follower's LISTEN connection, set up like the store's own. */
    private readonly openListenConnection: () => PostgresPool,
    /**
     * How retention names the topics of a class: `topic` when the database's collation orders text by bytes, so the
     * prefix range can use the (topic, timestamp_ns, seq) index; `topic COLLATE "C"` otherwise (exact, but a
     * keepNewest rule then reads the whole table: see topicOrderIsBinary).
     */
    private readonly retentionTopic: string,
  ) {
    this.pool = connections.pool;
    this.postage = new PostgresPostageLedger(this.pool);
  }

  get wakuConfiguration(): string | undefined {
    return this.wakuHasher?.configuration;
  }

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresEnvelopeStore> {
    const { connectionString, schema } = splitSchema(url, options.schema);
    // Durability must not depend on the server's configuration: acknowledge only after the WAL is flushed.
    const sessionSettings: Record<string, string> = { synchronous_commit: "on" };
    if (schema) sessionSettings.search_path = schema;
    const connections = createPostgresPool({
      connectionString,
      max: options.maxConnections ?? 10,
      applicationName: "xmtp-ts-node",
      sessionSettings,
      connectTimeoutMs: options.connectTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs,
    });
    const locks = schemaLocks(schema ?? "");
    const lockKey = locks.envelopes;
    const batchSize = options.wakuBackfillBatchSize ?? DEFAULT_WAKU_BACKFILL_BATCH_SIZE;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      await connections.end();
      throw new TypeError(`wakuBackfillBatchSize must be a positive integer, got ${batchSize}`);
    }
    let retentionTopic: string;
    try {
      await migrate(connections.pool, schema, lockKey);
      if (options.wakuHasher) await backfillWakuHashes(connections.pool, lockKey, options.wakuHasher, batchSize);
      retentionTopic = (await topicOrderIsBinary(connections.pool)) ? "topic" : `topic COLLATE "C"`;
    } catch (error) {
      await connections.end();
      throw new Error(`opening PostgreSQL store at ${redactUrl(url)} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    const openListenConnection = () =>
      createPostgresPool({
        connectionString,
        max: 1,
        applicationName: "xmtp-ts-node-follower",
        sessionSettings,
        connectTimeoutMs: options.connectTimeoutMs,
        queryTimeoutMs: options.queryTimeoutMs,
      });
    return new PostgresEnvelopeStore(connections, locks, options.wakuHasher, openListenConnection, retentionTopic);
  }

  async follow(listener: CommitListener, options?: FollowOptions): Promise<CommitFollower> {
    if (this.closed) throw new StoreClosedError();
    const listenConnections = this.openListenConnection();
    let follower: PostgresCommitFollower;
    try {
      follower = await PostgresCommitFollower.start({ pool: this.pool, listenConnections, channel: this.locks.channel }, listener, options);
    } catch (error) {
      await listenConnections.end();
      throw error;
    }
    this.followers.add(follower);
    return {
      caughtUp: () => follower.caughtUp(),
      close: async () => {
        this.followers.delete(follower);
        await follower.close();
      },
    };
  }

  async shareEphemeral(envelopes: readonly StoredEnvelope[]): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    if (envelopes.length === 0) return;
    await inTransaction(this.pool, "write", async (client) => {
      // Nobody waits for these on disk: they are never queried, and a crash may lose them like a dropped stream.
      await client.query("SET LOCAL synchronous_commit = off");
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [this.locks.ephemeral]);
      for (const chunk of statementChunks(envelopes)) {
        await client.query({
          ...INSERT_EPHEMERAL,
          values: [
            chunk.map((e) => e.digest),
            chunk.map((e) => e.contentTopic),
            chunk.map((e) => toColumn(e.timestampNs)),
            chunk.map((e) => e.message),
          ],
        });
      }
      await client.query("SELECT pg_notify($1, '')", [this.locks.channel]);
    });
    for (const follower of this.followers) follower.poke();
  }

  append(envelopes: StoredEnvelope[]): Promise<StoredEnvelope[]> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    if (envelopes.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, resolve, reject });
      this.writing ??= this.writeLoop();
    });
  }

  private async writeLoop(): Promise<void> {
    // Let every append of the current event-loop turn join the first transaction.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const inserted = await this.insertBatch(batch);
        // When the same envelope is in several calls of one batch, the earliest call is the one that added it.
        const claimed = new Set<string>();
        for (const call of batch) {
          call.resolve(
            call.envelopes.filter((envelope) => {
              const key = digestKey(envelope.digest);
              if (!inserted.has(key) || claimed.has(key)) return false;
              claimed.add(key);
              return true;
            }),
          );
        }
      } catch (error) {
        // Exactly this batch's callers fail (a fault as StoreUnavailableError); its connection was discarded, so
        // the next batch starts on another one.
        for (const call of batch) call.reject(error);
      }
    }
    this.writing = undefined;
  }

  /** One transaction for the whole batch; returns the digests (hex) that were new. */
  private async insertBatch(batch: PendingAppend[]): Promise<Set<string>> {
    const unique = new Map<string, StoredEnvelope>();
    for (const call of batch) {
      for (const envelope of call.envelopes) {
        const key = digestKey(envelope.digest);
        if (!unique.has(key)) unique.set(key, envelope);
      }
    }
    const inserted = new Set<string>();
    // Resolves only once COMMIT has answered; a COMMIT whose answer is lost is a failure (see inTransaction).
    await inTransaction(this.pool, "write", async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [this.locks.envelopes]);
      for (const chunk of statementChunks([...unique.values()])) {
        const result = await client.query<{ digest: Buffer }>({
          ...INSERT,
          values: [
            chunk.map((e) => e.digest),
            chunk.map((e) => e.contentTopic),
            chunk.map((e) => toColumn(e.timestampNs)),
            chunk.map((e) => e.message),
            chunk.map((e) => this.wakuHasher?.hash(e) ?? null),
            // Each inserted row announces the commit to the processes following this schema (postgresFollower.ts);
            // PostgreSQL delivers one notification per channel and transaction, at COMMIT. In the statement itself,
            // not one of its own: the writers' lock is held until COMMIT, and a round trip less holds it less long.
            this.locks.channel,
          ],
        });
        for (const row of result.rows) inserted.add(row.digest.toString("hex"));
      }
      // Only the first copy's proof is kept: it is the one the envelope was accepted with.
      const proofs = [...unique.entries()]
        .filter(([key, e]) => e.postage && inserted.has(key))
        .map(([, e]) => ({ digest: e.digest, proof: e.postage! }));
      await insertProofs(client, proofs);
    });
    // This process's followers read at once rather than when the notification comes back.
    if (inserted.size > 0) for (const follower of this.followers) follower.poke();
    return inserted;
  }

  async query(query: EnvelopeQuery): Promise<EnvelopePage> {
    if (this.closed) throw new StoreClosedError();
    const ascending = query.direction === "ascending";
    const { low, high } = timestampColumnRange(query, toColumn);
    let cursorTime = ascending ? low : high;
    let cursorDigest: Uint8Array | null = null;
    let fallbackSeq = ascending ? BEFORE_ALL : AFTER_ALL;
    if (query.cursor) {
      cursorTime = toColumn(query.cursor.senderTimeNs);
      cursorDigest = query.cursor.digest;
      fallbackSeq = ascending ? AFTER_ALL : BEFORE_ALL;
    }
    const maxBytes = query.maxBytes;
    if (maxBytes !== undefined && !(maxBytes >= 1)) throw new RangeError(`query maxBytes must be at least 1, got ${maxBytes}`);
    const result = await poolQuery<Row>(this.pool, "read", {
      ...(ascending ? PAGE_ASCENDING : PAGE_DESCENDING),
      values: [
        query.topic,
        low,
        high,
        cursorTime,
        cursorDigest,
        fallbackSeq,
        query.limit,
        maxBytes === undefined || maxBytes > Number.MAX_SAFE_INTEGER ? UNLIMITED_PAGE_BYTES : String(Math.ceil(maxBytes)),
      ],
    });
    const envelopes = result.rows.map((row) => toEnvelope(row, query.topic));
    return { envelopes, cursor: indexPageCursor(envelopes, query.limit, maxBytes) };
  }

  async queryWaku(query: WakuStoreQuery): Promise<WakuStorePage> {
    if (this.closed) throw new StoreClosedError();
    const hasher = this.requireWakuHasher();
    const topics = checkWakuQuery(query);
    const ascending = query.direction === "ascending";
    const { low, high } = timestampColumnRange(query, toColumn);
    let cursorTime = ascending ? low : high;
    let cursorSeq = ascending ? BEFORE_ALL : AFTER_ALL;
    if (query.cursor) {
      const found = await poolQuery<{ seq: string; timestamp_ns: string }>(this.pool, "read", {
        ...WAKU_CURSOR,
        values: [query.cursor, topics],
      });
      if (found.rows.length === 0) throw new WakuCursorNotFoundError(query.cursor);
      cursorTime = found.rows[0].timestamp_ns;
      cursorSeq = found.rows[0].seq;
    }
    const maxBytes = query.maxBytes;
    const result = await poolQuery<Row & { waku_hash: Buffer | null }>(this.pool, "read", {
      ...(ascending ? WAKU_PAGE_ASCENDING : WAKU_PAGE_DESCENDING),
      values: [
        topics,
        low,
        high,
        cursorTime,
        cursorSeq,
        query.limit,
        maxBytes === undefined || maxBytes > Number.MAX_SAFE_INTEGER ? UNLIMITED_PAGE_BYTES : String(Math.ceil(maxBytes)),
      ],
    });
    const envelopes = await this.withWakuHashes(result.rows, hasher);
    return { envelopes, cursor: wakuPageCursor(envelopes, query.limit, maxBytes) };
  }

  async readByWakuHashes(hashes: readonly Uint8Array[]): Promise<WakuStoredEnvelope[]> {
    if (this.closed) throw new StoreClosedError();
    const hasher = this.requireWakuHasher();
    if (hashes.length === 0) return [];
    const result = await poolQuery<Row & { waku_hash: Buffer }>(this.pool, "read", { ...WAKU_BY_HASHES, values: [hashes] });
    const byHash = new Map(result.rows.map((row) => [row.waku_hash.toString("hex"), row]));
    const rows: Array<Row & { waku_hash: Buffer }> = [];
    for (const hash of hashes) {
      const key = Buffer.from(hash).toString("hex");
      const row = byHash.get(key);
      if (!row) continue;
      byHash.delete(key); // a repeated hash appears once
      rows.push(row);
    }
    return this.withWakuHashes(rows, hasher);
  }

  /**
   * The rows as envelopes with their hashes. A row without one (appended meanwhile by another node sharing the schema
   * that has no hasher, or an older version) is hashed here and the hash written back, so it is found as a cursor.
   */
  private async withWakuHashes(rows: Array<Row & { waku_hash: Buffer | null }>, hasher: WakuHasher): Promise<WakuStoredEnvelope[]> {
    const missing: WakuStoredEnvelope[] = [];
    const missingSeqs: string[] = [];
    const envelopes = rows.map((row) => {
      const envelope = toEnvelope(row, row.topic!) as WakuStoredEnvelope;
      if (row.waku_hash) {
        envelope.wakuHash = asUint8Array(row.waku_hash);
      } else {
        envelope.wakuHash = hasher.hash(envelope);
        missing.push(envelope);
        missingSeqs.push(row.seq);
      }
      return envelope;
    });
    if (missing.length > 0) {
      await poolQuery(this.pool, "write", { ...WAKU_SET_HASHES, values: [missingSeqs, missing.map((e) => e.wakuHash)] });
    }
    return envelopes;
  }

  private requireWakuHasher(): WakuHasher {
    if (!this.wakuHasher) throw new Error("this envelope store was opened without a wakuHasher: Waku Store queries are not available");
    return this.wakuHasher;
  }

  /** Every append resolves after a synchronous COMMIT (`durable` is not needed here): nothing is left to flush. */
  async flushCommitted(): Promise<void> {
    if (this.closed) throw new StoreClosedError();
  }

  async hasDigests(digests: readonly Uint8Array[]): Promise<boolean[]> {
    if (this.closed) throw new StoreClosedError();
    if (digests.length === 0) return [];
    const result = await poolQuery<{ digest: Buffer }>(this.pool, "read", { ...DIGESTS_STORED, values: [digests.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))] });
    const stored = new Set(result.rows.map((row) => row.digest.toString("hex")));
    return digests.map((digest) => stored.has(Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString("hex")));
  }

  async readDigestsSince(afterSequence: bigint, limit: number): Promise<DigestPage> {
    if (this.closed) throw new StoreClosedError();
    const result = await poolQuery<{ seq: string; digest: Buffer; message_bytes: number }>(this.pool, "read", {
      ...DIGESTS_SINCE,
      values: [afterSequence.toString(), limit],
    });
    const sequences = result.rows.map((row) => BigInt(row.seq));
    const digests = result.rows.map((row) => asUint8Array(row.digest));
    const messageBytes = result.rows.map((row) => Number(row.message_bytes));
    return {
      sequences,
      digests,
      messageBytes,
      nextSequence: sequences.length > 0 ? sequences[sequences.length - 1] : afterSequence,
    };
  }

  async readBySequence(sequences: readonly bigint[]): Promise<StoredEnvelope[]> {
    if (this.closed) throw new StoreClosedError();
    if (sequences.length === 0) return [];
    const result = await poolQuery<Row>(this.pool, "read", { ...BY_SEQUENCE, values: [sequences.map(String)] });
    const bySequence = new Map(result.rows.map((row) => [row.seq, row]));
    const envelopes: StoredEnvelope[] = [];
    for (const sequence of sequences) {
      const row = bySequence.get(sequence.toString());
      if (row) envelopes.push(toEnvelope(row, row.topic!));
    }
    return envelopes;
  }

  async prune(rule: RetentionRule, limit: number): Promise<PruneResult> {
    if (this.closed) throw new StoreClosedError();
    checkPruneArguments(rule, limit);
    const selection = this.pruneSelection(rule, limit);
    if (!selection) return { envelopes: 0, messageBytes: 0 };
    const result = await inTransaction(this.pool, "write", async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [this.locks.prune]);
      // The proofs go with their envelopes (a data-modifying WITH always runs, and sees `gone`'s RETURNING).
      // octet_length() reads a stored message's length from its header, without fetching (de-TOASTing) it.
      return client.query<{ envelopes: string; message_bytes: string }>({
        text: `WITH doomed AS (${selection.text}),
                    gone AS (DELETE FROM envelopes e USING doomed WHERE e.seq = doomed.seq
                             RETURNING e.digest, octet_length(e.message) AS bytes),
                    proofs AS (DELETE FROM postage_proofs p USING gone WHERE p.digest = gone.digest)
               SELECT count(*)::text AS envelopes, coalesce(sum(bytes), 0)::text AS message_bytes FROM gone`,
        values: selection.values,
      });
    });
    return { envelopes: Number(result.rows[0].envelopes), messageBytes: Number(result.rows[0].message_bytes) };
  }

  async countPrunable(rule: RetentionRule): Promise<PruneResult> {
    if (this.closed) throw new StoreClosedError();
    checkPruneArguments(rule, undefined);
    const selection = this.pruneSelection(rule, undefined);
    if (!selection) return { envelopes: 0, messageBytes: 0 };
    const result = await poolQuery<{ envelopes: string; message_bytes: string }>(this.pool, "read", {
      text: `SELECT count(*)::text AS envelopes, coalesce(sum(octet_length(message)), 0)::text AS message_bytes
               FROM envelopes WHERE seq IN (${selection.text})`,
      values: selection.values,
    });
    return { envelopes: Number(result.rows[0].envelopes), messageBytes: Number(result.rows[0].message_bytes) };
  }

  /**
   * A statement selecting the seqs of (at most `limit` of) the rows `rule` selects; undefined when it selects none.
   * By age: from the oldest, on the timestamp index (a batch never rescans what earlier ones deleted; it does pass
   * over old rows of topics outside the class). By count: each topic's rows numbered from the newest, read in the
   * class's range of the (topic, timestamp_ns, seq) index.
   */
  private pruneSelection(rule: RetentionRule, limit: number | undefined): { text: string; values: unknown[] } | undefined {
    const { low, high } = topicPrefixRange(rule.topicPrefix);
    const values: unknown[] = [];
    const parameter = (value: unknown, type: string) => `$${values.push(value)}::${type}`;
    const column = this.retentionTopic;
    const topics = (): string =>
      `${column} >= ${parameter(low, "text")}` + (high === undefined ? "" : ` AND ${column} < ${parameter(high, "text")}`);
    let text: string;
    if (rule.olderThanNs !== undefined) {
      const bound = olderThanColumnBound(rule.olderThanNs, toColumn);
      if (bound === undefined) return undefined;
      text = `SELECT seq FROM envelopes WHERE timestamp_ns <= ${parameter(bound, "bigint")} AND ${topics()} ORDER BY timestamp_ns`;
    } else {
      text =
        `SELECT seq FROM (SELECT seq, row_number() OVER (PARTITION BY topic ORDER BY timestamp_ns DESC, seq DESC) AS newer ` +
        `FROM envelopes WHERE ${topics()}) AS ranked WHERE newer > ${parameter(rule.keepNewest, "bigint")}`;
    }
    if (limit !== undefined) text += ` LIMIT ${parameter(limit, "bigint")}`;
    return { text, values };
  }

  /**
   * A small real write that touches no envelope: a transaction that takes a transaction id and commits, its commit
   * record flushed like an append's (synchronous_commit). Resolves when the database takes writes, rejects with
   * StoreUnavailableError when it does not (gone, restarting, hung, a read-only standby). The node's readiness uses
   * it to learn that a write fault is over without waiting for a client's publish.
   */
  async probeWrite(): Promise<void> {
    if (this.closed) throw new StoreClosedError();
    await inTransaction(this.pool, "write", async (client) => {
      await client.query("SELECT txid_current()");
    });
  }

  /**
   * Appends accepted before close still commit (or fail). Never throws, and is bounded when the database is gone or
   * hung: each pending batch fails within the connect and statement timeouts, and the pool's sockets are cut if
   * ending it politely takes longer than that.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.followers].map((follower) => follower.close()));
    this.followers.clear();
    const { connectTimeoutMs, queryTimeoutMs } = this.connections;
    const deadline = Date.now() + 2 * (connectTimeoutMs + queryTimeoutMs) + 1_000;
    while (this.writing && Date.now() < deadline) {
      await Promise.race([this.writing, new Promise((resolve) => setTimeout(resolve, deadline - Date.now()).unref())]);
    }
    await this.connections.end();
  }
}

async function migrate(pool: pg.Pool, schema: string | undefined, lockKey: string): Promise<void> {
  await inTransaction(pool, "write", async (client) => {
    // Nodes starting together against a fresh database must not both run the migrations.
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey]);
    if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS xmtp_schema_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const current = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM xmtp_schema_migrations");
    const version = current.rows[0].version ?? 0;
    if (version > POSTGRES_SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is newer than this node understands (${POSTGRES_SCHEMA_VERSION})`);
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= version) continue;
      for (const statement of migration.statements) await client.query(statement);
      await client.query("INSERT INTO xmtp_schema_migrations (version) VALUES ($1)", [migration.version]);
    }
  });
}

/**
 * Brings the waku_hash column in line with `hasher`, in transactions of at most `batchSize` rows (and about 16 MiB of
 * messages), so an interrupted back-fill keeps its progress and resumes at the next open. As in the SQLite store:
 * xmtp_store_meta `waku_hash_config` names the configuration every non-NULL hash was computed under; opening with
 * another marks rows (0, max seq] stale (`waku_rehash_after`, `waku_rehash_through`) and re-hashes them in seq order;
 * then rows without a hash are hashed. Nodes sharing a schema must share their Waku configuration: the last one to
 * open re-hashes the table under its own.
 */
async function backfillWakuHashes(pool: pg.Pool, lockKey: string, hasher: WakuHasher, batchSize: number): Promise<void> {
  const getMeta = async (client: pg.PoolClient | pg.Pool, key: string) =>
    (await client.query<{ value: string }>("SELECT value FROM xmtp_store_meta WHERE key = $1", [key])).rows[0]?.value;
  const setMeta = (client: pg.PoolClient, key: string, value: string) =>
    client.query(
      "INSERT INTO xmtp_store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [key, value],
    );
  await inTransaction(pool, "write", async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey]);
    const recorded = await getMeta(client, "waku_hash_config");
    if (recorded === hasher.configuration) return;
    if (recorded !== undefined) {
      const max = await client.query<{ seq: string }>("SELECT coalesce(max(seq), 0)::text AS seq FROM envelopes");
      await setMeta(client, "waku_rehash_after", "0");
      await setMeta(client, "waku_rehash_through", max.rows[0].seq);
    }
    await setMeta(client, "waku_hash_config", hasher.configuration);
  });

  // Rows up to about 16 MiB of messages: the running sum is read from the stored lengths, without the messages.
  const batchOf = (where: string, order: string) =>
    `SELECT seq, digest, topic, timestamp_ns, message FROM (
       SELECT seq, digest, topic, timestamp_ns, message,
              sum(octet_length(message)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - octet_length(message) AS bytes_before
         FROM (SELECT seq FROM envelopes WHERE ${where} ${order} LIMIT ${batchSize}) AS keys JOIN envelopes USING (seq)) AS batch
      WHERE bytes_before < ${WAKU_BACKFILL_BATCH_BYTES} ORDER BY seq`;
  const hashRows = (client: pg.PoolClient, rows: Row[]) =>
    client.query({
      ...WAKU_SET_HASHES,
      values: [rows.map((row) => row.seq), rows.map((row) => hasher.hash(toEnvelope(row, row.topic!)))],
    });

  for (;;) {
    const done = await inTransaction(pool, "write", async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey]);
      const after = (await getMeta(client, "waku_rehash_after")) ?? "0";
      const through = (await getMeta(client, "waku_rehash_through")) ?? "0";
      if (BigInt(after) >= BigInt(through)) return true;
      const rows = (await client.query<Row>(batchOf("seq > $1 AND seq <= $2", "ORDER BY seq"), [after, through])).rows;
      await hashRows(client, rows);
      await setMeta(client, "waku_rehash_after", rows.length > 0 ? rows[rows.length - 1].seq : through);
      return false;
    });
    if (done) break;
  }
  for (;;) {
    const done = await inTransaction(pool, "write", async (client) => {
      const rows = (await client.query<Row>(batchOf("waku_hash IS NULL", ""))).rows;
      if (rows.length > 0) await hashRows(client, rows);
      return rows.length === 0;
    });
    if (done) break;
  }
}

/** Takes `?schema=` out of the URL (node-postgres would ignore it) and checks the name. */
function splitSchema(url: string, explicit: string | undefined): { connectionString: string; schema?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`PostgreSQL URL ${redactUrl(url)} is not a URL; expected postgres://user:password@host:port/database`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new Error(`PostgreSQL URL ${redactUrl(url)} must start with postgres:// or postgresql://`);
  }
  const fromUrl = parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("schema");
  const schema = explicit ?? fromUrl;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`PostgreSQL schema name ${JSON.stringify(schema)} must match ${SCHEMA_NAME} (lowercase letters, digits, _)`);
  }
  return { connectionString: parsed.toString(), schema };
}

/**
 * Whether the database's default collation (that of envelopes.topic) orders text as bytes, the order in which a
 * topic prefix is a range (topicPrefixRange): the libc collations C, POSIX and C.UTF-8. Others (en_US.UTF-8, ICU)
 * order punctuation and case otherwise, so retention compares topics COLLATE "C" there, and cannot use the topic
 * index for the range.
 */
async function topicOrderIsBinary(pool: pg.Pool): Promise<boolean> {
  // to_jsonb: datlocprovider exists from PostgreSQL 15 on (ICU as the database default); absent before, meaning libc.
  const result = await poolQuery<{ collate: string; provider: string | null }>(pool, "read", {
    text: `SELECT datcollate AS collate, to_jsonb(d) ->> 'datlocprovider' AS provider
             FROM pg_database d WHERE datname = current_database()`,
  });
  const row = result.rows[0];
  if (!row || (row.provider !== null && row.provider !== "c")) return false;
  return /^(C|POSIX|C\.UTF-?8)$/i.test(row.collate);
}

/** What the processes sharing one schema coordinate on. */
interface SchemaLocks {
  /** Writers of envelopes serialize on pg_advisory_xact_lock(key), so sequences commit in order. */
  envelopes: string;
  /** The same for the ephemeral table. */
  ephemeral: string;
  /** Retention's pruners (of every process) serialize on this one, and never on the writers' lock. */
  prune: string;
  /** The LISTEN/NOTIFY channel every commit is announced on. */
  channel: string;
}

/** Derived from the schema, so stores in different schemas neither wait for nor wake each other. */
function schemaLocks(schema: string): SchemaLocks {
  const hash = (what: string) => createHash("sha256").update(`xmtp-ts ${what} ${schema}`).digest();
  return {
    envelopes: hash("envelopes").readBigInt64BE(0).toString(),
    ephemeral: hash("ephemeral envelopes").readBigInt64BE(0).toString(),
    prune: hash("retention").readBigInt64BE(0).toString(),
    channel: `xmtp_commits_${hash("commits").subarray(0, 8).toString("hex")}`,
  };
}

function* statementChunks(envelopes: readonly StoredEnvelope[]): Generator<StoredEnvelope[]> {
  let chunk: StoredEnvelope[] = [];
  let bytes = 0;
  for (const envelope of envelopes) {
    if (chunk.length > 0 && (chunk.length >= MAX_STATEMENT_ROWS || bytes + envelope.message.length > MAX_STATEMENT_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(envelope);
    bytes += envelope.message.length;
  }
  if (chunk.length > 0) yield chunk;
}


/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable PostgreSQL URL)";
  }
}

export function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<WakuEnvelopeStore & SharedEnvelopeStore & { postage: PostageLedger }> {
  return PostgresEnvelopeStore.open(url, options);
}
