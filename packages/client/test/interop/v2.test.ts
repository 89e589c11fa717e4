import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { node, ourClient, sdkClient, sdkReceives, take, Wallet } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

describe("v2 conversations with the public SDK", () => {
  it("ours starts one; the SDK reads it and replies; ours reads the reply", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    expect(await ours.canMessage(theirs.address)).toBe(true);
    const conversation = await ours.conversations.newConversation(theirs.address);
    expect(conversation.conversationVersion).toBe("v2");
    await conversation.send("hello from xmtp-ts");

    const [theirConversation] = await theirs.conversations.list();
    expect(theirConversation.topic).toBe(conversation.topic);
    expect(theirConversation.peerAddress).toBe(ours.address);
    const received = await theirConversation.messages();
    expect(received.map((m: { content: string }) => m.content)).toEqual(["hello from xmtp-ts"]);
    expect(received[0].senderAddress).toBe(ours.address);
    await theirConversation.send("hello back from the SDK");

    const messages = await conversation.messages();
    expect(messages.map((m) => [m.senderAddress, m.content, m.error])).toEqual([
      [ours.address, "hello from xmtp-ts", undefined],
      [theirs.address, "hello back from the SDK", undefined],
    ]);
    expect(messages[1].id).toBe((await theirConversation.messages())[1].id);
  });

  it("the SDK starts one with a conversationId; ours lists and reads it", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const theirConversation = await theirs.conversations.newConversation(ours.address, {
      conversationId: "xmtp.org/interop/1",
      metadata: { title: "interop" },
    });
    await theirConversation.send("with context");
    const [conversation] = await ours.conversations.list();
    expect(conversation.topic).toBe(theirConversation.topic);
    expect(conversation.context).toEqual({ conversationId: "xmtp.org/interop/1", metadata: { title: "interop" } });
    expect((await conversation.messages()).map((m) => m.content)).toEqual(["with context"]);
    // Asking for the same conversation finds it rather than creating another.
    const again = await ours.conversations.newConversation(theirs.address, { conversationId: "xmtp.org/interop/1" });
    expect(again.topic).toBe(theirConversation.topic);
  });

  it("refuses yourself, unknown wallets and malformed addresses with clear errors", async () => {
    const ours = await ourClient(xmtpNode.url);
    await expect(ours.conversations.newConversation(ours.address.toLowerCase())).rejects.toThrow("cannot start a conversation with yourself");
    const nobody = Wallet.createRandom().address;
    await expect(ours.conversations.newConversation(nobody)).rejects.toThrow(`${nobody} is not on the XMTP network`);
    await expect(ours.conversations.newConversation("0xnope")).rejects.toThrow(/not an Ethereum address/);
  });

  it("both sides starting at once land in the same conversation (deterministic topic)", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const [mine, their] = await Promise.all([
      ours.conversations.newConversation(theirs.address, { conversationId: "race" }),
      theirs.conversations.newConversation(ours.address, { conversationId: "race", metadata: {} }),
    ]);
    expect(mine.topic).toBe(their.topic);
    await their.send("same room");
    expect((await mine.messages()).map((m) => m.content)).toEqual(["same room"]);
    expect((await ours.conversations.list()).filter((c) => c.context?.conversationId === "race")).toHaveLength(1);
  });

  it("messages() honours limit, direction and inclusive time bounds", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const conversation = await ours.conversations.newConversation(theirs.address);
    const base = Date.now() - 60_000;
    for (let i = 0; i < 5; i++) await conversation.send(`m${i}`, { timestamp: new Date(base + i * 1000) });
    const texts = (list: { content: unknown }[]) => list.map((m) => m.content);
    expect(texts(await conversation.messages())).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(texts(await conversation.messages({ limit: 2 }))).toEqual(["m0", "m1"]);
    expect(texts(await conversation.messages({ direction: "descending", limit: 3 }))).toEqual(["m4", "m3", "m2"]);
    expect(texts(await conversation.messages({ direction: 2 }))).toEqual(["m4", "m3", "m2", "m1", "m0"]);
    expect(texts(await conversation.messages({ startTime: new Date(base + 1000), endTime: new Date(base + 3000) }))).toEqual(["m1", "m2", "m3"]);
    // The SDK sees the same timestamps.
    const [theirConversation] = await theirs.conversations.list();
    expect((await theirConversation.messages()).map((m: { sent: Date }) => m.sent.getTime())).toEqual([0, 1, 2, 3, 4].map((i) => base + i * 1000));
  });

  it("ephemeral messages reach live streams both ways and are not stored", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const conversation = await ours.conversations.newConversation(theirs.address);
    const [theirConversation] = await theirs.conversations.list();
    const ourEphemeral = await conversation.streamEphemeral();
    await theirConversation.send("typing…", { ephemeral: true });
    const [fromThem] = await take(ourEphemeral, 1);
    expect([fromThem.content, fromThem.senderAddress, fromThem.contentTopic]).toEqual(["typing…", theirs.address, conversation.topic]);
    const theirEphemeral = await theirConversation.streamEphemeral();
    const seen = await sdkReceives<{ content: string }>(theirEphemeral[Symbol.asyncIterator](), (i) =>
      conversation.send(`also typing… ${i}`, { ephemeral: true }),
    );
    expect(seen.content).toMatch(/^also typing… \d+$/);
    await ourEphemeral.return();
    await theirEphemeral.return();
    expect(await conversation.messages()).toEqual([]);
  });
});
