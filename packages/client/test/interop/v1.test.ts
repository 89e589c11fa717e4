import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { node, ourClient, sdkClient } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

async function topicCount(url: string, topic: string): Promise<number> {
  const response = await fetch(`${url}/message/v1/query`, {
    method: "POST",
    body: JSON.stringify({ contentTopics: [topic], pagingInfo: { limit: 100 } }),
  });
  return ((await response.json()).envelopes ?? []).length;
}

describe("v1 conversations with a legacy-only SDK client", () => {
  it("ours starts one (intros on first send); the SDK lists it, reads and replies", async () => {
    const ours = await ourClient(xmtpNode.url);
    const legacy = await sdkClient(xmtpNode.url, undefined, { publishLegacyContact: true });
    const conversation = await ours.conversations.newConversation(legacy.address);
    expect(conversation.conversationVersion).toBe("v1");
    await conversation.send("first v1 message");
    await conversation.send("second v1 message");
    // The first send went to both intro topics and the dm topic; the second only to the dm topic.
    expect(await topicCount(xmtpNode.url, `/xmtp/0/intro-${legacy.address}/proto`)).toBe(1);
    expect(await topicCount(xmtpNode.url, `/xmtp/0/intro-${ours.address}/proto`)).toBe(1);
    expect(await topicCount(xmtpNode.url, conversation.topic)).toBe(2);

    const [theirConversation] = await legacy.conversations.list();
    expect(theirConversation.conversationVersion).toBe("v1");
    expect(theirConversation.peerAddress).toBe(ours.address);
    expect((await theirConversation.messages()).map((m: { content: string }) => m.content)).toEqual(["first v1 message", "second v1 message"]);
    await theirConversation.send("v1 reply");

    const messages = await conversation.messages();
    expect(messages.map((m) => [m.senderAddress, m.recipientAddress, m.content])).toEqual([
      [ours.address, legacy.address, "first v1 message"],
      [ours.address, legacy.address, "second v1 message"],
      [legacy.address, ours.address, "v1 reply"],
    ]);
    expect(messages.every((m) => m.messageVersion === "v1" && m.error === undefined)).toBe(true);
  });

  it("the SDK starts one with our legacy-only client; ours lists and reads it, and replies", async () => {
    const ours = await ourClient(xmtpNode.url, undefined, { publishLegacyContact: true });
    const theirs = await sdkClient(xmtpNode.url);
    const theirConversation = await theirs.conversations.newConversation(ours.address);
    expect(theirConversation.conversationVersion).toBe("v1");
    await theirConversation.send("hi over v1");

    const listed = await ours.conversations.list();
    expect(listed.map((c) => [c.conversationVersion, c.peerAddress])).toEqual([["v1", theirs.address]]);
    expect((await listed[0].messages()).map((m) => m.content)).toEqual(["hi over v1"]);
    // Our reply: newConversation finds the same v1 conversation (the intro), not a new v2 one.
    const reply = await ours.conversations.newConversation(theirs.address);
    expect(reply.conversationVersion).toBe("v1");
    await reply.send("v1 answer");
    expect((await theirConversation.messages()).map((m: { content: string }) => m.content)).toEqual(["hi over v1", "v1 answer"]);
  });
});
