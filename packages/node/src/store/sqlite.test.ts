import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import Database from "better-sqlite3";
import { createWakuHasher } from "../waku/messageHash.js";
import { describeEnvelopeStoreConformance, describeWakuStoreConformance } from "./test-support/envelopeStoreConformance.js";
import { withDigest } from "./digest.js";
import { describePostageLedgerConformance } from "./test-support/postageLedgerConformance.js";
import { readSince } from "./test-support/readSince.js";
import { openSqliteStore, SQLITE_SCHEMA_VERSION, SqliteEnvelopeStore, type SqliteStoreOptions } from "./sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "xmtp-sqlite-test-"));
let counter = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEnvelopeStoreConformance("sqlite", () => openSqliteStore(join(dir, `store-${counter++}.sqlite3`)));
describeEnvelopeStoreConformance("sqlite (synchronous=normal)", () =>
  openSqliteStore(join(dir, `store-${counter++}.sqlite3`), { synchronous: "normal" }),
);
describeEnvelopeStoreConformance("sqlite (no envelope cache)", () =>
  openSqliteStore(join(dir, `store-${counter++}.sqlite3`), { cacheBytes: 0 }),
);
// Room for about two small envelopes: pages are served partly from the cache, and entries are evicted all the time.
describeEnvelopeStoreConformance("sqlite (tiny envelope cache)", () =>
  openSqliteStore(join(dir, `store-${counter++}.sqlite3`), { cacheBytes: 500 }),
);

// The Waku hash column in every configuration above; and the original suite with the column being filled.
for (const [label, options] of [
  ["sqlite", {}],
  ["sqlite (synchronous=normal)", { synchronous: "normal" }],
  ["sqlite (no envelope cache)", { cacheBytes: 0 }],
  ["sqlite (tiny envelope cache)", { cacheBytes: 500 }],
] as Array<[string, SqliteStoreOptions]>) {
  describeWakuStoreConformance(label, {
    newLocation: () => join(dir, `waku-${counter++}.sqlite3`),
    open: (path, waku) => openSqliteStore(path, { ...options, ...waku }),
  });
}
describeEnvelopeStoreConformance("sqlite (with a wakuHasher)", () =>
  openSqliteStore(join(dir, `store-${counter++}.sqlite3`), { wakuHasher: createWakuHasher({ clusterId: 1, shardCount: 8 }) }),
);

describePostageLedgerConformance("sqlite", () => openSqliteStore(join(dir, `store-${counter++}.sqlite3`)));
describePostageLedgerConformance("sqlite (synchronous=normal)", () =>
  openSqliteStore(join(dir, `store-${counter++}.sqlite3`), { synchronous: "normal" }),
);

