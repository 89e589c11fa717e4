// Which SQLite and file-system errors are faults of the disk underneath (full, read-only, failing) rather than bugs.
// A fault becomes a StoreUnavailableError, answered 503 / UNAVAILABLE; the node reports itself not ready until the
// store writes again (see storeHealth.ts).
import { StoreUnavailableError, type StoreOperation } from "./storeErrors.js";

/** better-sqlite3 error codes (primary codes, and extended codes by their primary prefix). */
const SQLITE_FAULTS: Array<[prefix: string, description: string]> = [
  ["SQLITE_FULL", "the disk is full"],
  ["SQLITE_IOERR", "disk I/O error"],
  ["SQLITE_READONLY", "the database file is read-only"],
  ["SQLITE_CANTOPEN", "the database file cannot be opened"],
  ["SQLITE_BUSY", "the database is locked by another process"],
  ["SQLITE_NOMEM", "SQLite is out of memory"],
];

/** errno names from the node's own file operations (the WAL flush). */
const FILE_FAULTS: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is exhausted",
  EIO: "disk I/O error",
  EROFS: "the file system is read-only",
};

/** What kind of disk fault `error` is, or undefined when it is none (a bug, a constraint violation). */
export function describeSqliteFault(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  if (Object.hasOwn(FILE_FAULTS, code)) return FILE_FAULTS[code];
  for (const [prefix, description] of SQLITE_FAULTS) if (code.startsWith(prefix)) return description;
  return undefined;
}

/** `error` as a StoreUnavailableError when it is a disk fault; otherwise unchanged. */
export function asSqliteFault(error: unknown, operation: StoreOperation): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const description = describeSqliteFault(error);
  if (description === undefined) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`SQLite store cannot ${operation}: ${description} (${detail})`, operation, { cause: error });
}
