// @xmtp-ts/local-db: an encrypted local database for a client's inbox (keys, conversations, cursors, messages,
// consent). SQLite under Node.js, IndexedDB in browsers; see README.md for the format and the threat model.
export type { ListOptions, LocalDatabase, LocalRecord, LocalWrite, OpenLocalDatabaseOptions } from "./localDatabase.js";
export { LOCAL_DB_FORMAT_VERSION, openIndexedDbDatabase, openLocalDatabase, openSqliteDatabase } from "./openLocalDatabase.js";
export {
  LocalDatabaseClosedError,
  LocalDatabaseCorruptError,
  LocalDatabaseError,
  LocalDatabaseKeyError,
  LocalDatabaseVersionError,
} from "./errors.js";
