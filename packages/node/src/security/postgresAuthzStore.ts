// The allow/deny lists in PostgreSQL: two tables of their own in the node's database, next to the envelopes.
// Its own small pool, set up like the envelope store's (store/postgresPool.ts): a lost, restarting or hung database
// fails the call in flight with StoreUnavailableError, never the process, and the pool reconnects on demand.
import type pg from "pg";
import { createPostgresPool, inTransaction, poolQuery } from "../store/postgresPool.js";
import {
  AuthzDatabaseMissingError,
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

/** Refuses a schema that does not exist, or that no node has used (neither its envelope tables nor the lists). */
async function ensureNodeSchemaExists(client: pg.PoolClient, target: { schema?: string; where: string }): Promise<void> {
  const schema = target.schema ?? (await client.query<{ schema: string | null }>("SELECT current_schema() AS schema")).rows[0]?.schema;
  if (!schema) throw new AuthzDatabaseMissingError(`${target.where} has no schema to use (its search_path names none that exists)`);
  const found = await client.query<{ exists: boolean; used: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
            EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1
                      AND tablename IN ('xmtp_schema_migrations', 'authz_wallets')) AS used`,
    [schema],
  );
  const { exists, used } = found.rows[0];
  if (!exists) throw new AuthzDatabaseMissingError(`PostgreSQL schema ${schema} does not exist in ${target.where}`);
  if (!used) throw new AuthzDatabaseMissingError(`PostgreSQL schema ${schema} in ${target.where} has no node tables: no xmtp-node has used it`);
}

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
  /** Connecting (or waiting for a free pooled connection) fails after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  /** A statement fails after this long (default 10000 ms; server-side statement_timeout and a client-side timer). */
  queryTimeoutMs?: number;
  /**
   * Create what is missing (default true): the URL's `?schema=` and the two tables. False: a schema that does not
   * exist, or one that holds neither the node's tables nor the lists, is refused with AuthzDatabaseMissingError.
   */
  create?: boolean;
}

/** As the envelope store checks it (store/postgres.ts): it is written into SQL. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The URL without its `?schema=` (which node-postgres would ignore), the schema, and a description of the place
 * without credentials for messages.
 */
function targetOf(url: string): { connectionString: string; schema?: string; where: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // not a URL: node-postgres reports it when connecting
    return { connectionString: url, where: "the PostgreSQL database given with --db" };
  }
  const schema = parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("schema");
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`PostgreSQL schema name ${JSON.stringify(schema)} must match ${SCHEMA_NAME} (lowercase letters, digits, _)`);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "(the user's default)";
  return { connectionString: parsed.toString(), schema, where: `database ${database} on ${parsed.host}` };
}

export async function openPostgresAuthzStore(url: string, options: PostgresAuthzStoreOptions = {}): Promise<AuthzStore> {
  const now = options.now ?? Date.now;
  const create = options.create ?? true;
  const target = targetOf(url);
  const connections = createPostgresPool({
    connectionString: target.connectionString,
    max: options.maxConnections ?? 2,
    applicationName: "xmtp-ts-node-authz",
    connectTimeoutMs: options.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs,
    // The lists live beside the envelopes, in the node's schema (the envelope store does the same).
    sessionSettings: target.schema ? { search_path: target.schema } : undefined,
  });
  const pool = connections.pool;
  const write = <T>(run: (client: pg.PoolClient) => Promise<T>) => inTransaction(pool, "write", run);

  try {
    await write(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_ID.toString()]);
      if (!create) await ensureNodeSchemaExists(client, target);
      else if (target.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${target.schema}`);
      await client.query(SCHEMA);
    });
  } catch (err) {
    await connections.end();
    throw err;
  }

  let closed = false;
  return {
    async version() {
      const result = await poolQuery<{ version: string }>(pool, "read", {
        text: "SELECT version FROM authz_version WHERE id = 1",
      });
      return Number(result.rows[0].version);
    },
    async list() {
      const result = await poolQuery<WalletRow>(pool, "read", {
        text: "SELECT address, permission, priority, updated_at_ms FROM authz_wallets ORDER BY address",
      });
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
      await write(async (client) => {
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
      return write(async (client) => {
        const result = await client.query("DELETE FROM authz_wallets WHERE address = $1", [normalized]);
        const removed = (result.rowCount ?? 0) > 0;
        if (removed) await client.query("UPDATE authz_version SET version = version + 1 WHERE id = 1");
        return removed;
      });
    },
    /** Bounded and never throws, even with the database gone or hung. */
    async close() {
      if (closed) return;
      closed = true;
      await connections.end();
    },
  };
}
