import { describe, expect, it } from "vitest";
import { streamPair } from "@libp2p/utils";
import { FramedStream } from "../p2p/framedStream.js";
import {
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  encodeWantBitmap,
  isWanted,
} from "./syncMessages.js";
import { MAX_SYNC_PAGE_SIZE, SyncServer } from "./syncServer.js";
import { pullFromPeer, type SyncPage } from "./syncClient.js";
import { MemoryStore, envelopeDigestOf } from "../p2p/test-support/memoryNode.js";
import { withDigest } from "../store/digest.js";
import { openSqliteStore } from "../store/sqlite.js";
import { silentLogger } from "../p2p/logger.js";
import type { Envelope } from "../store/EnvelopeStore.js";

function envelope(i: number, topic = "/xmtp/0/m-sync/proto"): Envelope {
  return { contentTopic: topic, timestampNs: 1_000_000n + BigInt(i), message: Uint8Array.of(i & 0xff, i >> 8, 7) };
}

async function storeWith(count: number): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.append(Array.from({ length: count }, (_, i) => ({ ...envelope(i), digest: envelopeDigestOf(envelope(i)) })));
  return store;
}

async function serve(store: ConstructorParameters<typeof SyncServer>[0], proofs?: ConstructorParameters<typeof SyncServer>[2]) {
  const [client, server] = await streamPair();
  void new SyncServer(store, silentLogger, proofs).handle(server);
  return client;
}

describe("sync messages", () => {
  it("round-trip every client and server frame", () => {
    const request = { kind: "request" as const, afterSequence: 2n ** 63n + 5n, limit: 250 };
    expect(decodeClientFrame(encodeClientFrame(request))).toEqual(request);
    const want = { kind: "want" as const, bitmap: Uint8Array.of(0b101, 0xff) };
    expect(decodeClientFrame(encodeClientFrame(want))).toEqual(want);
    const e = envelope(3);
    expect(decodeServerFrame(encodeServerFrame({ kind: "envelope", envelope: e }))).toEqual({ kind: "envelope", envelope: e });
    const offer = { kind: "offer" as const, digests: [envelopeDigestOf(envelope(1)), envelopeDigestOf(envelope(2))], nextSequence: 42n, caughtUp: true };
    expect(decodeServerFrame(encodeServerFrame(offer))).toEqual(offer);
    const empty = { kind: "offer" as const, digests: [], nextSequence: 7n, caughtUp: false };
    expect(decodeServerFrame(encodeServerFrame(empty))).toEqual(empty);
    expect(decodeServerFrame(encodeServerFrame({ kind: "pageEnd" }))).toEqual({ kind: "pageEnd" });
    expect(decodeServerFrame(encodeServerFrame({ kind: "error", message: "nope" }))).toEqual({ kind: "error", message: "nope" });
  });

  it("packs the want bitmap least significant bit first", () => {
    const bitmap = encodeWantBitmap(10, (i) => i === 0 || i === 9);
    expect([...bitmap]).toEqual([0b1, 0b10]);
    expect([0, 1, 8, 9].map((i) => isWanted(bitmap, i))).toEqual([true, false, false, true]);
  });

  it("rejects empty or malformed frames with a reason", () => {
    expect(() => decodeServerFrame(new Uint8Array(0))).toThrow(/none of envelope, page_end, error, offer/);
    expect(() => decodeServerFrame(Uint8Array.of(0x0a, 0x02, 0xff, 0xff))).toThrow(/envelope is malformed/);
    expect(() => decodeServerFrame(Uint8Array.of(0x22, 0x03, 0x0a, 0x01, 0x00))).toThrow(/not a multiple of 32/);
    expect(() => decodeClientFrame(new Uint8Array(0))).toThrow(/neither request nor want/);
    expect(() => decodeClientFrame(Uint8Array.of(0x0a, 0x02, 0x0a, 0x00))).toThrow(/request.after_sequence \(1\) has wire type 2/);
  });
});

