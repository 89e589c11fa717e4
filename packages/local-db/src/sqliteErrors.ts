// SQLite errors as LocalDatabaseErrors. Corruption can surface from any statement (a damaged page is found when it
// is read), so every call of the SQLite driver passes its errors through here, not only open.
import { LocalDatabaseCorruptError, LocalDatabaseError } from "./errors.js";

/** Extended codes start with their primary code: SQLITE_CORRUPT_INDEX, SQLITE_CORRUPT_VTAB, ... */
const CORRUPT_CODES = ["SQLITE_CORRUPT", "SQLITE_NOTADB"];

const EXPLAINED_CODES: Array<[prefix: string, explanation: string]> = [
  ["SQLITE_BUSY", "another process held the database locked for longer than the busy timeout"],
  ["SQLITE_FULL", "the disk is full"],
  ["SQLITE_READONLY", "the database file is read-only"],
  ["SQLITE_CANTOPEN", "the database file cannot be opened"],
  ["SQLITE_IOERR", "disk I/O error"],
];

function sqliteCode(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/** `error` as a LocalDatabaseError naming `location` (unchanged when it already is one, or is not SQLite's). */
export function fromSqliteError(error: unknown, location: string): unknown {
  if (error instanceof LocalDatabaseError) return error;
  const code = sqliteCode(error);
  if (code === undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (CORRUPT_CODES.some((prefix) => code.startsWith(prefix))) {
    return new LocalDatabaseCorruptError(location, `SQLite: ${message} (${code})`, { cause: error });
  }
  const explanation = EXPLAINED_CODES.find(([prefix]) => code.startsWith(prefix))?.[1];
  return new LocalDatabaseError(
    `${location}: ${explanation ? `${explanation} (SQLite: ${message}, ${code})` : `SQLite: ${message} (${code})`}`,
    location,
    { cause: error },
  );
}
