// `xmtp-node snapshot create|restore` through runSnapshotCommand (docs/storage.md §6): round trips between SQLite and
// PostgreSQL with every envelope and postage proof compared, in both formats (records, and a SQLite source's database
// pages), damaged files refused with their code before anything is written, a non-empty target refused, and the
// command's usage errors. Page-level snapshots whose checksums match but whose database is damaged or foreign:
// pageSnapshot.test.ts.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { brotliCompressSync } from "node:zlib";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { openPostgresStore } from "../../src/store/postgres.js";
import { defaultConfig } from "../../src/config.js";
import { fromColumn } from "../../src/store/sqliteRows.js";
import { createWakuHasher } from "../../src/waku/messageHash.js";
import { encodeHeader, encodeRecord, encodeTrailer, sha256 } from "../../src/snapshot/snapshotFormat.js";
import { createOrMigrateSchema } from "../../src/store/sqliteSchema.js";
import { SYNC_STATE_FILE } from "../../src/sync/syncState.js";
import { FORMATS, contentsOf, expected, fill, run, sampleEnvelopes, sqliteContents, sqlitePath, sqliteSource, tempDir } from "./support.js";

const pgUrl = process.env.XMTP_TEST_POSTGRES_URL;

describe.each(FORMATS)("snapshot create and restore (SQLite, --format %s)", (format) => {
  it("round-trips every envelope, its order and its postage proof, SQLite to SQLite", async () => {
    const { dir, envelopes } = await sqliteSource(2_345);
    const file = join(tempDir(), "node.snapshot");
    const created = await run("create", "--data-dir", dir, "--out", file, "--format", format);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/2,345 envelopes up to sequence 2345/);
    expect(created.stderr).toMatch(format === "records" ? /read 2,345 \/ 2,345 envelopes/ : /copied [\d.]+ \/ [\d.]+ MiB/);
    expect(readFileSync(file).readUInt16BE(8)).toBe(format === "records" ? 1 : 2);
    expect(readdirSync(dirname(file))).toEqual(["node.snapshot"]);
    // Reading never created a node key in the source's data directory.
    expect(existsSync(join(dir, "node-key"))).toBe(false);

    const target = tempDir();
    const restored = await run("restore", file, "--data-dir", target, "--quiet");
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toBe("");
    expect(restored.stdout).toMatch(/restored 2,345 envelopes/);
    const contents = await sqliteContents(target);
    expect(contents.all).toEqual(expected(envelopes));
    expect(contents).toEqual(await sqliteContents(dir));
    // No node key in the source: no catch-up position is written.
    expect(existsSync(join(target, SYNC_STATE_FILE))).toBe(false);
  });

  it("names the source node and sets the restored node's catch-up position to the head", async () => {
    const { dir } = await sqliteSource(10);
    const { loadOrCreateNodeKey, readNodePeerId } = await import("../../src/p2p/nodeKey.js");
    await loadOrCreateNodeKey(dir);
    const peerId = (await readNodePeerId(dir))!;
    const file = join(tempDir(), "node.snapshot");
    expect((await run("create", "--data-dir", dir, `--out=${file}`, `--format=${format}`, "--quiet")).code).toBe(0);
    const target = tempDir();
    writeFileSync(join(target, SYNC_STATE_FILE), JSON.stringify({ version: 1, peers: { someOtherPeer: "99" } }));
    const restored = await run("restore", file, "--data-dir", target);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`catch-up from ${peerId} starts after its sequence 10`);
    expect(JSON.parse(readFileSync(join(target, SYNC_STATE_FILE), "utf8"))).toEqual({ version: 1, peers: { [peerId]: "10" } });
  });

  it("snapshots an empty store, and restores it", async () => {
    const dir = tempDir();
    await (await openSqliteStore(sqlitePath(dir))).close();
    const file = join(tempDir(), "empty.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--format", format, "--quiet")).code).toBe(0);
    const target = tempDir();
    const restored = await run("restore", file, "--data-dir", target, "--quiet");
    expect(restored.code, restored.stderr).toBe(0);
    expect((await sqliteContents(target)).all).toEqual([]);
  });

  describe("a damaged snapshot is refused before anything is written", () => {
    let file = "";
    let bytes = Buffer.alloc(0);
    const headerLength = 71; // no peer id
    const refused = async (damaged: Buffer, code: string) => {
      const path = join(tempDir(), "damaged.snapshot");
      writeFileSync(path, damaged);
      const target = join(tempDir(), "data");
      const result = await run("restore", path, "--data-dir", target, "--quiet");
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`[${code}]`);
      // Untouched: the data directory was not even created.
      expect(existsSync(target)).toBe(false);
    };

    it("prepares a snapshot", async () => {
      const { dir } = await sqliteSource(500);
      file = join(tempDir(), "good.snapshot");
      expect((await run("create", "--data-dir", dir, "--out", file, "--format", format, "--quiet")).code).toBe(0);
      bytes = readFileSync(file);
      expect(bytes.subarray(0, 8).toString()).toBe("XMTPSNAP");
    });

    it("refuses a truncated file, wherever it was cut", async () => {
      for (const cut of [0, 5, 40, headerLength + 3, Math.floor(bytes.length / 2), bytes.length - 96, bytes.length - 1]) {
        await refused(bytes.subarray(0, cut), "truncated");
      }
    });

    it("refuses a flipped byte in the body, in the header, in the trailer", async () => {
      for (const at of [headerLength, headerLength + 1, Math.floor(bytes.length / 2), bytes.length - 97]) {
        const damaged = Buffer.from(bytes);
        damaged[at] ^= 0x10;
        await refused(damaged, "checksum_mismatch");
      }
      const header = Buffer.from(bytes);
      header[20] ^= 1; // in created-at
      await refused(header, "checksum_mismatch");
      const trailerDigest = Buffer.from(bytes);
      trailerDigest[bytes.length - 40] ^= 1; // in the records' (or database's) SHA-256
      await refused(trailerDigest, "checksum_mismatch");
      const trailerCount = Buffer.from(bytes);
      trailerCount[bytes.length - 96 + 15] ^= 1;
      await refused(trailerCount, "count_mismatch");
    });

    it("refuses a wrong magic and an unknown version", async () => {
      const magic = Buffer.from(bytes);
      magic[0] = 0x59;
      await refused(magic, "bad_magic");
      await refused(Buffer.from("not a snapshot at all, just text\n".repeat(10)), "bad_magic");
      const version = Buffer.from(bytes);
      version.writeUInt16BE(3, 8);
      await refused(version, "unsupported_version");
      // The other known version, with the header's SHA-256 left as it was: the header is damaged.
      const otherVersion = Buffer.from(bytes);
      otherVersion.writeUInt16BE(format === "records" ? 2 : 1, 8);
      await refused(otherVersion, "checksum_mismatch");
    });
  });

  it("fills a database that exists but is empty through the store", async () => {
    const { dir, envelopes } = await sqliteSource(40);
    const file = join(tempDir(), "node.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--format", format, "--quiet")).code).toBe(0);
    const target = tempDir();
    await (await openSqliteStore(sqlitePath(target))).close();
    const restored = await run("restore", file, "--data-dir", target, "--quiet");
    expect(restored.code, restored.stderr).toBe(0);
    expect((await sqliteContents(target)).all).toEqual(expected(envelopes));
    // The database was unpacked beside it for reading and removed.
    expect(readdirSync(target).filter((name) => name.startsWith("snapshot-restore-"))).toEqual([]);
  });

  it("loads a new file and puts it in place only when complete, with the Waku hashes a Waku-serving node keeps", async () => {
    const { dir, envelopes } = await sqliteSource(1_500);
    const file = join(tempDir(), "node.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--format", format, "--quiet")).code).toBe(0);
    const target = join(tempDir(), "new", "data");
    const restored = await run("restore", file, "--data-dir", target, "--quiet", "--p2p-port", "0", "--p2p-ws-port", "0");
    expect(restored.code, restored.stderr).toBe(0);
    expect(readdirSync(target).sort()).toEqual(["xmtp.sqlite3"]);
    const db = new Database(sqlitePath(target), { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      const { p2p } = defaultConfig({ dataDir: target });
      const hasher = createWakuHasher({ clusterId: p2p.wakuClusterId, shardCount: p2p.wakuShardCount });
      const rows = db.prepare("SELECT topic, timestamp_ns, message, waku_hash FROM envelopes ORDER BY seq").safeIntegers(true).all() as Array<{
        topic: string;
        timestamp_ns: bigint;
        message: Buffer;
        waku_hash: Buffer | null;
      }>;
      expect(rows.length).toBe(envelopes.length);
      for (const row of rows) {
        const hash = hasher.hash({ contentTopic: row.topic, timestampNs: fromColumn(row.timestamp_ns), message: row.message });
        expect(row.waku_hash && Buffer.from(row.waku_hash).equals(Buffer.from(hash))).toBe(true);
      }
      expect(db.prepare("SELECT value FROM store_meta WHERE key = 'waku_hash_config'").pluck().get()).toBe(hasher.configuration);
      // The indexes (dropped for a bulk load) are all there, as a store the node created has them.
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'envelopes' ORDER BY name").pluck().all();
      const fresh = new Database(":memory:");
      createOrMigrateSchema(fresh);
      expect(indexes).toEqual(fresh.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'envelopes' ORDER BY name").pluck().all());
      fresh.close();
    } finally {
      db.close();
    }
    expect((await sqliteContents(target)).all).toEqual(expected(envelopes));
  });

  it("refuses to restore into a store that holds envelopes, and leaves it as it was", async () => {
    const { dir } = await sqliteSource(20);
    const file = join(tempDir(), "node.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--format", format, "--quiet")).code).toBe(0);
    const other = await sqliteSource(3);
    const before = await sqliteContents(other.dir);
    const result = await run("restore", file, "--data-dir", other.dir, "--quiet");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("[target_not_empty]");
    expect(await sqliteContents(other.dir)).toEqual(before);
  });
});