describe("SqliteEnvelopeStore schema migration", () => {
  const hasher = createWakuHasher({ clusterId: 5, shardCount: 8 });
  /** A database as the node before the Waku hash column left it (user_version 0). */
  function originalDatabase(path: string, count: number) {
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.exec(`CREATE TABLE envelopes (seq INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, topic TEXT NOT NULL,
               timestamp_ns INTEGER NOT NULL, message BLOB NOT NULL);
             CREATE INDEX envelopes_by_topic_time ON envelopes (topic, timestamp_ns);`);
    const insert = db.prepare("INSERT INTO envelopes (digest, topic, timestamp_ns, message) VALUES (?, ?, ?, ?)");
    const envelopes = Array.from({ length: count }, (_, i) =>
      withDigest({ contentTopic: "/xmtp/0/m-old/proto", timestampNs: BigInt(i), message: new TextEncoder().encode(`old${i}`) }),
    );
    for (const e of envelopes) insert.run(e.digest, e.contentTopic, BigInt.asIntN(64, e.timestampNs - (1n << 63n)), e.message);
    db.close();
    return envelopes;
  }

  it("adds the column, index and meta table to an existing database and hashes its rows", async () => {
    const path = join(dir, "migrate-old.sqlite3");
    const old = originalDatabase(path, 57);
    const store = await openSqliteStore(path, { wakuHasher: hasher, wakuBackfillBatchSize: 10 });
    const page = await store.queryWaku({ contentTopics: ["/xmtp/0/m-old/proto"], direction: "ascending", limit: 100 });
    expect(page.envelopes.map((e) => e.timestampNs)).toEqual(old.map((e) => e.timestampNs));
    page.envelopes.forEach((e, i) => expect(Buffer.from(e.wakuHash).equals(Buffer.from(hasher.hash(old[i])))).toBe(true));
    // The old query path still answers, and new appends work beside the old rows.
    await store.append([withDigest({ contentTopic: "/xmtp/0/m-old/proto", timestampNs: 3n, message: new Uint8Array([1]) })]);
    expect((await store.query({ topic: "/xmtp/0/m-old/proto", limit: 100, direction: "descending" })).envelopes).toHaveLength(58);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(db.prepare("SELECT count(*) FROM envelopes WHERE waku_hash IS NULL").pluck().get()).toBe(0);
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT seq FROM envelopes WHERE waku_hash = ? AND topic = ?").all(Buffer.alloc(32), "/t") as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(" ")).toMatch(/USING INDEX envelopes_by_waku_hash/);
    expect(db.prepare("SELECT value FROM store_meta WHERE key = 'waku_hash_config'").pluck().get()).toBe(hasher.configuration);
    // Version 3: retention's timestamp index.
    const byTime = db.prepare("EXPLAIN QUERY PLAN SELECT seq FROM envelopes WHERE timestamp_ns < ? ORDER BY timestamp_ns").all(0n) as Array<{ detail: string }>;
    expect(byTime.map((p) => p.detail).join(" ")).toMatch(/USING (COVERING )?INDEX envelopes_by_time/);
    db.close();
  });

  it("resumes an interrupted re-hash where its last batch ended", async () => {
    const path = join(dir, "migrate-resume.sqlite3");
    const old = originalDatabase(path, 20);
    const first = await openSqliteStore(path, { wakuHasher: hasher });
    await first.close();
    // As if a re-hash to `next` had done rows 1..12 and the process died: rows 13..20 still carry the old hashes.
    const next = createWakuHasher({ clusterId: 6, shardCount: 8 });
    const db = new Database(path);
    const update = db.prepare("UPDATE envelopes SET waku_hash = ? WHERE seq = ?");
    old.slice(0, 12).forEach((e, i) => update.run(next.hash(e), i + 1));
    const meta = db.prepare("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)");
    meta.run("waku_hash_config", next.configuration);
    meta.run("waku_rehash_after", "12");
    meta.run("waku_rehash_through", "20");
    db.close();
    const store = await openSqliteStore(path, { wakuHasher: next, wakuBackfillBatchSize: 3 });
    const found = await store.readByWakuHashes(old.map((e) => next.hash(e)));
    expect(found).toHaveLength(20);
    await store.close();
  });

  it("refuses a database of a newer schema version", () => {
    const path = join(dir, "migrate-newer.sqlite3");
    const db = new Database(path);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteEnvelopeStore(path)).toThrow(/schema version \d+ is newer/);
  });
});

