// The behaviour every EnvelopeStore must have, as one vitest suite that each implementation runs:
//   describeEnvelopeStoreConformance("sqlite", () => openSqliteStore(path))
// `openStore` must return a new, empty store on every call. The suite closes what it opens.
import { afterEach, describe, expect, it } from "vitest";
import { withDigest } from "../digest.js";
import { createWakuHasher, wakuMessageHash } from "../../waku/messageHash.js";
import { autoshardOf, pubsubTopicOf } from "../../waku/sharding.js";
import {
  WakuCursorNotFoundError,
  type Envelope,
  type EnvelopeStore,
  type RetentionRule,
  type SortDirection,
  type StoredEnvelope,
  type WakuEnvelopeStore,
  type WakuHashOptions,
  type WakuStoredEnvelope,
  type WakuStoreQuery,
} from "../EnvelopeStore.js";
import type { PostageLedger } from "../postageLedger.js";
import { readSince } from "./readSince.js";

const encoder = new TextEncoder();
const TOPIC = "/xmtp/0/m-conformance/proto";
const OTHER_TOPIC = "/xmtp/0/m-other/proto";

function envelope(timestampNs: bigint, text: string, contentTopic = TOPIC): StoredEnvelope {
  return withDigest({ contentTopic, timestampNs, message: encoder.encode(text) });
}

/** An envelope whose message is exactly `bytes` long and starts with `label` (padded with dots). */
function sized(timestampNs: bigint, bytes: number, label: string): StoredEnvelope {
  const message = new Uint8Array(bytes).fill(0x2e);
  message.set(encoder.encode(label).subarray(0, bytes));
  return withDigest({ contentTopic: TOPIC, timestampNs, message });
}

/** The message as text, without the padding of sized() envelopes. */
const text = (e: { message: Uint8Array }) => new TextDecoder().decode(e.message).replace(/\.+$/, "");

