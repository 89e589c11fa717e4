import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SubscriptionHub } from "./hub.js";
import { EnvelopeIngest, isEphemeralTopic } from "./ingest.js";
import { SqliteEnvelopeStore } from "./store/sqlite.js";
import { envelopeDigest } from "./store/digest.js";
import type { DigestPage, Envelope, EnvelopePage, EnvelopeStore, PruneResult, StoredEnvelope } from "./store/EnvelopeStore.js";
import { readSince } from "./store/test-support/readSince.js";

const env = (contentTopic: string, text: string, t = 1n): Envelope => ({ contentTopic, timestampNs: t, message: new TextEncoder().encode(text) });
const text = (e: Envelope) => new TextDecoder().decode(e.message);

describe("EnvelopeIngest", () => {
  let dir: string;
  let store: SqliteEnvelopeStore;
  let hub: SubscriptionHub;
  let ingest: EnvelopeIngest;
  let streamed: Envelope[];
  let relayed: StoredEnvelope[][];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "xmtp-ingest-"));
    store = new SqliteEnvelopeStore(join(dir, "db.sqlite3"));
    hub = new SubscriptionHub();
    ingest = new EnvelopeIngest(store, hub);
    streamed = [];
    relayed = [];
    hub.subscribeAll((e) => streamed.push(e));
    ingest.addRelay({ broadcast: (envelopes) => void relayed.push([...envelopes]) });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("recognises ephemeral topics", () => {
    expect(isEphemeralTopic("/xmtp/0/mE-abc/proto")).toBe(true);
    expect(isEphemeralTopic("/xmtp/0/dmE-0xA-0xB/proto")).toBe(true);
    expect(isEphemeralTopic("/xmtp/0/m-abc/proto")).toBe(false);
    expect(isEphemeralTopic("/xmtp/0/dm-0xA-0xB/proto")).toBe(false);
  });

  it("stores, streams and relays local envelopes, computing digests", async () => {
    const result = await ingest.ingest([env("/xmtp/0/m-1/proto", "a"), env("/xmtp/0/m-1/proto", "b", 2n)], "local");
    expect(result.delivered.map(text)).toEqual(["a", "b"]);
    expect(result.duplicates).toBe(0);
    const stored = (await readSince(store, 0n, 10)).envelopes;
    expect(stored.map(text)).toEqual(["a", "b"]);
    expect(Buffer.from(stored[0].digest)).toEqual(Buffer.from(envelopeDigest("/xmtp/0/m-1/proto", new TextEncoder().encode("a"))));
    expect(streamed.map(text)).toEqual(["a", "b"]);
    expect(relayed.map((batch) => batch.map(text))).toEqual([["a", "b"]]);
  });

  it("never stores ephemeral envelopes but streams and relays them", async () => {
    await ingest.ingest([env("/xmtp/0/mE-1/proto", "e1"), env("/xmtp/0/dmE-x-y/proto", "e2"), env("/xmtp/0/m-1/proto", "kept")], "local");
    expect((await readSince(store, 0n, 10)).envelopes.map(text)).toEqual(["kept"]);
    expect(streamed.map(text)).toEqual(["e1", "e2", "kept"]);
    expect(relayed[0].map(text)).toEqual(["e1", "e2", "kept"]);
  });

  it("does not stream duplicates again; local duplicates are still relayed, peer ones are not", async () => {
    await ingest.ingest([env("/xmtp/0/m-1/proto", "a")], "local");
    const again = await ingest.ingest([env("/xmtp/0/m-1/proto", "a"), env("/xmtp/0/m-1/proto", "a"), env("/xmtp/0/m-1/proto", "new")], "local");
    expect(again.delivered.map(text)).toEqual(["new"]);
    expect(again.duplicates).toBe(2);
    expect(streamed.map(text)).toEqual(["a", "new"]);
    expect(relayed.map((batch) => batch.map(text))).toEqual([["a"], ["a", "a", "new"]]);

    const fromPeer = await ingest.ingest([env("/xmtp/0/m-1/proto", "new"), env("/xmtp/0/m-1/proto", "peer-only")], "peer");
    expect(fromPeer.delivered.map(text)).toEqual(["peer-only"]);
    expect(streamed.map(text)).toEqual(["a", "new", "peer-only"]);
    expect(relayed).toHaveLength(2);
  });

  it("survives a failing relay and stops relaying once removed", async () => {
    const remove = ingest.addRelay({ broadcast: () => Promise.reject(new Error("relay down")) });
    ingest.addRelay({
      broadcast: () => {
        throw new Error("relay broken");
      },
    });
    await expect(ingest.ingest([env("/xmtp/0/m-1/proto", "x")], "local")).resolves.toMatchObject({ duplicates: 0 });
    remove();
    expect(relayed).toHaveLength(1);
  });

  it("streams and relays at the SQLite commit, before the WAL flush", async () => {
    let flushed = false;
    // The SQLite store as the node wires it: behind a wrapper (like the metrics proxy) that passes every argument on.
    const observed: EnvelopeStore = {
      append: (envelopes: StoredEnvelope[], ...rest: unknown[]) =>
        (store.append as (...args: unknown[]) => Promise<StoredEnvelope[]>)(envelopes, ...rest).then((added) => {
          flushed = true;
          return added;
        }),
      query: (query) => store.query(query),
      readDigestsSince: (after, limit) => store.readDigestsSince(after, limit),
      hasDigests: (digests) => store.hasDigests(digests),
      readBySequence: (sequences) => store.readBySequence(sequences),
      flushCommitted: () => store.flushCommitted(),
      prune: (rule, limit) => store.prune(rule, limit),
      countPrunable: (rule) => store.countPrunable(rule),
      close: () => store.close(),
    };
    const early = new EnvelopeIngest(observed, hub);
    const relayedEarly: Array<{ flushed: boolean; texts: string[] }> = [];
    early.addRelay({ broadcast: (envelopes) => void relayedEarly.push({ flushed, texts: envelopes.map(text) }) });
    const seen: Array<{ flushed: boolean; visible: Promise<string[]> }> = [];
    hub.subscribeAll((e) => {
      // Already committed, so already queryable; not yet flushed to disk.
      const visible = store.query({ topic: e.contentTopic, limit: 10, direction: "ascending" });
      seen.push({ flushed, visible: visible.then((page) => page.envelopes.map(text)) });
    });
    await early.ingest([env("/xmtp/0/m-1/proto", "early")], "local");
    expect(flushed).toBe(true);
    expect(seen.map((s) => s.flushed)).toEqual([false]);
    expect(await seen[0].visible).toEqual(["early"]);
    expect(relayedEarly).toEqual([{ flushed: false, texts: ["early"] }]);
  });
});

