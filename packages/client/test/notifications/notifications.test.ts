// Notifications end to end: a real xmtp-node, the real xmtp-notify binary following it, a real webhook receiver
// (the notify tests' own, which records every request), and real clients. Alice registers an installation and keeps
// its topics in step with her inbox; Bob and Carol write to her; what the receiver gets is decoded with her keys.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, waitUntil, type ReceivedDelivery, type WebhookReceiver } from "../../../notify/src/test-support/harness.js";
import { startNode, startNotify, type RunningNode, type RunningNotify } from "../../../notify/src/test-support/network.js";
import { waitLive } from "../../../notify/src/test-support/deliveries.js";
import {
  Client,
  decodePushedEnvelope,
  InvalidPushError,
  NotificationTopicKeeper,
  notificationTopics,
  NotifyApi,
  NotifyApiError,
  signPushBody,
  verifyPushSignature,
  XmtpClientError,
  type RegisteredInstallation,
} from "../../src/index.js";
import { introTopic, inviteTopic } from "@xmtp-ts/crypto";
import { sdkClient } from "../support/peers.js";

const SECRET = "client-notifications-secret-0123456789";

let node: RunningNode;
let notify: RunningNotify;
let receiver: WebhookReceiver;
let notifyDataDir: string;

beforeAll(async () => {
  notifyDataDir = mkdtempSync(join(tmpdir(), "xmtp-client-notify-"));
  [node, receiver] = await Promise.all([startNode(), startReceiver(SECRET)]);
  notify = await startNotify(["--node", node.url, "--data-dir", notifyDataDir, "--retry-base-ms", "100"]);
  await waitLive(notify.url);
});

afterAll(async () => {
  await notify?.stop();
  await Promise.all([node?.dispose(), receiver?.close()]);
  if (notifyDataDir) rmSync(notifyDataDir, { recursive: true, force: true });
});

function onTopic(topic: string): ReceivedDelivery[] {
  return receiver.received.filter((r) => r.body?.envelope?.contentTopic === topic);
}

function signatureOf(delivery: ReceivedDelivery): string | undefined {
  const header = delivery.headers["x-xmtp-notify-signature"];
  return typeof header === "string" ? header : undefined;
}

async function newClient(): Promise<Client> {
  return Client.create(Wallet.createRandom(), { apiUrl: node.url });
}

