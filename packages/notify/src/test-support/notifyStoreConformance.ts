// The behaviour every NotifyStore must have, as a vitest suite run against SQLite and PostgreSQL.
import { afterEach, describe, expect, it } from "vitest";
import { makeEnvelope } from "../envelope.js";
import { TopicLimitError, type NewInstallation, type NotifyStore } from "../store/NotifyStore.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const TOPIC_A = "/xmtp/0/m-aaaa/proto";
const TOPIC_B = "/xmtp/0/m-bbbb/proto";

function installation(id: string, url = `http://127.0.0.1:9/${id}`): NewInstallation {
  return { id, target: { kind: "webhook", url }, secret: `secret-${id}-0123456789`, accessKeyHash: `hash-${id}`, createdAtMs: 1_000 };
}

export function describeNotifyStoreConformance(name: string, open: () => Promise<NotifyStore>): void {
  describe(`NotifyStore conformance: ${name}`, () => {
    const opened: NotifyStore[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it("creates, reads and deletes installations", async () => {
      const store = await fresh();
      expect(await store.getInstallation("one")).toBeUndefined();
      await store.createInstallation(installation("one"));
      expect(await store.getInstallation("one")).toEqual(installation("one"));
      await expect(store.createInstallation(installation("one"))).rejects.toThrow();
      expect(await store.deleteInstallation("one")).toBe(true);
      expect(await store.deleteInstallation("one")).toBe(false);
      expect(await store.getInstallation("one")).toBeUndefined();
    });

    it("subscribes and unsubscribes topics, each once, within a limit that is checked atomically", async () => {
      const store = await fresh();
      await store.createInstallation(installation("one"));
      await store.createInstallation(installation("two"));
      expect(await store.subscribe("one", [TOPIC_B, TOPIC_A, TOPIC_A], 3)).toEqual({ topics: [TOPIC_A, TOPIC_B] });
      expect(await store.subscribe("two", [TOPIC_B], 3)).toEqual({ topics: [TOPIC_B] });
      expect(await store.allTopics()).toEqual([TOPIC_A, TOPIC_B]);
      // Over the limit: nothing of the request is kept.
      const error = await store.subscribe("one", ["/xmtp/0/c/proto", "/xmtp/0/d/proto"], 3).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TopicLimitError);
      expect((error as TopicLimitError).wouldHave).toBe(4);
      expect(await store.topicsOf("one")).toEqual([TOPIC_A, TOPIC_B]);
      // Topics already held do not count twice.
      expect(await store.subscribe("one", [TOPIC_A, "/xmtp/0/c/proto"], 3)).toEqual({ topics: ["/xmtp/0/c/proto", TOPIC_A, TOPIC_B] });
      expect(await store.unsubscribe("one", [TOPIC_A, "/xmtp/0/not-held/proto"])).toEqual({ topics: ["/xmtp/0/c/proto", TOPIC_B] });
      await store.deleteInstallation("two");
      await store.deleteInstallation("one");
      expect(await store.allTopics()).toEqual([]);
    });

    it("enqueues one delivery per subscribed installation for each envelope never seen, and sets the cursor with it", async () => {
      const store = await fresh();
      await store.createInstallation(installation("one"));
      await store.createInstallation(installation("two"));
      await store.subscribe("one", [TOPIC_A, TOPIC_B], 10);
      await store.subscribe("two", [TOPIC_A], 10);
      const first = makeEnvelope(TOPIC_A, 10n, bytes("first"));
      const second = makeEnvelope(TOPIC_B, 20n, bytes("second"));
      const nobody = makeEnvelope("/xmtp/0/m-nobody/proto", 30n, bytes("unwatched"));
      const cursor = { timestampNs: 30n, digest: nobody.digest, updatedAtMs: 5 };
      expect(await store.ingest("http://node-1", [first, second, nobody], cursor, 100)).toEqual({ fresh: 3, duplicates: 0, enqueued: 3 });
      expect(await store.getCursor("http://node-1")).toEqual(cursor);
      expect(await store.getCursor("http://node-2")).toBeUndefined();
      // The same envelopes again, from this node or another: nothing more.
      expect(await store.ingest("http://node-2", [second, first], undefined, 200)).toEqual({ fresh: 0, duplicates: 2, enqueued: 0 });
      expect(await store.getCursor("http://node-2")).toBeUndefined();
      expect(await store.deliveryCounts("one")).toEqual({ pending: 2, delivered: 0, dead: 0 });
      expect(await store.deliveryCounts("two")).toEqual({ pending: 1, delivered: 0, dead: 0 });
      expect(await store.queueStats()).toEqual({ pending: 3, dead: 0, installations: 2 });

      const due = await store.dueDeliveries(100, 10, new Set());
      expect(due.map((d) => [d.installationId, d.envelope.digest])).toEqual([
        ["one", first.digest],
        ["two", first.digest],
      ]);
      expect(due[0]).toMatchObject({ state: "pending", attempts: 0, nextAttemptAtMs: 100, lastError: null, target: installation("one").target, secret: installation("one").secret });
      expect(due[0].envelope).toEqual(first);
    });

    it("keeps uint64 timestamps exact and message bytes intact", async () => {
      const store = await fresh();
      await store.createInstallation(installation("one"));
      await store.subscribe("one", [TOPIC_A], 10);
      const max = makeEnvelope(TOPIC_A, (1n << 64n) - 1n, new Uint8Array([0, 255, 1, 254]));
      await store.ingest("n", [max], { timestampNs: (1n << 64n) - 1n, digest: max.digest, updatedAtMs: 1 }, 1);
      const [due] = await store.dueDeliveries(1, 1, new Set());
      expect(due.envelope).toEqual(max);
      expect((await store.getCursor("n"))?.timestampNs).toBe((1n << 64n) - 1n);
    });

    it("hands out one delivery per installation at a time, oldest first, only when due and not busy", async () => {
      const store = await fresh();
      await store.createInstallation(installation("one"));
      await store.createInstallation(installation("two"));
      await store.subscribe("one", [TOPIC_A], 10);
      await store.subscribe("two", [TOPIC_B], 10);
      const envelopes = [1, 2, 3].map((i) => makeEnvelope(TOPIC_A, BigInt(i), bytes(`a${i}`)));
      await store.ingest("n", envelopes, undefined, 50);
      await store.ingest("n", [makeEnvelope(TOPIC_B, 9n, bytes("b"))], undefined, 60);

      expect((await store.dueDeliveries(49, 10, new Set())).length).toBe(0);
      expect(await store.nextDueAtMs(new Set())).toBe(50);
      expect(await store.nextDueAtMs(new Set(["one"]))).toBe(60);
      expect(await store.nextDueAtMs(new Set(["one", "two"]))).toBeUndefined();
      expect((await store.dueDeliveries(55, 10, new Set())).map((d) => d.envelope.digest)).toEqual([envelopes[0].digest]);
      expect((await store.dueDeliveries(100, 1, new Set())).map((d) => d.installationId)).toEqual(["one"]);
      expect((await store.dueDeliveries(100, 10, new Set(["one"]))).map((d) => d.installationId)).toEqual(["two"]);

      // The head fails: it stays the head (the next waits behind it) until it is due again.
      const [head] = await store.dueDeliveries(100, 1, new Set(["two"]));
      await store.markFailed(head.seq, { attempts: 1, nextAttemptAtMs: 500, error: "HTTP 500", dead: false }, 100);
      expect((await store.dueDeliveries(200, 10, new Set(["two"])))).toEqual([]);
      expect(await store.nextDueAtMs(new Set(["two"]))).toBe(500);
      const [again] = await store.dueDeliveries(500, 10, new Set(["two"]));
      expect(again).toMatchObject({ seq: head.seq, attempts: 1, lastError: "HTTP 500", nextAttemptAtMs: 500, updatedAtMs: 100 });

      // Dead-lettered: out of the queue, visible as a dead letter; the next one becomes the head.
      await store.markFailed(head.seq, { attempts: 2, nextAttemptAtMs: 900, error: "HTTP 503", dead: true }, 600);
      const [next] = await store.dueDeliveries(600, 10, new Set(["two"]));
      expect(next.envelope.digest).toBe(envelopes[1].digest);
      await store.markDelivered(next.seq, 601);
      const [third] = await store.dueDeliveries(601, 10, new Set(["two"]));
      expect(third.envelope.digest).toBe(envelopes[2].digest);
      await store.markDelivered(third.seq, 602);
      expect(await store.dueDeliveries(10_000, 10, new Set(["two"]))).toEqual([]);

      expect(await store.deliveryCounts("one")).toEqual({ pending: 0, delivered: 2, dead: 1 });
      const dead = await store.deadLetters("one", 10);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ seq: head.seq, state: "dead", attempts: 2, lastError: "HTTP 503", installationId: "one" });
      expect(dead[0].envelope).toEqual(envelopes[0]);
      expect(await store.queueStats()).toEqual({ pending: 1, dead: 1, installations: 2 });
      // A failure recorded after the delivery went dead changes nothing.
      await store.markFailed(head.seq, { attempts: 3, nextAttemptAtMs: 1, error: "late", dead: false }, 700);
      expect((await store.deadLetters("one", 10))[0]).toMatchObject({ attempts: 2, state: "dead" });
      expect(await store.clearDeadLetters("one")).toBe(1);
      expect(await store.deliveryCounts("one")).toEqual({ pending: 0, delivered: 2, dead: 0 });
      // Delivered ones stay until pruned by age; marking one delivered again changes nothing.
      await store.markDelivered(next.seq, 9_999);
      expect(await store.pruneDelivered(602)).toBe(1);
      expect(await store.pruneDelivered(603)).toBe(1);
      expect(await store.deliveryCounts("one")).toEqual({ pending: 0, delivered: 0, dead: 0 });
    });

    it("drops an installation's deliveries with it", async () => {
      const store = await fresh();
      await store.createInstallation(installation("one"));
      await store.subscribe("one", [TOPIC_A], 10);
      await store.ingest("n", [makeEnvelope(TOPIC_A, 1n, bytes("x"))], undefined, 1);
      expect((await store.queueStats()).pending).toBe(1);
      await store.deleteInstallation("one");
      expect(await store.queueStats()).toEqual({ pending: 0, dead: 0, installations: 0 });
      expect(await store.dueDeliveries(10, 10, new Set())).toEqual([]);
    });

    it("forgets seen digests only when both old by timestamp and seen long ago", async () => {
      const store = await fresh();
      const old = makeEnvelope(TOPIC_A, 100n, bytes("old"));
      const recent = makeEnvelope(TOPIC_A, 900n, bytes("recent"));
      await store.ingest("n", [old, recent], undefined, 1_000);
      expect(await store.pruneSeen(500n, 1_000)).toBe(0); // seen at 1000, not before
      expect(await store.pruneSeen(500n, 1_001)).toBe(1);
      expect(await store.ingest("n", [old, recent], undefined, 2_000)).toEqual({ fresh: 1, duplicates: 1, enqueued: 0 });
    });

    it("keeps a cursor per node", async () => {
      const store = await fresh();
      await store.setCursor("http://a", { timestampNs: 5n, digest: "", updatedAtMs: 1 });
      await store.setCursor("http://b", { timestampNs: 7n, digest: "ab", updatedAtMs: 2 });
      await store.setCursor("http://a", { timestampNs: 6n, digest: "cd", updatedAtMs: 3 });
      expect(await store.cursors()).toEqual(
        new Map([
          ["http://a", { timestampNs: 6n, digest: "cd", updatedAtMs: 3 }],
          ["http://b", { timestampNs: 7n, digest: "ab", updatedAtMs: 2 }],
        ]),
      );
    });

    it("keeps a service key once: the first value stored wins; keeps a Web Push target", async () => {
      const store = await fresh();
      expect(await store.ensureServiceKey("vapid", "first")).toBe("first");
      expect(await store.ensureServiceKey("vapid", "second")).toBe("first");
      expect(await store.ensureServiceKey("other", "x")).toBe("x");
      await store.createInstallation({ ...installation("push"), target: { kind: "webpush", endpoint: "https://push.example/abc", keys: { p256dh: "BA", auth: "AQ" } }, secret: "" });
      expect((await store.getInstallation("push"))?.target).toEqual({ kind: "webpush", endpoint: "https://push.example/abc", keys: { p256dh: "BA", auth: "AQ" } });
    });

    it("rolls an ingest back whole when it fails", async () => {
      const store = await fresh();
      await store.createInstallation(installation("one"));
      await store.subscribe("one", [TOPIC_A], 10);
      const good = makeEnvelope(TOPIC_A, 1n, bytes("good"));
      const bad = { ...makeEnvelope(TOPIC_A, 2n, bytes("bad")), timestampNs: -1n };
      await expect(store.ingest("n", [good, bad], { timestampNs: 2n, digest: "", updatedAtMs: 1 }, 1)).rejects.toThrow();
      expect(await store.getCursor("n")).toBeUndefined();
      expect(await store.ingest("n", [good], undefined, 1)).toEqual({ fresh: 1, duplicates: 0, enqueued: 1 });
    });
  });
}
