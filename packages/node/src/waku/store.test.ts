// Store v3 request rules with forged input (each refusal a status and a reason, the store never asked), how pages
// and cursors map to the wire, and the decoder fuzzed.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { create, fromBinary, toBinary, wakuStoreV3 } from "@xmtp-ts/proto";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { WakuCursorNotFoundError, type WakuStoreQuery, type WakuStoredEnvelope } from "../store/EnvelopeStore.js";
import { StoreUnavailableError } from "../store/storeErrors.js";
import { fuzzParameters } from "../../test/fuzz/support.js";
import type { RemoteEnd } from "./remoteEnd.js";
import { DEFAULT_STORE_PAGE_SIZE, MAX_STORE_PAGE_SIZE, StoreService } from "./store.js";

const remote: RemoteEnd = {
  remotePeer: peerIdFromString("12D3KooWQaUWNC7oim3BVycHUy6vnCsvbFu1WS1P76T1AGD3DYEd"),
  remoteAddr: multiaddr("/ip4/127.0.0.1/tcp/1/ws"),
};
const TOPIC = "/xmtp/0/m-store-unit/proto";
const stored = (i: number): WakuStoredEnvelope => ({
  contentTopic: TOPIC,
  timestampNs: BigInt(i),
  message: new Uint8Array([i]),
  digest: new Uint8Array(32),
  wakuHash: new Uint8Array(32).fill(i),
});

function service(options: { fail?: Error; readCapacity?: number } = {}) {
  const queries: WakuStoreQuery[] = [];
  const store = new StoreService({
    store: {
      queryWaku: async (query) => {
        queries.push(query);
        if (options.fail) throw options.fail;
        return { envelopes: [stored(1), stored(2), stored(3)], cursor: stored(3).wakuHash };
      },
      readByWakuHashes: async (hashes) => hashes.map((hash) => stored(hash[0])),
    },
    acceptedPubsubTopics: new Set(["/waku/2/rs/0/4"]),
    pubsubTopic: "/waku/2/rs/0/4",
    maxPageBytes: 4096,
    rateLimits: { enabled: true, read: { capacity: options.readCapacity ?? 1000, refillPerSecond: 0.001 } },
    logger: { warn: () => {} },
  });
  return { store, queries };
}

async function ask(store: StoreService, init: Parameters<typeof create<typeof wakuStoreV3.StoreQueryRequestSchema>>[1]) {
  const bytes = toBinary(wakuStoreV3.StoreQueryRequestSchema, create(wakuStoreV3.StoreQueryRequestSchema, { requestId: "s", ...init }));
  return fromBinary(wakuStoreV3.StoreQueryResponseSchema, await store.answer(bytes, remote));
}

describe("Store v3", () => {
  it("answers a forward page with hashes, messages and the cursor, under the node's page limits", async () => {
    const { store, queries } = service();
    const answer = await ask(store, { includeData: true, contentTopics: [TOPIC], paginationForward: true, paginationLimit: 1000n, timeStart: 1n, timeEnd: 9n });
    expect(answer).toMatchObject({ requestId: "s", statusCode: 200 });
    expect(answer.messages.map((m) => m.message?.payload[0])).toEqual([1, 2, 3]);
    expect(answer.messages[0]).toMatchObject({ pubsubTopic: "/waku/2/rs/0/4", message: { contentTopic: TOPIC, timestamp: 1n } });
    expect(answer.paginationCursor).toEqual(stored(3).wakuHash);
    expect(queries[0]).toMatchObject({ contentTopics: [TOPIC], direction: "ascending", limit: MAX_STORE_PAGE_SIZE, maxBytes: 4096, startTimeNs: 1n, endTimeNs: 9n });
  });

  it("answers a backward page oldest first (js-waku takes the first message's hash as the next cursor)", async () => {
    const { store, queries } = service();
    const answer = await ask(store, { includeData: false, contentTopics: [TOPIC], paginationForward: false });
    expect(answer.messages.map((m) => m.messageHash![0])).toEqual([3, 2, 1]);
    expect(answer.messages[0].message).toBeUndefined();
    expect(queries[0]).toMatchObject({ direction: "descending", limit: DEFAULT_STORE_PAGE_SIZE });
  });

  it("looks messages up by hash", async () => {
    const { store } = service();
    const answer = await ask(store, { includeData: true, messageHashes: [new Uint8Array(32).fill(7)] });
    expect(answer.messages.map((m) => m.messageHash![0])).toEqual([7]);
  });

  it.each([
    ["no content topic", { contentTopics: [] }, /names no content topic/],
    ["51 content topics", { contentTopics: Array.from({ length: 51 }, (_, i) => `/xmtp/0/m-${i}/proto`) }, /at most 50/],
    ["a non-XMTP content topic", { contentTopics: ["/toychat/2/huilong/proto"] }, /neither \/xmtp\/0/],
    ["a pubsub topic we do not serve", { contentTopics: [TOPIC], pubsubTopic: "/waku/2/rs/9/4" }, /not served here/],
    ["a cursor that is not a hash", { contentTopics: [TOPIC], paginationCursor: new Uint8Array(5) }, /not a 32-byte message hash/],
    ["a short message hash", { messageHashes: [new Uint8Array(31)] }, /not 32 bytes/],
    ["101 message hashes", { messageHashes: Array.from({ length: 101 }, () => new Uint8Array(32)) }, /at most 100/],
  ])("refuses %s with 400, without reading the store", async (_name, init, reason) => {
    const { store, queries } = service();
    const answer = await ask(store, init);
    expect(answer.statusCode).toBe(400);
    expect(answer.statusDesc).toMatch(reason);
    expect(answer.messages).toEqual([]);
    expect(queries).toEqual([]);
  });

  it("answers an unknown cursor 400, a store fault 503, anything else 500", async () => {
    const unknown = await ask(service({ fail: new WakuCursorNotFoundError(new Uint8Array(32)) }).store, { contentTopics: [TOPIC] });
    expect(unknown).toMatchObject({ statusCode: 400, statusDesc: expect.stringMatching(/names no stored message/) });
    const down = await ask(service({ fail: new StoreUnavailableError("PostgreSQL connection lost", "read") }).store, { contentTopics: [TOPIC] });
    expect(down).toMatchObject({ statusCode: 503, statusDesc: expect.stringMatching(/retry later/) });
    const bug = await ask(service({ fail: new TypeError("a bug") }).store, { contentTopics: [TOPIC] });
    expect(bug).toMatchObject({ statusCode: 500, statusDesc: "internal error" });
  });

  it("rate-limits reads per peer, one token per content topic", async () => {
    const { store } = service({ readCapacity: 3 });
    expect((await ask(store, { contentTopics: [TOPIC, "/xmtp/0/m-b/proto"] })).statusCode).toBe(200);
    const refused = await ask(store, { contentTopics: [TOPIC, "/xmtp/0/m-b/proto"] });
    expect(refused).toMatchObject({ statusCode: 429, statusDesc: expect.stringMatching(/retry in \d+ s/) });
  });

  it("answers arbitrary bytes with a response, never an exception", async () => {
    const { store } = service();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const answer = fromBinary(wakuStoreV3.StoreQueryResponseSchema, await store.answer(bytes, remote));
        expect([200, 400, 429]).toContain(answer.statusCode);
      }),
      fuzzParameters("store decoder", 500),
    );
  });
});
