// Page-level snapshots (version 2, the database file itself; docs/storage.md §6): a file whose every checksum matches
// but whose database is damaged, of a foreign or newer schema, or disagrees with its header is refused and leaves
// nothing behind; an older schema is migrated; node-local state (allow lists, vouchers, relationships) does not travel;
// Waku hashes are kept when computed under the restored node's configuration and derived again otherwise.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config.js";
import { openSqliteAuthzStore } from "../../src/security/sqliteAuthzStore.js";
import { SNAPSHOT_VERSION_DATABASE, encodeHeader, encodeTrailer, sha256 } from "../../src/snapshot/snapshotFormat.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fromColumn } from "../../src/store/sqliteRows.js";
import { createWakuHasher } from "../../src/waku/messageHash.js";
import { expected, fill, run, sampleEnvelopes, sqliteContents, sqlitePath, sqliteSource, tempDir } from "./support.js";

const TRAILER_BYTES = 96;

/** A page-level snapshot of a new source store of `n` envelopes: the file's bytes and its database's. */
async function pageSnapshot(n: number): Promise<{ file: string; database: Buffer; count: number }> {
  const { dir } = await sqliteSource(n);
  const file = join(tempDir(), "node.snapshot");
  const created = await run("create", "--data-dir", dir, "--out", file, "--format", "pages", "--quiet");
  expect(created.code, created.stderr).toBe(0);
  const bytes = readFileSync(file);
  return { file, database: bytes.subarray(bytes.readUInt16BE(10), bytes.length - TRAILER_BYTES), count: n };
}

/** A page-level snapshot around `database`, every checksum right, the header saying what it is told. */
function frame(database: Buffer, count: number, head: bigint = BigInt(count)): Buffer {
  const header = encodeHeader({ sourceKind: "sqlite", createdAtMs: 1, headSequence: head, envelopeCount: count }, SNAPSHOT_VERSION_DATABASE);
  const digest = sha256(database);
  const trailer = encodeTrailer({ envelopeCount: count, recordBytes: BigInt(database.length), bodyBytes: BigInt(database.length), bodySha256: digest, recordsSha256: digest });
  return Buffer.concat([header, database, trailer]);
}

/** The database changed by `change` (run on a copy). */
function altered(database: Buffer, change: (db: Database.Database) => void): Buffer {
  const path = join(tempDir(), "altered.sqlite3");
  writeFileSync(path, database);
  const db = new Database(path);
  try {
    change(db);
  } finally {
    db.close();
  }
  return readFileSync(path);
}

/** Restores `snapshot` into a new data directory and into an existing empty one: refused with `code`, nothing left. */
async function refusedWithNothingLeft(snapshot: Buffer, code: string, message?: RegExp): Promise<void> {
  const path = join(tempDir(), "crafted.snapshot");
  writeFileSync(path, snapshot);
  const parent = tempDir();
  const result = await run("restore", path, "--data-dir", join(parent, "data"), "--quiet");
  expect(result.code, result.stdout).toBe(1);
  expect(result.stderr).toContain(`[${code}]`);
  if (message) expect(result.stderr).toMatch(message);
  expect(readdirSync(parent)).toEqual([]);
  const existing = tempDir();
  const again = await run("restore", path, "--data-dir", existing, "--quiet");
  expect(again.stderr).toContain(`[${code}]`);
  expect(readdirSync(existing)).toEqual([]);
}

