// The allow/deny lists in PostgreSQL: two tables of their own in the node's database, next to the envelopes.
import pg from "pg";
import {
  normalizeWalletAddress,
  validateAuthzChange,
  type AuthzChange,
  type AuthzEntry,
  type AuthzStore,
  type WalletPermission,
} from "./authzStore.js";

// Any fixed number; serializes schema creation when the node and the CLI start at the same moment.
const SCHEMA_LOCK_ID = 0x786d7470_61757468n; // "xmtpauth"

const SCHEMA = `
CREATE TABLE IF NOT EXISTS authz_wallets (
  address       TEXT PRIMARY KEY,
  permission    TEXT NOT NULL CHECK (permission IN ('allow', 'deny')),
  priority      BOOLEAN NOT NULL DEFAULT FALSE,
  updated_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS authz_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO authz_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
`;

interface WalletRow {
  address: string;
  permission: WalletPermission;
  priority: boolean;
  updated_at_ms: string;
}

export interface PostgresAuthzStoreOptions {
  now?: () => number;
  /** Pool size; the lists are small and rarely written, so a couple of connections suffice. Default 2. */
  maxConnections?: number;
}

export async function openPostgresAuthzStore(url: string, options: PostgresAuthzStoreOptions = {}): Promise<AuthzStore> {
  const now = options.now ?? Date.now;
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 2 });
  // An idle client losing its connection must not crash the node; the next query reconnects.
  pool.on("error", () => undefined);

  const inTransaction = async <T>(run: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const result = await run(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };

  try {
    await inTransaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_ID.toString()]);
      await client.query(SCHEMA);
    });
  } catch (err) {
    await pool.end();
    throw err;
  }

  let closed = false;
  return {
    async version() {
      const result = await pool.query<{ version: string }>("SELECT version FROM authz_version WHERE id = 1");
      return Number(result.rows[0].version);
    },
    async list() {
      const result = await pool.query<WalletRow>(
        "SELECT address, permission, priority, updated_at_ms FROM authz_wallets ORDER BY address",
      );
      return result.rows.map((row) => ({
        address: row.address,
        permission: row.permission,
        priority: row.priority,
        updatedAtMs: Number(row.updated_at_ms),
      }));
    },
    async put(change: AuthzChange) {
      const valid = validateAuthzChange(change);
      const entry: AuthzEntry = { ...valid, updatedAtMs: now() };
      await inTransaction(async (client) => {
        await client.query(
          `INSERT INTO authz_wallets (address, permission, priority, updated_at_ms) VALUES ($1, $2, $3, $4)
           ON CONFLICT (address) DO UPDATE SET permission = EXCLUDED.permission, priority = EXCLUDED.priority,
             updated_at_ms = EXCLUDED.updated_at_ms`,
          [entry.address, entry.permission, entry.priority, entry.updatedAtMs],
        );
        await client.query("UPDATE authz_version SET version = version + 1 WHERE id = 1");
      });
      return entry;
    },
    async remove(address: string) {
      const normalized = normalizeWalletAddress(address);
      return inTransaction(async (client) => {
        const result = await client.query("DELETE FROM authz_wallets WHERE address = $1", [normalized]);
        const removed = (result.rowCount ?? 0) > 0;
        if (removed) await client.query("UPDATE authz_version SET version = version + 1 WHERE id = 1");
        return removed;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