describe("SqliteEnvelopeStore", () => {
  it("keeps envelopes and arrival order across close and reopen", async () => {
    const path = join(dir, "reopen.sqlite3");
    const first = new SqliteEnvelopeStore(path);
    const message = (s: string) => new TextEncoder().encode(s);
    await first.append([withDigest({ contentTopic: "/t", timestampNs: 5n, message: message("a") })]);
    await first.append([withDigest({ contentTopic: "/t", timestampNs: 5n, message: message("b") })]);
    await first.close();
    const second = new SqliteEnvelopeStore(path);
    await second.append([withDigest({ contentTopic: "/t", timestampNs: 5n, message: message("c") })]);
    const page = await second.query({ topic: "/t", limit: 10, direction: "descending" });
    expect(page.envelopes.map((e) => new TextDecoder().decode(e.message))).toEqual(["c", "b", "a"]);
    await second.close();
  });

  it("refuses to work after close", async () => {
    const store = new SqliteEnvelopeStore(join(dir, "closed.sqlite3"));
    await store.close();
    await expect(store.append([withDigest({ contentTopic: "/t", timestampNs: 1n, message: new Uint8Array([1]) })]))
      .rejects.toThrow(/closed/);
    await expect(store.query({ topic: "/t", limit: 1, direction: "ascending" })).rejects.toThrow(/closed/);
  });

  it("serves a page read before from its cache: the same envelope objects, same content", async () => {
    const store = new SqliteEnvelopeStore(join(dir, "cache.sqlite3"));
    const message = (s: string) => new TextEncoder().encode(s);
    await store.append(["a", "b", "c"].map((s, i) => withDigest({ contentTopic: "/t", timestampNs: BigInt(i), message: message(s) })));
    const first = await store.query({ topic: "/t", limit: 2, direction: "ascending" });
    const again = await store.query({ topic: "/t", limit: 2, direction: "ascending" });
    expect(again.envelopes).toHaveLength(2);
    again.envelopes.forEach((e, i) => expect(e).toBe(first.envelopes[i]));
    expect(again.cursor).toEqual(first.cursor);
    // A page overlapping the cached one, with one envelope not read yet, is read whole and is right.
    const wider = await store.query({ topic: "/t", limit: 3, direction: "descending" });
    expect(wider.envelopes.map((e) => new TextDecoder().decode(e.message))).toEqual(["c", "b", "a"]);
    await store.close();
  });

  it("once the budget is full, admits an envelope only when read again, evicting another", async () => {
    // One envelope of 300 bytes fits a 600-byte budget (with the per-entry overhead), two do not.
    const store = new SqliteEnvelopeStore(join(dir, "evict.sqlite3"), { cacheBytes: 600 });
    await store.append([1, 2].map((i) => withDigest({ contentTopic: "/t", timestampNs: BigInt(i), message: new Uint8Array(300).fill(i) })));
    const one = await store.query({ topic: "/t", limit: 1, direction: "ascending" });
    expect((await store.query({ topic: "/t", limit: 1, direction: "ascending" })).envelopes[0]).toBe(one.envelopes[0]);
    // The budget is full: an envelope read for the first time does not displace the cached one...
    const two = await store.query({ topic: "/t", limit: 1, direction: "descending" });
    expect(two.envelopes[0].message[0]).toBe(2);
    expect((await store.query({ topic: "/t", limit: 1, direction: "ascending" })).envelopes[0]).toBe(one.envelopes[0]);
    // ...one read a second time does, and is served from the cache from then on.
    const twoAgain = await store.query({ topic: "/t", limit: 1, direction: "descending" });
    expect(twoAgain.envelopes[0]).not.toBe(two.envelopes[0]);
    expect((await store.query({ topic: "/t", limit: 1, direction: "descending" })).envelopes[0]).toBe(twoAgain.envelopes[0]);
    const oneAgain = await store.query({ topic: "/t", limit: 1, direction: "ascending" });
    expect(oneAgain.envelopes[0]).not.toBe(one.envelopes[0]);
    expect(oneAgain.envelopes[0].message).toEqual(one.envelopes[0].message);
    await store.close();
  });

  it("refuses a bad cache budget, naming it", () => {
    expect(() => new SqliteEnvelopeStore(join(dir, "bad.sqlite3"), { cacheBytes: -1 })).toThrow(/cacheBytes/);
  });

  it("checkpoints the WAL into the database file on its worker thread", async () => {
    const path = join(dir, "checkpoint.sqlite3");
    const store = new SqliteEnvelopeStore(path);
    const envelopes = Array.from({ length: 50 }, (_, i) =>
      withDigest({ contentTopic: "/t", timestampNs: BigInt(i), message: new Uint8Array(1000).fill(i) }),
    );
    await store.append(envelopes);
    // SQLite's own checkpoints are off: the envelopes are in the WAL only.
    const before = statSync(path).size;
    expect(before).toBeLessThan(50 * 1000);
    await store.checkpointInBackground();
    expect(statSync(path).size).toBeGreaterThan(before + 50 * 1000);
    expect((await store.query({ topic: "/t", limit: 100, direction: "ascending" })).envelopes).toHaveLength(50);
    await store.close();
  });

  it("starts a checkpoint by itself once the WAL has grown", async () => {
    const path = join(dir, "auto-checkpoint.sqlite3");
    const store = new SqliteEnvelopeStore(path, { synchronous: "normal", checkpointAfterPages: 1000 });
    const before = statSync(path).size;
    // About 4 MB of envelopes, in separate commits: past a 1000-page threshold.
    for (let i = 0; i < 40; i++) {
      await store.append(
        Array.from({ length: 25 }, (_, j) =>
          withDigest({ contentTopic: "/t", timestampNs: BigInt(i * 25 + j), message: new Uint8Array(4000).fill(j).fill(i, 0, 1) }),
        ),
      );
    }
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 1_000_000), { timeout: 10_000 });
    await store.close();
  });

  it("starts the WAL over after its checkpoints, so steady appends do not grow it without bound", async () => {
    const path = join(dir, "wal-restart.sqlite3");
    const store = new SqliteEnvelopeStore(path, { synchronous: "normal", checkpointAfterPages: 1000 });
    // The worker starts with the first checkpoint; started here, its start-up time does not count.
    await store.checkpointInBackground();
    let largestWal = 0;
    // 4000 commits of 4 pages or more: some 60 MB of WAL if it were never started over.
    for (let i = 0; i < 4000; i++) {
      await store.append([withDigest({ contentTopic: `/t/${i % 50}`, timestampNs: BigInt(i), message: new Uint8Array(300).fill(i % 251).fill(i >> 8, 0, 1) })]);
      if (i % 100 === 99) largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
    }
    expect(largestWal).toBeGreaterThan(0);
    expect(largestWal).toBeLessThan(30_000_000);
    expect((await readSince(store, 0n, 5000)).envelopes).toHaveLength(4000);
    await store.close();
  });

  it("never prunes its newest row, so a deleted rowid is never handed to a new envelope (catch-up sequences only grow)", async () => {
    const store = new SqliteEnvelopeStore(join(dir, "prune-newest.sqlite3"));
    const at = (t: bigint, text: string) => withDigest({ contentTopic: "/xmtp/0/m-x/proto", timestampNs: t, message: new TextEncoder().encode(text) });
    const rule = { topicPrefix: "/xmtp/0/m-", olderThanNs: 100n };
    await store.append([at(1n, "a"), at(2n, "b")]);
    const first = await store.readDigestsSince(0n, 10);
    // b is the newest row: kept (and not counted) until something arrives after it.
    expect(await store.countPrunable(rule)).toEqual({ envelopes: 1, messageBytes: 1 });
    expect(await store.prune(rule, 10)).toEqual({ envelopes: 1, messageBytes: 1 });
    expect(await store.prune(rule, 10)).toEqual({ envelopes: 0, messageBytes: 0 });
    await store.append([at(200n, "c")]);
    const second = await store.readDigestsSince(first.nextSequence, 10);
    expect(second.sequences).toHaveLength(1);
    expect(await store.prune(rule, 10)).toEqual({ envelopes: 1, messageBytes: 1 });
    await store.append([at(300n, "d")]);
    const third = await store.readDigestsSince(second.nextSequence, 10);
    expect(third.sequences).toHaveLength(1);
    expect(third.sequences[0] > second.sequences[0]).toBe(true);
    expect((await store.query({ topic: "/xmtp/0/m-x/proto", limit: 10, direction: "ascending" })).envelopes.map((e) => e.timestampNs)).toEqual([200n, 300n]);
    await store.close();
    await expect(store.prune(rule, 10)).rejects.toThrow(/closed/);
  });

  it("counts a purge's deletions towards the next checkpoint, so the WAL starts over during a long purge", async () => {
    const path = join(dir, "prune-checkpoint.sqlite3");
    const store = new SqliteEnvelopeStore(path, { synchronous: "normal", checkpointAfterPages: 200 });
    const at = (i: number) => withDigest({ contentTopic: `/xmtp/0/m-${i % 500}/proto`, timestampNs: BigInt(i), message: new Uint8Array(100).fill(i % 251).fill(i >> 8, 0, 1) });
    for (let i = 0; i < 20_000; i += 2000) await store.append(Array.from({ length: 2000 }, (_, j) => at(i + j)));
    await store.append([at(1_000_000)]);
    await store.checkpointInBackground();
    await store.append([at(1_000_001)]); // starts the WAL over
    let largestWal = 0;
    let total = 0;
    for (;;) {
      const { envelopes } = await store.prune({ topicPrefix: "/xmtp/0/m-", keepNewest: 1 }, 200);
      if (envelopes === 0) break;
      total += envelopes;
      largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
      await new Promise((resolve) => setTimeout(resolve, 2)); // lets a started checkpoint finish
    }
    // ~5 MB here; ~100 MB when deletions are not counted (no checkpoint ever starts without appends).
    expect(largestWal).toBeLessThan(40_000_000);
    expect(total).toBe(20_002 - 500);
    expect((await readSince(store, 0n, 5000)).envelopes).toHaveLength(500);
    await store.close();
  });
});