/** A store whose appends commit at once and become durable only when the test says so. */
class ControlledStore implements EnvelopeStore {
  readonly stored: StoredEnvelope[] = [];
  readonly makeDurable: Array<() => void> = [];
  constructor(private readonly reportsCommit: boolean) {}

  append(envelopes: StoredEnvelope[], onCommitted?: (added: StoredEnvelope[]) => void): Promise<StoredEnvelope[]> {
    const known = new Set(this.stored.map((e) => Buffer.from(e.digest).toString("hex")));
    // Copies, as a store reading back from disk would hand out.
    const added = envelopes
      .filter((e) => !known.has(Buffer.from(e.digest).toString("hex")))
      .map((e) => ({ ...e, digest: Uint8Array.from(e.digest) }));
    this.stored.push(...added);
    if (this.reportsCommit) onCommitted?.(added);
    return new Promise((resolve) => this.makeDurable.push(() => resolve(added)));
  }
  async query(): Promise<EnvelopePage> {
    return { envelopes: [] };
  }
  async flushCommitted(): Promise<void> {
    for (const durable of this.makeDurable.splice(0)) durable();
  }
  async readDigestsSince(afterSequence: bigint): Promise<DigestPage> {
    return { sequences: [], digests: [], messageBytes: [], nextSequence: afterSequence };
  }
  async readBySequence(): Promise<StoredEnvelope[]> {
    return [];
  }
  async hasDigests(digests: readonly Uint8Array[]): Promise<boolean[]> {
    return digests.map(() => false);
  }
  prune(): Promise<PruneResult> {
    throw new Error("not used in this test");
  }
  countPrunable(): Promise<PruneResult> {
    throw new Error("not used in this test");
  }
  async close(): Promise<void> {}
}

describe("EnvelopeIngest fan-out timing", () => {
  it("fans out at the commit when the store reports it, and only new envelopes", async () => {
    const store = new ControlledStore(true);
    const hub = new SubscriptionHub();
    const ingest = new EnvelopeIngest(store, hub);
    const streamed: string[] = [];
    const relayed: string[][] = [];
    hub.subscribeAll((e) => streamed.push(text(e)));
    ingest.addRelay({ broadcast: (envelopes) => void relayed.push(envelopes.map(text)) });

    let acknowledged = false;
    const first = ingest.ingest([env("/xmtp/0/m-1/proto", "a")], "local").then((r) => ((acknowledged = true), r));
    expect(streamed).toEqual(["a"]);
    expect(relayed).toEqual([["a"]]);
    expect(acknowledged).toBe(false);
    store.makeDurable.shift()!();
    expect((await first).delivered.map(text)).toEqual(["a"]);

    const second = ingest.ingest([env("/xmtp/0/m-1/proto", "a"), env("/xmtp/0/mE-1/proto", "e"), env("/xmtp/0/m-1/proto", "b")], "local");
    expect(streamed).toEqual(["a", "e", "b"]);
    expect(relayed).toEqual([["a"], ["a", "e", "b"]]);
    store.makeDurable.shift()!();
    const result = await second;
    expect(result.delivered.map(text)).toEqual(["e", "b"]);
    expect(result.duplicates).toBe(1);
    // Nothing is streamed a second time when the append resolves.
    expect(streamed).toEqual(["a", "e", "b"]);
  });

  it("fans out once the append is durable when the store cannot report the commit", async () => {
    const store = new ControlledStore(false);
    const hub = new SubscriptionHub();
    const ingest = new EnvelopeIngest(store, hub);
    const streamed: string[] = [];
    hub.subscribeAll((e) => streamed.push(text(e)));
    const pending = ingest.ingest([env("/xmtp/0/m-1/proto", "late")], "peer");
    await Promise.resolve();
    expect(streamed).toEqual([]);
    store.makeDurable.shift()!();
    expect((await pending).delivered.map(text)).toEqual(["late"]);
    expect(streamed).toEqual(["late"]);
  });
});
