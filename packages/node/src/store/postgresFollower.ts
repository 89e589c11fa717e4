// Follows what every node process sharing a PostgreSQL schema commits, so each can stream all of it to its own
// subscribers (docs/scale-out.md).
//
// Why reading by sequence is complete: writers of a schema hold one advisory lock from their first insert to their
// commit (postgres.ts), so sequence numbers become visible in increasing order. A reader that has delivered up to N
// and reads `seq > N` can never later find a smaller sequence appear: nothing is skipped, nothing read twice. The
// same holds for the ephemeral table under its own lock. LISTEN/NOTIFY only says "read now": every committing
// transaction notifies the schema's channel, and the follower also reads on a timer, so a notification lost with
// a dropped connection delays delivery by at most one interval and loses nothing.
import type pg from "pg";
import type { CommitFollower, CommitListener, FollowOptions, StoredEnvelope } from "./EnvelopeStore.js";
import { silentLogger, type Logger } from "../log.js";
import { StoreClosedError } from "./storeErrors.js";
import { poolQuery, type PostgresPool } from "./postgresPool.js";
import { messageBytesOf } from "./pageCursor.js";
import { toEnvelope, type EnvelopeRow } from "./postgresRows.js";

export const DEFAULT_FOLLOW_POLL_INTERVAL_MS = 1_000;
/** Rows and message bytes read per statement: a follower far behind catches up in bounded steps. */
const PAGE_ROWS = 1_000;
const PAGE_BYTES = 8 * 1024 * 1024;
/** How long an ephemeral envelope stays readable for followers that lag; then the pruner removes it. */
export const EPHEMERAL_RETENTION_SECONDS = 60;
const EPHEMERAL_PRUNE_INTERVAL_MS = 30_000;
const RELISTEN_DELAY_MS = 1_000;

// A page of rows after a sequence number, cut by count and by a running sum of stored message lengths (read from
// the values' headers, without fetching them), so the page ends with the row that reaches the byte budget.
const pageAfter = (table: "envelopes" | "ephemeral_envelopes") => ({
  name: `xmtp_follow_${table}`,
  text: `SELECT seq, digest, topic, timestamp_ns, message FROM (
           SELECT seq, digest, topic, timestamp_ns, message,
                  sum(octet_length(message)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - octet_length(message) AS bytes_before
             FROM ${table} WHERE seq > $1 ORDER BY seq LIMIT $2) AS page
          WHERE bytes_before < $3 ORDER BY seq`,
});
const ENVELOPES_AFTER = pageAfter("envelopes");
const EPHEMERAL_AFTER = pageAfter("ephemeral_envelopes");

export interface PostgresFollowerParts {
  /** The store's pool, for reads. */
  pool: pg.Pool;
  /** A pool of one connection of its own that stays checked out for LISTEN. */
  listenConnections: PostgresPool;
  /** The schema's notification channel (a plain lowercase identifier). */
  channel: string;
}

export class PostgresCommitFollower implements CommitFollower {
  private envelopesAfter = 0n;
  private ephemeralAfter = 0n;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  /** Read passes begun and finished: a pass begun after a commit became visible delivers it. */
  private passesBegun = 0;
  private passesDone = 0;
  private passWaiters: { pass: number; resolve(): void; reject(error: unknown): void }[] = [];
  private closed = false;
  private failing = false;
  private listening: pg.PoolClient | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  private readonly pollTimer: NodeJS.Timeout;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly logger: Logger;

