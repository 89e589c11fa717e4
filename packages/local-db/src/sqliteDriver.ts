// The Node.js driver: one SQLite file (better-sqlite3) in WAL mode.
//
// Several processes may use one file at once (`xmtp stream` in one terminal, `xmtp send` in another): WAL lets
// readers go on while one connection writes, every write() is one BEGIN IMMEDIATE transaction, and a connection
// that finds the file locked waits up to SQLITE_BUSY_TIMEOUT_MS before failing. synchronous=NORMAL: a commit
// survives the process being killed, and the last commits before a power loss may be lost but never half-applied;
// the data is a cache of the network.
//
// Layout (format 1): `records` holds one row per record, found by blind indexes (sealing.ts) and listed through an
// index on (collection, ord), whose implicit rowid suffix orders ties by insertion. `meta` is a small cleartext
// table: the format, the writer and the key-check value. The header's application_id marks the file as ours, so
// another program's SQLite file given by mistake is refused, never emptied.
import type BetterSqlite3 from "better-sqlite3";
import { LocalDatabaseClosedError, LocalDatabaseCorruptError, LocalDatabaseError, LocalDatabaseKeyError, LocalDatabaseVersionError } from "./errors.js";
import { CURRENT_FORMAT, parseStoredFormat, planOpen, writerOf, type LocalDbFormat, type StoredShape } from "./format.js";
import { keyCheckMatches } from "./keys.js";
import { loadNodeModules, type NodeModules } from "./nodeModules.js";
import type { RecordStore, RowQuery, StoredRow, StoredWrite } from "./recordStore.js";
import { fromSqliteError } from "./sqliteErrors.js";

/** How long a connection waits for another one's write transaction before failing with SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;
/** PRAGMA application_id of our files: "xmtL". */
export const SQLITE_APPLICATION_ID = 0x786d744c;
/** Permissions of a file (and of its -wal and -shm files, which SQLite gives the same) and of created folders. */
const FILE_MODE = 0o600;
const FOLDER_MODE = 0o700;

const SCHEMA = `
CREATE TABLE records (
  seq INTEGER PRIMARY KEY,   -- insertion order; INSERT OR REPLACE gives an overwrite a new, larger one
  collection BLOB NOT NULL,  -- blind index of the collection name
  key BLOB NOT NULL UNIQUE,  -- blind index of (collection, key)
  ord INTEGER NOT NULL,      -- the record's order, in clear for range queries
  sealed BLOB NOT NULL       -- nonce || AES-256-GCM ciphertext || tag of (key, value)
);
CREATE INDEX records_by_order ON records (collection, ord);
CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
`;

const META_FORMAT = "format";
const META_WRITER = "writer";
const META_KEY_CHECK = "key_check";

type Connection = BetterSqlite3.Database;

/** What inspect() found: the shape, and for a versioned store its key-check value. */
interface Inspection {
  shape: StoredShape;
  keyCheck?: Uint8Array;
}

/**
 * Opens (creating it if needed) the SQLite store at `path`. `format` is the current one except in tests, which open
 * stores with synthetic newer formats to exercise the migration mechanism.
 */
