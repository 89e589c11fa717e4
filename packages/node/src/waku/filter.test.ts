// Filter subscription rules with forged requests, pushes with a fake push stream, and the decoder fuzzed.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { create, fromBinary, toBinary, wakuFilterV2 } from "@xmtp-ts/proto";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import type { Stream } from "@libp2p/interface";
import { SubscriptionHub } from "../hub.js";
import { silentLogger } from "../log.js";
import { fuzzParameters } from "../../test/fuzz/support.js";
import { FilterService, MAX_PENDING_PUSH_BYTES } from "./filter.js";
import type { RemoteEnd } from "./remoteEnd.js";

const Type = wakuFilterV2.FilterSubscribeRequest_FilterSubscribeType;
const PEER = "12D3KooWQaUWNC7oim3BVycHUy6vnCsvbFu1WS1P76T1AGD3DYEd";
const remote: RemoteEnd = { remotePeer: peerIdFromString(PEER), remoteAddr: multiaddr("/ip4/127.0.0.1/tcp/1/ws") };
const TOPIC = "/xmtp/0/m-filter-unit/proto";

function service(options: { subscribeCapacity?: number; pushStream?: () => Promise<Stream> } = {}) {
  const hub = new SubscriptionHub(silentLogger);
  const pushed: Uint8Array[] = [];
  const filter = new FilterService({
    hub,
    acceptedPubsubTopics: new Set(["/waku/2/rs/0/4"]),
    pushPubsubTopic: "/waku/2/rs/0/4",
    openPushStream:
      options.pushStream ??
      (async () =>
        ({
          send: (bytes: Uint8Array) => (pushed.push(bytes), true),
          onDrain: async () => {},
          close: async () => {},
        }) as unknown as Stream),
    rateLimits: { enabled: true, subscribe: { capacity: options.subscribeCapacity ?? 100, refillPerSecond: 0.001 } },
    logger: { warn: () => {} },
  });
  return { hub, filter, pushed };
}

async function request(filter: FilterService, type: number, contentTopics: string[] = [TOPIC], pubsubTopic?: string) {
  const bytes = toBinary(
    wakuFilterV2.FilterSubscribeRequestSchema,
    create(wakuFilterV2.FilterSubscribeRequestSchema, { requestId: "q", filterSubscribeType: type, contentTopics, pubsubTopic }),
  );
  return fromBinary(wakuFilterV2.FilterSubscribeResponseSchema, await filter.answer(bytes, remote));
}

const envelope = (text: string) => ({ contentTopic: TOPIC, timestampNs: 5n, message: new TextEncoder().encode(text), digest: new Uint8Array(32) });

describe("Filter", () => {
  it("subscribes, answers pings, pushes matching envelopes in order, and unsubscribes", async () => {
    const { hub, filter, pushed } = service();
    expect((await request(filter, Type.SUBSCRIBER_PING)).statusCode).toBe(404);
    expect(await request(filter, Type.SUBSCRIBE, [TOPIC], "/waku/2/rs/0/4")).toMatchObject({ requestId: "q", statusCode: 200 });
    expect((await request(filter, Type.SUBSCRIBER_PING)).statusCode).toBe(200);
    hub.publish([envelope("one"), envelope("two"), { ...envelope("other"), contentTopic: "/xmtp/0/m-other/proto" }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Each push is one length-prefixed MessagePush (a 1-byte length prefix here).
    const pushes = pushed.map((frame) => fromBinary(wakuFilterV2.MessagePushSchema, frame.subarray(1)));
    expect(pushes.map((push) => new TextDecoder().decode(push.wakuMessage!.payload))).toEqual(["one", "two"]);
    expect(pushes[0]).toMatchObject({ pubsubTopic: "/waku/2/rs/0/4", wakuMessage: { contentTopic: TOPIC, timestamp: 5n } });
    expect((await request(filter, Type.UNSUBSCRIBE)).statusCode).toBe(200);
    expect(filter.subscribedPeers).toBe(0);
    hub.publish([envelope("three")]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pushed).toHaveLength(2);
  });

  it.each([
    ["no content topic", Type.SUBSCRIBE, [], undefined, /names no content topic/],
    ["101 content topics", Type.SUBSCRIBE, Array.from({ length: 101 }, (_, i) => `/xmtp/0/m-${i}/proto`), undefined, /at most 100/],
    ["a non-XMTP content topic", Type.SUBSCRIBE, ["/toychat/2/huilong/proto"], undefined, /neither \/xmtp\/0/],
    ["a pubsub topic we do not serve", Type.SUBSCRIBE, [TOPIC], "/waku/2/rs/1/4", /not served here/],
    ["an unknown request type", 7, [TOPIC], undefined, /unknown filter request type/],
  ])("refuses %s with 400 and subscribes nothing", async (_name, type, topics, pubsubTopic, reason) => {
    const { filter } = service();
    const answer = await request(filter, type, topics, pubsubTopic);
    expect(answer.statusCode).toBe(400);
    expect(answer.statusDesc).toMatch(reason);
    expect(filter.subscribedPeers).toBe(0);
  });

  it("rate-limits subscribe requests per peer", async () => {
    const { filter } = service({ subscribeCapacity: 1 });
    expect((await request(filter, Type.SUBSCRIBE)).statusCode).toBe(200);
    const refused = await request(filter, Type.SUBSCRIBE, ["/xmtp/0/m-second/proto"]);
    expect(refused).toMatchObject({ statusCode: 429, statusDesc: expect.stringMatching(/retry in \d+ s/) });
    expect(filter.topicsOf(PEER)).toEqual([TOPIC]);
  });

  it("ends the subscription of a peer that cannot take its pushes, holding at most the push budget", async () => {
    // A push stream that never opens: the queue grows until the budget is spent, then the subscription ends.
    const { hub, filter } = service({ pushStream: () => new Promise<Stream>(() => {}) });
    await request(filter, Type.SUBSCRIBE);
    const big = new Uint8Array(512 * 1024);
    for (let i = 0; i < (2 * MAX_PENDING_PUSH_BYTES) / big.length; i++) hub.publish([{ ...envelope("x"), message: big }]);
    expect(filter.subscribedPeers).toBe(0);
  });

  it("ends a peer's subscription when it disconnects", async () => {
    const { filter } = service();
    await request(filter, Type.SUBSCRIBE);
    filter.peerGone(PEER);
    expect(filter.subscribedPeers).toBe(0);
  });

  it("answers arbitrary bytes with a response, never an exception", async () => {
    const { filter } = service();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const answer = fromBinary(wakuFilterV2.FilterSubscribeResponseSchema, await filter.answer(bytes, remote));
        expect([200, 400, 404, 429]).toContain(answer.statusCode);
      }),
      fuzzParameters("filter decoder", 500),
    );
  });
});
