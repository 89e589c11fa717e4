// LightPush decisions with forged input: every refusal carries its status and reason, and nothing refused reaches
// the ingest. The decoders are fuzzed with arbitrary bytes: a malformed request is answered 400, never thrown.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { create, fromBinary, toBinary, wakuLightPushV2, wakuLightPushV3 } from "@xmtp-ts/proto";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey, peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import type { Envelope } from "../store/EnvelopeStore.js";
import { StoreUnavailableError } from "../store/storeErrors.js";
import { fuzzParameters } from "../../test/fuzz/support.js";
import { LightPushService } from "./lightPush.js";
import type { RemoteEnd } from "./remoteEnd.js";

const PEER = "12D3KooWQaUWNC7oim3BVycHUy6vnCsvbFu1WS1P76T1AGD3DYEd";
const OTHER_PEER = "12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9iSwYntZ9WjHa";
const remote = (peer = PEER, address = "127.0.0.1"): RemoteEnd => ({
  remotePeer: peerIdFromString(peer),
  remoteAddr: multiaddr(`/ip4/${address}/tcp/1234/ws`),
});
const TOPIC = "/xmtp/0/m-lightpush-unit/proto";
const message = (overrides: Partial<{ payload: Uint8Array; contentTopic: string; timestamp: bigint }> = {}) => ({
  payload: new Uint8Array([1, 2, 3]),
  contentTopic: TOPIC,
  timestamp: 1_700_000_000_000_000_000n,
  ...overrides,
});

function service(options: { accessMode?: "open" | "allowlist"; capacity?: number; failWith?: Error } = {}) {
  const ingested: Envelope[] = [];
  const push = new LightPushService({
    ingest: {
      ingest: async (envelopes) => {
        if (options.failWith) throw options.failWith;
        ingested.push(...envelopes);
      },
    },
    acceptedPubsubTopics: new Set(["/waku/2/rs/0/4", "/waku/2/default-waku/proto"]),
    accessMode: () => options.accessMode ?? "open",
    rateLimits: { enabled: true, publish: { capacity: options.capacity ?? 1000, refillPerSecond: 0.001 } },
    relayPeerCount: () => 2,
    logger: { warn: () => {} },
  });
  return { push, ingested };
}

