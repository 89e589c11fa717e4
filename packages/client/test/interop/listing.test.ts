import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, MessageSchema, type MessageV2 } from "@xmtp-ts/proto";
import { createInvitation, encryptMessageV1, generatePrivateKeyBundleV1, userKeysFromBundle } from "@xmtp-ts/crypto";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { node, ourClient, sdkClient, Wallet } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

describe("listing many conversations", () => {
  it("finds dozens of conversations, v2 with and without conversationId, started by either side, as the SDK does", async () => {
    const wallet = Wallet.createRandom();
    const ours = await ourClient(xmtpNode.url, wallet);
    const peers = await Promise.all(Array.from({ length: 10 }, () => sdkClient(xmtpNode.url)));
    for (const peer of peers) await peer.conversations.newConversation(ours.address);
    const busy = peers[0];
    for (let i = 0; i < 12; i++) await busy.conversations.newConversation(ours.address, { conversationId: `thread/${i}`, metadata: { i: String(i) } });
    const others = await Promise.all(Array.from({ length: 6 }, () => sdkClient(xmtpNode.url)));
    for (const other of others) await ours.conversations.newConversation(other.address);

    const listed = await ours.conversations.list();
    expect(listed).toHaveLength(28);
    expect(new Set(listed.map((c) => c.topic)).size).toBe(28);
    for (let i = 1; i < listed.length; i++) expect(listed[i].createdAt.getTime()).toBeGreaterThanOrEqual(listed[i - 1].createdAt.getTime());
    expect(listed.filter((c) => c.context?.conversationId?.startsWith("thread/")).map((c) => c.peerAddress)).toEqual(Array(12).fill(busy.address));

    const sameWalletInSdk = await sdkClient(xmtpNode.url, wallet);
    const theirs = await sameWalletInSdk.conversations.list();
    expect(theirs.map((c: { topic: string }) => c.topic).sort()).toEqual(listed.map((c) => c.topic).sort());
    // A second listing only fetches what is new and returns the same set.
    expect((await ours.conversations.list()).map((c) => c.topic)).toEqual(listed.map((c) => c.topic));
  });

  it("skips invitations that are garbage, misdated or for someone else, and keeps listing", async () => {
    const ours = await ourClient(xmtpNode.url);
    const peer = await sdkClient(xmtpNode.url);
    const stranger = userKeysFromBundle(await generatePrivateKeyBundleV1(async (t) => Uint8Array.from(Buffer.from((await Wallet.createRandom().signMessage(t)).slice(2), "hex"))));
    const inviteTopic = `/xmtp/0/invite-${ours.address}/proto`;
    const misdated = await createInvitation({ sender: stranger, recipient: ours.signedPublicKeyBundle });
    await ours.api.publish([
      { contentTopic: inviteTopic, timestampNs: nowNs(), message: new Uint8Array([1, 2, 3, 4]) },
      { contentTopic: inviteTopic, timestampNs: misdated.createdNs + 1_000_000n, message: misdated.bytes },
    ]);
    await peer.conversations.newConversation(ours.address);
    const listed = await ours.conversations.list();
    expect(listed.map((c) => c.peerAddress)).toEqual([peer.address]);
  });
});

describe("tampered and foreign messages", () => {
  it("are listed with an error while the genuine ones read normally", async () => {
    const ours = await ourClient(xmtpNode.url);
    const peer = await sdkClient(xmtpNode.url);
    const theirConversation = await peer.conversations.newConversation(ours.address);
    await theirConversation.send("genuine 1");
    const [conversation] = await ours.conversations.list();
    // Flip one byte of the encrypted payload (the trailing sender_hmac is not authenticated by design,
    // docs/protocol/messages.md §3).
    const original = fromBinary(MessageSchema, await rawMessage(conversation.topic, 0));
    const ciphertext = (original.version.value as MessageV2).ciphertext!.union.value as { payload: Uint8Array };
    ciphertext.payload[10] ^= 0x01;
    const flipped = toBinary(MessageSchema, original);
    await ours.api.publish([
      { contentTopic: conversation.topic, timestampNs: nowNs(), message: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) },
      { contentTopic: conversation.topic, timestampNs: nowNs() + 1n, message: flipped },
      { contentTopic: conversation.topic, timestampNs: nowNs() + 2n, message: toBinary(MessageSchema, create(MessageSchema, { version: { case: "v2", value: { headerBytes: new Uint8Array([8, 1]) } } })) },
    ]);
    await theirConversation.send("genuine 2");

    const messages = await conversation.messages();
    expect(messages).toHaveLength(5);
    expect(messages.filter((m) => !m.error).map((m) => [m.content, m.senderAddress])).toEqual([
      ["genuine 1", peer.address],
      ["genuine 2", peer.address],
    ]);
    const failures = messages.filter((m) => m.error);
    expect(failures).toHaveLength(3);
    for (const failure of failures) {
      expect(failure.content).toBeUndefined();
      expect(failure.senderAddress).toBe("");
      expect(failure.error?.message.length).toBeGreaterThan(5);
    }
  });

  it("a v1 message between other parties posted on our dm topic is reported, not attributed", async () => {
    const ours = await ourClient(xmtpNode.url, undefined, { publishLegacyContact: true });
    const legacy = await sdkClient(xmtpNode.url, undefined, { publishLegacyContact: true });
    const conversation = await ours.conversations.newConversation(legacy.address);
    await conversation.send("real");
    // Mallory writes a genuine v1 message to us, but on our dm topic with the legacy peer.
    const mallory = userKeysFromBundle(await generatePrivateKeyBundleV1(async (t) => Uint8Array.from(Buffer.from((await Wallet.createRandom().signMessage(t)).slice(2), "hex"))));
    const { bytes } = await encryptMessageV1({ sender: mallory, recipient: ours.publicKeyBundle, content: new Uint8Array([1]) });
    await ours.api.publish([{ contentTopic: conversation.topic, timestampNs: nowNs(), message: bytes }]);
    const messages = await conversation.messages();
    expect(messages.map((m) => m.content ?? m.error?.message)).toEqual(["real", "message is not between this conversation's two parties"]);
  });
});

async function rawMessage(topic: string, index: number): Promise<Uint8Array> {
  const response = await fetch(`${xmtpNode.url}/message/v1/query`, {
    method: "POST",
    body: JSON.stringify({ contentTopics: [topic], pagingInfo: { limit: 100, direction: "SORT_DIRECTION_ASCENDING" } }),
  });
  const { envelopes } = await response.json();
  return Uint8Array.from(Buffer.from(envelopes[index].message, "base64"));
}
