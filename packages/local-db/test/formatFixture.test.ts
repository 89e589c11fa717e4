// The frozen format-1 fixture (see src/test-support/formatFixture.ts): today's code must read a store that format 1
// wrote, exactly. If this fails after a change, the change broke the stores users have: add a migration instead.
import Database from "better-sqlite3";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { LocalDatabaseKeyError, openSqliteDatabase } from "../src/index.js";
import { FIXTURE_COLLECTIONS, FIXTURE_KEY, writeFormatFixture } from "../src/test-support/formatFixture.js";

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), "fixtures/format-1.sqlite");
const workDir = mkdtempSync(join(tmpdir(), "xmtp-local-db-fixture-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A copy to open: opening writes beside the file (-wal, -shm), and the committed fixture must stay as it is. */
function fixtureCopy(): string {
  const copy = join(workDir, `copy-${Math.random().toString(36).slice(2)}.sqlite`);
  copyFileSync(fixture, copy);
  return copy;
}

describe("format 1 fixture", () => {
  // A tool, not a test: only when asked (the fixture is lost), never to make a format change pass.
  if (process.env.XMTP_LOCAL_DB_WRITE_FIXTURE === "1") {
    it("is regenerated (XMTP_LOCAL_DB_WRITE_FIXTURE=1)", async () => {
      await writeFormatFixture(fixture);
    });
  }

  it("is committed, one self-contained file", () => {
    expect(existsSync(fixture)).toBe(true);
    expect(existsSync(`${fixture}-wal`)).toBe(false);
    const raw = new Database(fixtureCopy(), { readonly: true });
    expect(Object.fromEntries(raw.prepare("SELECT name, value FROM meta WHERE name != 'key_check'").raw().all() as Array<[string, unknown]>)).toEqual({
      format: 1,
      writer: "@xmtp-ts/local-db format 1",
    });
    raw.close();
  });

  it("reads back exactly the records format 1 wrote", async () => {
    const db = await openSqliteDatabase({ path: fixtureCopy(), key: FIXTURE_KEY });
    try {
      expect(db.resetReason).toBeUndefined();
      for (const [collection, expected] of Object.entries(FIXTURE_COLLECTIONS)) {
        expect(await db.list(collection), collection).toEqual(expected);
        expect(await db.list(collection, { descending: true }), `${collection}, descending`).toEqual([...expected].reverse());
        for (const record of expected) expect(await db.get(collection, record.key), `${collection} ${record.key}`).toEqual(record.value);
      }
      expect(await db.get("cursors", "never existed")).toBeUndefined();
      // It still takes writes, in format 1.
      await db.write([{ type: "put", collection: "cursors", key: "new", value: new Uint8Array([1]) }]);
      expect(await db.get("cursors", "new")).toEqual(new Uint8Array([1]));
    } finally {
      await db.close();
    }
  });

  it("refuses another key (its key-check value is frozen too)", async () => {
    await expect(openSqliteDatabase({ path: fixtureCopy(), key: new Uint8Array(32) })).rejects.toBeInstanceOf(LocalDatabaseKeyError);
  });
});
