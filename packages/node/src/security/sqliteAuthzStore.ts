// The allow/deny lists in SQLite: two tables of their own in the node's database file, opened on a separate
// connection so the CLI and the node can use the file at the same time (WAL mode, busy timeout).
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import {
  AuthzDatabaseMissingError,
  normalizeWalletAddress,
  validateAuthzChange,
  type AuthzChange,
  type AuthzEntry,
  type AuthzStore,
  type WalletPermission,
} from "./authzStore.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS authz_wallets (
  address       TEXT PRIMARY KEY,
  permission    TEXT NOT NULL CHECK (permission IN ('allow', 'deny')),
  priority      INTEGER NOT NULL DEFAULT 0,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS authz_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT OR IGNORE INTO authz_version (id, version) VALUES (1, 0);
`;

interface WalletRow {
  address: string;
  permission: WalletPermission;
  priority: number;
  updated_at_ms: number;
}

function entryOf(row: WalletRow): AuthzEntry {
  return {
    address: row.address,
    permission: row.permission,
    priority: row.priority !== 0,
    updatedAtMs: row.updated_at_ms,
  };
}

export interface SqliteAuthzStoreOptions {
  now?: () => number;
  /** Create the database file when it does not exist (default true); false: AuthzDatabaseMissingError instead. */
  create?: boolean;
}

export function openSqliteAuthzStore(path: string, options: SqliteAuthzStoreOptions = {}): AuthzStore {
  const now = options.now ?? Date.now;
  const create = options.create ?? true;
  if (!create && !existsSync(path)) throw new AuthzDatabaseMissingError(`there is no node database at ${path}`);
  // fileMustExist also covers a file removed between the check and the open: nothing is created without `create`.
  const db = new Database(path, { fileMustExist: !create });
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);

  const selectVersion = db.prepare<[], { version: number }>("SELECT version FROM authz_version WHERE id = 1");
  const selectAll = db.prepare<[], WalletRow>(
    "SELECT address, permission, priority, updated_at_ms FROM authz_wallets ORDER BY address",
  );
  const upsert = db.prepare(
    `INSERT INTO authz_wallets (address, permission, priority, updated_at_ms) VALUES (?, ?, ?, ?)
     ON CONFLICT (address) DO UPDATE SET permission = excluded.permission, priority = excluded.priority,
       updated_at_ms = excluded.updated_at_ms`,
  );
  const deleteOne = db.prepare("DELETE FROM authz_wallets WHERE address = ?");
  const bump = db.prepare("UPDATE authz_version SET version = version + 1 WHERE id = 1");

  const putTx = db.transaction((entry: AuthzEntry) => {
    upsert.run(entry.address, entry.permission, entry.priority ? 1 : 0, entry.updatedAtMs);
    bump.run();
  });
  const removeTx = db.transaction((address: string) => {
    const removed = deleteOne.run(address).changes > 0;
    if (removed) bump.run();
    return removed;
  });

  return {
    async version() {
      return selectVersion.get()!.version;
    },
    async list() {
      return selectAll.all().map(entryOf);
    },
    async put(change: AuthzChange) {
      const valid = validateAuthzChange(change);
      const entry: AuthzEntry = { ...valid, updatedAtMs: now() };
      putTx.immediate(entry);
      return entry;
    },
    async remove(address: string) {
      return removeTx.immediate(normalizeWalletAddress(address));
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
