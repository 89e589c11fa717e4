import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SubscriptionHub } from "./hub.js";
import { EnvelopeIngest, isEphemeralTopic } from "./ingest.js";
import { SqliteEnvelopeStore } from "./store/sqlite.js";
import { envelopeDigest } from "./store/digest.js";
import type { Envelope, StoredEnvelope } from "./store/EnvelopeStore.js";

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
    const stored = (await store.readSince(0n, 10)).envelopes;
    expect(stored.map(text)).toEqual(["a", "b"]);
    expect(Buffer.from(stored[0].digest)).toEqual(Buffer.from(envelopeDigest("/xmtp/0/m-1/proto", new TextEncoder().encode("a"))));
    expect(streamed.map(text)).toEqual(["a", "b"]);
    expect(relayed.map((batch) => batch.map(text))).toEqual([["a", "b"]]);
  });

  it("never stores ephemeral envelopes but streams and relays them", async () => {
    await ingest.ingest([env("/xmtp/0/mE-1/proto", "e1"), env("/xmtp/0/dmE-x-y/proto", "e2"), env("/xmtp/0/m-1/proto", "kept")], "local");
    expect((await store.readSince(0n, 10)).envelopes.map(text)).toEqual(["kept"]);
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
});
