import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import type { DecodedMessage } from "../../src/index.js";
import { node, ourClient, sdkClient, sdkReceives, take } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

describe("streams with the public SDK", () => {
  it("ours streams a conversation's messages sent by the SDK; the SDK streams ours", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const conversation = await ours.conversations.newConversation(theirs.address);
    const [theirConversation] = await theirs.conversations.list();

    // Ours resolves once the node has the subscription: nothing sent afterwards can be missed.
    const ourStream = await conversation.streamMessages();
    await theirConversation.send("sdk → ours 1");
    await theirConversation.send("sdk → ours 2");
    const got = await take<DecodedMessage>(ourStream, 2);
    expect(got.map((m) => m.content)).toEqual(["sdk → ours 1", "sdk → ours 2"]);
    expect(got[0].senderAddress).toBe(theirs.address);

    const theirStream = await theirConversation.streamMessages();
    const theirsGot = await sdkReceives<{ content: string; senderAddress: string }>(theirStream[Symbol.asyncIterator](), (i) =>
      conversation.send(`ours → sdk ${i}`),
    );
    expect(theirsGot.content).toMatch(/^ours → sdk \d+$/);
    expect(theirsGot.senderAddress).toBe(ours.address);
    // Our own sends reach our stream too, in order, after the SDK's.
    const own = await take<DecodedMessage>(ourStream, 1);
    expect(own[0].content).toBe("ours → sdk 0");
    await ourStream.return();
    await theirStream.return();
    // Ended streams finish.
    expect((await ourStream.next()).done).toBe(true);
  });

  it("ours streams new conversations the SDK starts (v2) and the SDK streams ours", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const other = await sdkClient(xmtpNode.url);
    const stream = await ours.conversations.stream();
    const started = await theirs.conversations.newConversation(ours.address, { conversationId: "streamed", metadata: {} });
    const [conversation] = await take(stream, 1);
    expect(conversation.topic).toBe(started.topic);
    expect(conversation.peerAddress).toBe(theirs.address);
    await stream.return();

    const theirStream = await other.conversations.stream();
    const mine: string[] = [];
    const seen = await sdkReceives<{ topic: string; peerAddress: string }>(theirStream[Symbol.asyncIterator](), async (i) => {
      mine.push((await ours.conversations.newConversation(other.address, { conversationId: `streamed/${i}` })).topic);
    });
    expect(mine).toContain(seen.topic);
    expect(seen.peerAddress).toBe(ours.address);
    await theirStream.return();
  });

  it("streamAllMessages delivers messages of existing and newly created conversations, v1 and v2, once each", async () => {
    const ours = await ourClient(xmtpNode.url);
    const early = await sdkClient(xmtpNode.url);
    const late = await sdkClient(xmtpNode.url);
    const legacy = await sdkClient(xmtpNode.url, undefined, { publishLegacyContact: true });
    const existing = await early.conversations.newConversation(ours.address);
    await existing.send("before the stream");

    const all = await ours.conversations.streamAllMessages();
    await existing.send("existing conversation");
    const fresh = await late.conversations.newConversation(ours.address);
    await fresh.send("new v2 conversation");
    // A legacy-only peer: our first v1 send introduces the conversation (intro topics), then the peer replies.
    const v1 = await ours.conversations.newConversation(legacy.address);
    await v1.send("new v1 conversation");
    const [theirV1] = await legacy.conversations.list();
    await theirV1.send("v1 reply");

    const got = await take<DecodedMessage>(all, 4);
    expect(got.map((m) => m.content).sort()).toEqual(["existing conversation", "new v1 conversation", "new v2 conversation", "v1 reply"]);
    expect(new Set(got.map((m) => m.id)).size).toBe(4);
    const bySender = Object.fromEntries(got.map((m) => [m.content, [m.senderAddress, m.conversation.conversationVersion]]));
    expect(bySender["new v1 conversation"]).toEqual([ours.address, "v1"]);
    expect(bySender["v1 reply"]).toEqual([legacy.address, "v1"]);
    expect(bySender["new v2 conversation"]).toEqual([late.address, "v2"]);
    await all.return();
  });
});
