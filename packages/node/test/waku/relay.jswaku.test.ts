// A real js-waku relay node in the gossipsub mesh with xmtp-ts nodes. The newest js-waku relay published is
// @waku/relay 0.0.14, whose last SDK is @waku/sdk 0.0.27 (libp2p 1.x; later SDKs are light-node only); it is
// installed under the alias js-waku-relay so that it does not displace the @waku/sdk 0.0.36 of the light-node
// tests. The two xmtp-ts nodes are not peers of each other: the js-waku node is their only link, so every envelope
// that crosses went through its router, both ways.
import "../../src/p2p/promiseWithResolvers.js";
import { afterAll, describe, expect, it } from "vitest";
import { createEncoder, createDecoder, type DecodedMessage, type RelayNode as JsWakuRelayNode } from "js-waku-relay";
import { createRelayNode } from "js-waku-relay/relay";
import { eventually, queryAll, startRelayNode, type RelayNode } from "../network/support.js";
import { STREAM_SETTLE_MS, createClient, newWallet, nextFromStream, sleep } from "../interop/sdk.js";
import { NETWORK_CONFIG, WAKU_ARGS, webSocketAddress } from "./support.js";

const nodes: RelayNode[] = [];
let jsWaku: JsWakuRelayNode | undefined;
afterAll(async () => {
  await jsWaku?.stop();
  await Promise.all(nodes.map((node) => node.dispose()));
});

/** The shard that every /xmtp/0/* content topic maps to under our autosharding (cluster 0, 8 shards). */
const XMTP_SHARD = { clusterId: NETWORK_CONFIG.clusterId, shard: 4 };
const XMTP_PUBSUB_TOPIC = `/waku/2/rs/${XMTP_SHARD.clusterId}/${XMTP_SHARD.shard}`;

describe("a js-waku relay node in the mesh of xmtp-ts nodes", () => {
  it("carries @xmtp/xmtp-js traffic between two nodes it alone connects, and its own messages reach both", { timeout: 180_000 }, async () => {
    const a = await startRelayNode({ extraArgs: WAKU_ARGS });
    const b = await startRelayNode({ extraArgs: WAKU_ARGS });
    nodes.push(a, b);
    // Autosharding over content topics: js-waku derives the same shard for /xmtp/0/* as our node does.
    jsWaku = await createRelayNode({
      networkConfig: { clusterId: NETWORK_CONFIG.clusterId, contentTopics: ["/xmtp/0/m-any/proto"] },
      defaultBootstrap: false,
      libp2p: { filterMultiaddrs: false },
    });
    await jsWaku.start();
    expect([...jsWaku.relay.pubsubTopics]).toEqual([XMTP_PUBSUB_TOPIC]);
    await jsWaku.dial(webSocketAddress(a));
    await jsWaku.dial(webSocketAddress(b));
    const relay = jsWaku.relay;
    await eventually(() => relay.getMeshPeers(XMTP_PUBSUB_TOPIC).length === 2, "both xmtp-ts nodes in js-waku's mesh", 30_000);
    expect(new Set(relay.getMeshPeers(XMTP_PUBSUB_TOPIC))).toEqual(new Set([a.peerId, b.peerId]));

    // Alice uses node A, Bob node B. Their contact bundles and Alice's invitation cross through js-waku.
    const [alice, bob] = await Promise.all([createClient(a, newWallet()), createClient(b, newWallet())]);
    // xmtp-js publishes two contact bundles (v1 and v2); with only the first at A, Alice's SDK would start a v1
    // conversation, so wait for both.
    const contactTopic = `/xmtp/0/contact-${bob.address}/proto`;
    await eventually(async () => (await queryAll(a, contactTopic)).length === 2, "Bob's contact bundles at A", 30_000);
    const aliceConversation = await alice.conversations.newConversation(bob.address);
    const topic = aliceConversation.topic;
    await eventually(async () => (await bob.conversations.list()).some((c) => c.topic === topic), "Alice's invitation at B", 30_000);
    const bobConversation = (await bob.conversations.list()).find((c) => c.topic === topic)!;

    const heard: DecodedMessage[] = [];
    const decoder = createDecoder(topic, XMTP_SHARD);
    await relay.subscribeWithUnsubscribe([decoder], (message: DecodedMessage) => void heard.push(message));
    const bobStream = await bobConversation.streamMessages();
    await sleep(STREAM_SETTLE_MS);

    // xmtp-ts → js-waku → xmtp-ts: Alice's message published at A is heard by js-waku and streamed to Bob at B.
    await aliceConversation.send("from A through js-waku");
    const streamed = await nextFromStream(bobStream, "Bob's stream at B");
    expect(streamed.content).toBe("from A through js-waku");
    expect(streamed.senderAddress).toBe(alice.address);
    const [atA] = await queryAll(a, topic);
    await eventually(() => heard.length === 1, "js-waku hears Alice's envelope");
    expect(Buffer.from(heard[0].payload)).toEqual(Buffer.from(atA.message, "base64"));
    expect(heard[0].pubsubTopic).toBe(XMTP_PUBSUB_TOPIC);

    // js-waku → xmtp-ts: an envelope Alice's SDK prepared, published by the js-waku node itself, is stored at both
    // nodes once and streamed to Bob.
    const prepared = await aliceConversation.prepareMessage("published by js-waku");
    const sent = await relay.send(createEncoder({ contentTopic: topic, pubsubTopicShardInfo: XMTP_SHARD }), {
      payload: prepared.messageEnvelope.message,
    });
    expect(sent.failures).toEqual([]);
    expect((await nextFromStream(bobStream, "Bob's stream at B")).content).toBe("published by js-waku");
    await eventually(async () => (await queryAll(a, topic)).length === 2, "js-waku's envelope at A");
    expect((await queryAll(b, topic)).length).toBe(2);
    expect((await bobConversation.messages()).map((m) => m.content)).toEqual(["from A through js-waku", "published by js-waku"]);

    // js-waku's relay keep-alive is ignored, not refused: nothing stored, and js-waku stays in both nodes' meshes
    // (a refused message would cost it gossipsub score), so the next envelope still crosses.
    const ping = await relay.send(createEncoder({ contentTopic: "/relay-ping/1/ping/null", pubsubTopicShardInfo: XMTP_SHARD }), {
      payload: new Uint8Array(),
    });
    expect(ping.failures).toEqual([]);
    await aliceConversation.send("after the keep-alive");
    expect((await nextFromStream(bobStream, "Bob's stream at B")).content).toBe("after the keep-alive");
    expect(await queryAll(a, "/relay-ping/1/ping/null")).toEqual([]);
    expect(await queryAll(b, "/relay-ping/1/ping/null")).toEqual([]);
    await bobStream.return();
  });
});
