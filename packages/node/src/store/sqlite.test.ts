import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { describeEnvelopeStoreConformance } from "./conformance.js";
import { withDigest } from "./digest.js";
import { openSqliteStore, SqliteEnvelopeStore } from "./sqlite.js";

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

  it("stops reusing cached envelopes once they no longer fit the budget", async () => {
    // One envelope of 300 bytes fits a 600-byte budget (with the per-entry overhead), two do not.
    const store = new SqliteEnvelopeStore(join(dir, "evict.sqlite3"), { cacheBytes: 600 });
    await store.append([1, 2].map((i) => withDigest({ contentTopic: "/t", timestampNs: BigInt(i), message: new Uint8Array(300).fill(i) })));
    const one = await store.query({ topic: "/t", limit: 1, direction: "ascending" });
    expect((await store.query({ topic: "/t", limit: 1, direction: "ascending" })).envelopes[0]).toBe(one.envelopes[0]);
    const two = await store.query({ topic: "/t", limit: 1, direction: "descending" });
    expect(two.envelopes[0].message[0]).toBe(2);
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
    expect((await store.readSince(0n, 5000)).envelopes).toHaveLength(4000);
    await store.close();
  });
});
