// What is particular to the SQLite driver: the file itself (permissions, WAL, marking), damage found after open,
// another program's file, several processes on one file.
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, closeSync, statSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  LocalDatabaseCorruptError,
  LocalDatabaseError,
  openLocalDatabase,
  openSqliteDatabase,
  type LocalWrite,
} from "../src/index.js";
import { SQLITE_APPLICATION_ID } from "../src/sqliteDriver.js";
import { fromSqliteError } from "../src/sqliteErrors.js";
import { KEY_A } from "../src/test-support/conformance.js";
import { createSqliteHarness } from "../src/test-support/sqliteHarness.js";

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const harness = createSqliteHarness();
afterAll(() => harness.cleanup());

const put = (key: string, order = 0n, size = 100): LocalWrite => ({
  type: "put",
  collection: "c",
  key,
  value: new Uint8Array(size).fill(key.length),
  order,
});

describe("SQLite file", () => {
  it("is created with its folders, mode 0600, in WAL mode, marked as ours, at an absolute location", async () => {
    const location = harness.newLocation();
    const db = await openLocalDatabase({ path: location, key: KEY_A });
    await db.write([put("k1")]);
    expect(db.location).toBe(resolve(location));
    expect(statSync(location).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(location)).mode & 0o777).toBe(0o700);
    // SQLite gives the WAL the database file's permissions.
    expect(statSync(`${location}-wal`).mode & 0o777).toBe(0o600);
    await db.close();
    const raw = new Database(location, { readonly: true });
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(raw.pragma("application_id", { simple: true })).toBe(SQLITE_APPLICATION_ID);
    expect(raw.prepare("SELECT name, typeof(value) FROM meta ORDER BY name").raw().all()).toEqual([
      ["format", "integer"],
      ["key_check", "blob"],
      ["writer", "text"],
    ]);
    expect(raw.prepare("SELECT value FROM meta WHERE name = 'writer'").pluck().get()).toBe("@xmtp-ts/local-db format 1");
    // list reads its rows from the (collection, ord) index in both directions: no sort step.
    const plan = (direction: string) =>
      raw
        .prepare(`EXPLAIN QUERY PLAN SELECT key, ord, sealed FROM records WHERE collection = ? AND ord BETWEEN ? AND ? ORDER BY ord ${direction}, seq ${direction} LIMIT ?`)
        .all(new Uint8Array(32), 0, 1, 10)
        .map((row) => (row as { detail: string }).detail)
        .join("; ");
    for (const direction of ["ASC", "DESC"]) {
      expect(plan(direction)).toContain("records_by_order");
      expect(plan(direction)).not.toContain("TEMP B-TREE");
    }
    raw.close();
  });

  it("maps damage found after open (a destroyed table page) on every call", async () => {
    const location = harness.newLocation();
    const db = await openSqliteDatabase({ path: location, key: KEY_A });
    await db.write(Array.from({ length: 300 }, (_, i) => put(`k${i}`, BigInt(i), 500)));
    await db.close();
    const raw = new Database(location, { readonly: true });
    const pageSize = raw.pragma("page_size", { simple: true }) as number;
    const rootPage = raw.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'records'").pluck().get() as number;
    raw.close();
    const file = openSync(location, "r+");
    writeSync(file, Buffer.alloc(pageSize, 0xff), 0, pageSize, (rootPage - 1) * pageSize);
    closeSync(file);

    const damaged = await openSqliteDatabase({ path: location, key: KEY_A });
    try {
      for (const call of [() => damaged.list("c"), () => damaged.get("c", "k1"), () => damaged.write([put("k1")])]) {
        const error = await call().then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(LocalDatabaseCorruptError);
        expect((error as LocalDatabaseCorruptError).detail).toMatch(/SQLITE_CORRUPT/);
        expect((error as Error).message).toContain(location);
      }
    } finally {
      await damaged.close();
    }
  });

  it("refuses another program's SQLite file and leaves it alone", async () => {
    const location = harness.newLocation();
    mkdirSync(dirname(location), { recursive: true });
    const other = new Database(location);
    other.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me'); PRAGMA application_id = 1234;");
    other.close();
    await expect(openSqliteDatabase({ path: location, key: KEY_A })).rejects.toThrow(/belongs to another program/);
    const after = new Database(location, { readonly: true });
    expect(after.prepare("SELECT body FROM notes").pluck().all()).toEqual(["keep me"]);
    after.close();
  });

  it("maps SQLite error codes: corruption, busy, others", () => {
    const sqliteError = (code: string) => Object.assign(new Error(`message of ${code}`), { code });
    expect(fromSqliteError(sqliteError("SQLITE_CORRUPT_INDEX"), "/x")).toBeInstanceOf(LocalDatabaseCorruptError);
    expect(fromSqliteError(sqliteError("SQLITE_NOTADB"), "/x")).toBeInstanceOf(LocalDatabaseCorruptError);
    const busy = fromSqliteError(sqliteError("SQLITE_BUSY"), "/x") as LocalDatabaseError;
    expect(busy).toBeInstanceOf(LocalDatabaseError);
    expect(busy).not.toBeInstanceOf(LocalDatabaseCorruptError);
    expect(busy.message).toMatch(/^\/x: another process held the database locked/);
    const plain = new Error("not SQLite's");
    expect(fromSqliteError(plain, "/x")).toBe(plain);
  });
});

describe("two processes on one file", () => {
  const dist = join(packageRoot, "dist/index.js");

  it("write and read concurrently: every write visible to both, no error", async () => {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (npx tsc -b packages/local-db, or npm run build)`);
    const location = harness.newLocation();
    const perProcess = 300;
    const inTest = 60;
    const total = 2 * perProcess + inTest;
    const keyHex = Buffer.from(KEY_A).toString("hex");
    // Both processes start on a file that does not exist yet: they also race to create it.
    const children = ["alpha", "beta"].map((name) => runWriter([location, keyHex, name, String(perProcess), String(total)]));
    // Meanwhile this process writes too, through its own connection.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const db = await openSqliteDatabase({ path: location, key: KEY_A });
    try {
      for (let i = 0; i < inTest; i++) {
        await db.write([{ type: "put", collection: "shared", key: `test-${i}`, value: new Uint8Array([i]), order: BigInt(i) }]);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const results = await Promise.all(children);
      for (const result of results) {
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ seen: total });
      }
      const records = await db.list("shared");
      expect(records).toHaveLength(total);
      for (const name of ["alpha", "beta"]) {
        const own = records.filter((r) => r.key.startsWith(`${name}-`));
        expect(own.map((r) => r.key).sort()).toEqual(Array.from({ length: perProcess }, (_, i) => `${name}-${i}`).sort());
        for (const r of own) expect(new TextDecoder().decode(r.value)).toMatch(new RegExp(`^${name}:${r.order}:\\.+$`));
      }
    } finally {
      await db.close();
    }
    expect(readFileSync(location).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\u0000");
  });

  function runWriter(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [join(packageRoot, "test/support/concurrentWriter.mjs"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }
});