describe("sync server and client", () => {
  it("pages through the whole store in arrival order and reports the sequence reached", async () => {
    const store = await storeWith(1050);
    const pages: SyncPage[] = [];
    const reached = await pullFromPeer(await serve(store), {
      afterSequence: 0n,
      pageSize: 100,
      pageTimeoutMs: 10_000,
      isKnown: () => false,
      onPage: async (page) => void pages.push(page),
    });
    expect(reached).toBe(1050n);
    expect(pages.map((p) => p.envelopes.length)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
    // Each with the digest it was checked against, which the node reuses for storage and its catch-up bookkeeping.
    expect(pages.flatMap((p) => p.envelopes)).toEqual(Array.from({ length: 1050 }, (_, i) => withDigest(envelope(i))));
  });

  it("sends the postage proofs stored with reach-topic envelopes, and none for other envelopes", async () => {
    const store = await openSqliteStore(":memory:");
    const invite = "/xmtp/0/invite-0x9b1c4C2E75d423391AEF02C34A6B8b1F36FaC7bd/proto";
    const proved = withDigest({ ...envelope(1, invite), postage: Uint8Array.of(4, 2) });
    const unproved = withDigest(envelope(2, invite));
    const other = withDigest(envelope(3));
    await store.append([proved, unproved, other]);
    const received: Envelope[] = [];
    await pullFromPeer(await serve(store, store.postage), {
      afterSequence: 0n,
      pageSize: 10,
      pageTimeoutMs: 10_000,
      isKnown: () => false,
      onPage: async (page) => void received.push(...page.envelopes),
    });
    await store.close();
    expect(received.map((e) => e.postage)).toEqual([Uint8Array.of(4, 2), undefined, undefined]);
    expect(decodeServerFrame(encodeServerFrame({ kind: "envelope", envelope: proved }))).toEqual({
      kind: "envelope",
      envelope: { contentTopic: invite, timestampNs: proved.timestampNs, message: proved.message, postage: Uint8Array.of(4, 2) },
    });
  });

  it("starts after the given sequence and stops at once when there is nothing new", async () => {
    const store = await storeWith(30);
    const received: Envelope[] = [];
    const reached = await pullFromPeer(await serve(store), {
      afterSequence: 25n,
      pageSize: 10,
      pageTimeoutMs: 10_000,
      isKnown: () => false,
      onPage: async (page) => void received.push(...page.envelopes),
    });
    expect(reached).toBe(30n);
    expect(received).toEqual([25, 26, 27, 28, 29].map((i) => withDigest(envelope(i))));

    let pages = 0;
    const again = await pullFromPeer(await serve(store), {
      afterSequence: 30n,
      pageSize: 10,
      pageTimeoutMs: 10_000,
      isKnown: () => false,
      onPage: async () => void pages++,
    });
    expect(again).toBe(30n);
    expect(pages).toBe(1);
  });

  it("caps the page size a client asks for, and the client still pages to the end", async () => {
    const store = await storeWith(MAX_SYNC_PAGE_SIZE + 20);
    const sizes: number[] = [];
    await pullFromPeer(await serve(store), {
      afterSequence: 0n,
      pageSize: 100_000,
      pageTimeoutMs: 10_000,
      isKnown: () => false,
      onPage: async (page) => void sizes.push(page.envelopes.length),
    });
    expect(sizes).toEqual([MAX_SYNC_PAGE_SIZE, 20]);
  });

  it("ends a page early once its messages pass the byte budget, and the client continues", async () => {
    const store = new MemoryStore();
    const large = Array.from({ length: 300 }, (_, i) => {
      const message = new Uint8Array(30 * 1024);
      message[0] = i & 0xff;
      message[1] = i >> 8;
      return withDigest({ contentTopic: "/xmtp/0/m-large/proto", timestampNs: BigInt(i), message });
    });
    await store.append(large);
    const sizes: number[] = [];
    const reached = await pullFromPeer(await serve(store), {
      afterSequence: 0n,
      pageSize: 1000,
      pageTimeoutMs: 10_000,
      isKnown: () => false,
      onPage: async (page) => void sizes.push(page.envelopes.length),
    });
    // 4 MiB / 30 KiB = 136.5: a page ends with the envelope that reaches the budget.
    expect(sizes).toEqual([137, 137, 26]);
    expect(reached).toBe(300n);
  });

  it("drops invalid envelopes a peer serves but keeps the position", async () => {
    const store = new MemoryStore();
    const bad = { contentTopic: "not-a-topic", timestampNs: 1n, message: Uint8Array.of(1) };
    const good = envelope(1);
    await store.append([bad, good].map((e) => ({ ...e, digest: envelopeDigestOf(e) })));
    const pages: SyncPage[] = [];
    const reached = await pullFromPeer(await serve(store), {
      afterSequence: 0n,
      pageSize: 10,
      pageTimeoutMs: 10_000,
      isKnown: () => false,
      onPage: async (page) => void pages.push(page),
    });
    expect(reached).toBe(2n);
    expect(pages[0].envelopes).toEqual([withDigest(good)]);
    expect(pages[0].rejected).toBe(1);
  });

  it("answers a malformed request, or a want that does not fit the offer, with an error frame", async () => {
    const store = await storeWith(20);
    const client = await serve(store);
    const framed = new FramedStream(client, 1 << 20);
    await framed.write(Uint8Array.of(0x0a, 0x01, 0x00));
    const reply = decodeServerFrame((await framed.read(5_000))!);
    expect(reply.kind === "error" && reply.message).toMatch(/malformed sync request/);

    const second = new FramedStream(await serve(store), 1 << 20);
    await second.write(encodeClientFrame({ kind: "request", afterSequence: 0n, limit: 20 }));
    expect(decodeServerFrame((await second.read(5_000))!)).toMatchObject({ kind: "offer" });
    await second.write(encodeClientFrame({ kind: "want", bitmap: Uint8Array.of(0xff) }));
    const refusal = decodeServerFrame((await second.read(5_000))!);
    expect(refusal.kind === "error" && refusal.message).toMatch(/want bitmap has 1 bytes; the offer of 20 needs 3/);
  });

  it("transfers only the envelopes the client does not have", async () => {
    const store = await storeWith(50);
    const known = new Set(Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 2 === 0).map((i) => Buffer.from(envelopeDigestOf(envelope(i))).toString("hex")));
    const pages: SyncPage[] = [];
    const reached = await pullFromPeer(await serve(store), {
      afterSequence: 0n,
      pageSize: 20,
      pageTimeoutMs: 10_000,
      isKnown: (digest) => known.has(Buffer.from(digest).toString("hex")),
      onPage: async (page) => void pages.push(page),
    });
    expect(reached).toBe(50n);
    expect(pages.flatMap((p) => p.envelopes)).toEqual(Array.from({ length: 25 }, (_, k) => withDigest(envelope(2 * k + 1))));
    expect(pages.reduce((n, p) => n + p.skipped, 0)).toBe(25);
  });

  it("stops at a page that fails to commit, without committing the pages after it", async () => {
    const store = await storeWith(100);
    const committed: bigint[] = [];
    await expect(
      pullFromPeer(await serve(store), {
        afterSequence: 0n,
        pageSize: 10,
        pageTimeoutMs: 10_000,
        isKnown: () => false,
        onPage: async (page) => {
          if (page.nextSequence === 20n) throw new Error("disk full");
          committed.push(page.nextSequence);
        },
      }),
    ).rejects.toThrow(/disk full/);
    expect(committed).toEqual([10n]);
  });

  it("fails a pull when the peer sends an envelope other than the one it offered", async () => {
    const [client, server] = await streamPair();
    void (async () => {
      const framed = new FramedStream(server, 1 << 20);
      await framed.read(5_000);
      await framed.write(encodeServerFrame({ kind: "offer", digests: [envelopeDigestOf(envelope(1))], nextSequence: 1n, caughtUp: true }));
      await framed.read(5_000);
      await framed.write(encodeServerFrame({ kind: "envelope", envelope: envelope(2) }));
      await framed.write(encodeServerFrame({ kind: "pageEnd" }));
    })();
    await expect(
      pullFromPeer(client, { afterSequence: 0n, pageSize: 10, pageTimeoutMs: 10_000, isKnown: () => false, onPage: async () => {} }),
    ).rejects.toThrow(/does not match the digest the peer offered/);
  });

  it("fails a pull when the peer offers more envelopes than asked for, or more message bytes than a page holds", async () => {
    const fakePeer = async (digests: Uint8Array[], envelopes: Envelope[]) => {
      const [client, server] = await streamPair();
      void (async () => {
        const framed = new FramedStream(server, 1 << 20);
        await framed.read(5_000);
        await framed.write(encodeServerFrame({ kind: "offer", digests, nextSequence: BigInt(digests.length), caughtUp: true }));
        await framed.read(5_000);
        for (const e of envelopes) await framed.write(encodeServerFrame({ kind: "envelope", envelope: e }));
        await framed.write(encodeServerFrame({ kind: "pageEnd" }));
      })().catch(() => {});
      return client;
    };
    const pages: SyncPage[] = [];
    const options = { afterSequence: 0n, pageSize: 10, pageTimeoutMs: 10_000, isKnown: () => false, onPage: async (p: SyncPage) => void pages.push(p) };

    const eleven = Array.from({ length: 11 }, (_, i) => envelope(i));
    await expect(pullFromPeer(await fakePeer(eleven.map(envelopeDigestOf), eleven), options)).rejects.toThrow(
      /offered 11 envelopes for a page of at most 10/,
    );
    // Eight messages of 1,000,000 bytes: an honest server ends its page at the fifth (4 MiB reached), so more than
    // 4 MiB + 1 MiB of messages in one page is a peer trying to make this node buffer without bound.
    const huge = Array.from({ length: 8 }, (_, i) => {
      const message = new Uint8Array(1_000_000);
      message[0] = i;
      return { contentTopic: "/xmtp/0/m-huge/proto", timestampNs: BigInt(i), message };
    });
    await expect(pullFromPeer(await fakePeer(huge.map(envelopeDigestOf), huge), options)).rejects.toThrow(
      /peer sent more than 5242880 bytes of messages in one page/,
    );
    expect(pages).toEqual([]);
    // Five of them (an honest page's worth) pass.
    await pullFromPeer(await fakePeer(huge.slice(0, 5).map(envelopeDigestOf), huge.slice(0, 5)), options);
    expect(pages.map((p) => p.envelopes.length)).toEqual([5]);
  });

  it("fails a pull when the peer claims to go backwards", async () => {
    const liar = { readDigestsSince: async () => ({ sequences: [], digests: [], messageBytes: [], nextSequence: 3n }), readBySequence: async () => [] };
    await expect(
      pullFromPeer(await serve(liar), {
        afterSequence: 10n,
        pageSize: 10,
        pageTimeoutMs: 10_000,
        isKnown: () => false,
        onPage: async () => {},
      }),
    ).rejects.toThrow(/went back from sequence 10 to 3/);
  });
});
