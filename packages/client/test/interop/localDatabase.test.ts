// `dbPath`: the inbox kept in an encrypted local database between runs, against a real node with public-SDK peers.
// A warm start reads conversations, consent and messages from the file and asks the node only for what is newer.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import { HttpMessageApi, type QueryParams } from "../../src/api/index.js";
import { Client, LocalDatabaseCorruptError, LocalDatabaseKeyError } from "../../src/index.js";
import { node, sdkClient, Wallet } from "../support/peers.js";

let xmtpNode: RunningNode;
let dir: string;
beforeAll(async () => {
  xmtpNode = await node();
  dir = mkdtempSync(join(tmpdir(), "xmtp-client-db-"));
});
afterAll(async () => {
  await xmtpNode?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
const newDbPath = () => join(dir, `inbox-${files++}.db`);

/** An HTTP api that records every query it sends, to see what a warm start asks the node for. */
function recordingApi(url: string) {
  const api = new HttpMessageApi({ apiUrl: url });
  const queries: QueryParams[] = [];
  const query = api.query.bind(api);
  api.query = (params) => {
    queries.push(params);
    return query(params);
  };
  return { api, queries };
}

describe("a client with dbPath", () => {
  it("starts warm: stored conversations, consent and messages, and only newer envelopes asked of the node", async () => {
    const wallet = Wallet.createRandom();
    const dbPath = newDbPath();
    const first = await Client.create(wallet, { apiUrl: xmtpNode.url, dbPath });
    const peers = await Promise.all([sdkClient(xmtpNode.url), sdkClient(xmtpNode.url)]);
    const chats = [];
    for (const peer of peers) chats.push(await peer.conversations.newConversation(wallet.address));
    await chats[0].send("one");
    await chats[0].send("two");

    const listed = await first.conversations.list();
    expect(listed.map((c) => c.peerAddress).sort()).toEqual(peers.map((p) => p.address).sort());
    const busy = listed.find((c) => c.peerAddress === peers[0].address)!;
    expect((await busy.messages()).map((m) => m.content)).toEqual(["one", "two"]);
    await first.consent.ensureLoaded();
    await first.contacts.deny([peers[1].address]);
    await first.close();
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
    // Nothing readable in the file: no topic, peer address or message text.
    const raw = readFileSync(dbPath).toString("latin1");
    for (const secret of [busy.topic, peers[0].address, peers[0].address.toLowerCase().slice(2), "two"]) expect(raw).not.toContain(secret);

    await chats[0].send("three");
    const third = await sdkClient(xmtpNode.url);
    await third.conversations.newConversation(wallet.address);

    const { api, queries } = recordingApi(xmtpNode.url);
    const warm = await Client.create(wallet, { apiUrl: xmtpNode.url, api, dbPath, skipContactPublishing: true });
    // Before any network sync: what the file holds.
    expect((await warm.conversations.listStored()).map((c) => c.peerAddress).sort()).toEqual(peers.map((p) => p.address).sort());
    const relisted = await warm.conversations.list();
    expect(relisted).toHaveLength(3);
    const inviteQueries = queries.filter((q) => q.contentTopic.includes("/invite-"));
    expect(inviteQueries.length).toBeGreaterThan(0);
    for (const q of inviteQueries) expect(q.startTimeNs).toBeDefined();
    const again = relisted.find((c) => c.topic === busy.topic)!;
    expect((await again.messages()).map((m) => m.content)).toEqual(["one", "two", "three"]);
    expect((await again.messages({ direction: "descending", limit: 2 })).map((m) => m.content)).toEqual(["three", "two"]);
    for (const q of queries.filter((q) => q.contentTopic === busy.topic)) expect(q.startTimeNs).toBeDefined();
    await warm.consent.ensureLoaded();
    expect(warm.consent.state(peers[1].address)).toBe("denied");
    for (const q of queries.filter((q) => q.contentTopic.includes("/userpreferences-"))) expect(q.startTimeNs).toBeDefined();
    await warm.close();
  });

  it("stores what it cannot read, also dated past any 64-bit order, and reads the rest", async () => {
    const wallet = Wallet.createRandom();
    const client = await Client.create(wallet, { apiUrl: xmtpNode.url, dbPath: newDbPath() });
    const peer = await sdkClient(xmtpNode.url);
    const chat = await peer.conversations.newConversation(wallet.address);
    await chat.send("readable");
    const [conversation] = await client.conversations.list();
    // Garbage from the far future: a bad sender or node can write it; it must not make the conversation unreadable.
    await client.api.publish([{ contentTopic: conversation.topic, timestampNs: (1n << 64n) - 1n, message: Uint8Array.of(1, 2, 3) }]);
    const read = await conversation.messages();
    expect(read.map((m) => m.content ?? m.error?.name)).toEqual(["readable", expect.any(String)]);
    expect((await conversation.messages()).length).toBe(2);
    await client.close();
  });

  it("with dbEncryptionKey keeps the keys too: a later start needs no signer", async () => {
    const wallet = Wallet.createRandom();
    const dbPath = newDbPath();
    const dbEncryptionKey = crypto.getRandomValues(new Uint8Array(32));
    const first = await Client.create(wallet, { apiUrl: xmtpNode.url, dbPath, dbEncryptionKey });
    const peer = await sdkClient(xmtpNode.url);
    await peer.conversations.newConversation(wallet.address);
    expect(await first.conversations.list()).toHaveLength(1);
    await first.close();
    const again = await Client.create(null, { apiUrl: xmtpNode.url, dbPath, dbEncryptionKey, skipContactPublishing: true });
    expect(again.address).toBe(wallet.address);
    expect((await again.conversations.listStored()).map((c) => c.peerAddress)).toEqual([peer.address]);
    await again.close();
    await expect(Client.create(null, { apiUrl: xmtpNode.url, dbPath, dbEncryptionKey: new Uint8Array(32).fill(1) })).rejects.toBeInstanceOf(
      LocalDatabaseKeyError,
    );
    await expect(Client.create(null, { apiUrl: xmtpNode.url, dbPath, dbEncryptionKey: new Uint8Array(8) })).rejects.toThrow(
      /dbEncryptionKey must be a Uint8Array of at least 32 random bytes, got 8 bytes/,
    );
  });

  it("refuses another identity's database, another network's, and a damaged file, with errors that say so", async () => {
    const dbPath = newDbPath();
    const owner = await Client.create(Wallet.createRandom(), { apiUrl: xmtpNode.url, dbPath });
    await owner.conversations.list();
    await owner.close();
    await expect(Client.create(Wallet.createRandom(), { apiUrl: xmtpNode.url, dbPath })).rejects.toBeInstanceOf(LocalDatabaseKeyError);

    const otherNetwork = await node();
    try {
      await expect(Client.create(null, { apiUrl: otherNetwork.url, dbPath, privateKeyOverride: owner.exportKeyBundle() })).rejects.toThrow(
        /holds an inbox on http:\/\/127\.0\.0\.1:\d+, not on http:\/\/127\.0\.0\.1:\d+: use one dbPath per network/,
      );
    } finally {
      await otherNetwork.dispose();
    }

    const reopen = () => Client.create(null, { apiUrl: xmtpNode.url, dbPath, privateKeyOverride: owner.exportKeyBundle() });
    const reopened = await reopen();
    await reopened.close();
    truncateSync(dbPath, Math.floor(statSync(dbPath).size / 2));
    const truncated = await reopen().then(
      async (client) => {
        // Damage may only show when the damaged pages are read.
        try {
          await client.conversations.list();
          return undefined;
        } finally {
          await client.close().catch(() => undefined);
        }
      },
      (error: unknown) => error,
    );
    expect(truncated).toBeInstanceOf(LocalDatabaseCorruptError);
    writeFileSync(dbPath, "this is not a database, it only has the name of one");
    await expect(reopen()).rejects.toBeInstanceOf(LocalDatabaseCorruptError);
  });

  it("lets two clients share one dbPath at once: both read and write, and both see everything", async () => {
    const wallet = Wallet.createRandom();
    const dbPath = newDbPath();
    const a = await Client.create(wallet, { apiUrl: xmtpNode.url, dbPath });
    const peers = await Promise.all([sdkClient(xmtpNode.url), sdkClient(xmtpNode.url), sdkClient(xmtpNode.url)]);
    const b = await Client.create(wallet, { apiUrl: xmtpNode.url, dbPath, skipContactPublishing: true });
    await peers[0].conversations.newConversation(wallet.address);
    const [fromA, fromB] = await Promise.all([a.conversations.list(), b.conversations.list()]);
    expect(fromA).toHaveLength(1);
    expect(fromB).toHaveLength(1);
    // Both write at the same time: a conversation each, and a third from the network.
    await Promise.all([
      a.conversations.newConversation(peers[1].address),
      b.conversations.newConversation(peers[2].address),
      (async () => {
        const chat = await peers[0].conversations.newConversation(wallet.address, { conversationId: "x", metadata: {} });
        await chat.send("hello");
      })(),
    ]);
    await Promise.all([a.conversations.list(), b.conversations.list()]);
    await Promise.all([a.close(), b.close()]);
    const later = await Client.create(wallet, { apiUrl: xmtpNode.url, dbPath, skipContactPublishing: true });
    const stored = await later.conversations.listStored();
    expect(stored.map((c) => c.peerAddress).sort()).toEqual([peers[0].address, peers[0].address, peers[1].address, peers[2].address].sort());
    await later.close();
  });
});
