// An inbox moved between two real networks: Alice chats on network 1 (a v2 conversation with a public-SDK user, a v1
// conversation with a legacy-only SDK user, a consent entry), exports, imports into network 2 (another node, its own
// data dir), and the public SDK, logged in as Alice on network 2, reads the same conversations and messages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { ArchiveError, Client, exportInbox, importInbox, readArchive, readArchiveHeader, readArchiveWithWallet } from "../../src/index.js";
import { node, ourClient, sdkClient, Wallet } from "../support/peers.js";

let network1: RunningNode;
let network2: RunningNode;
beforeAll(async () => {
  [network1, network2] = await Promise.all([node(), node()]);
});
afterAll(async () => {
  await Promise.all([network1?.dispose(), network2?.dispose()]);
});

type Line = [sender: string, text: string];

async function linesOf(conversation: { messages(): Promise<{ senderAddress: string; content: unknown }[]> }): Promise<Line[]> {
  return (await conversation.messages()).map((m) => [m.senderAddress, String(m.content)]);
}

describe("inbox archives between networks", () => {
  it("exports from one network, imports into another, and the public SDK reads the same inbox there", async () => {
    expect(network1.dataDir).not.toBe(network2.dataDir);
    const aliceWallet = Wallet.createRandom();
    const alice = await ourClient(network1.url, aliceWallet);
    const bob = await sdkClient(network1.url);
    const carol = await sdkClient(network1.url, undefined, { publishLegacyContact: true });
    const spammer = Wallet.createRandom().address;

    const v2 = await alice.conversations.newConversation(bob.address);
    expect(v2.conversationVersion).toBe("v2");
    await v2.send("hi bob");
    const bobSide = (await bob.conversations.list()).find((c: { topic: string }) => c.topic === v2.topic);
    await bobSide.send("hi alice");
    await v2.send("how are you?");
    const v1 = await alice.conversations.newConversation(carol.address);
    expect(v1.conversationVersion).toBe("v1");
    await v1.send("hello carol, over v1");
    const [carolSide] = await carol.conversations.list();
    await carolSide.send("hello alice");
    await alice.contacts.deny([spammer]);

    const expectedV2: Line[] = [
      [alice.address, "hi bob"],
      [bob.address, "hi alice"],
      [alice.address, "how are you?"],
    ];
    const expectedV1: Line[] = [
      [alice.address, "hello carol, over v1"],
      [carol.address, "hello alice"],
    ];
    expect(await linesOf(v2)).toEqual(expectedV2);

    const progress: { topicsDone: number; topicsTotal: number; envelopes: number }[] = [];
    const archive = await exportInbox(alice, { onProgress: (p) => progress.push(p) });
    const header = readArchiveHeader(archive);
    // contact, privatestore, invite, intro, preferences, m-, dm-.
    expect(header.walletAddress).toBe(alice.address);
    expect(header.topicCount).toBe(7);
    expect(progress.at(-1)).toMatchObject({ topicsDone: 7, topicsTotal: 7, envelopes: header.envelopeCount });
    // Two intros: Alice's first v1 send, and Carol's reply (each client instance introduces itself once).
    const opened = await readArchive(archive, alice.keys);
    const count = (prefix: string) => opened.topics.filter((t) => t.topic.startsWith(prefix)).reduce((n, t) => n + t.envelopes.length, 0);
    expect([count("/xmtp/0/m-"), count("/xmtp/0/dm-"), count("/xmtp/0/invite-"), count("/xmtp/0/intro-")]).toEqual([3, 2, 1, 2]);
    expect(count("/xmtp/0/privatestore-")).toBe(1);
    expect(count("/xmtp/0/userpreferences-")).toBeGreaterThanOrEqual(2); // allow bob (new conversation), deny spammer

    // Someone else's client cannot import it.
    const mallory = await ourClient(network2.url);
    await expect(importInbox(mallory, archive)).rejects.toMatchObject({ name: "ArchiveError", code: "archive_wrong_keys" });

    // Alice on network 2, with her keys and nothing published yet: the archive brings her key bundle and contact.
    const aliceThere = await Client.create(aliceWallet, {
      apiUrl: network2.url,
      privateKeyOverride: alice.exportKeyBundle(),
      skipContactPublishing: true,
    });
    const importProgress: { envelopesDone: number; envelopesTotal: number }[] = [];
    const report = await importInbox(aliceThere, archive, { onProgress: (p) => importProgress.push(p) });
    expect(report).toMatchObject({ envelopes: header.envelopeCount, published: header.envelopeCount, alreadyPresent: 0, refused: [] });
    expect(importProgress.at(-1)).toMatchObject({ envelopesDone: header.envelopeCount, envelopesTotal: header.envelopeCount });

    // The public SDK logs in as Alice on network 2 (her stored keys, one signature) and reads the same inbox.
    const sdkAlice = await sdkClient(network2.url, aliceWallet);
    expect(sdkAlice.address).toBe(alice.address);
    const listed = await sdkAlice.conversations.list();
    const byTopic = new Map(listed.map((c: { topic: string }) => [c.topic, c]));
    expect([...byTopic.keys()].sort()).toEqual([v1.topic, v2.topic].sort());
    const sdkV2: any = byTopic.get(v2.topic);
    const sdkV1: any = byTopic.get(v1.topic);
    expect([sdkV2.conversationVersion, sdkV2.peerAddress]).toEqual(["v2", bob.address]);
    expect([sdkV1.conversationVersion, sdkV1.peerAddress]).toEqual(["v1", carol.address]);
    expect(await linesOf(sdkV2)).toEqual(expectedV2);
    expect(await linesOf(sdkV1)).toEqual(expectedV1);
    await sdkAlice.contacts.refreshConsentList();
    expect(sdkAlice.contacts.isDenied(spammer)).toBe(true);
    expect(sdkAlice.contacts.consentState(bob.address)).toBe("allowed");

    // Envelopes keep their original timestamps on network 2.
    const again = await Client.create(aliceWallet, { apiUrl: network2.url });
    const v2There = (await again.conversations.list()).find((c) => c.topic === v2.topic)!;
    expect((await v2There.messages()).map((m) => m.sent.getTime())).toEqual((await v2.messages()).map((m) => m.sent.getTime()));

    // A second import finds everything there already.
    const second = await importInbox(aliceThere, archive);
    expect(second).toMatchObject({ published: 0, alreadyPresent: header.envelopeCount, refused: [] });

    // A node that refuses Alice's publishes (an allowlist she is not on): each envelope is reported refused, with
    // the node's reason, and nothing counts as published.
    const closed = await startNode({ args: ["--access-mode", "allowlist"] });
    try {
      const aliceRefused = await Client.create(aliceWallet, {
        apiUrl: closed.url,
        privateKeyOverride: alice.exportKeyBundle(),
        skipContactPublishing: true,
      });
      const refusedReport = await importInbox(aliceRefused, archive);
      expect(refusedReport).toMatchObject({ published: 0, alreadyPresent: 0 });
      expect(refusedReport.refused).toHaveLength(header.envelopeCount);
      expect(refusedReport.refused[0]).toMatchObject({ grpcCode: 7 });
    } finally {
      await closed.dispose();
    }

    // Offline: the archive alone (and the wallet's signature) lists and decodes the same conversations.
    const offline = await readArchiveWithWallet(archive, aliceWallet);
    const reader = await offline.openClient();
    const offlineList = await reader.conversations.list();
    expect(offlineList.map((c) => c.topic).sort()).toEqual([v1.topic, v2.topic].sort());
    expect(await linesOf(offlineList.find((c) => c.topic === v2.topic)!)).toEqual(expectedV2);
    expect(await linesOf(offlineList.find((c) => c.topic === v1.topic)!)).toEqual(expectedV1);
    await reader.contacts.refreshConsentList();
    expect(reader.contacts.isDenied(spammer)).toBe(true);
    await expect(offlineList[0].send("no network")).rejects.toBeInstanceOf(ArchiveError);
  });
});
