import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { Compression } from "../../src/index.js";
import { node, ourClient, sdk, sdkClient } from "../support/peers.js";

const require = createRequire(import.meta.url);
const { ReactionCodec, ContentTypeReaction } = require("@xmtp/content-type-reaction");
const { ReplyCodec, ContentTypeReply } = require("@xmtp/content-type-reply");

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

describe("content across the SDK boundary", () => {
  it("reads deflate- and gzip-compressed text the SDK sent, and the SDK reads ours", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url);
    const theirConversation = await theirs.conversations.newConversation(ours.address);
    const long = "compressible ".repeat(60);
    await theirConversation.send(long, { compression: sdk.Compression.COMPRESSION_DEFLATE });
    await theirConversation.send(long + "gz", { compression: sdk.Compression.COMPRESSION_GZIP });
    const [conversation] = await ours.conversations.list();
    const messages = await conversation.messages();
    expect(messages.map((m) => m.content)).toEqual([long, long + "gz"]);

    await conversation.send(long + "back", { compression: Compression.DEFLATE });
    const theirMessages = await theirConversation.messages();
    expect(theirMessages[2].content).toBe(long + "back");
  });

  it("the public reaction and reply codecs register with our client and work both ways", async () => {
    const ours = await ourClient(xmtpNode.url, undefined, { codecs: [new ReactionCodec(), new ReplyCodec()] });
    const theirs = await sdkClient(xmtpNode.url, undefined, { codecs: [new ReactionCodec(), new ReplyCodec()] });
    const conversation = await ours.conversations.newConversation(theirs.address);
    const original = await conversation.send("react to me");
    await conversation.send({ reference: original.id, action: "added", content: "👍", schema: "unicode" }, { contentType: ContentTypeReaction });

    const [theirConversation] = await theirs.conversations.list();
    const theirMessages = await theirConversation.messages();
    expect(theirMessages[1].content).toEqual({ reference: original.id, action: "added", content: "👍", schema: "unicode" });
    await theirConversation.send(
      { reference: original.id, contentType: { authorityId: "xmtp.org", typeId: "text", versionMajor: 1, versionMinor: 0 }, content: "a reply" },
      { contentType: ContentTypeReply },
    );
    const messages = await conversation.messages();
    expect(messages[2].contentType?.typeId).toBe("reply");
    expect((messages[2].content as { reference: string; content: string }).content).toBe("a reply");
    expect((messages[2].content as { reference: string }).reference).toBe(original.id);
  });

  it("an unknown content type arrives with its fallback and an error, not a failure", async () => {
    const ours = await ourClient(xmtpNode.url);
    const theirs = await sdkClient(xmtpNode.url, undefined, { codecs: [new ReactionCodec()] });
    const theirConversation = await theirs.conversations.newConversation(ours.address);
    await theirConversation.send({ reference: "00", action: "added", content: "🎉", schema: "unicode" }, { contentType: ContentTypeReaction });
    const [conversation] = await ours.conversations.list();
    const [message] = await conversation.messages();
    expect(message.content).toBeUndefined();
    expect(message.contentFallback).toMatch(/Reacted “🎉”|🎉/);
    expect(message.error?.message).toMatch(/unknown content type xmtp.org\/reaction:1.0/);
    expect(message.senderAddress).toBe(theirs.address);
  });
});