  private constructor(
    private readonly parts: PostgresFollowerParts,
    private readonly listener: CommitListener,
    options: FollowOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.pollTimer = setInterval(() => this.poke(), options.pollIntervalMs ?? DEFAULT_FOLLOW_POLL_INTERVAL_MS);
    this.pollTimer.unref();
    this.pruneTimer = setInterval(() => void this.pruneEphemeral(), EPHEMERAL_PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  /** Starts after what is committed now; listening starts at once (a failure there is retried, polls go on). */
  static async start(parts: PostgresFollowerParts, listener: CommitListener, options: FollowOptions = {}): Promise<PostgresCommitFollower> {
    const heads = await poolQuery<{ envelopes: string; ephemeral: string }>(parts.pool, "read", {
      text: `SELECT (SELECT coalesce(max(seq), 0) FROM envelopes)::text AS envelopes,
                    (SELECT coalesce(max(seq), 0) FROM ephemeral_envelopes)::text AS ephemeral`,
    });
    const follower = new PostgresCommitFollower(parts, listener, options);
    follower.envelopesAfter = BigInt(heads.rows[0].envelopes);
    follower.ephemeralAfter = BigInt(heads.rows[0].ephemeral);
    await follower.listen();
    return follower;
  }

  /** Reads what was committed since the last read: now, or right after the read in progress. */
  poke(): void {
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.readAll().finally(() => {
      this.reading = undefined;
    });
  }

  caughtUp(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    // A pass that begins after this call reads every commit made before it (sequences become visible in order).
    const pass = this.passesBegun + 1;
    return new Promise<void>((resolve, reject) => {
      this.passWaiters.push({ pass, resolve, reject });
      this.poke();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settleWaiters(new StoreClosedError());
    clearInterval(this.pollTimer);
    clearInterval(this.pruneTimer);
    clearTimeout(this.relistenTimer);
    await this.reading;
    const listening = this.listening;
    this.listening = undefined;
    listening?.release(true);
    await this.parts.listenConnections.end();
  }

  private async readAll(): Promise<void> {
    do {
      this.readAgain = false;
      const pass = ++this.passesBegun;
      try {
        this.envelopesAfter = await this.readTable(ENVELOPES_AFTER, this.envelopesAfter);
        this.ephemeralAfter = await this.readTable(EPHEMERAL_AFTER, this.ephemeralAfter);
        if (this.failing) {
          this.failing = false;
          this.logger.info("following the shared store again", { position: this.envelopesAfter });
        }
      } catch (error) {
        // The position stays where it was: the next poll reads from there, so an outage delays, never drops.
        if (!this.failing) this.logger.warn("cannot read the shared store's new commits; retrying", { error });
        this.failing = true;
        this.settleWaiters(error);
        return;
      }
      this.passesDone = pass;
      this.settleWaiters();
    } while (this.readAgain && !this.closed);
  }

  /** Resolves the waiters whose pass is done; with an error, rejects every waiter (their pass cannot be read). */
  private settleWaiters(error?: unknown): void {
    const waiting = this.passWaiters;
    this.passWaiters = [];
    for (const waiter of waiting) {
      if (error !== undefined) waiter.reject(error);
      else if (waiter.pass <= this.passesDone) waiter.resolve();
      else this.passWaiters.push(waiter);
    }
  }

  /** Delivers every row after `after`, page by page; returns the new position. */
  private async readTable(statement: { name: string; text: string }, after: bigint): Promise<bigint> {
    for (;;) {
      const result = await poolQuery<EnvelopeRow>(this.parts.pool, "read", {
        ...statement,
        values: [after.toString(), PAGE_ROWS, PAGE_BYTES],
      });
      if (this.closed || result.rows.length === 0) return after;
      const envelopes: StoredEnvelope[] = result.rows.map((row) => toEnvelope(row, row.topic!));
      after = BigInt(result.rows[result.rows.length - 1].seq);
      try {
        this.listener(envelopes);
      } catch (error) {
        this.logger.error("commit listener failed", { error });
      }
      // A page ended by the byte budget may have left rows behind although it holds fewer than PAGE_ROWS.
      if (result.rows.length < PAGE_ROWS && messageBytesOf(envelopes) < PAGE_BYTES) return after;
    }
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    let client: pg.PoolClient;
    try {
      client = await this.parts.listenConnections.pool.connect();
    } catch (error) {
      this.scheduleRelisten(error);
      return;
    }
    let lost = false;
    // The 'error' listener stays for the connection's whole life: a late error with none would crash the process.
    const onLost = (error: unknown) => {
      // After close() released it, an error is only the socket going away.
      if (lost || (this.closed && this.listening !== client)) return;
      lost = true;
      if (this.listening === client) this.listening = undefined;
      client.removeAllListeners("notification");
      // Released with the error, so the pool discards the connection instead of reusing it.
      client.release(error instanceof Error ? error : true);
      this.scheduleRelisten(error);
    };
    client.on("error", onLost);
    client.on("notification", () => this.poke());
    try {
      await client.query(`LISTEN ${this.parts.channel}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (this.closed) {
      client.release(true);
      return;
    }
    this.listening = client;
    // Whatever was committed while nobody listened.
    this.poke();
  }

  private scheduleRelisten(error: unknown): void {
    if (this.closed || this.relistenTimer) return;
    this.logger.warn("lost the shared store's notifications; polling until listening again", { error });
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = undefined;
      void this.listen();
    }, RELISTEN_DELAY_MS);
    this.relistenTimer.unref();
  }

  private async pruneEphemeral(): Promise<void> {
    try {
      await poolQuery(this.parts.pool, "write", {
        name: "xmtp_prune_ephemeral",
        text: "DELETE FROM ephemeral_envelopes WHERE created_at < now() - make_interval(secs => $1)",
        values: [EPHEMERAL_RETENTION_SECONDS],
      });
    } catch (error) {
      this.logger.debug("pruning ephemeral envelopes failed; the next round retries", { error });
    }
  }
}