export async function openSqliteRecordStore(
  path: string,
  keyCheck: Uint8Array,
  format: LocalDbFormat = CURRENT_FORMAT,
): Promise<RecordStore> {
  const modules = await loadNodeModules();
  const location = modules.path.resolve(path);
  createFile(modules, location);
  let connection: Connection;
  try {
    connection = new modules.Database(location, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  } catch (error) {
    throw fromSqliteError(error, location);
  }
  try {
    const resetReason = prepareStore(connection, location, keyCheck, format);
    return new SqliteRecordStore(connection, location, resetReason);
  } catch (error) {
    connection.close();
    throw fromSqliteError(error, location);
  }
}

/** Creates the parent folders and an empty file with mode 0600, so the file is never readable by others. */
function createFile({ fs, path }: NodeModules, location: string): void {
  try {
    fs.mkdirSync(path.dirname(location), { recursive: true, mode: FOLDER_MODE });
    fs.closeSync(fs.openSync(location, "wx", FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    throw new LocalDatabaseError(`${location}: cannot create the database file (${(error as Error).message})`, location, {
      cause: error,
    });
  }
}

/**
 * Checks the format and the key, and creates, migrates or resets the store as format.ts decides; the reset reason
 * when it was emptied. Reads first, and takes the write lock only when something must change, re-deciding under
 * it: another process may have created or migrated the file meanwhile.
 */
function prepareStore(connection: Connection, location: string, keyCheck: Uint8Array, format: LocalDbFormat): string | undefined {
  const first = inspect(connection, location);
  const firstPlan = planOpen(first.shape, format);
  if (firstPlan.kind === "newer") throw new LocalDatabaseVersionError(location, firstPlan.format, format.version);
  if (firstPlan.kind === "use" || firstPlan.kind === "migrate") verifyKey(first, keyCheck, location);
  // Only now, once the file is known to be ours and readable by this version: switching to WAL writes its header.
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = NORMAL");
  if (firstPlan.kind === "use") return undefined;

  let resetReason: string | undefined;
  connection
    .transaction(() => {
      const inspection = inspect(connection, location);
      const plan = planOpen(inspection.shape, format);
      switch (plan.kind) {
        case "newer":
          throw new LocalDatabaseVersionError(location, plan.format, format.version);
        case "use":
          verifyKey(inspection, keyCheck, location);
          return;
        case "create":
          createSchema(connection, keyCheck, format);
          return;
        case "migrate":
          verifyKey(inspection, keyCheck, location);
          for (const step of plan.steps) step.sqlite(connection);
          writeMeta(connection, [
            [META_FORMAT, format.version],
            [META_WRITER, writerOf(format)],
          ]);
          return;
        case "reset":
          dropEverything(connection);
          createSchema(connection, keyCheck, format);
          resetReason = plan.reason;
          return;
      }
    })
    .immediate();
  if (resetReason !== undefined) scrubFreedPages(connection);
  return resetReason;
}

function inspect(connection: Connection, location: string): Inspection {
  const tables = connection
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .pluck()
    .all() as string[];
  if (tables.length === 0) return { shape: { kind: "empty" } };
  const applicationId = connection.pragma("application_id", { simple: true }) as number;
  if (applicationId !== 0 && applicationId !== SQLITE_APPLICATION_ID) {
    throw new LocalDatabaseCorruptError(
      location,
      `not an @xmtp-ts/local-db file: it belongs to another program (SQLite application_id 0x${applicationId.toString(16)})`,
    );
  }
  const metaColumns = tables.includes("meta")
    ? (connection.prepare("SELECT name FROM pragma_table_info('meta')").pluck().all() as string[])
    : [];
  if (!metaColumns.includes("name") || !metaColumns.includes("value")) {
    return { shape: { kind: "unknown", description: `tables ${tables.join(", ")}, no meta table of this package` } };
  }
  const meta = new Map(connection.prepare("SELECT name, value FROM meta").safeIntegers(true).raw().all() as Array<[string, unknown]>);
  if (!meta.has(META_FORMAT)) return { shape: { kind: "unknown", description: "a meta table without a format" } };
  const storedFormat = parseStoredFormat(meta.get(META_FORMAT));
  if (storedFormat === undefined) {
    throw new LocalDatabaseCorruptError(location, `its format number is not a number (${String(meta.get(META_FORMAT))})`);
  }
  const keyCheck = meta.get(META_KEY_CHECK);
  return { shape: { kind: "versioned", format: storedFormat }, keyCheck: keyCheck instanceof Uint8Array ? keyCheck : undefined };
}

function verifyKey(inspection: Inspection, keyCheck: Uint8Array, location: string): void {
  if (inspection.keyCheck === undefined || inspection.keyCheck.length !== keyCheck.length) {
    throw new LocalDatabaseCorruptError(location, "its key-check value is missing or malformed");
  }
  if (!keyCheckMatches(inspection.keyCheck, keyCheck)) throw new LocalDatabaseKeyError(location);
}

function createSchema(connection: Connection, keyCheck: Uint8Array, format: LocalDbFormat): void {
  connection.exec(SCHEMA);
  connection.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
  writeMeta(connection, [
    [META_FORMAT, format.version],
    [META_WRITER, writerOf(format)],
    [META_KEY_CHECK, keyCheck],
  ]);
}

function writeMeta(connection: Connection, entries: Array<[string, number | string | Uint8Array]>): void {
  const upsert = connection.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)");
  // better-sqlite3 binds a JS number as REAL; the format is an INTEGER.
  for (const [name, value] of entries) upsert.run(name, typeof value === "number" ? BigInt(value) : value);
}

/** Every table, view and trigger of an unknown older shape (their indexes go with their tables). */
function dropEverything(connection: Connection): void {
  const objects = connection
    .prepare("SELECT type, name FROM sqlite_schema WHERE type IN ('view', 'trigger', 'table') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .raw()
    .all() as Array<["view" | "trigger" | "table", string]>;
  const rank = { trigger: 0, view: 1, table: 2 };
  objects.sort((a, b) => rank[a[0]] - rank[b[0]]);
  for (const [type, name] of objects) connection.exec(`DROP ${type.toUpperCase()} IF EXISTS "${name.replaceAll('"', '""')}"`);
}

/**
 * After a reset, the dropped store's content (perhaps from a pre-release shape that kept it in clear) would linger
 * in free pages and in the WAL: rewrite the file without them. Best effort: another process's read keeps the WAL
 * from being truncated, and that changes nothing about correctness.
 */
function scrubFreedPages(connection: Connection): void {
  try {
    connection.exec("VACUUM");
    connection.pragma("wal_checkpoint(TRUNCATE)");
  } catch {
    // see above
  }
}

class SqliteRecordStore implements RecordStore {
  private closed = false;
  private readonly getStatement: BetterSqlite3.Statement;
  private readonly listAscending: BetterSqlite3.Statement;
  private readonly listDescending: BetterSqlite3.Statement;
  private readonly putStatement: BetterSqlite3.Statement;
  private readonly deleteStatement: BetterSqlite3.Statement;
  private readonly deleteCollectionStatement: BetterSqlite3.Statement;
  private readonly applyInTransaction: BetterSqlite3.Transaction<(writes: readonly StoredWrite[]) => void>;

  constructor(
    private readonly connection: Connection,
    readonly location: string,
    readonly resetReason: string | undefined,
  ) {
    this.getStatement = connection.prepare("SELECT ord, sealed FROM records WHERE key = ? AND collection = ?").safeIntegers(true).raw();
    // LIMIT -1 is no limit. The (collection, ord) index ends with the rowid, so both orders are read from it, with
    // no sort. A bound LIMIT does not make SQLite re-prepare here: that happens only with STAT4 samples (ANALYZE),
    // which this file never has.
    const list = (direction: "ASC" | "DESC") =>
      connection
        .prepare(
          `SELECT key, ord, sealed FROM records WHERE collection = ? AND ord BETWEEN ? AND ? ` +
            `ORDER BY ord ${direction}, seq ${direction} LIMIT ?`,
        )
        .safeIntegers(true)
        .raw();
    this.listAscending = list("ASC");
    this.listDescending = list("DESC");
    this.putStatement = connection.prepare("INSERT OR REPLACE INTO records (collection, key, ord, sealed) VALUES (?, ?, ?, ?)");
    this.deleteStatement = connection.prepare("DELETE FROM records WHERE key = ? AND collection = ?");
    this.deleteCollectionStatement = connection.prepare("DELETE FROM records WHERE collection = ?");
    this.applyInTransaction = connection.transaction((writes: readonly StoredWrite[]) => {
      for (const write of writes) {
        switch (write.type) {
          case "put":
            this.putStatement.run(write.blindCollection, write.blindKey, write.order, write.sealed);
            break;
          case "delete":
            this.deleteStatement.run(write.blindKey, write.blindCollection);
            break;
          case "deleteCollection":
            this.deleteCollectionStatement.run(write.blindCollection);
            break;
        }
      }
    });
  }

  async getRow(blindCollection: Uint8Array, blindKey: Uint8Array): Promise<Omit<StoredRow, "blindKey"> | undefined> {
    return this.run(() => {
      const row = this.getStatement.get(blindKey, blindCollection) as [bigint, Uint8Array] | undefined;
      return row && { order: checkedOrder(row[0], this.location), sealed: checkedBlob(row[1], this.location) };
    });
  }

  async listRows(blindCollection: Uint8Array, query: RowQuery): Promise<StoredRow[]> {
    return this.run(() => {
      const statement = query.descending ? this.listDescending : this.listAscending;
      const rows = statement.all(blindCollection, query.from, query.to, query.limit ?? -1) as Array<[Uint8Array, bigint, Uint8Array]>;
      return rows.map(([blindKey, order, sealed]) => ({
        blindKey: checkedBlob(blindKey, this.location),
        order: checkedOrder(order, this.location),
        sealed: checkedBlob(sealed, this.location),
      }));
    });
  }

  async applyWrites(writes: readonly StoredWrite[]): Promise<void> {
    this.run(() => this.applyInTransaction.immediate(writes));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.run(() => this.connection.close(), true);
  }

  private run<T>(body: () => T, closing = false): T {
    if (this.closed && !closing) throw new LocalDatabaseClosedError(this.location);
    try {
      return body();
    } catch (error) {
      throw fromSqliteError(error, this.location);
    }
  }
}

/** A column that SQLite could hand back with another type if the row was altered. */
function checkedBlob(value: unknown, location: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new LocalDatabaseCorruptError(location, `a record row holds ${typeof value} where bytes belong`);
}

function checkedOrder(value: unknown, location: string): bigint {
  if (typeof value === "bigint") return value;
  throw new LocalDatabaseCorruptError(location, `a record row holds ${typeof value} where its order belongs`);
}
