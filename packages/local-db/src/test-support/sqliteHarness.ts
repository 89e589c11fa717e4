// The conformance harness for SQLite (Node.js): files under a temporary folder, tampered with through a raw
// better-sqlite3 connection or plain file operations.
import Database from "better-sqlite3";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CURRENT_FORMAT } from "../format.js";
import { openSqliteDatabaseInFormat } from "../openInFormat.js";
import type { ConformanceHarness, RawRow } from "./harness.js";

export interface SqliteHarness extends ConformanceHarness {
  readonly root: string;
  cleanup(): void;
}

const META_NAMES = { format: "format", writer: "writer", "migration marker": "migration_marker" } as const;

export function createSqliteHarness(): SqliteHarness {
  const root = mkdtempSync(join(tmpdir(), "xmtp-local-db-"));
  let count = 0;

  /** A raw connection to a closed store, for one operation. */
  const withRaw = <T>(location: string, body: (connection: Database.Database) => T): T => {
    const connection = new Database(location, { fileMustExist: true });
    try {
      return body(connection);
    } finally {
      connection.close();
    }
  };

  return {
    driver: "sqlite",
    root,
    // A folder that does not exist yet: open creates it.
    newLocation: () => join(root, `store-${++count}`, "nested", "local.sqlite"),
    open: (location, key, format = CURRENT_FORMAT) => openSqliteDatabaseInFormat({ path: location, key }, format),

    async rawRows(location) {
      return withRaw(location, (connection) =>
        (connection.prepare("SELECT collection, key, ord, sealed FROM records ORDER BY seq").safeIntegers(true).raw().all() as Array<[Buffer, Buffer, bigint, Buffer]>).map(
          ([blindCollection, blindKey, order, sealed]): RawRow => ({
            blindCollection: new Uint8Array(blindCollection),
            blindKey: new Uint8Array(blindKey),
            order,
            sealed: new Uint8Array(sealed),
          }),
        ),
      );
    },
    async rawReplaceRow(location, before, after) {
      withRaw(location, (connection) => {
        const { changes } = connection
          .prepare("UPDATE records SET collection = ?, key = ?, ord = ?, sealed = ? WHERE key = ?")
          .run(after.blindCollection, after.blindKey, after.order, after.sealed, before.blindKey);
        if (changes !== 1) throw new Error(`no row to replace in ${location}`);
      });
    },
    async rawBytes(location) {
      const files = [location, `${location}-wal`].filter((file) => existsSync(file));
      return Buffer.concat(files.map((file) => readFileSync(file)));
    },
    async readMetaEntry(location, name) {
      return withRaw(location, (connection) => connection.prepare("SELECT value FROM meta WHERE name = ?").pluck().get(META_NAMES[name]));
    },
    async setStoredFormat(location, format) {
      withRaw(location, (connection) => connection.prepare("UPDATE meta SET value = ? WHERE name = 'format'").run(BigInt(format)));
    },
    async makeUnknownOldStore(location) {
      mkdirSync(dirname(location), { recursive: true });
      const connection = new Database(location);
      connection.exec(`
        CREATE TABLE messages (topic TEXT NOT NULL, sent_ns INTEGER NOT NULL, content BLOB NOT NULL);
        CREATE INDEX messages_by_topic ON messages (topic, sent_ns);
        CREATE VIEW recent AS SELECT * FROM messages ORDER BY sent_ns DESC LIMIT 10;
        INSERT INTO messages VALUES ('/xmtp/0/m-abc/proto', 1, 'a pre-release message in clear');
      `);
      connection.close();
    },
    async makeNonDatabase(location) {
      mkdirSync(dirname(location), { recursive: true });
      writeFileSync(location, Buffer.from("this is a text file, not a SQLite database\n".repeat(200)));
    },
    async truncate(location) {
      for (const file of [`${location}-wal`, `${location}-shm`]) rmSync(file, { force: true });
      truncateSync(location, Math.floor(statSync(location).size / 2));
    },
    async failThirdInsert(location) {
      withRaw(location, (connection) =>
        connection.exec(`
          CREATE TABLE test_insert_count (n INTEGER NOT NULL);
          INSERT INTO test_insert_count VALUES (0);
          CREATE TRIGGER test_count_inserts AFTER INSERT ON records BEGIN UPDATE test_insert_count SET n = n + 1; END;
          CREATE TRIGGER test_fail_third_insert BEFORE INSERT ON records WHEN (SELECT n FROM test_insert_count) >= 2
            BEGIN SELECT RAISE(ABORT, 'injected failure of the third insert'); END;
        `),
      );
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