export function describeEnvelopeStoreConformance(name: string, openStore: () => Promise<EnvelopeStore>): void {
  describe(`EnvelopeStore conformance: ${name}`, () => {
    const opened: EnvelopeStore[] = [];
    const open = async () => {
      const store = await openStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    /** Every envelope of the topic, by paging with `limit` (and a byte budget, when given) in `direction`. */
    async function pageThrough(store: EnvelopeStore, direction: SortDirection, limit: number, topic = TOPIC, maxBytes?: number) {
      const all: StoredEnvelope[] = [];
      let cursor;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await store.query({ topic, limit, direction, cursor, maxBytes });
        all.push(...page.envelopes);
        if (!page.cursor || page.envelopes.length === 0) return all;
        cursor = page.cursor;
      }
      throw new Error("paging did not terminate");
    }

    it("appends envelopes and returns the new ones in input order", async () => {
      const store = await open();
      const batch = [envelope(3n, "c"), envelope(1n, "a"), envelope(2n, "b")];
      const added = await store.append(batch);
      expect(added.map(text)).toEqual(["c", "a", "b"]);
      expect(await store.append([])).toEqual([]);
    });

    it("stores a duplicate (same topic and message) once, within a batch and across batches", async () => {
      const store = await open();
      const a = envelope(1n, "same");
      expect((await store.append([a, { ...a }])).map(text)).toEqual(["same"]);
      expect(await store.append([a])).toEqual([]);
      // Same bytes on another topic is another envelope; same topic+bytes with another timestamp is a duplicate.
      const elsewhere = envelope(1n, "same", OTHER_TOPIC);
      const retimed = envelope(99n, "same");
      expect((await store.append([elsewhere, retimed])).map((e) => e.contentTopic)).toEqual([OTHER_TOPIC]);
      const page = await store.query({ topic: TOPIC, limit: 100, direction: "ascending" });
      expect(page.envelopes).toHaveLength(1);
      expect(page.envelopes[0].timestampNs).toBe(1n);
    });

    it("returns timestamps, bytes and digests exactly as stored, across the whole uint64 range", async () => {
      const store = await open();
      const stamps = [0n, 1n, 2n ** 53n + 1n, 1795659984974000000n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
      const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
      const batch = stamps.map((t, i) => envelope(t, `stamp-${i}`));
      batch.push(withDigest({ contentTopic: TOPIC, timestampNs: 5n, message: big }));
      await store.append(batch);
      const page = await store.query({ topic: TOPIC, limit: 100, direction: "ascending" });
      expect(page.envelopes.map((e) => e.timestampNs)).toEqual([0n, 1n, 5n, ...stamps.slice(2)]);
      const bigBack = page.envelopes.find((e) => e.message.length === big.length)!;
      expect(Buffer.from(bigBack.message).equals(Buffer.from(big))).toBe(true);
      for (const stored of page.envelopes) {
        const original = batch.find((e) => Buffer.from(e.digest).equals(Buffer.from(stored.digest)))!;
        expect(original).toBeDefined();
        expect(stored.contentTopic).toBe(TOPIC);
        expect(stored.timestampNs).toBe(original.timestampNs);
        expect(Buffer.from(stored.message).equals(Buffer.from(original.message))).toBe(true);
      }
    });

    it("orders by timestamp, ties by arrival; descending is the exact reverse (newest arrival first)", async () => {
      const store = await open();
      await store.append([envelope(20n, "t20-first"), envelope(10n, "t10")]);
      await store.append([envelope(20n, "t20-second")]);
      await store.append([envelope(30n, "t30"), envelope(20n, "t20-third")]);
      const asc = await store.query({ topic: TOPIC, limit: 100, direction: "ascending" });
      expect(asc.envelopes.map(text)).toEqual(["t10", "t20-first", "t20-second", "t20-third", "t30"]);
      const desc = await store.query({ topic: TOPIC, limit: 100, direction: "descending" });
      expect(desc.envelopes.map(text)).toEqual(["t30", "t20-third", "t20-second", "t20-first", "t10"]);
    });

    it("keeps topics apart", async () => {
      const store = await open();
      await store.append([envelope(1n, "mine"), envelope(2n, "theirs", OTHER_TOPIC)]);
      const mine = await store.query({ topic: TOPIC, limit: 100, direction: "ascending" });
      expect(mine.envelopes.map(text)).toEqual(["mine"]);
      const none = await store.query({ topic: "/xmtp/0/m-nobody/proto", limit: 100, direction: "descending" });
      expect(none.envelopes).toEqual([]);
      expect(none.cursor).toBeUndefined();
    });

    it("applies inclusive start and end bounds", async () => {
      const store = await open();
      await store.append([10n, 20n, 30n, 40n, 50n].map((t) => envelope(t, `t${t}`)));
      const both = await store.query({ topic: TOPIC, startTimeNs: 20n, endTimeNs: 40n, limit: 100, direction: "ascending" });
      expect(both.envelopes.map(text)).toEqual(["t20", "t30", "t40"]);
      const from = await store.query({ topic: TOPIC, startTimeNs: 40n, limit: 100, direction: "descending" });
      expect(from.envelopes.map(text)).toEqual(["t50", "t40"]);
      const until = await store.query({ topic: TOPIC, endTimeNs: 10n, limit: 100, direction: "ascending" });
      expect(until.envelopes.map(text)).toEqual(["t10"]);
      const empty = await store.query({ topic: TOPIC, startTimeNs: 41n, endTimeNs: 49n, limit: 100, direction: "ascending" });
      expect(empty.envelopes).toEqual([]);
    });

    it("returns a cursor (last envelope of the page) only on a full page", async () => {
      const store = await open();
      await store.append([1n, 2n, 3n, 4n, 5n].map((t) => envelope(t, `p${t}`)));
      const first = await store.query({ topic: TOPIC, limit: 2, direction: "ascending" });
      expect(first.envelopes.map(text)).toEqual(["p1", "p2"]);
      expect(first.cursor?.senderTimeNs).toBe(2n);
      expect(Buffer.from(first.cursor!.digest).equals(Buffer.from(first.envelopes[1].digest))).toBe(true);
      const second = await store.query({ topic: TOPIC, limit: 2, direction: "ascending", cursor: first.cursor });
      expect(second.envelopes.map(text)).toEqual(["p3", "p4"]);
      const third = await store.query({ topic: TOPIC, limit: 2, direction: "ascending", cursor: second.cursor });
      expect(third.envelopes.map(text)).toEqual(["p5"]);
      expect(third.cursor).toBeUndefined();

      const descFirst = await store.query({ topic: TOPIC, limit: 2, direction: "descending" });
      expect(descFirst.envelopes.map(text)).toEqual(["p5", "p4"]);
      const descSecond = await store.query({ topic: TOPIC, limit: 2, direction: "descending", cursor: descFirst.cursor });
      expect(descSecond.envelopes.map(text)).toEqual(["p3", "p2"]);

      // A page that is exactly full carries a cursor; the page after it is empty and carries none.
      const exact = await store.query({ topic: TOPIC, limit: 5, direction: "ascending" });
      expect(exact.cursor).toBeDefined();
      const after = await store.query({ topic: TOPIC, limit: 5, direction: "ascending", cursor: exact.cursor });
      expect(after.envelopes).toEqual([]);
      expect(after.cursor).toBeUndefined();
    });

    it("pages through timestamp ties without skipping or repeating, in both directions", async () => {
      const store = await open();
      // 3 distinct timestamps, 7 envelopes each, interleaved arrivals, so every page boundary falls inside a tie.
      for (let round = 0; round < 7; round++) {
        await store.append([envelope(300n, `c${round}`), envelope(100n, `a${round}`), envelope(200n, `b${round}`)]);
      }
      const expectedAsc = (await store.query({ topic: TOPIC, limit: 100, direction: "ascending" })).envelopes.map(text);
      expect(expectedAsc).toEqual([..."abc"].flatMap((p) => [0, 1, 2, 3, 4, 5, 6].map((r) => `${p}${r}`)));
      for (const limit of [1, 2, 3, 4, 5, 20, 21]) {
        expect((await pageThrough(store, "ascending", limit)).map(text)).toEqual(expectedAsc);
        expect((await pageThrough(store, "descending", limit)).map(text)).toEqual([...expectedAsc].reverse());
      }
    });

    it("ends a page with the envelope whose message reaches the byte budget, and gives that page a cursor", async () => {
      const store = await open();
      // Messages of 100, 200, 300, 400 and 500 bytes at timestamps 1..5.
      await store.append([1, 2, 3, 4, 5].map((i) => sized(BigInt(i), i * 100, `s${i}`)));
      const sizes = (page: { envelopes: StoredEnvelope[] }) => page.envelopes.map((e) => e.message.byteLength);
      const ask = (direction: SortDirection, maxBytes: number, limit = 100) => store.query({ topic: TOPIC, limit, direction, maxBytes });

      const under = await ask("ascending", 250); // 100 < 250, then 100 + 200 reaches it
      expect(sizes(under)).toEqual([100, 200]);
      expect(under.cursor?.senderTimeNs).toBe(2n);
      expect(Buffer.from(under.cursor!.digest).equals(Buffer.from(under.envelopes[1].digest))).toBe(true);
      expect(sizes(await ask("ascending", 300))).toEqual([100, 200]); // exactly reached
      expect(sizes(await ask("ascending", 301))).toEqual([100, 200, 300]);
      // A budget smaller than the first message still returns that message, so paging always moves on.
      const one = await ask("ascending", 1);
      expect(sizes(one)).toEqual([100]);
      expect(one.cursor?.senderTimeNs).toBe(1n);
      const desc = await ask("descending", 600);
      expect(sizes(desc)).toEqual([500, 400]);
      expect(desc.cursor?.senderTimeNs).toBe(4n);
      // The row limit still applies under a large budget, with its cursor.
      const limited = await ask("descending", 1_000_000, 2);
      expect(sizes(limited)).toEqual([500, 400]);
      expect(limited.cursor).toBeDefined();
      // A page ended by the topic running out carries no cursor, budget or not.
      for (const direction of ["ascending", "descending"] as const) {
        const whole = await ask(direction, 1_500_000);
        expect(whole.envelopes).toHaveLength(5);
        expect(whole.cursor).toBeUndefined();
      }
      // A budget-ended page that happens to hold the topic's last envelope has a cursor; the page after is empty.
      const toEnd = await ask("ascending", 1500);
      expect(sizes(toEnd)).toEqual([100, 200, 300, 400, 500]);
      expect(toEnd.cursor).toBeDefined();
      const after = await store.query({ topic: TOPIC, limit: 100, direction: "ascending", maxBytes: 1500, cursor: toEnd.cursor });
      expect(after).toEqual({ envelopes: [], cursor: undefined });
    });

    it("pages by cursor across byte-budget pages, every envelope exactly once, in both directions", async () => {
      const store = await open();
      // 30 envelopes of 4..4,003 bytes (a fixed pseudo-random sequence), three or four to a timestamp, interleaved
      // arrivals, so budget cuts fall inside timestamp ties and on both sides of large messages.
      let seed = 7;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
      const batch = Array.from({ length: 30 }, (_, i) => sized(BigInt(100 + ((i * 7) % 9)), 4 + (next() % 4000), `r${i}`));
      for (let i = 0; i < batch.length; i += 4) await store.append(batch.slice(i, i + 4));
      const expectedAsc = (await store.query({ topic: TOPIC, limit: 100, direction: "ascending" })).envelopes.map(text);
      expect(expectedAsc).toHaveLength(30);
      for (const maxBytes of [1, 999, 4000, 5000, 12_345, 200_000]) {
        for (const limit of [3, 100]) {
          // Twice: a store with a cache serves the second pass from it.
          for (let pass = 0; pass < 2; pass++) {
            const asc = (await pageThrough(store, "ascending", limit, TOPIC, maxBytes)).map(text);
            expect(asc, `ascending, maxBytes ${maxBytes}, limit ${limit}`).toEqual(expectedAsc);
            const desc = (await pageThrough(store, "descending", limit, TOPIC, maxBytes)).map(text);
            expect(desc, `descending, maxBytes ${maxBytes}, limit ${limit}`).toEqual([...expectedAsc].reverse());
          }
        }
      }
      // Every budget-ended page stays within the budget plus less than its last message.
      let cursor;
      for (;;) {
        const page = await store.query({ topic: TOPIC, limit: 100, direction: "descending", maxBytes: 5000, cursor });
        if (page.envelopes.length === 0) break;
        const bytes = page.envelopes.reduce((sum, e) => sum + e.message.byteLength, 0);
        const last = page.envelopes[page.envelopes.length - 1].message.byteLength;
        expect(bytes - last).toBeLessThan(5000);
        if (!page.cursor) break;
        cursor = page.cursor;
      }
    });

    it("applies a byte budget together with time bounds and a cursor", async () => {
      const store = await open();
      await store.append([10n, 20n, 30n, 40n, 50n, 60n].map((t) => sized(t, 1000, `t${t}`)));
      const bounds = { topic: TOPIC, startTimeNs: 20n, endTimeNs: 50n, limit: 100, maxBytes: 1500 };
      for (const [direction, expected] of [
        ["ascending", ["t20", "t30", "t40", "t50"]],
        ["descending", ["t50", "t40", "t30", "t20"]],
      ] as const) {
        const seen: string[] = [];
        let cursor;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store.query({ ...bounds, direction, cursor });
          expect(page.envelopes.length).toBeLessThanOrEqual(2);
          seen.push(...page.envelopes.map(text));
          if (!page.cursor) break;
          cursor = page.cursor;
        }
        expect(seen).toEqual(expected);
      }
    });

    it("combines a cursor with time bounds", async () => {
      const store = await open();
      await store.append([10n, 20n, 30n, 40n, 50n, 60n].map((t) => envelope(t, `t${t}`)));
      const bounds = { topic: TOPIC, startTimeNs: 20n, endTimeNs: 50n, limit: 2 };
      const first = await store.query({ ...bounds, direction: "ascending" });
      const second = await store.query({ ...bounds, direction: "ascending", cursor: first.cursor });
      expect([...first.envelopes, ...second.envelopes].map(text)).toEqual(["t20", "t30", "t40", "t50"]);
      const descFirst = await store.query({ ...bounds, direction: "descending" });
      const descSecond = await store.query({ ...bounds, direction: "descending", cursor: descFirst.cursor });
      expect([...descFirst.envelopes, ...descSecond.envelopes].map(text)).toEqual(["t50", "t40", "t30", "t20"]);
    });

    it("treats a cursor naming an unknown envelope as 'strictly after its timestamp'", async () => {
      const store = await open();
      await store.append([10n, 20n, 20n, 30n].map((t, i) => envelope(t, `e${i}`)));
      const cursor = { digest: new Uint8Array(32).fill(7), senderTimeNs: 20n };
      const asc = await store.query({ topic: TOPIC, limit: 10, direction: "ascending", cursor });
      expect(asc.envelopes.map(text)).toEqual(["e3"]);
      const desc = await store.query({ topic: TOPIC, limit: 10, direction: "descending", cursor });
      expect(desc.envelopes.map(text)).toEqual(["e0"]);
    });

    it("stores everything appended concurrently, each call resolving to its own new envelopes", async () => {
      const store = await open();
      const calls = Array.from({ length: 50 }, (_, i) => [envelope(BigInt(i), `c${i}`), envelope(BigInt(i), "shared")]);
      const results = await Promise.all(calls.map((batch) => store.append(batch)));
      const sharedWinners = results.filter((added) => added.some((e) => text(e) === "shared"));
      expect(sharedWinners).toHaveLength(1);
      results.forEach((added, i) => expect(added.map(text)).toContain(`c${i}`));
      const all = await pageThrough(store, "ascending", 100);
      expect(all).toHaveLength(51);
    });

    it("lists envelopes in arrival order for replication, resuming after a sequence", async () => {
      const store = await open();
      await store.append([envelope(30n, "r0"), envelope(10n, "r1", OTHER_TOPIC)]);
      await store.append([envelope(20n, "r2"), envelope(30n, "r0")]);
      const first = await readSince(store, 0n, 2);
      expect(first.envelopes.map(text)).toEqual(["r0", "r1"]);
      expect(first.envelopes[1].contentTopic).toBe(OTHER_TOPIC);
      expect(first.envelopes[1].timestampNs).toBe(10n);
      const second = await readSince(store, first.nextSequence, 2);
      expect(second.envelopes.map(text)).toEqual(["r2"]);
      expect(second.nextSequence > first.nextSequence).toBe(true);
      const done = await readSince(store, second.nextSequence, 2);
      expect(done.envelopes).toEqual([]);
      expect(done.nextSequence).toBe(second.nextSequence);
      await store.append([envelope(40n, "r3")]);
      expect((await readSince(store, second.nextSequence, 10)).envelopes.map(text)).toEqual(["r3"]);
    });

    it("lists digests in arrival order and reads the envelopes back by sequence", async () => {
      const store = await open();
      const arrived = [envelope(30n, "d0"), envelope(10n, "d1", OTHER_TOPIC), envelope(20n, "d2")];
      await store.append([arrived[0], arrived[1]]);
      await store.append([arrived[2], envelope(30n, "d0")]);
      const first = await store.readDigestsSince(0n, 2);
      expect(first.digests).toEqual(arrived.slice(0, 2).map((e) => e.digest));
      expect(first.sequences).toHaveLength(2);
      expect(first.sequences[0] < first.sequences[1]).toBe(true);
      expect(first.nextSequence).toBe(first.sequences[1]);
      const second = await store.readDigestsSince(first.nextSequence, 2);
      expect(second.digests).toEqual([arrived[2].digest]);
      expect(second.nextSequence).toBe(second.sequences[0]);
      const done = await store.readDigestsSince(second.nextSequence, 2);
      expect(first.messageBytes).toEqual(arrived.slice(0, 2).map((e) => e.message.byteLength));
      expect(done).toEqual({ sequences: [], digests: [], messageBytes: [], nextSequence: second.nextSequence });

      // In the order asked, whole envelopes; a sequence nothing has is left out.
      const asked = [second.sequences[0], first.sequences[0], second.sequences[0] + 1000n, first.sequences[1]];
      const envelopes = await store.readBySequence(asked);
      expect(envelopes.map(text)).toEqual(["d2", "d0", "d1"]);
      expect(envelopes[2].contentTopic).toBe(OTHER_TOPIC);
      expect(envelopes[2].timestampNs).toBe(10n);
      expect(envelopes[0].digest).toEqual(arrived[2].digest);
      expect(await store.readBySequence([])).toEqual([]);
    });

    it("says which digests it holds, in the order asked, also for an empty list", async () => {
      const store = await open();
      const stored = [envelope(1n, "h0"), envelope(2n, "h1", OTHER_TOPIC)];
      await store.append(stored);
      const absent = envelope(3n, "h2");
      const sameMessageOtherTopic = envelope(1n, "h0", OTHER_TOPIC);
      expect(await store.hasDigests([absent.digest, stored[1].digest, sameMessageOtherTopic.digest, stored[0].digest, stored[1].digest])).toEqual([
        false,
        true,
        false,
        true,
        true,
      ]);
      expect(await store.hasDigests([])).toEqual([]);
    });

    describe("retention (prune, countPrunable)", () => {
      const CLASS = "/xmtp/0/m-";
      const A = "/xmtp/0/m-a/proto";
      const B = "/xmtp/0/m-b/proto";
      /** Topics outside the class: one sharing a longer prefix, the prefix's successor, a shorter one, another class. */
      const OUTSIDE = ["/xmtp/0/mE-a/proto", "/xmtp/0/m.", "/xmtp/0/m", "/xmtp/0/contact-a/proto", "/xmtp/0/n-a/proto"];
      /** Appended last by every test: a store may keep its newest row (SQLite's rowid must not be reused). */
      const sentinel = () => envelope(1n, "sentinel", "/xmtp/0/zz-sentinel/proto");
      const bytesOf = (envelopes: StoredEnvelope[]) => envelopes.reduce((sum, e) => sum + e.message.byteLength, 0);
      const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

      /** Everything the store holds, in arrival order, as catch-up reads it. */
      async function everything(store: EnvelopeStore): Promise<StoredEnvelope[]> {
        return (await readSince(store, 0n, 10_000)).envelopes;
      }

      /** Prunes in batches of `limit` until nothing is left, checking each batch's size; the total. */
      async function pruneAll(store: EnvelopeStore, rule: RetentionRule, limit: number) {
        const total = { envelopes: 0, messageBytes: 0, batches: 0 };
        for (;;) {
          const result = await store.prune(rule, limit);
          expect(result.envelopes).toBeLessThanOrEqual(limit);
          if (result.envelopes === 0) {
            expect(result.messageBytes).toBe(0);
            return total;
          }
          total.envelopes += result.envelopes;
          total.messageBytes += result.messageBytes;
          total.batches++;
          if (total.batches > 1000) throw new Error("pruning did not terminate");
        }
      }

      it("prunes by age within the class only: other classes, longer prefixes and newer envelopes stay", async () => {
        const store = await open();
        const doomed = [envelope(10n, "a-old", A), envelope(99n, "b-old", B), envelope(0n, "exact-prefix-old", CLASS)];
        const kept = [
          envelope(100n, "a-at-bound", A),
          envelope(200n, "b-new", B),
          ...OUTSIDE.map((topic, i) => envelope(BigInt(i), `outside-${i}`, topic)),
        ];
        await store.append([doomed[0], kept[0], kept[2], kept[3]]);
        await store.append([doomed[1], ...kept.slice(4), doomed[2], kept[1]]);
        await store.append([sentinel()]);
        const before = await store.readDigestsSince(0n, 100);
        const rule: RetentionRule = { topicPrefix: CLASS, olderThanNs: 100n };

        const expected = { envelopes: doomed.length, messageBytes: bytesOf(doomed) };
        expect(await store.countPrunable(rule)).toEqual(expected);
        expect(await store.prune(rule, 100)).toEqual(expected);
        expect(await store.prune(rule, 100)).toEqual({ envelopes: 0, messageBytes: 0 });
        expect(await store.countPrunable(rule)).toEqual({ envelopes: 0, messageBytes: 0 });

        const left = await everything(store);
        expect(left.map(text).sort()).toEqual([...kept.map(text), "sentinel"].sort());
        expect((await store.query({ topic: A, limit: 10, direction: "ascending" })).envelopes.map(text)).toEqual(["a-at-bound"]);
        expect((await store.query({ topic: CLASS, limit: 10, direction: "descending" })).envelopes).toEqual([]);
        for (const topic of OUTSIDE) {
          expect((await store.query({ topic, limit: 10, direction: "ascending" })).envelopes).toHaveLength(1);
        }
        // Catch-up offers neither their digests nor the envelopes by their old sequences.
        const after = await store.readDigestsSince(0n, 100);
        const doomedDigests = new Set(doomed.map((e) => hex(e.digest)));
        expect(after.digests.some((d) => doomedDigests.has(hex(d)))).toBe(false);
        expect(after.digests).toHaveLength(before.digests.length - doomed.length);
        const doomedSequences = before.sequences.filter((_, i) => doomedDigests.has(hex(before.digests[i])));
        expect(doomedSequences).toHaveLength(doomed.length);
        expect(await store.readBySequence(doomedSequences)).toEqual([]);
      });

      it("takes a prefix literally: no wildcard, no collation folding", async () => {
        const store = await open();
        const topics = ["/xmtp/0/a_b", "/xmtp/0/axb", "/xmtp/0/a%b", "/xmtp/0/A_b", "/xmtp/0/a_", "/xmtp/0/a"];
        await store.append(topics.map((topic, i) => envelope(1n, `t${i}`, topic)));
        await store.append([sentinel()]);
        const rule: RetentionRule = { topicPrefix: "/xmtp/0/a_", olderThanNs: 2n };
        expect((await store.countPrunable(rule)).envelopes).toBe(2);
        expect((await store.prune(rule, 10)).envelopes).toBe(2);
        const left = (await everything(store)).map((e) => e.contentTopic);
        expect(left.sort()).toEqual(["/xmtp/0/A_b", "/xmtp/0/a", "/xmtp/0/a%b", "/xmtp/0/axb", "/xmtp/0/zz-sentinel/proto"]);
      });

      it("deletes at most `limit` per call, the oldest first; repeated calls finish the job", async () => {
        const store = await open();
        const old = Array.from({ length: 7 }, (_, i) => envelope(BigInt(100 - i), `old${i}`, i % 2 ? A : B));
        await store.append(old);
        await store.append([envelope(1000n, "new", A), envelope(1n, "other-class", OUTSIDE[0]), sentinel()]);
        const rule: RetentionRule = { topicPrefix: CLASS, olderThanNs: 500n };
        const first = await store.prune(rule, 3);
        expect(first.envelopes).toBe(3);
        // The three oldest (timestamps 94, 95, 96) went first.
        const afterFirst = (await everything(store)).map(text);
        expect(afterFirst).not.toContain("old6");
        expect(afterFirst).not.toContain("old5");
        expect(afterFirst).not.toContain("old4");
        expect(await store.countPrunable(rule)).toEqual({ envelopes: 4, messageBytes: bytesOf(old.slice(0, 4)) });
        const rest = await pruneAll(store, rule, 3);
        expect(rest).toEqual({ envelopes: 4, messageBytes: bytesOf(old.slice(0, 4)), batches: 2 });
        expect((await everything(store)).map(text).sort()).toEqual(["new", "other-class", "sentinel"]);
      });

      it("keeps the newest envelopes of each topic of the class (by timestamp, ties by arrival)", async () => {
        const store = await open();
        await store.append([envelope(5n, "a1", A), envelope(7n, "a2", A)]);
        await store.append([envelope(7n, "a3", A), envelope(9n, "a4", A), envelope(3n, "a0-late", A)]);
        await store.append([envelope(1n, "b1", B), envelope(2n, "b2", B)]);
        await store.append(OUTSIDE.flatMap((topic, i) => [envelope(1n, `o${i}-1`, topic), envelope(2n, `o${i}-2`, topic), envelope(3n, `o${i}-3`, topic)]));
        await store.append([sentinel()]);
        const rule: RetentionRule = { topicPrefix: CLASS, keepNewest: 2 };
        const doomed = ["a2", "a1", "a0-late"];
        const expected = { envelopes: 3, messageBytes: doomed.reduce((sum, t) => sum + encoder.encode(t).byteLength, 0) };
        expect(await store.countPrunable(rule)).toEqual(expected);
        expect(await pruneAll(store, rule, 2)).toEqual({ ...expected, batches: 2 });
        expect((await store.query({ topic: A, limit: 10, direction: "ascending" })).envelopes.map(text)).toEqual(["a3", "a4"]);
        expect((await store.query({ topic: B, limit: 10, direction: "ascending" })).envelopes.map(text)).toEqual(["b1", "b2"]);
        for (const topic of OUTSIDE) {
          expect((await store.query({ topic, limit: 10, direction: "ascending" })).envelopes).toHaveLength(3);
        }
        // keepNewest 0 empties the class.
        const all = { topicPrefix: CLASS, keepNewest: 0 };
        expect((await store.countPrunable(all)).envelopes).toBe(4);
        expect((await store.prune(all, 10)).envelopes).toBe(4);
        expect((await everything(store)).filter((e) => e.contentTopic.startsWith(CLASS))).toEqual([]);
        expect(await everything(store)).toHaveLength(OUTSIDE.length * 3 + 1);
      });

      it("deletes the postage proofs kept beside pruned envelopes, and only theirs", async () => {
        const store = await open();
        const ledger = (store as EnvelopeStore & { postage?: PostageLedger }).postage;
        const proved = (e: StoredEnvelope, n: number): StoredEnvelope => ({ ...e, postage: new Uint8Array([n, n, n]) });
        const old = proved(envelope(1n, "old", A), 1);
        const young = proved(envelope(50n, "young", A), 2);
        const elsewhere = proved(envelope(1n, "elsewhere", OUTSIDE[0]), 3);
        await store.append([old, young, elsewhere]);
        await store.append([sentinel()]);
        expect(await store.prune({ topicPrefix: CLASS, olderThanNs: 10n }, 10)).toEqual({ envelopes: 1, messageBytes: 3 });
        if (!ledger) return; // a store without a postage ledger keeps no proofs
        const proofs = await ledger.readProofs([old.digest, young.digest, elsewhere.digest]);
        expect([...proofs.keys()].sort()).toEqual([hex(young.digest), hex(elsewhere.digest)].sort());
        // Stored again (a peer sends it back), the envelope gets its new proof.
        await store.append([proved(old, 9)]);
        expect((await ledger.readProofs([old.digest])).get(hex(old.digest))).toEqual(new Uint8Array([9, 9, 9]));
      });

      it("handles timestamps at the ends of the uint64 range", async () => {
        const store = await open();
        const max = 2n ** 64n - 1n;
        const stamps = [0n, 1n, 2n ** 63n - 1n, 2n ** 63n, max - 1n, max];
        await store.append(stamps.map((t, i) => envelope(t, `s${i}`, A)));
        await store.append([sentinel()]);
        const count = async (olderThanNs: bigint) => (await store.countPrunable({ topicPrefix: CLASS, olderThanNs })).envelopes;
        expect(await count(0n)).toBe(0);
        expect(await count(1n)).toBe(1);
        expect(await count(2n ** 63n)).toBe(3);
        expect(await count(2n ** 63n + 1n)).toBe(4);
        expect(await count(max)).toBe(5);
        expect(await count(max + 1n)).toBe(6);
        expect(await count(2n ** 70n)).toBe(6);
        expect(await store.prune({ topicPrefix: CLASS, olderThanNs: 0n }, 10)).toEqual({ envelopes: 0, messageBytes: 0 });
        expect((await store.prune({ topicPrefix: CLASS, olderThanNs: 1n }, 10)).envelopes).toBe(1);
        expect((await store.prune({ topicPrefix: CLASS, olderThanNs: max }, 10)).envelopes).toBe(4);
        expect((await store.query({ topic: A, limit: 10, direction: "ascending" })).envelopes.map((e) => e.timestampNs)).toEqual([max]);
        expect((await store.prune({ topicPrefix: CLASS, olderThanNs: 2n ** 64n }, 10)).envelopes).toBe(1);
        expect((await store.query({ topic: A, limit: 10, direction: "ascending" })).envelopes).toEqual([]);
      });

      it("never serves a pruned envelope from what an earlier query read (and cached)", async () => {
        const store = await open();
        await store.append([envelope(1n, "p1", A), envelope(2n, "p2", A), envelope(3n, "p3", A), envelope(4n, "p4", A)]);
        await store.append([sentinel()]);
        for (const direction of ["ascending", "descending"] as const) {
          // Twice: the second page may come from a cache.
          await store.query({ topic: A, limit: 10, direction });
          expect((await store.query({ topic: A, limit: 10, direction })).envelopes).toHaveLength(4);
        }
        await store.prune({ topicPrefix: CLASS, olderThanNs: 3n }, 10);
        expect((await store.query({ topic: A, limit: 10, direction: "ascending" })).envelopes.map(text)).toEqual(["p3", "p4"]);
        expect((await store.query({ topic: A, limit: 10, direction: "descending" })).envelopes.map(text)).toEqual(["p4", "p3"]);
        await store.prune({ topicPrefix: CLASS, keepNewest: 1 }, 10);
        expect((await store.query({ topic: A, limit: 10, direction: "ascending", maxBytes: 100 })).envelopes.map(text)).toEqual(["p4"]);
        // New envelopes after the prune are read as usual.
        await store.append([envelope(5n, "p5", A), sentinel()]);
        expect((await store.query({ topic: A, limit: 10, direction: "ascending" })).envelopes.map(text)).toEqual(["p4", "p5"]);
      });

      it("refuses a bad batch size or keepNewest", async () => {
        const store = await open();
        await expect(store.prune({ topicPrefix: CLASS, olderThanNs: 1n }, 0)).rejects.toThrow(RangeError);
        await expect(store.prune({ topicPrefix: CLASS, olderThanNs: 1n }, 1.5)).rejects.toThrow(RangeError);
        await expect(store.prune({ topicPrefix: CLASS, keepNewest: -1 }, 10)).rejects.toThrow(RangeError);
        await expect(store.countPrunable({ topicPrefix: CLASS, keepNewest: 0.5 })).rejects.toThrow(RangeError);
      });
    });
  });
}

