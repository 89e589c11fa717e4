// The public openers: the current format, and the driver the environment calls for.
import { CURRENT_FORMAT } from "./format.js";
import type { LocalDatabase, OpenLocalDatabaseOptions } from "./localDatabase.js";
import { openIndexedDbDatabaseInFormat, openSqliteDatabaseInFormat } from "./openInFormat.js";

/** SQLite file under Node.js (better-sqlite3, loaded by a dynamic import with a computed specifier so browser bundles never see it), IndexedDB in browsers. */
export function openLocalDatabase(options: OpenLocalDatabaseOptions): Promise<LocalDatabase> {
  return isNode() ? openSqliteDatabase(options) : openIndexedDbDatabase(options);
}

export function openSqliteDatabase(options: OpenLocalDatabaseOptions): Promise<LocalDatabase> {
  return openSqliteDatabaseInFormat(options, CURRENT_FORMAT);
}

export function openIndexedDbDatabase(options: OpenLocalDatabaseOptions): Promise<LocalDatabase> {
  return openIndexedDbDatabaseInFormat(options, CURRENT_FORMAT);
}

/** The store format this version writes, recorded in each store's metadata. */
export const LOCAL_DB_FORMAT_VERSION = CURRENT_FORMAT.version;

function isNode(): boolean {
  const versions = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions;
  return typeof versions?.node === "string";
}