describe("notifications through a real xmtp-notify", () => {
  it("registers, keeps the topic set in step with the inbox, and decodes what is pushed", async () => {
    const [alice, bob, carol] = await Promise.all([newClient(), newClient(), newClient()]);
    const api = new NotifyApi(notify.url + "/");
    const installation = await api.register({ target: { kind: "webhook", url: receiver.url }, secret: SECRET });
    expect(installation.topics).toEqual([]);

    // An existing conversation (Dave's) is subscribed by the first sync.
    const dave = await newClient();
    const daveConversation = await dave.conversations.newConversation(alice.address);

    const errors: unknown[] = [];
    const keeper = new NotificationTopicKeeper(alice, api, installation, { onError: (e) => errors.push(e) });
    const first = await keeper.start();
    try {
      expect(first.topics).toEqual([inviteTopic(alice.address), introTopic(alice.address), daveConversation.topic].sort());
      expect((await api.get(installation)).topics).toEqual(first.topics);

      // Bob starts a conversation: the invitation is pushed on Alice's invite topic and decodes to the conversation.
      const bobConversation = await bob.conversations.newConversation(alice.address);
      await receiver.waitFor(() => onTopic(inviteTopic(alice.address)).length >= 1);
      const invitation = onTopic(inviteTopic(alice.address))[0];
      expect(await verifyPushSignature(SECRET, invitation.raw, signatureOf(invitation))).toBe(true);
      const pushedInvitation = await decodePushedEnvelope(alice, invitation.raw);
      expect(pushedInvitation.kind).toBe("conversation");
      if (pushedInvitation.kind !== "conversation") throw new Error("unreachable");
      expect(pushedInvitation.conversation.topic).toBe(bobConversation.topic);
      expect(pushedInvitation.conversation.peerAddress).toBe(bob.address);

      // The keeper saw the new conversation on its stream and subscribed its topic.
      await waitUntil(() => keeper.topics.includes(bobConversation.topic), "Bob's conversation subscribed");
      expect((await api.get(installation)).topics).toContain(bobConversation.topic);

      await bobConversation.send("hello alice, from bob");
      await receiver.waitFor(() => onTopic(bobConversation.topic).length >= 1);
      const pushed = onTopic(bobConversation.topic)[0];
      expect(await verifyPushSignature(SECRET, Buffer.from(pushed.raw, "utf8"), signatureOf(pushed))).toBe(true);
      const decoded = await decodePushedEnvelope(alice, pushed.raw);
      expect(decoded.kind).toBe("message");
      if (decoded.kind !== "message") throw new Error("unreachable");
      expect(decoded.message.content).toBe("hello alice, from bob");
      expect(decoded.message.senderAddress).toBe(bob.address);
      expect(decoded.message.error).toBeUndefined();
      expect(decoded.conversation.topic).toBe(bobConversation.topic);
      expect(decoded.delivery.deliveryId).toBe(pushed.body.deliveryId);

      // A conversation appearing later (Carol's) is subscribed as it appears and pushed too; the parsed body decodes
      // as well as the raw one.
      const carolConversation = await carol.conversations.newConversation(alice.address);
      await waitUntil(() => keeper.topics.includes(carolConversation.topic), "Carol's conversation subscribed");
      await carolConversation.send("hi from carol");
      await receiver.waitFor(() => onTopic(carolConversation.topic).length >= 1);
      const fromCarol = await decodePushedEnvelope(alice, onTopic(carolConversation.topic)[0].body);
      expect(fromCarol.kind === "message" && fromCarol.message.content).toBe("hi from carol");

      // Alice blocks Carol: the keeper unsubscribes Carol's conversation, and nothing of hers is delivered after.
      await alice.contacts.deny([carol.address]);
      await waitUntil(() => !keeper.topics.includes(carolConversation.topic), "Carol's conversation unsubscribed");
      expect((await api.get(installation)).topics).not.toContain(carolConversation.topic);
      expect(keeper.topics).toContain(bobConversation.topic);
      const carolBefore = onTopic(carolConversation.topic).length;
      await carolConversation.send("are you there?");
      await bobConversation.send("bob again");
      await receiver.waitFor(() => onTopic(bobConversation.topic).length >= 2);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(onTopic(carolConversation.topic).length).toBe(carolBefore);

      // A fresh computation leaves Carol's topic out, and a second sync changes nothing.
      const computed = await notificationTopics(alice);
      expect(computed.denied).toEqual([carolConversation.topic]);
      expect(computed.topics).not.toContain(carolConversation.topic);
      const again = await keeper.sync();
      expect(again.subscribed).toEqual([]);
      expect(again.unsubscribed).toEqual([]);
      expect(again.topics).toEqual([inviteTopic(alice.address), introTopic(alice.address), daveConversation.topic, bobConversation.topic].sort());
      expect(errors).toEqual([]);
      expect(receiver.received.every((r) => r.signatureValid)).toBe(true);

      // Allowing Carol again takes her conversation back.
      await alice.contacts.allow([carol.address]);
      await waitUntil(() => keeper.topics.includes(carolConversation.topic), "Carol's conversation subscribed again");
    } finally {
      await keeper.stop();
    }
    expect(keeper.isRunning).toBe(false);

    // A topic the installation holds but the inbox does not want is dropped by the next sync.
    const stray = "/xmtp/0/m-not-in-this-inbox/proto";
    await api.subscribe(installation, [stray]);
    const resynced = await new NotificationTopicKeeper(alice, api, installation).sync();
    expect(resynced.unsubscribed).toEqual([stray]);
    expect(resynced.topics).not.toContain(stray);

    await api.delete(installation);
    await expect(api.get(installation)).rejects.toMatchObject({ code: "notify_refused", status: 404, serviceCode: "not_found" });
  });

  it("decodes a v1 intro into the new conversation and its first message, and the v1 replies after it", async () => {
    const alice = await newClient();
    const legacyPeer = await sdkClient(node.url, undefined, { publishLegacyContact: true });
    const api = new NotifyApi(notify.url);
    const installation = await api.register({ target: { kind: "webhook", url: receiver.url }, secret: SECRET });
    const keeper = new NotificationTopicKeeper(alice, api, installation);
    await keeper.start();
    try {
      const v1 = await alice.conversations.newConversation(legacyPeer.address);
      expect(v1.conversationVersion).toBe("v1");
      await v1.send("hello over v1");
      await receiver.waitFor(() => onTopic(introTopic(alice.address)).length >= 1);
      const intro = await decodePushedEnvelope(alice, onTopic(introTopic(alice.address))[0].raw);
      expect(intro.kind).toBe("conversation");
      if (intro.kind !== "conversation") throw new Error("unreachable");
      expect(intro.conversation.topic).toBe(v1.topic);
      expect(intro.message?.content).toBe("hello over v1");
      expect(intro.message?.senderAddress).toBe(alice.address);

      await waitUntil(() => keeper.topics.includes(v1.topic), "the v1 conversation subscribed");
      const [peerSide] = await legacyPeer.conversations.list();
      await peerSide.send("hello back");
      await receiver.waitFor(() => onTopic(v1.topic).length >= 1);
      const replies = await Promise.all(onTopic(v1.topic).map((r) => decodePushedEnvelope(alice, r.raw)));
      const contents = replies.map((r) => (r.kind === "message" ? [r.message.senderAddress, r.message.content] : r.kind));
      expect(contents).toContainEqual([legacyPeer.address, "hello back"]);
    } finally {
      await keeper.stop();
      await api.delete(installation);
    }
  });

  it("refuses forged and altered signatures", async () => {
    const body = JSON.stringify({ installationId: "x", envelope: { contentTopic: "/xmtp/0/m-x/proto", timestampNs: "1", message: "AQI=" } });
    const good = await signPushBody(SECRET, body);
    expect(good).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(await verifyPushSignature(SECRET, body, good)).toBe(true);
    expect(await verifyPushSignature(SECRET, new TextEncoder().encode(body), good)).toBe(true);
    expect(await verifyPushSignature("another-secret-0123456789", body, good)).toBe(false);
    expect(await verifyPushSignature(SECRET, body.replace('"x"', '"y"'), good)).toBe(false);
    expect(await verifyPushSignature(SECRET, body, await signPushBody("another-secret-0123456789", body))).toBe(false);
    const flipped = good.slice(0, -1) + (good.endsWith("0") ? "1" : "0");
    expect(await verifyPushSignature(SECRET, body, flipped)).toBe(false);
    expect(await verifyPushSignature(SECRET, body, good.slice(0, -2))).toBe(false);
    expect(await verifyPushSignature(SECRET, body, good.replace("sha256=", "sha1="))).toBe(false);
    expect(await verifyPushSignature(SECRET, body, "sha256=" + "zz".repeat(32))).toBe(false);
    expect(await verifyPushSignature(SECRET, body, undefined)).toBe(false);
    expect(await verifyPushSignature(SECRET, body, [good])).toBe(true);
    expect(await verifyPushSignature(SECRET, body, [good, good])).toBe(false);
    // The same check the service's own receiver makes agrees on real deliveries.
    for (const delivery of receiver.received) {
      expect(await verifyPushSignature(SECRET, delivery.raw, signatureOf(delivery))).toBe(delivery.signatureValid);
    }
  });

  it("reports the service's refusals, an unreachable service and bodies that are not deliveries as typed errors", async () => {
    const alice = await newClient();
    const api = new NotifyApi(notify.url);
    const installation: RegisteredInstallation = await api.register({
      target: { kind: "webhook", url: receiver.url },
      secret: SECRET,
      topics: [inviteTopic(alice.address)],
    });
    expect(installation.topics).toEqual([inviteTopic(alice.address)]);

    const forbidden = await api.get({ id: installation.id, accessKey: "not-the-key" }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(NotifyApiError);
    expect(forbidden).toBeInstanceOf(XmtpClientError);
    expect(forbidden).toMatchObject({ code: "notify_refused", status: 403, serviceCode: "forbidden" });

    const invalid = await api.subscribe(installation, ["not-an-xmtp-topic"]).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: "notify_refused", status: 400, serviceCode: "invalid_argument" });

    const badTarget = await api.register({ target: { kind: "webhook", url: "ftp://example.com" }, secret: SECRET }).catch((e: unknown) => e);
    expect(badTarget).toMatchObject({ code: "notify_refused", status: 400, field: "target.url" });

    const closed = new NotifyApi("http://127.0.0.1:1", { timeoutMs: 2_000 });
    await expect(closed.get(installation)).rejects.toMatchObject({ code: "notify_unreachable" });

    // Topics are sent in chunks and the answer is the whole set.
    const chunked = new NotifyApi(notify.url, { topicsPerRequest: 2 });
    const many = Array.from({ length: 5 }, (_, i) => `/xmtp/0/m-chunk-${i}/proto`);
    expect((await chunked.subscribe(installation, many)).sort()).toEqual([inviteTopic(alice.address), ...many].sort());
    expect(await chunked.unsubscribe(installation, many)).toEqual([inviteTopic(alice.address)]);
    await api.delete(installation);

    await expect(decodePushedEnvelope(alice, "not json")).rejects.toBeInstanceOf(InvalidPushError);
    await expect(decodePushedEnvelope(alice, { installationId: "x" })).rejects.toMatchObject({ code: "notify_invalid_push" });
    await expect(decodePushedEnvelope(alice, { envelope: { contentTopic: "/xmtp/0/m-x/proto", timestampNs: "x" } })).rejects.toBeInstanceOf(
      InvalidPushError,
    );
    // A well-formed delivery on a topic of no conversation of hers is "unknown", not an error.
    const stranger = await decodePushedEnvelope(alice, { envelope: { contentTopic: "/xmtp/0/m-nobody/proto", timestampNs: "1", message: "AQI=" } });
    expect(stranger.kind).toBe("unknown");
  });
});
