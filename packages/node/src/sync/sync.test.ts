import { describe, expect, it } from "vitest";
import { streamPair } from "@libp2p/utils";
import { FramedStream, FrameError } from "./framedStream.js";
import { decodeSyncFrame, decodeSyncRequest, encodeSyncFrame, encodeSyncRequest } from "./syncMessages.js";
import { MAX_SYNC_PAGE_SIZE, SyncServer } from "./syncServer.js";
import { pullFromPeer, type SyncPage } from "./syncClient.js";
import { MemoryStore, digestOf } from "./test-support/memoryNode.js";
import { withDigest } from "../store/digest.js";
import { silentLogger } from "../relay/logger.js";
import type { Envelope } from "../store/EnvelopeStore.js";
import { encodeLengthPrefix } from "../relay/protobufWire.js";

function envelope(i: number, topic = "/xmtp/0/m-sync/proto"): Envelope {
  return { contentTopic: topic, timestampNs: 1_000_000n + BigInt(i), message: Uint8Array.of(i & 0xff, i >> 8, 7) };
}

async function storeWith(count: number): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.append(Array.from({ length: count }, (_, i) => ({ ...envelope(i), digest: digestOf(envelope(i)) })));
  return store;
}

async function serve(store: Pick<MemoryStore, "readSince">) {
  const [client, server] = await streamPair();
  void new SyncServer(store, silentLogger).handle(server);
  return client;
}

describe("sync messages", () => {
  it("round-trip requests and every frame kind", () => {
    expect(decodeSyncRequest(encodeSyncRequest({ afterSequence: 2n ** 63n + 5n, limit: 250 }))).toEqual({
      afterSequence: 2n ** 63n + 5n,
      limit: 250,
    });
    const e = envelope(3);
    expect(decodeSyncFrame(encodeSyncFrame({ kind: "envelope", envelope: e }))).toEqual({ kind: "envelope", envelope: e });
    expect(decodeSyncFrame(encodeSyncFrame({ kind: "pageEnd", nextSequence: 42n, caughtUp: true }))).toEqual({
      kind: "pageEnd",
      nextSequence: 42n,
      caughtUp: true,
    });
    expect(decodeSyncFrame(encodeSyncFrame({ kind: "error", message: "nope" }))).toEqual({ kind: "error", message: "nope" });
  });

  it("rejects an empty or malformed frame", () => {
    expect(() => decodeSyncFrame(new Uint8Array(0))).toThrow(/none of envelope, page_end, error/);
    expect(() => decodeSyncFrame(Uint8Array.of(0x0a, 0x02, 0xff, 0xff))).toThrow(/envelope is malformed/);
    expect(() => decodeSyncRequest(Uint8Array.of(0x0a, 0x00))).toThrow(/after_sequence \(1\) has wire type 2/);
  });
});

describe("framed stream", () => {
  it("reassembles a frame split over many chunks and several frames in one chunk", async () => {
    const [a, b] = await streamPair();
    const reader = new FramedStream(b, 1 << 20);
    const big = Uint8Array.from({ length: 300_000 }, (_, i) => i % 251);
    const prefix = encodeLengthPrefix(big.length);
    const bytes = new Uint8Array([...prefix, ...big, 1, 0x61, 1, 0x62]);
    for (let offset = 0; offset < bytes.length; offset += 7_777) a.send(bytes.subarray(offset, offset + 7_777));
    expect(await reader.read(5_000)).toEqual(big);
    expect(await reader.read(5_000)).toEqual(Uint8Array.of(0x61));
    expect(await reader.read(5_000)).toEqual(Uint8Array.of(0x62));
    await a.close();
    expect(await reader.read(5_000)).toBeUndefined();
  });

  it("refuses a frame over the limit before receiving it", async () => {
    const [a, b] = await streamPair();
    const reader = new FramedStream(b, 1_000);
    a.send(encodeLengthPrefix(1_001));
    await expect(reader.read(5_000)).rejects.toThrow(FrameError);
  });

  it("gives up on a silent peer", async () => {
    const [, b] = await streamPair();
    await expect(new FramedStream(b, 1_000).read(50)).rejects.toThrow(/timed out/);
  });

  it("reports a stream that ends inside a frame", async () => {
    const [a, b] = await streamPair();
    const reader = new FramedStream(b, 1_000);
    a.send(Uint8Array.of(5, 1, 2));
    await a.close();
    await expect(reader.read(5_000)).rejects.toThrow(/middle of a frame/);
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
      onPage: async (page) => void pages.push(page),
    });
    expect(reached).toBe(1050n);
    expect(pages.map((p) => p.envelopes.length)).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
    expect(pages.flatMap((p) => p.envelopes)).toEqual(Array.from({ length: 1050 }, (_, i) => envelope(i)));
  });

  it("starts after the given sequence and stops at once when there is nothing new", async () => {
    const store = await storeWith(30);
    const received: Envelope[] = [];
    const reached = await pullFromPeer(await serve(store), {
      afterSequence: 25n,
      pageSize: 10,
      pageTimeoutMs: 10_000,
      onPage: async (page) => void received.push(...page.envelopes),
    });
    expect(reached).toBe(30n);
    expect(received).toEqual([25, 26, 27, 28, 29].map((i) => envelope(i)));

    let pages = 0;
    const again = await pullFromPeer(await serve(store), {
      afterSequence: 30n,
      pageSize: 10,
      pageTimeoutMs: 10_000,
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
      onPage: async (page) => void sizes.push(page.envelopes.length),
    });
    expect(sizes).toEqual([200, 100]);
    expect(reached).toBe(300n);
  });

  it("drops invalid envelopes a peer serves but keeps the position", async () => {
    const store = new MemoryStore();
    const bad = { contentTopic: "not-a-topic", timestampNs: 1n, message: Uint8Array.of(1) };
    const good = envelope(1);
    await store.append([bad, good].map((e) => ({ ...e, digest: digestOf(e) })));
    const pages: SyncPage[] = [];
    const reached = await pullFromPeer(await serve(store), {
      afterSequence: 0n,
      pageSize: 10,
      pageTimeoutMs: 10_000,
      onPage: async (page) => void pages.push(page),
    });
    expect(reached).toBe(2n);
    expect(pages[0].envelopes).toEqual([good]);
    expect(pages[0].rejected).toBe(1);
  });

  it("answers a malformed request with an error frame", async () => {
    const store = await storeWith(1);
    const client = await serve(store);
    const framed = new FramedStream(client, 1 << 20);
    await framed.write(Uint8Array.of(0x0a, 0x01, 0x00));
    const reply = decodeSyncFrame((await framed.read(5_000))!);
    expect(reply).toMatchObject({ kind: "error" });
    expect(reply.kind === "error" && reply.message).toMatch(/malformed sync request/);
  });

  it("fails a pull when the peer claims to go backwards", async () => {
    const liar = { readSince: async () => ({ envelopes: [], nextSequence: 3n }) };
    await expect(
      pullFromPeer(await serve(liar), { afterSequence: 10n, pageSize: 10, pageTimeoutMs: 10_000, onPage: async () => {} }),
    ).rejects.toThrow(/went back from sequence 10 to 3/);
  });
});