describe("snapshot create and restore (SQLite)", () => {
  describe("into a data directory without a database (the bulk load)", () => {
    /** A snapshot file from records encoded by hand, with a header, body and trailer that all agree. */
    const craft = (records: Buffer[]): Buffer => {
      const raw = Buffer.concat(records);
      const body = brotliCompressSync(raw);
      const header = encodeHeader({ sourceKind: "sqlite", createdAtMs: 1, headSequence: BigInt(records.length), envelopeCount: records.length });
      const trailer = encodeTrailer({
        envelopeCount: records.length,
        recordBytes: BigInt(raw.length),
        bodyBytes: BigInt(body.length),
        bodySha256: sha256(body),
        recordsSha256: sha256(raw),
      });
      return Buffer.concat([header, body, trailer]);
    };

    it("refuses records that are malformed although every checksum matches, and leaves no database or directory", async () => {
      const good = sampleEnvelopes(30).map((e) => encodeRecord(e));
      const bad = encodeRecord(sampleEnvelopes(1, "bad")[0]);
      bad[4] = 0x80; // an unknown flag bit
      const path = join(tempDir(), "crafted.snapshot");
      writeFileSync(path, craft([...good, bad, ...good.slice(0, 3)]));
      const parent = tempDir();
      const target = join(parent, "data");
      const result = await run("restore", path, "--data-dir", target, "--quiet");
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("[corrupt]");
      expect(readdirSync(parent)).toEqual([]);
      // Into an existing directory: the directory stays, with no database in it.
      const existing = tempDir();
      expect((await run("restore", path, "--data-dir", existing, "--quiet")).code).toBe(1);
      expect(readdirSync(existing)).toEqual([]);
      // The records before the bad one are fine: the same file cut after them restores.
      const fine = join(tempDir(), "fine.snapshot");
      writeFileSync(fine, craft(good));
      const restored = await run("restore", fine, "--data-dir", target, "--quiet");
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toMatch(/restored 30 envelopes/);
    });

    it("removes what an interrupted load left, and counts an envelope repeated in the file once", async () => {
      const target = tempDir();
      writeFileSync(`${sqlitePath(target)}.restoring`, "half a database from a load that was killed");
      const envelopes = sampleEnvelopes(5);
      const path = join(tempDir(), "repeated.snapshot");
      writeFileSync(path, craft([...envelopes, envelopes[2]].map((e) => encodeRecord(e))));
      const restored = await run("restore", path, "--data-dir", target, "--quiet");
      expect(restored.code, restored.stderr).toBe(0);
      expect(readdirSync(target)).toEqual(["xmtp.sqlite3"]);
      expect((await sqliteContents(target)).all).toEqual(expected(envelopes));
    });
  });

  it("answers usage errors with exit code 2 and failures with 1", async () => {
    expect((await run()).code).toBe(2);
    expect((await run("backup")).code).toBe(2);
    expect((await run("create")).stderr).toContain("create needs --out FILE");
    expect((await run("create", "--out")).code).toBe(2);
    expect((await run("create", "--out", "x", "extra")).code).toBe(2);
    expect((await run("restore")).code).toBe(2);
    expect((await run("restore", "a", "b")).code).toBe(2);
    expect((await run("restore", "a", "--out", "b")).code).toBe(2);
    expect((await run("restore", "a", "--format", "pages")).code).toBe(2);
    expect((await run("create", "--out", "x", "--format", "tar")).stderr).toContain('--format is "pages" or "records"');
    expect((await run("create", "--out", "x", "--format")).code).toBe(2);
    expect((await run("create", "--out", "x", "--format", "pages", "--db", "postgres://u@localhost/db")).code).toBe(2);
    expect((await run("create", "--out", "x", "--port", "notaport")).code).toBe(2);
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("xmtp-node snapshot create --out FILE [--format pages|records]");
    const missingDb = await run("create", "--data-dir", join(tempDir(), "nothing"), "--out", join(tempDir(), "x.snapshot"));
    expect(missingDb.code).toBe(1);
    expect(missingDb.stderr).toContain("there is no node database");
    const missingFile = await run("restore", join(tempDir(), "nope.snapshot"), "--data-dir", tempDir());
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toContain("there is no snapshot file");
    // A failure while writing leaves no .partial behind.
    const { dir } = await sqliteSource(5);
    const out = join(tempDir(), "missing-dir", "x.snapshot");
    const failed = await run("create", "--data-dir", dir, "--out", out, "--quiet");
    expect(failed.code).toBe(1);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});

describe.skipIf(!pgUrl)("snapshot create and restore (PostgreSQL)", () => {
  const admin = new pg.Pool({ connectionString: pgUrl, max: 2 });
  const runId = randomBytes(4).toString("hex");
  let counter = 0;
  const schemas: string[] = [];
  const freshSchema = () => {
    const schema = `xmtp_snap_${runId}_${counter++}`;
    schemas.push(schema);
    return schema;
  };
  const dbOf = (schema: string) => `${pgUrl}${pgUrl!.includes("?") ? "&" : "?"}schema=${schema}`;
  const pgContents = async (schema: string) => {
    const store = await openPostgresStore(pgUrl!, { schema });
    try {
      return await contentsOf(store);
    } finally {
      await store.close();
    }
  };
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it.each(FORMATS)("round-trips SQLite to PostgreSQL and back (--format %s from SQLite)", async (format) => {
    const { dir, envelopes } = await sqliteSource(1_234);
    const file = join(tempDir(), "sqlite.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--format", format, "--quiet")).code).toBe(0);
    const schema = freshSchema();
    const restored = await run("restore", file, "--db", dbOf(schema), "--data-dir", tempDir(), "--quiet");
    expect(restored.code, restored.stderr).toBe(0);
    const inPostgres = await pgContents(schema);
    expect(inPostgres.all).toEqual(expected(envelopes));
    expect(inPostgres).toEqual(await sqliteContents(dir));

    const back = join(tempDir(), "postgres.snapshot");
    const created = await run("create", "--db", dbOf(schema), "--data-dir", tempDir(), "--out", back, "--quiet");
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/1,234 envelopes/);
    const target = tempDir();
    expect((await run("restore", back, "--data-dir", target, "--quiet")).code).toBe(0);
    expect(await sqliteContents(target)).toEqual(inPostgres);
  });

  it("round-trips PostgreSQL to PostgreSQL, refuses a non-empty schema, and writes nothing from a damaged file", async () => {
    const source = freshSchema();
    const envelopes = sampleEnvelopes(700, "pg");
    const store = await openPostgresStore(pgUrl!, { schema: source });
    await fill(store, envelopes);
    await store.close();
    const file = join(tempDir(), "pg.snapshot");
    expect((await run("create", "--db", dbOf(source), "--data-dir", tempDir(), "--out", file, "--quiet")).code).toBe(0);
    const target = freshSchema();
    expect((await run("restore", file, "--db", dbOf(target), "--data-dir", tempDir(), "--quiet")).code).toBe(0);
    expect((await pgContents(target)).all).toEqual(expected(envelopes));

    const again = await run("restore", file, "--db", dbOf(target), "--data-dir", tempDir(), "--quiet");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("[target_not_empty]");
    expect((await pgContents(target)).all).toHaveLength(700);

    const damaged = Buffer.from(readFileSync(file));
    damaged[Math.floor(damaged.length / 2)] ^= 1;
    const damagedFile = join(tempDir(), "damaged.snapshot");
    writeFileSync(damagedFile, damaged);
    const untouched = freshSchema();
    const refused = await run("restore", damagedFile, "--db", dbOf(untouched), "--data-dir", tempDir(), "--quiet");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("[checksum_mismatch]");
    // The store was never opened: not even its schema exists.
    const exists = await admin.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [untouched]);
    expect(exists.rowCount).toBe(0);
  });

  it("writes nothing from a damaged page-level snapshot, and leaves no unpacked database", async () => {
    const { dir } = await sqliteSource(300);
    const file = join(tempDir(), "pages.snapshot");
    expect((await run("create", "--data-dir", dir, "--out", file, "--format", "pages", "--quiet")).code).toBe(0);
    const damaged = Buffer.from(readFileSync(file));
    damaged[Math.floor(damaged.length / 2)] ^= 1;
    const damagedFile = join(tempDir(), "damaged.snapshot");
    writeFileSync(damagedFile, damaged);
    const untouched = freshSchema();
    const dataDir = join(tempDir(), "data");
    const refused = await run("restore", damagedFile, "--db", dbOf(untouched), "--data-dir", dataDir, "--quiet");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("[checksum_mismatch]");
    const exists = await admin.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [untouched]);
    expect(exists.rowCount).toBe(0);
    // The data directory the unpacked database went into was created for it, and removed again.
    expect(existsSync(dataDir)).toBe(false);
  });
});