describe("LightPush", () => {
  it("publishes a valid message as an envelope (payload, content topic, timestamp)", async () => {
    const { push, ingested } = service();
    expect(await push.push(message() as never, "/waku/2/rs/0/4", remote())).toEqual({ status: 200 });
    expect(await push.push(message({ payload: new Uint8Array([9]) }) as never, undefined, remote())).toEqual({ status: 200 });
    expect(ingested).toEqual([
      { contentTopic: TOPIC, timestampNs: 1_700_000_000_000_000_000n, message: new Uint8Array([1, 2, 3]) },
      { contentTopic: TOPIC, timestampNs: 1_700_000_000_000_000_000n, message: new Uint8Array([9]) },
    ]);
  });

  it.each([
    ["an owner-only contact topic", message({ contentTopic: "/xmtp/0/contact-0x9b1c4C2E75d423391AEF02C34A6B8b1F36FaC7bd/proto" }), undefined, 403, /writable only by 0x9b1c/],
    ["an owner-only private store topic", message({ contentTopic: "/xmtp/0/privatestore-0x9b1c4C2E75d423391AEF02C34A6B8b1F36FaC7bd/key_bundle/proto" }), undefined, 403, /LightPush carries no proof/],
    ["a payload over 1 MiB", message({ payload: new Uint8Array(1024 * 1024 + 1) }), undefined, 413, /exceeds 1048576/],
    ["an empty payload", message({ payload: new Uint8Array(0) }), undefined, 415, /empty message/],
    ["a topic that is not XMTP's", message({ contentTopic: "/toychat/2/huilong/proto" }), undefined, 415, /neither \/xmtp\/0/],
    ["no timestamp", message({ timestamp: 0n }), undefined, 415, /no timestamp/],
    ["a pubsub topic we do not serve", message(), "/waku/2/rs/1/4", 421, /not served here/],
  ])("refuses %s, and stores nothing", async (_name, forged, pubsubTopic, status, reason) => {
    const { push, ingested } = service();
    const outcome = await push.push(forged as never, pubsubTopic, remote());
    expect(outcome.status).toBe(status);
    expect(outcome.description).toMatch(reason);
    expect(ingested).toEqual([]);
  });

  it("refuses every LightPush in allowlist mode: no wallet is named", async () => {
    const { push, ingested } = service({ accessMode: "allowlist" });
    const outcome = await push.push(message() as never, undefined, remote());
    expect(outcome).toMatchObject({ status: 403, description: expect.stringMatching(/allowlisted wallets/) });
    expect(ingested).toEqual([]);
  });

  it("rate-limits per remote peer and per remote address", async () => {
    const { push, ingested } = service({ capacity: 2 });
    const third = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
    expect((await push.push(message() as never, undefined, remote(PEER, "127.0.0.1"))).status).toBe(200);
    expect((await push.push(message() as never, undefined, remote(PEER, "127.0.0.2"))).status).toBe(200);
    // The peer has used its burst, whatever address it comes from.
    const byPeer = await push.push(message() as never, undefined, remote(PEER, "127.0.0.3"));
    expect(byPeer).toMatchObject({ status: 429, description: expect.stringMatching(/peer 12D3KooWQaUW.*retry in \d+ s/) });
    // An address that has used its burst refuses every peer on it, a fresh one included.
    expect((await push.push(message() as never, undefined, remote(OTHER_PEER, "127.0.0.1"))).status).toBe(200);
    const byAddress = await push.push(message() as never, undefined, remote(third, "127.0.0.1"));
    expect(byAddress).toMatchObject({ status: 429, description: expect.stringMatching(/address 127\.0\.0\.1 may push/) });
    expect(ingested).toHaveLength(3);
  });

  it("answers 503 when the store cannot write, 500 for anything else", async () => {
    const unavailable = service({ failWith: new StoreUnavailableError("SQLite store cannot write: the disk is full", "write") });
    expect(await unavailable.push.push(message() as never, undefined, remote())).toMatchObject({ status: 503, description: expect.stringMatching(/disk is full/) });
    const broken = service({ failWith: new TypeError("a bug") });
    expect(await broken.push.push(message() as never, undefined, remote())).toEqual({ status: 500, description: "internal error" });
  });

  it("answers v3 requests with the request id, the status and the relay peer count", async () => {
    const { push } = service();
    const request = toBinary(
      wakuLightPushV3.LightPushRequestSchema,
      create(wakuLightPushV3.LightPushRequestSchema, { requestId: "r-1", message: message() }),
    );
    const answer = fromBinary(wakuLightPushV3.LightPushResponseSchema, await push.answerV3(request, remote()));
    expect(answer).toMatchObject({ requestId: "r-1", statusCode: 200, relayPeerCount: 2 });
    const refused = toBinary(
      wakuLightPushV3.LightPushRequestSchema,
      create(wakuLightPushV3.LightPushRequestSchema, { requestId: "r-2", message: message({ contentTopic: "/toy/1/a/proto" }) }),
    );
    const refusal = fromBinary(wakuLightPushV3.LightPushResponseSchema, await push.answerV3(refused, remote()));
    expect(refusal).toMatchObject({ requestId: "r-2", statusCode: 415, statusDesc: expect.stringMatching(/neither/) });
    expect(refusal.relayPeerCount).toBeUndefined();
  });

  it("answers 2.0.0-beta1 PushRpc requests with is_success and the reason", async () => {
    const { push, ingested } = service();
    const ok = toBinary(wakuLightPushV2.PushRpcSchema, create(wakuLightPushV2.PushRpcSchema, { requestId: "v2", request: { pubsubTopic: "/waku/2/default-waku/proto", message: message() } }));
    expect(fromBinary(wakuLightPushV2.PushRpcSchema, await push.answerV2(ok, remote())).response).toMatchObject({ isSuccess: true });
    const empty = toBinary(wakuLightPushV2.PushRpcSchema, create(wakuLightPushV2.PushRpcSchema, { requestId: "v2b" }));
    expect(fromBinary(wakuLightPushV2.PushRpcSchema, await push.answerV2(empty, remote())).response).toMatchObject({
      isSuccess: false,
      info: expect.stringMatching(/^400 PushRpc carries no request/),
    });
    expect(ingested).toHaveLength(1);
  });

  it("answers arbitrary bytes with a response, never an exception, and stores nothing that is not a valid push", async () => {
    const { push, ingested } = service();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (bytes) => {
        const v3 = fromBinary(wakuLightPushV3.LightPushResponseSchema, await push.answerV3(bytes, remote()));
        expect([200, 400, 403, 413, 415, 421, 429]).toContain(v3.statusCode);
        const v2 = fromBinary(wakuLightPushV2.PushRpcSchema, await push.answerV2(bytes, remote()));
        expect(v2.response).toBeDefined();
      }),
      fuzzParameters("lightpush decoders", 500),
    );
    // Random bytes essentially never form a valid XMTP envelope; anything that was stored passed every check.
    for (const envelope of ingested) expect(envelope.contentTopic.startsWith("/xmtp/0/")).toBe(true);
  });
});
