// What a page-level snapshot must not carry from its source node's database file (docs/storage.md §6). A snapshot
// holds the network's data, the envelopes and their postage proofs, the same as a record-format snapshot; the rest of
// the file is this node's own: its allow/deny lists (authz_*, kept in the same file by sqliteAuthzStore.ts), the
// postage vouchers it accepted and will redeem (money owed to its operator), the relationships it recorded from what
// it accepted itself (docs/postage.md §3.4; a record-format restore starts without them too) and the write probe.
import type Database from "better-sqlite3";

/** Tables emptied: part of the store's schema, so a restored node expects them to exist. */
const EMPTIED_TABLES = ["postage_vouchers", "postage_relationships", "write_probe"];
/** Tables dropped: not part of the store's schema; the authz store creates them again where it is asked to. */
export const DROPPED_TABLES = ["authz_wallets", "authz_version"];

/**
 * Removes the node-local state from a database that is a copy (a snapshot being written, or one being restored).
 * secure_delete overwrites what is deleted with zeros: with it off, freed pages would still hold the rows, and they
 * would travel in the snapshot file.
 */
export function dropNodeLocalState(db: Database.Database): void {
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  db.pragma("secure_delete = ON");
  db.transaction(() => {
    for (const table of EMPTIED_TABLES) if (tables.has(table)) db.exec(`DELETE FROM "${table}"`);
    for (const table of DROPPED_TABLES) if (tables.has(table)) db.exec(`DROP TABLE "${table}"`);
  })();
}
