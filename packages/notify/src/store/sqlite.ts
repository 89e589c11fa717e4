// NotifyStore on embedded SQLite (better-sqlite3, WAL, synchronous=NORMAL: a delivery enqueued and a cursor advanced
// survive the process's death once the call returns, and a power cut once the next checkpoint synced the WAL. The
// WAL keeps commits in order, so a power cut loses a suffix of them, each whole: envelopes read again from the node,
// deliveries perhaps made again, never one missed. FULL (a sync per commit) made the median publish-to-delivery
// latency ~390 ms at 100 envelopes/s in bench/notify.js, against ~9-12 ms now.)
import Database from "better-sqlite3";
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
import { deliveryFromRow, installationFromRow, type DeliveryRow, type InstallationRow } from "./rows.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS installations (
  id TEXT PRIMARY KEY,
  access_key_hash TEXT NOT NULL,
  target_kind TEXT NOT NULL,
  target TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
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
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS seen (
  digest TEXT PRIMARY KEY,
  timestamp_ns TEXT NOT NULL,
  seen_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_by_timestamp ON seen (timestamp_ns);
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  installation_id TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  topic TEXT NOT NULL,
  timestamp_ns TEXT NOT NULL,
  message BLOB NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  last_error TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (installation_id, digest)
);
CREATE INDEX IF NOT EXISTS deliveries_queue ON deliveries (installation_id, state, seq);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt_at_ms, seq);
CREATE TABLE IF NOT EXISTS service_keys (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/** The oldest pending delivery of each installation (the head of its queue), with the installation's target. */
const HEADS = `
  SELECT d.*, i.target AS target, i.secret AS secret
  FROM deliveries d
  JOIN installations i ON i.id = d.installation_id
  WHERE d.state = 'pending'
    AND d.seq = (SELECT MIN(p.seq) FROM deliveries p WHERE p.installation_id = d.installation_id AND p.state = 'pending')`;

export class SqliteNotifyStore implements NotifyStore {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  async createInstallation(installation: NewInstallation): Promise<void> {
    this.db
      .prepare("INSERT INTO installations (id, access_key_hash, target_kind, target, secret, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)")
      .run(
        installation.id,
        installation.accessKeyHash,
        installation.target.kind,
        JSON.stringify(installation.target),
        installation.secret,
        installation.createdAtMs,
      );
  }

  async getInstallation(id: string): Promise<Installation | undefined> {
    const row = this.db.prepare("SELECT * FROM installations WHERE id = ?").get(id) as InstallationRow | undefined;
    return row && installationFromRow(row);
  }

  async deleteInstallation(id: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM installations WHERE id = ?").run(id).changes > 0;
  }

  async subscribe(id: string, topics: string[], maxTopics: number): Promise<SubscribeResult> {
    const run = this.db.transaction(() => {
      const insert = this.db.prepare("INSERT OR IGNORE INTO subscriptions (installation_id, topic) VALUES (?, ?)");
      for (const topic of topics) insert.run(id, topic);
      const count = (this.db.prepare("SELECT COUNT(*) AS n FROM subscriptions WHERE installation_id = ?").get(id) as { n: number }).n;
      if (count > maxTopics) throw new TopicLimitError(maxTopics, count);
    });
    run();
    return { topics: await this.topicsOf(id) };
  }

  async unsubscribe(id: string, topics: string[]): Promise<SubscribeResult> {
    const remove = this.db.prepare("DELETE FROM subscriptions WHERE installation_id = ? AND topic = ?");
    this.db.transaction(() => {
      for (const topic of topics) remove.run(id, topic);
    })();
    return { topics: await this.topicsOf(id) };
  }

  async topicsOf(id: string): Promise<string[]> {
    const rows = this.db.prepare("SELECT topic FROM subscriptions WHERE installation_id = ? ORDER BY topic").all(id) as { topic: string }[];
    return rows.map((r) => r.topic);
  }

  async allTopics(): Promise<string[]> {
    const rows = this.db.prepare("SELECT DISTINCT topic FROM subscriptions ORDER BY topic").all() as { topic: string }[];
    return rows.map((r) => r.topic);
  }

  async getCursor(node: string): Promise<NodeCursor | undefined> {
    const row = this.db.prepare("SELECT * FROM cursors WHERE node = ?").get(node) as
      | { timestamp_ns: string; digest: string; updated_at_ms: number }
      | undefined;
    return row && { timestampNs: timestampFromColumn(row.timestamp_ns), digest: row.digest, updatedAtMs: Number(row.updated_at_ms) };
  }

  async setCursor(node: string, cursor: NodeCursor): Promise<void> {
    this.writeCursor(node, cursor);
  }

  private writeCursor(node: string, cursor: NodeCursor): void {
    this.db
      .prepare(
        `INSERT INTO cursors (node, timestamp_ns, digest, updated_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (node) DO UPDATE SET timestamp_ns = excluded.timestamp_ns, digest = excluded.digest, updated_at_ms = excluded.updated_at_ms`,
      )
      .run(node, timestampColumn(cursor.timestampNs), cursor.digest, cursor.updatedAtMs);
  }

  async ingest(node: string, envelopes: NotifyEnvelope[], cursor: NodeCursor | undefined, nowMs: number): Promise<IngestResult> {
    const markSeen = this.db.prepare("INSERT OR IGNORE INTO seen (digest, timestamp_ns, seen_at_ms) VALUES (?, ?, ?)");
    const enqueue = this.db.prepare(
      `INSERT OR IGNORE INTO deliveries
         (installation_id, digest, topic, timestamp_ns, message, state, attempts, next_attempt_at_ms, last_error, created_at_ms, updated_at_ms)
       SELECT installation_id, ?, ?, ?, ?, 'pending', 0, ?, NULL, ?, ? FROM subscriptions WHERE topic = ? ORDER BY installation_id`,
    );
    const run = this.db.transaction((): IngestResult => {
      const result: IngestResult = { fresh: 0, duplicates: 0, enqueued: 0 };
      for (const envelope of envelopes) {
        const timestamp = timestampColumn(envelope.timestampNs);
        if (markSeen.run(envelope.digest, timestamp, nowMs).changes === 0) {
          result.duplicates++;
          continue;
        }
        result.fresh++;
        result.enqueued += enqueue.run(
          envelope.digest,
          envelope.topic,
          timestamp,
          Buffer.from(envelope.message.buffer, envelope.message.byteOffset, envelope.message.byteLength),
          nowMs,
          nowMs,
          nowMs,
          envelope.topic,
        ).changes;
      }
      if (cursor) this.writeCursor(node, cursor);
      return result;
    });
    return run();
  }

  async dueDeliveries(nowMs: number, limit: number, busy: ReadonlySet<string>): Promise<DueDelivery[]> {
    if (limit <= 0) return [];
    const rows = this.db
      .prepare(
        `${HEADS} AND d.next_attempt_at_ms <= ? AND d.installation_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY d.next_attempt_at_ms, d.seq LIMIT ?`,
      )
      .all(nowMs, JSON.stringify([...busy]), limit) as (DeliveryRow & { target: string; secret: string })[];
    return rows.map((row) => ({ ...deliveryFromRow(row), target: JSON.parse(row.target), secret: row.secret }));
  }

  async nextDueAtMs(busy: ReadonlySet<string>): Promise<number | undefined> {
    const row = this.db
      .prepare(`SELECT MIN(d.next_attempt_at_ms) AS next FROM (${HEADS} AND d.installation_id NOT IN (SELECT value FROM json_each(?))) d`)
      .get(JSON.stringify([...busy])) as { next: number | null };
    return row.next === null ? undefined : Number(row.next);
  }

  async markDelivered(seq: number, nowMs: number): Promise<void> {
    this.db
      .prepare("UPDATE deliveries SET state = 'delivered', message = X'', updated_at_ms = ? WHERE seq = ? AND state = 'pending'")
      .run(nowMs, seq);
  }

  async pruneDelivered(beforeMs: number): Promise<number> {
    return this.db.prepare("DELETE FROM deliveries WHERE state = 'delivered' AND updated_at_ms < ?").run(beforeMs).changes;
  }

  async markFailed(
    seq: number,
    failure: { attempts: number; nextAttemptAtMs: number; error: string; dead: boolean },
    nowMs: number,
  ): Promise<void> {
    this.db
      .prepare("UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at_ms = ?, last_error = ?, updated_at_ms = ? WHERE seq = ? AND state = 'pending'")
      .run(failure.dead ? "dead" : "pending", failure.attempts, failure.nextAttemptAtMs, failure.error, nowMs, seq);
  }

  async deliveryCounts(id: string): Promise<DeliveryCounts> {
    const rows = this.db
      .prepare("SELECT state, COUNT(*) AS n FROM deliveries WHERE installation_id = ? GROUP BY state")
      .all(id) as { state: string; n: number }[];
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { pending: count("pending"), delivered: count("delivered"), dead: count("dead") };
  }

  async deadLetters(id: string, limit: number): Promise<Delivery[]> {
    const rows = this.db
      .prepare("SELECT * FROM deliveries WHERE installation_id = ? AND state = 'dead' ORDER BY seq LIMIT ?")
      .all(id, limit) as DeliveryRow[];
    return rows.map(deliveryFromRow);
  }

  async clearDeadLetters(id: string): Promise<number> {
    return this.db.prepare("DELETE FROM deliveries WHERE installation_id = ? AND state = 'dead'").run(id).changes;
  }

  async queueStats(): Promise<QueueStats> {
    const rows = this.db.prepare("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state").all() as { state: string; n: number }[];
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    const installations = (this.db.prepare("SELECT COUNT(*) AS n FROM installations").get() as { n: number }).n;
    return { pending: count("pending"), dead: count("dead"), installations: Number(installations) };
  }

  async pruneSeen(beforeTimestampNs: bigint, seenBeforeMs: number): Promise<number> {
    return this.db
      .prepare("DELETE FROM seen WHERE timestamp_ns < ? AND seen_at_ms < ?")
      .run(timestampColumn(beforeTimestampNs), seenBeforeMs).changes;
  }

  async cursors(): Promise<Map<string, NodeCursor>> {
    const rows = this.db.prepare("SELECT * FROM cursors ORDER BY node").all() as {
      node: string;
      timestamp_ns: string;
      digest: string;
      updated_at_ms: number;
    }[];
    return new Map(
      rows.map((r) => [r.node, { timestampNs: timestampFromColumn(r.timestamp_ns), digest: r.digest, updatedAtMs: Number(r.updated_at_ms) }]),
    );
  }

  async ensureServiceKey(name: string, value: string): Promise<string> {
    this.db.prepare("INSERT OR IGNORE INTO service_keys (name, value) VALUES (?, ?)").run(name, value);
    return (this.db.prepare("SELECT value FROM service_keys WHERE name = ?").get(name) as { value: string }).value;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
