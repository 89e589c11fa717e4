// An inbox of 1,200 conversations against a real node: listed once, streamed through several streams (split by
// topic count) without a per-topic start query, and a message in the last conversation and in a new one arrives.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compactToWalletSignature,
  createInvitation,
  encryptMessageV2,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  getPublicKey,
  hashPersonalMessage,
  inviteTopic,
  publicKeyToAddress,
  signDigest,
  userKeysFromBundle,
  type UserKeys,
} from "@xmtp-ts/crypto";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import type { DecodedMessage } from "../../src/index.js";
import { node, ourClient, sdkClient, take } from "../support/peers.js";

let xmtpNode: RunningNode;
beforeAll(async () => {
  xmtpNode = await node();
});
afterAll(async () => {
  await xmtpNode?.dispose();
});

const CONVERSATIONS = 1_200;

async function rawIdentity(): Promise<UserKeys> {
  const key = generatePrivateKey();
  const walletAddress = publicKeyToAddress(getPublicKey(key));
  return userKeysFromBundle(
    await generatePrivateKeyBundleV1(async (text) => compactToWalletSignature(signDigest(hashPersonalMessage(text), key)), { walletAddress }),
  );
}

describe("an inbox of 1,200 conversations", () => {
  it("streams every conversation's messages through streams of at most 500 topics, and adopts a new conversation", async () => {
    const ours = await ourClient(xmtpNode.url, undefined, { subscribeOptions: { maxTopicsPerStream: 500 } });
    const peers: { keys: UserKeys; keyMaterial: Uint8Array; topic: string }[] = [];
    const envelopes = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const keys = await rawIdentity();
      const sealed = await createInvitation({ sender: keys, recipient: ours.signedPublicKeyBundle });
      envelopes.push({ contentTopic: inviteTopic(ours.address), timestampNs: sealed.createdNs, message: sealed.bytes });
      peers.push({ keys, keyMaterial: sealed.keyMaterial, topic: sealed.topic });
    }
    for (let i = 0; i < envelopes.length; i += 500) await ours.api.publish(envelopes.slice(i, i + 500));
    expect(await ours.conversations.list()).toHaveLength(CONVERSATIONS);

    const stream = await ours.conversations.streamAllMessages();
    // 1,202 topics (every conversation, plus the invite and intro topics): three streams of at most 500.
    const subscription = (stream as unknown as { subscription: { contentTopics: string[] } }).subscription;
    expect(subscription.contentTopics).toHaveLength(CONVERSATIONS + 2);

    const last = peers.at(-1)!;
    const createdNs = BigInt(Date.now()) * 1_000_000n;
    const content = (await ours.encodeContent("from the 1,200th peer")).payload;
    const { bytes } = await encryptMessageV2({ sender: last.keys, keyMaterial: last.keyMaterial, topic: last.topic, content, createdNs });
    await ours.api.publish([{ contentTopic: last.topic, timestampNs: createdNs, message: bytes }]);
    const [fromLast] = await take<DecodedMessage>(stream, 1);
    expect(fromLast.content).toBe("from the 1,200th peer");
    expect(fromLast.senderAddress).toBe(last.keys.walletAddress);

    // A conversation started while streaming: its topic joins a stream, its first message arrives.
    const sdkPeer = await sdkClient(xmtpNode.url);
    const chat = await sdkPeer.conversations.newConversation(ours.address);
    await chat.send("a new conversation");
    const [fromNew] = await take<DecodedMessage>(stream, 1);
    expect(fromNew.content).toBe("a new conversation");
    expect(subscription.contentTopics).toHaveLength(CONVERSATIONS + 3);
    await stream.return();
  });
});
