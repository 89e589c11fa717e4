// NotifyStore on PostgreSQL (pg). `?schema=name` in the URL keeps the service's tables in a schema of their own
// (created when missing); the tables are created on open.
import pg from "pg";
import {
  TopicLimitError,
  timestampColumn,
  timestampFromColumn,
  type Delivery,
  type DeliveryCounts,
  type DueDelivery,
  type IngestResult,
  type Installation,
  type NewInstallation,
  type NodeCursor,
  type NotifyEnvelope,
  type NotifyStore,
  type QueueStats,
  type SubscribeResult,
} from "./NotifyStore.js";
import { deliveryFromRow, installationFromRow } from "./rows.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS installations (
  id TEXT PRIMARY KEY,
  access_key_hash TEXT NOT NULL,
  target_kind TEXT NOT NULL,
  target TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
  installation_id TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
  topic TEXT NOT NULL,
  PRIMARY KEY (installation_id, topic)
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic);
CREATE TABLE IF NOT EXISTS cursors (
  node TEXT PRIMARY KEY,
  timestamp_ns TEXT NOT NULL,
  digest TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen (
  digest TEXT PRIMARY KEY,
  timestamp_ns TEXT COLLATE "C" NOT NULL,
  seen_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_by_timestamp ON seen (timestamp_ns);
CREATE TABLE IF NOT EXISTS deliveries (
  seq BIGSERIAL PRIMARY KEY,
  installation_id TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  topic TEXT NOT NULL,
  timestamp_ns TEXT NOT NULL,
  message BYTEA NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at_ms BIGINT NOT NULL,
  last_error TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  UNIQUE (installation_id, digest)
);
CREATE INDEX IF NOT EXISTS deliveries_queue ON deliveries (installation_id, state, seq);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at_ms, seq);
CREATE TABLE IF NOT EXISTS service_keys (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

const HEADS = `
  SELECT d.*, i.target AS target, i.secret AS secret
  FROM deliveries d
  JOIN installations i ON i.id = d.installation_id
  WHERE d.state = 'pending'
    AND d.seq = (SELECT MIN(p.seq) FROM deliveries p WHERE p.installation_id = d.installation_id AND p.state = 'pending')`;

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The URL without its password, for logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

export async function openPostgresNotifyStore(url: string): Promise<PostgresNotifyStore> {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("schema");
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`--db: schema must be letters, digits and _ (at most 63), got ${JSON.stringify(schema)}`);
  }
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 5,
    connectionTimeoutMillis: 5_000,
    // The schema name was checked above to be a plain identifier.
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on("error", () => {
    // An idle connection that died: the pool drops it and makes a new one on demand.
  });
  try {
    const client = await pool.connect();
    try {
      if (schema) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      }
      // Two services starting at once on one database: the schema is created by one at a time.
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(7071706)");
      await client.query(SCHEMA);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return new PostgresNotifyStore(pool);
}

export class PostgresNotifyStore implements NotifyStore {
  readonly kind = "postgres" as const;
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new Error("store is closed");
    return this.pool.query<R>(text, values);
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error("store is closed");
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async createInstallation(installation: NewInstallation): Promise<void> {
    await this.query(
      "INSERT INTO installations (id, access_key_hash, target_kind, target, secret, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
      [
        installation.id,
        installation.accessKeyHash,
        installation.target.kind,
        JSON.stringify(installation.target),
        installation.secret,
        installation.createdAtMs,
      ],
    );
  }

  async getInstallation(id: string): Promise<Installation | undefined> {
    const { rows } = await this.query("SELECT * FROM installations WHERE id = $1", [id]);
    return rows[0] && installationFromRow(rows[0] as never);
  }

  async deleteInstallation(id: string): Promise<boolean> {
    const result = await this.query("DELETE FROM installations WHERE id = $1", [id]);
    return (result.rowCount ?? 0) > 0;
  }

  async subscribe(id: string, topics: string[], maxTopics: number): Promise<SubscribeResult> {
    await this.transaction(async (client) => {
      // Serializes concurrent subscribes of one installation, so the limit holds.
      await client.query("SELECT id FROM installations WHERE id = $1 FOR UPDATE", [id]);
      if (topics.length > 0) {
        await client.query(
          "INSERT INTO subscriptions (installation_id, topic) SELECT $1, t FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING",
          [id, topics],
        );
      }
      const { rows } = await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM subscriptions WHERE installation_id = $1", [id]);
      const count = Number(rows[0].n);
      if (count > maxTopics) throw new TopicLimitError(maxTopics, count);
    });
    return { topics: await this.topicsOf(id) };
  }

  async unsubscribe(id: string, topics: string[]): Promise<SubscribeResult> {
    await this.query("DELETE FROM subscriptions WHERE installation_id = $1 AND topic = ANY($2::text[])", [id, topics]);
    return { topics: await this.topicsOf(id) };
  }

  async topicsOf(id: string): Promise<string[]> {
    const { rows } = await this.query<{ topic: string }>(
      `SELECT topic FROM subscriptions WHERE installation_id = $1 ORDER BY topic COLLATE "C"`,
      [id],
    );
    return rows.map((r) => r.topic);
  }

  async allTopics(): Promise<string[]> {
    const { rows } = await this.query<{ topic: string }>(`SELECT DISTINCT topic COLLATE "C" AS topic FROM subscriptions ORDER BY 1`);
    return rows.map((r) => r.topic);
  }

  async getCursor(node: string): Promise<NodeCursor | undefined> {
    const { rows } = await this.query<{ timestamp_ns: string; digest: string; updated_at_ms: string }>(
      "SELECT * FROM cursors WHERE node = $1",
      [node],
    );
    const row = rows[0];
    return row && { timestampNs: timestampFromColumn(row.timestamp_ns), digest: row.digest, updatedAtMs: Number(row.updated_at_ms) };
  }

  async setCursor(node: string, cursor: NodeCursor): Promise<void> {
    await writeCursor(this.pool, node, cursor);
  }

  async ingest(node: string, envelopes: NotifyEnvelope[], cursor: NodeCursor | undefined, nowMs: number): Promise<IngestResult> {
    return this.transaction(async (client) => {
      const result: IngestResult = { fresh: 0, duplicates: 0, enqueued: 0 };
      for (const envelope of envelopes) {
        const timestamp = timestampColumn(envelope.timestampNs);
        const seen = await client.query(
          "INSERT INTO seen (digest, timestamp_ns, seen_at_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
          [envelope.digest, timestamp, nowMs],
        );
        if ((seen.rowCount ?? 0) === 0) {
          result.duplicates++;
          continue;
        }
        result.fresh++;
        const enqueued = await client.query(
          `INSERT INTO deliveries
             (installation_id, digest, topic, timestamp_ns, message, state, attempts, next_attempt_at_ms, last_error, created_at_ms, updated_at_ms)
           SELECT installation_id, $1, $2, $3, $4, 'pending', 0, $5, NULL, $5, $5 FROM subscriptions WHERE topic = $2
           ORDER BY installation_id
           ON CONFLICT DO NOTHING`,
          [envelope.digest, envelope.topic, timestamp, Buffer.from(envelope.message), nowMs],
        );
        result.enqueued += enqueued.rowCount ?? 0;
      }
      if (cursor) await writeCursor(client, node, cursor);
      return result;
    });
  }

  async dueDeliveries(nowMs: number, limit: number, busy: ReadonlySet<string>): Promise<DueDelivery[]> {
    if (limit <= 0) return [];
    const { rows } = await this.query(
      `${HEADS} AND d.next_attempt_at_ms <= $1 AND NOT (d.installation_id = ANY($2::text[]))
       ORDER BY d.next_attempt_at_ms, d.seq LIMIT $3`,
      [nowMs, [...busy], limit],
    );
    return rows.map((row) => ({ ...deliveryFromRow(row as never), target: JSON.parse(row.target), secret: row.secret }));
  }

  async nextDueAtMs(busy: ReadonlySet<string>): Promise<number | undefined> {
    const { rows } = await this.query<{ next: string | null }>(
      `SELECT MIN(d.next_attempt_at_ms) AS next FROM (${HEADS}) d WHERE NOT (d.installation_id = ANY($1::text[]))`,
      [[...busy]],
    );
    return rows[0]?.next == null ? undefined : Number(rows[0].next);
  }

  async markDelivered(seq: number, nowMs: number): Promise<void> {
    await this.query("UPDATE deliveries SET state = 'delivered', message = ''::bytea, updated_at_ms = $1 WHERE seq = $2 AND state = 'pending'", [
      nowMs,
      seq,
    ]);
  }

  async pruneDelivered(beforeMs: number): Promise<number> {
    const result = await this.query("DELETE FROM deliveries WHERE state = 'delivered' AND updated_at_ms < $1", [beforeMs]);
    return result.rowCount ?? 0;
  }

  async markFailed(
    seq: number,
    failure: { attempts: number; nextAttemptAtMs: number; error: string; dead: boolean },
    nowMs: number,
  ): Promise<void> {
    await this.query(
      "UPDATE deliveries SET state = $1, attempts = $2, next_attempt_at_ms = $3, last_error = $4, updated_at_ms = $5 WHERE seq = $6 AND state = 'pending'",
      [failure.dead ? "dead" : "pending", failure.attempts, failure.nextAttemptAtMs, failure.error, nowMs, seq],
    );
  }

  async deliveryCounts(id: string): Promise<DeliveryCounts> {
    const { rows } = await this.query<{ state: string; n: string }>(
      "SELECT state, COUNT(*) AS n FROM deliveries WHERE installation_id = $1 GROUP BY state",
      [id],
    );
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { pending: count("pending"), delivered: count("delivered"), dead: count("dead") };
  }

  async deadLetters(id: string, limit: number): Promise<Delivery[]> {
    const { rows } = await this.query(
      "SELECT * FROM deliveries WHERE installation_id = $1 AND state = 'dead' ORDER BY seq LIMIT $2",
      [id, limit],
    );
    return rows.map((row) => deliveryFromRow(row as never));
  }

  async clearDeadLetters(id: string): Promise<number> {
    const result = await this.query("DELETE FROM deliveries WHERE installation_id = $1 AND state = 'dead'", [id]);
    return result.rowCount ?? 0;
  }

  async queueStats(): Promise<QueueStats> {
    const { rows } = await this.query<{ state: string; n: string }>("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state");
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    const installations = await this.query<{ n: string }>("SELECT COUNT(*) AS n FROM installations");
    return { pending: count("pending"), dead: count("dead"), installations: Number(installations.rows[0].n) };
  }

  async pruneSeen(beforeTimestampNs: bigint, seenBeforeMs: number): Promise<number> {
    const result = await this.query("DELETE FROM seen WHERE timestamp_ns < $1 AND seen_at_ms < $2", [
      timestampColumn(beforeTimestampNs),
      seenBeforeMs,
    ]);
    return result.rowCount ?? 0;
  }

  async cursors(): Promise<Map<string, NodeCursor>> {
    const { rows } = await this.query<{ node: string; timestamp_ns: string; digest: string; updated_at_ms: string }>(
      "SELECT * FROM cursors ORDER BY node",
    );
    return new Map(
      rows.map((r) => [r.node, { timestampNs: timestampFromColumn(r.timestamp_ns), digest: r.digest, updatedAtMs: Number(r.updated_at_ms) }]),
    );
  }

  async ensureServiceKey(name: string, value: string): Promise<string> {
    // Two instances starting at once over one database: ON CONFLICT makes the second keep the first one's key.
    await this.query("INSERT INTO service_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [name, value]);
    const { rows } = await this.query<{ value: string }>("SELECT value FROM service_keys WHERE name = $1", [name]);
    return rows[0]!.value;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

async function writeCursor(client: pg.Pool | pg.PoolClient, node: string, cursor: NodeCursor): Promise<void> {
  await client.query(
    `INSERT INTO cursors (node, timestamp_ns, digest, updated_at_ms) VALUES ($1, $2, $3, $4)
     ON CONFLICT (node) DO UPDATE SET timestamp_ns = excluded.timestamp_ns, digest = excluded.digest, updated_at_ms = excluded.updated_at_ms`,
    [node, timestampColumn(cursor.timestampNs), cursor.digest, cursor.updatedAtMs],
  );
}