describe("page-level snapshots", () => {
  it("refuses a damaged database whose checksums all match, and leaves no database or directory", async () => {
    const { database, count } = await pageSnapshot(600);
    const pageSize = database.readUInt16BE(16);
    const damaged = Buffer.from(database);
    // A page in the middle of the file zeroed: a b-tree page with no valid type, or a broken overflow chain.
    damaged.fill(0, pageSize * Math.floor(damaged.length / pageSize / 2), pageSize * (Math.floor(damaged.length / pageSize / 2) + 1));
    await refusedWithNothingLeft(frame(damaged, count), "corrupt", /integrity check|damaged/);
    await refusedWithNothingLeft(frame(Buffer.from("not a database at all ".repeat(300)), count), "corrupt", /not a SQLite database/);
  });

  it("refuses a database of a foreign or newer schema, or one that disagrees with its header", async () => {
    const { database, count } = await pageSnapshot(50);
    const foreign = /does not have this node's schema/;
    await refusedWithNothingLeft(frame(altered(database, (db) => db.exec("CREATE TRIGGER t AFTER DELETE ON postage_vouchers BEGIN SELECT 1; END")), count), "corrupt", /trigger t/);
    await refusedWithNothingLeft(frame(altered(database, (db) => db.exec("CREATE TABLE extra (x)")), count), "corrupt", foreign);
    await refusedWithNothingLeft(frame(altered(database, (db) => db.exec("CREATE VIEW v AS SELECT 1")), count), "corrupt", foreign);
    await refusedWithNothingLeft(frame(altered(database, (db) => db.exec("ALTER TABLE envelopes ADD COLUMN extra TEXT")), count), "corrupt", /unexpected table envelopes/);
    await refusedWithNothingLeft(frame(altered(database, (db) => db.exec("DROP INDEX envelopes_by_topic_time")), count), "corrupt", /missing index envelopes_by_topic_time/);
    await refusedWithNothingLeft(frame(altered(database, (db) => db.pragma("user_version = 99")), count), "unsupported_version", /schema version 99/);
    const other = new Database(join(tempDir(), "other.sqlite3"));
    other.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello')");
    other.close();
    await refusedWithNothingLeft(frame(readFileSync(other.name), count), "corrupt", foreign);
    await refusedWithNothingLeft(frame(database, count + 1), "count_mismatch");
    await refusedWithNothingLeft(frame(database, count, BigInt(count + 7)), "corrupt", /sequence/);
  });

  it("migrates the database of an older schema version, as the store would at open", async () => {
    const { dir, envelopes } = await sqliteSource(30);
    const file = join(tempDir(), "node.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--quiet")).code).toBe(0);
    const bytes = readFileSync(file);
    const database = bytes.subarray(bytes.readUInt16BE(10), bytes.length - TRAILER_BYTES);
    // Schema version 2: before the time index of version 3.
    const older = altered(database, (db) => {
      db.exec("DROP INDEX envelopes_by_time");
      db.pragma("user_version = 2");
    });
    const path = join(tempDir(), "older.snapshot");
    writeFileSync(path, frame(older, 30));
    const target = tempDir();
    const restored = await run("restore", path, "--data-dir", target, "--quiet");
    expect(restored.code, restored.stderr).toBe(0);
    const db = new Database(sqlitePath(target), { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(3);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'envelopes_by_time'").pluck().get()).toBe("envelopes_by_time");
    db.close();
    expect((await sqliteContents(target)).all).toEqual(expected(envelopes));
  });

  it("leaves the source's allow lists, vouchers and relationships behind, in the file and in the restored store", async () => {
    const { dir, envelopes } = await sqliteSource(200);
    const wallet = "0x5eaf00d5eaf00d5eaf00d5eaf00d5eaf00d5eaf0";
    const authz = openSqliteAuthzStore(sqlitePath(dir));
    await authz.put({ address: wallet, permission: "allow" });
    await authz.close();
    const db = new Database(sqlitePath(dir));
    db.prepare("INSERT INTO postage_relationships (inviter, invitee, at_ns) VALUES (?, ?, '1')").run("inviter-marker-0123456789", "invitee-marker-0123456789");
    db.prepare("INSERT INTO postage_vouchers (operator, payer, cumulative, digest, signature, accepted_at_ns) VALUES (?, ?, '5', ?, ?, '1')").run(
      "operator-marker-0123456789",
      "payer-marker-0123456789",
      Buffer.alloc(32, 7),
      Buffer.alloc(65, 9),
    );
    db.close();
    const file = join(tempDir(), "node.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--quiet")).code).toBe(0);
    // Not even in freed pages: the rows were overwritten as they were deleted.
    const bytes = readFileSync(file).toString("latin1");
    for (const marker of [wallet, "inviter-marker", "payer-marker", "operator-marker"]) expect(bytes).not.toContain(marker);
    // The source itself keeps them.
    const source = new Database(sqlitePath(dir), { readonly: true });
    expect(source.prepare("SELECT count(*) FROM postage_vouchers").pluck().get()).toBe(1);
    expect(source.prepare("SELECT count(*) FROM authz_wallets").pluck().get()).toBe(1);
    source.close();

    const target = tempDir();
    expect((await run("restore", file, "--data-dir", target, "--quiet")).code).toBe(0);
    const restored = new Database(sqlitePath(target), { readonly: true });
    expect(restored.prepare("SELECT count(*) FROM postage_vouchers").pluck().get()).toBe(0);
    expect(restored.prepare("SELECT count(*) FROM postage_relationships").pluck().get()).toBe(0);
    expect(restored.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'authz_%'").pluck().all()).toEqual([]);
    restored.close();
    expect((await sqliteContents(target)).all).toEqual(expected(envelopes));
  });

  it("keeps Waku hashes computed under the restored node's configuration and derives them under another", async () => {
    const { p2p } = defaultConfig({ dataDir: tempDir() });
    const targetHasher = createWakuHasher({ clusterId: p2p.wakuClusterId, shardCount: p2p.wakuShardCount });
    for (const sourceHasher of [targetHasher, createWakuHasher({ clusterId: p2p.wakuClusterId + 1, shardCount: 4 })]) {
      const dir = tempDir();
      const store = await openSqliteStore(sqlitePath(dir), { wakuHasher: sourceHasher });
      await fill(store, sampleEnvelopes(120));
      await store.close();
      const file = join(tempDir(), "node.snapshot");
      expect((await run("create", "--data-dir", dir, "--out", file, "--quiet")).code).toBe(0);
      const target = join(tempDir(), "data");
      const restored = await run("restore", file, "--data-dir", target, "--quiet", "--p2p-port", "0", "--p2p-ws-port", "0");
      expect(restored.code, restored.stderr).toBe(0);
      const db = new Database(sqlitePath(target), { readonly: true });
      const rows = db.prepare("SELECT topic, timestamp_ns, message, waku_hash FROM envelopes").safeIntegers(true).all() as Array<{
        topic: string;
        timestamp_ns: bigint;
        message: Buffer;
        waku_hash: Buffer | null;
      }>;
      expect(rows).toHaveLength(120);
      for (const row of rows) {
        const hash = targetHasher.hash({ contentTopic: row.topic, timestampNs: fromColumn(row.timestamp_ns), message: row.message });
        expect(row.waku_hash && Buffer.from(row.waku_hash).equals(Buffer.from(hash))).toBe(true);
      }
      expect(db.prepare("SELECT value FROM store_meta WHERE key = 'waku_hash_config'").pluck().get()).toBe(targetHasher.configuration);
      db.close();
      expect(existsSync(`${sqlitePath(target)}.restoring`)).toBe(false);
    }
  });
});
