// Envelopes cross between the two doors of one node, both ways, with real public SDKs on each side: an
// @xmtp/xmtp-js 13 message sent over HTTP is read by a @waku/sdk light node through Store and Filter, and a message
// prepared by xmtp-js but delivered by Waku LightPush is read and streamed by the other xmtp-js client.
import { afterAll, describe, expect, it } from "vitest";
import { Protocols, type IDecodedMessage, type LightNode } from "@waku/sdk";
import { eventually, queryAll, startRelayNode, type RelayNode } from "../network/support.js";
import { STREAM_SETTLE_MS, createClient, newWallet, nextFromStream, sleep, type SdkClient } from "../interop/sdk.js";
import { WAKU_ARGS, lightNodeFor } from "./support.js";

let node: RelayNode | undefined;
const lights: LightNode[] = [];
afterAll(async () => {
  await Promise.all(lights.map((light) => light.stop()));
  await node?.dispose();
});

describe("@xmtp/xmtp-js and @waku/sdk through one xmtp-ts node", () => {
  it("a conversation message crosses from HTTP to Waku and from Waku to HTTP", { timeout: 120_000 }, async () => {
    node = await startRelayNode({ extraArgs: WAKU_ARGS });
    const [alice, bob]: SdkClient[] = await Promise.all([createClient(node, newWallet()), createClient(node, newWallet())]);
    const aliceConversation = await alice.conversations.newConversation(bob.address);
    const topic = aliceConversation.topic;

    const light = await lightNodeFor(node, [Protocols.Store, Protocols.Filter, Protocols.LightPush]);
    lights.push(light);
    const filtered: IDecodedMessage[] = [];
    const decoder = light.createDecoder({ contentTopic: topic });
    expect(await light.filter.subscribe(decoder, (message) => void filtered.push(message))).toBe(true);

    // xmtp-js → Waku: the envelope Alice's SDK published is what Store returns and Filter pushes, byte for byte.
    await aliceConversation.send("sent with xmtp-js");
    const [published] = await queryAll(node, topic);
    const publishedBytes = Buffer.from(published.message, "base64");
    const stored: IDecodedMessage[] = [];
    await light.store.queryWithOrderedCallback([decoder], (message) => void stored.push(message), { paginationForward: true });
    expect(stored.map((m) => Buffer.from(m.payload))).toEqual([publishedBytes]);
    await eventually(() => filtered.length === 1, "Filter push of the xmtp-js message");
    expect(Buffer.from(filtered[0].payload)).toEqual(publishedBytes);

    // Waku → xmtp-js: Alice's SDK prepares a message without sending it; a light node delivers its envelope.
    const bobConversation = (await bob.conversations.list()).find((c) => c.topic === topic)!;
    expect(bobConversation).toBeDefined();
    const stream = await bobConversation.streamMessages();
    await sleep(STREAM_SETTLE_MS);
    const prepared = await aliceConversation.prepareMessage("delivered by Waku LightPush");
    const envelope = prepared.messageEnvelope;
    expect(envelope.contentTopic).toBe(topic);
    const pushed = await light.lightPush.send(light.createEncoder({ contentTopic: topic }), { payload: envelope.message });
    expect(pushed.failures).toEqual([]);
    const streamed = await nextFromStream(stream, "Bob's xmtp-js stream");
    expect(streamed.content).toBe("delivered by Waku LightPush");
    expect(streamed.senderAddress).toBe(alice.address);
    await stream.return();
    const history = await bobConversation.messages();
    expect(history.map((m) => m.content)).toEqual(["sent with xmtp-js", "delivered by Waku LightPush"]);
  });
});