/** How the Waku conformance suite opens stores: `open` may be called several times on one location (reopen). */
export interface WakuConformanceHooks {
  /** A new, empty location (file path, schema name). */
  newLocation(): string;
  open(location: string, options: WakuHashOptions): Promise<WakuEnvelopeStore>;
}

export function describeWakuStoreConformance(name: string, hooks: WakuConformanceHooks): void {
  describe(`Waku store conformance: ${name}`, () => {
    const opened: EnvelopeStore[] = [];
    const open = async (location: string, options: WakuHashOptions) => {
      const store = await hooks.open(location, options);
      opened.push(store);
      return store;
    };
    const close = async (store: EnvelopeStore) => {
      opened.splice(opened.indexOf(store), 1);
      await store.close();
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });
    const config = { clusterId: 1, shardCount: 8 };
    const hasher = createWakuHasher(config);
    /** The expected hash, computed from the spec functions rather than the hasher. */
    const expectedHash = (e: Envelope, cfg = config) => {
      let shard = 0;
      try {
        shard = autoshardOf(e.contentTopic, cfg.shardCount);
      } catch {
        // the documented fallback: shard 0
      }
      return wakuMessageHash(pubsubTopicOf(cfg.clusterId, shard), { payload: e.message, contentTopic: e.contentTopic, timestampNs: e.timestampNs });
    };
    const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

    async function pageThroughWaku(store: WakuEnvelopeStore, query: Omit<WakuStoreQuery, "cursor">) {
      const all: WakuStoredEnvelope[] = [];
      let cursor: Uint8Array | undefined;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await store.queryWaku({ ...query, cursor });
        expect(page.envelopes.length).toBeLessThanOrEqual(query.limit);
        all.push(...page.envelopes);
        if (!page.cursor) return all;
        expect(hexOf(page.cursor)).toBe(hexOf(page.envelopes[page.envelopes.length - 1].wakuHash));
        cursor = page.cursor;
      }
      throw new Error("paging did not terminate");
    }

    it("hashes every appended envelope (RFC 14 on its autosharded pubsub topic) and finds it by that hash", async () => {
      const store = await open(hooks.newLocation(), { wakuHasher: hasher });
      expect(store.wakuConfiguration).toBe(hasher.configuration);
      const batch = [envelope(5n, "a"), envelope(2n ** 64n - 1n, "b", OTHER_TOPIC), envelope(0n, "odd", "/t"), envelope(7n, "c")];
      await store.append(batch);
      await store.append([envelope(5n, "a")]); // a duplicate changes nothing
      const hashes = batch.map((e) => expectedHash(e));
      const unknown = new Uint8Array(32).fill(9);
      const found = await store.readByWakuHashes([hashes[3], unknown, hashes[0], hashes[2], hashes[1], hashes[0]]);
      expect(found.map(text)).toEqual(["c", "a", "odd", "b"]);
      for (const e of found) {
        const original = batch.find((b) => text(b) === text(e))!;
        expect(hexOf(e.wakuHash)).toBe(hexOf(expectedHash(original)));
        expect(hexOf(e.digest)).toBe(hexOf(original.digest));
        expect(e.timestampNs).toBe(original.timestampNs);
        expect(e.contentTopic).toBe(original.contentTopic);
      }
      expect(await store.readByWakuHashes([])).toEqual([]);
      const page = await store.queryWaku({ contentTopics: [TOPIC], direction: "ascending", limit: 10 });
      expect(page.envelopes.map((e) => hexOf(e.wakuHash))).toEqual([hexOf(hashes[0]), hexOf(hashes[3])]);
      expect(page.cursor).toBeUndefined();
    });

    it("pages exactly (no gaps, no repeats) over several topics, both directions, with time bounds and byte budgets", async () => {
      const store = await open(hooks.newLocation(), { wakuHasher: hasher });
      const topics = [TOPIC, OTHER_TOPIC, "/xmtp/0/m-third/proto"];
      // 45 envelopes, 5 timestamps, interleaved across topics and appends, so page edges fall inside ties.
      const arrival: StoredEnvelope[] = [];
      for (let round = 0; round < 9; round++) {
        const batch = [0, 1, 2, 3, 4].map((i) =>
          envelope(BigInt(100 + ((round * 3 + i * 7) % 5) * 10), `w${round}-${i}${".".repeat((round * 37 + i * 101) % 300)}`, topics[(round + i) % 3]),
        );
        arrival.push(...batch);
        await store.append(batch);
      }
      const ordered = (which: string[], low = 0n, high = 2n ** 64n - 1n) =>
        arrival
          .map((e, i) => ({ e, i }))
          .filter(({ e }) => which.includes(e.contentTopic) && e.timestampNs >= low && e.timestampNs <= high)
          .sort((a, b) => (a.e.timestampNs < b.e.timestampNs ? -1 : a.e.timestampNs > b.e.timestampNs ? 1 : a.i - b.i))
          .map(({ e }) => text(e));
      // One topic: the same order as the HTTP query path.
      const httpOrder = (await store.query({ topic: TOPIC, limit: 100, direction: "ascending" })).envelopes.map(text);
      expect(ordered([TOPIC])).toEqual(httpOrder);
      const cases: Array<{ which: string[]; low?: bigint; high?: bigint }> = [
        { which: [TOPIC] },
        { which: topics },
        { which: [OTHER_TOPIC, TOPIC, OTHER_TOPIC] },
        { which: topics, low: 110n, high: 130n },
        { which: [TOPIC, "/xmtp/0/m-nobody/proto"], low: 120n },
      ];
      for (const { which, low, high } of cases) {
        const expected = ordered(which, low, high);
        expect(expected.length).toBeGreaterThan(0);
        for (const limit of [1, 2, 4, 7, 100]) {
          for (const maxBytes of [undefined, 1, 250]) {
            const query = { contentTopics: which, startTimeNs: low, endTimeNs: high, limit, maxBytes };
            const label = `${which.length} topics, ${low}..${high}, limit ${limit}, maxBytes ${maxBytes}`;
            const asc = await pageThroughWaku(store, { ...query, direction: "ascending" });
            expect(asc.map(text), label).toEqual(expected);
            const desc = await pageThroughWaku(store, { ...query, direction: "descending" });
            expect(desc.map(text), label).toEqual([...expected].reverse());
            for (const e of asc) expect(hexOf(e.wakuHash)).toBe(hexOf(expectedHash(e)));
          }
        }
      }
      // A page ended by the budget carries a cursor; one that ran out does not.
      const budget = await store.queryWaku({ contentTopics: topics, direction: "ascending", limit: 100, maxBytes: 1 });
      expect(budget.envelopes).toHaveLength(1);
      expect(budget.cursor).toBeDefined();
      const whole = await store.queryWaku({ contentTopics: topics, direction: "descending", limit: 100 });
      expect(whole.envelopes).toHaveLength(45);
      expect(whole.cursor).toBeUndefined();
      // A cursor combined with a time range that excludes it still means "strictly after it".
      const first = await store.queryWaku({ contentTopics: topics, direction: "ascending", limit: 3 });
      const later = await store.queryWaku({ contentTopics: topics, direction: "ascending", limit: 100, startTimeNs: 140n, cursor: first.cursor });
      expect(later.envelopes.map(text)).toEqual(ordered(topics, 140n));
    });

    it("refuses an unknown cursor, or one of a topic not queried, with WakuCursorNotFoundError; checks its arguments", async () => {
      const store = await open(hooks.newLocation(), { wakuHasher: hasher });
      await store.append([envelope(1n, "x"), envelope(2n, "y", OTHER_TOPIC)]);
      const other = expectedHash(envelope(2n, "y", OTHER_TOPIC));
      await expect(store.queryWaku({ contentTopics: [TOPIC], direction: "ascending", limit: 5, cursor: new Uint8Array(32) })).rejects.toBeInstanceOf(
        WakuCursorNotFoundError,
      );
      await expect(store.queryWaku({ contentTopics: [TOPIC], direction: "descending", limit: 5, cursor: other })).rejects.toBeInstanceOf(
        WakuCursorNotFoundError,
      );
      const ok = await store.queryWaku({ contentTopics: [TOPIC, OTHER_TOPIC], direction: "descending", limit: 5, cursor: other });
      expect(ok.envelopes.map(text)).toEqual(["x"]);
      await expect(store.queryWaku({ contentTopics: [], direction: "ascending", limit: 5 })).rejects.toThrow(/at least one content topic/);
      await expect(store.queryWaku({ contentTopics: [TOPIC], direction: "ascending", limit: 0 })).rejects.toThrow(/limit/);
      await expect(store.queryWaku({ contentTopics: [TOPIC], direction: "ascending", limit: 1, cursor: new Uint8Array(31) })).rejects.toThrow(/32-byte/);
    });

    it("without a hasher stores no hashes and refuses Waku reads", async () => {
      const store = await open(hooks.newLocation(), {});
      expect(store.wakuConfiguration).toBeUndefined();
      await store.append([envelope(1n, "x")]);
      await expect(store.queryWaku({ contentTopics: [TOPIC], direction: "ascending", limit: 5 })).rejects.toThrow(/without a wakuHasher/);
      await expect(store.readByWakuHashes([new Uint8Array(32)])).rejects.toThrow(/without a wakuHasher/);
    });

    it("back-fills rows stored without a hasher and re-hashes every row when the configuration changes, in batches", async () => {
      const location = hooks.newLocation();
      const other = { clusterId: 2, shardCount: 4 };
      const rounds: StoredEnvelope[][] = [];
      const add = async (store: EnvelopeStore, round: number, count: number) => {
        const batch = Array.from({ length: count }, (_, i) =>
          envelope(BigInt(1000 + i), `b${round}-${i}`, i % 3 === 0 ? OTHER_TOPIC : i % 5 === 0 ? "/odd" : TOPIC),
        );
        rounds.push(batch);
        await store.append(batch);
      };
      const all = () => rounds.flat();
      const expectAllHashed = async (store: WakuEnvelopeStore, cfg: typeof config) => {
        const found = await store.readByWakuHashes(all().map((e) => expectedHash(e, cfg)));
        expect(found.map(text).sort()).toEqual(all().map(text).sort());
        for (const e of found) expect(hexOf(e.wakuHash)).toBe(hexOf(expectedHash(e, cfg)));
      };

      let store = await open(location, {});
      await add(store, 0, 23);
      await close(store);
      store = await open(location, { wakuHasher: hasher, wakuBackfillBatchSize: 4 });
      await expectAllHashed(store, config);
      await add(store, 1, 6);
      await close(store);

      // Another cluster and shard count: every old hash is replaced.
      const otherHasher = createWakuHasher(other);
      store = await open(location, { wakuHasher: otherHasher, wakuBackfillBatchSize: 3 });
      expect(store.wakuConfiguration).toBe(otherHasher.configuration);
      await expectAllHashed(store, other);
      expect(await store.readByWakuHashes(all().map((e) => expectedHash(e)))).toEqual([]);
      await close(store);

      // Rows added by a store without a hasher are hashed at the next open under the recorded configuration.
      store = await open(location, {});
      await add(store, 2, 5);
      await close(store);
      store = await open(location, { wakuHasher: otherHasher, wakuBackfillBatchSize: 2 });
      await expectAllHashed(store, other);
      const paged = await pageThroughWaku(store, { contentTopics: [TOPIC, OTHER_TOPIC, "/odd"], direction: "descending", limit: 4 });
      expect(paged).toHaveLength(all().length);
      await close(store);

      // And back to the first configuration.
      store = await open(location, { wakuHasher: hasher, wakuBackfillBatchSize: 1000 });
      await expectAllHashed(store, config);
    });
  });
}
