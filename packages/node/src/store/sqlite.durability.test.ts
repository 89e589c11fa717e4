// Appends of envelopes from peers commit without waiting for the WAL flush; local ones wait for it; flushCommitted()
// is the barrier that makes the former durable (see ingest.ts and sync/syncState.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { withDigest } from "./digest.js";

// Every fdatasync the store issues is held here until the test releases it.
const held = vi.hoisted(() => ({ flushes: [] as (() => void)[] }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const fdatasync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) =>
    void held.flushes.push(() => fs.fdatasync(fd, callback));
  return { ...fs, default: { ...fs, fdatasync }, fdatasync };
});
const { SqliteEnvelopeStore } = await import("./sqlite.js");

const dir = mkdtempSync(join(tmpdir(), "xmtp-sqlite-durability-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const stores: InstanceType<typeof SqliteEnvelopeStore>[] = [];
afterEach(async () => {
  for (const release of held.flushes.splice(0)) release();
  for (const store of stores.splice(0)) {
    const closing = store.close();
    // close() waits for flushes in progress; release any it starts.
    for (let i = 0; i < 10 && held.flushes.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    for (const release of held.flushes.splice(0)) release();
    await closing;
  }
});

function openStore() {
  const store = new SqliteEnvelopeStore(join(dir, `store-${counter++}.sqlite3`));
  stores.push(store);
  return store;
}
const envelope = (text: string) => withDigest({ contentTopic: "/xmtp/0/m-durability/proto", timestampNs: 1n, message: new TextEncoder().encode(text) });
/** Settles within a few turns of the event loop, or reports "pending". */
async function settledSoon<T>(promise: Promise<T>): Promise<T | "pending"> {
  let outcome: T | "pending" = "pending";
  void promise.then((value) => (outcome = value));
  for (let i = 0; i < 20 && outcome === "pending"; i++) await new Promise((resolve) => setImmediate(resolve));
  return outcome;
}

describe("SqliteEnvelopeStore durability per append", () => {
  it("acknowledges a durable append only after the WAL flush, and a non-durable one at the commit without a flush", async () => {
    const store = openStore();
    const local = store.append([envelope("local")]);
    expect(await settledSoon(local)).toBe("pending");
    expect(held.flushes).toHaveLength(1);
    held.flushes.splice(0).forEach((release) => release());
    expect((await local).map((e) => new TextDecoder().decode(e.message))).toEqual(["local"]);

    const fromPeer = store.append([envelope("peer")], undefined, { durable: false });
    const added = await settledSoon(fromPeer);
    expect(added !== "pending" && added.map((e) => new TextDecoder().decode(e.message))).toEqual(["peer"]);
    expect(held.flushes).toHaveLength(0);
    // Committed: visible to queries.
    const page = await store.query({ topic: "/xmtp/0/m-durability/proto", limit: 10, direction: "ascending" });
    expect(page.envelopes).toHaveLength(2);
  });

  it("flushCommitted() waits for a WAL flush covering earlier non-durable commits", async () => {
    const store = openStore();
    // Before any commit there is nothing to flush.
    expect(await settledSoon(store.flushCommitted())).toBeUndefined();
    await store.append([envelope("peer")], undefined, { durable: false });
    const barrier = store.flushCommitted();
    expect(await settledSoon(barrier)).toBe("pending");
    expect(held.flushes).toHaveLength(1);
    held.flushes.splice(0).forEach((release) => release());
    await barrier;
  });

  it("in a batch with both kinds, acknowledges the non-durable append at once and the durable one after the flush", async () => {
    const store = openStore();
    const local = store.append([envelope("a")]);
    const fromPeer = store.append([envelope("b")], undefined, { durable: false });
    expect(await settledSoon(fromPeer)).not.toBe("pending");
    expect(await settledSoon(local)).toBe("pending");
    held.flushes.splice(0).forEach((release) => release());
    await local;
  });
});
