// Broadcast against a real node: a thousand-plus recipients interrupted halfway and resumed (each gets exactly one
// copy), a send left in doubt by a killed run (found on the network, not sent again), and a node that answers 429.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256, toHex } from "@xmtp-ts/crypto";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { ApiError } from "../../src/api/errors.js";
import {
  BroadcastInterruptedError,
  BroadcastResumeMismatchError,
  Client,
  FileStateStore,
  HttpMessageApi,
  type BroadcastProgress,
  type Envelope,
  type MessageApi,
} from "../../src/index.js";
import type { QueryParams } from "../../src/api/types.js";
import { deliveriesBySender, publishedIdentities, recipientClient, strangers } from "./support.js";

/** At least 1,000 (the "a few thousand" is too slow for a shared 2-core machine in every run); more with the variable. */
const RECIPIENTS = Math.max(1000, Number(process.env.XMTP_TEST_BROADCAST_RECIPIENTS ?? 1000));
const dir = mkdtempSync(join(tmpdir(), "xmtp-broadcast-"));
let node: RunningNode;

beforeAll(async () => {
  // Limits high enough for a thousand first messages from one wallet in a test (the 429 test has its own node).
  node = await startNode({ args: ["--publish-rate", "100000", "--publish-burst", "100000"] });
});
afterAll(async () => {
  await node?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("client.broadcast", () => {
  it("interrupted halfway and resumed by a new client: every recipient gets exactly one copy; strangers are reported", { timeout: 900_000 }, async () => {
    const recipients = await publishedIdentities(node.url, RECIPIENTS);
    const absent = strangers(25);
    const wallet = Wallet.createRandom();
    const first = await Client.create(wallet, { apiUrl: node.url });
    // Two recipients already talk with the sender: their conversations are reused, not doubled.
    const friends = recipients.slice(0, 2).map((r) => r.walletAddress);
    for (const friend of friends) await (await first.conversations.newConversation(friend)).send("hello before");

    const addresses = [...recipients.map((r) => r.walletAddress), ...absent, friends[0].toLowerCase()];
    const resumeFile = join(dir, "big.json");
    const text = "gm to the whole community";
    const stop = new AbortController();
    let lastSeen: BroadcastProgress | undefined;
    const interrupted = await first
      .broadcast(addresses, text, {
        resumeFile,
        signal: stop.signal,
        onProgress: (p) => {
          lastSeen = p;
          if (p.sent >= RECIPIENTS / 2) stop.abort();
        },
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(interrupted).toBeInstanceOf(BroadcastInterruptedError);
    const partial = (interrupted as BroadcastInterruptedError).report;
    expect(partial.total).toBe(RECIPIENTS + absent.length);
    expect(partial.sent.length).toBeGreaterThanOrEqual(RECIPIENTS / 2);
    expect(partial.sent.length).toBeLessThan(RECIPIENTS);
    expect(partial.notOnNetwork.sort()).toEqual(absent.sort());
    expect(lastSeen?.inFlight).toBe(0);
    const onDisk = await new FileStateStore(resumeFile).load();
    const sentOnDisk = [...onDisk!.recipients.values()].filter((r) => r.status === "sent").length;
    expect(sentOnDisk).toBe(partial.sent.length);

    // A new process would start from the file alone: a new client, the same wallet, the same resume file.
    const second = await Client.create(wallet, { apiUrl: node.url });
    const report = await second.broadcast(addresses, text, { resumeFile });
    expect(report.broadcastId).toBe(partial.broadcastId);
    expect(report.sent.length).toBe(RECIPIENTS);
    expect(report.alreadySent).toBe(partial.sent.length);
    expect(report.sentThisRun).toBe(RECIPIENTS - partial.sent.length);
    expect(report.failed).toEqual([]);
    expect(report.notOnNetwork.sort()).toEqual(absent.sort());

    // Exactly one copy each, counted on the network from a third client: one conversation per recipient, holding
    // one envelope (the friends: "hello before" and the broadcast).
    const third = await Client.create(wallet, { apiUrl: node.url });
    const deliveries = await deliveriesBySender(third);
    expect(deliveries.size).toBe(RECIPIENTS);
    const wrong = recipients.filter((r) => {
      const d = deliveries.get(r.walletAddress.toLowerCase());
      const expected = friends.includes(r.walletAddress) ? 2 : 1;
      return d?.conversations !== 1 || d.envelopes !== expected;
    });
    expect(wrong.map((r) => [r.walletAddress, deliveries.get(r.walletAddress.toLowerCase())])).toEqual([]);

    // And as recipients see it (a sample): exactly one copy of the text, from the sender.
    for (const keys of [recipients[0], recipients[Math.floor(RECIPIENTS / 2)], recipients[RECIPIENTS - 1]]) {
      const reader = await recipientClient(node.url, keys);
      const [conversation, ...others] = await reader.conversations.list();
      expect(others).toEqual([]);
      const copies = (await conversation.messages()).filter((m) => m.content === text);
      expect(copies.map((m) => m.senderAddress)).toEqual([first.address]);
    }

    // Run again when complete: nothing is sent.
    const again = await third.broadcast(addresses, text, { resumeFile });
    expect(again.sentThisRun).toBe(0);
    expect(again.alreadySent).toBe(RECIPIENTS);
    // Other content with this state is refused before anything is sent.
    await expect(third.broadcast(addresses, "another text", { resumeFile })).rejects.toBeInstanceOf(BroadcastResumeMismatchError);
  });

  it("a send left in doubt by a killed run is found on the network and not sent again; an unsent one is sent once", async () => {
    const [a, b, c] = (await publishedIdentities(node.url, 3)).map((k) => k.walletAddress);
    const wallet = Wallet.createRandom();
    const sender = await Client.create(wallet, { apiUrl: node.url });
    const text = "in doubt";
    // What a run killed mid-flight leaves: A's send reached the node (sent with the recorded time, never
    // acknowledged to the dead process), B's never left, C was acknowledged and recorded as sent.
    const aSentAt = Date.now() - 60_000;
    const conversationA = await sender.conversations.newConversation(a);
    await conversationA.send(text, { timestamp: new Date(aSentAt) });
    const { payload } = await sender.encodeContent(text);
    const resumeFile = join(dir, "doubt.json");
    await new FileStateStore(resumeFile).save({
      broadcastId: "test-broadcast",
      sender: sender.address,
      contentSha256: toHex(sha256(payload)),
      createdAt: new Date().toISOString(),
      recipients: new Map([
        [a, { status: "pending", sentAtMs: aSentAt, attemptedAt: aSentAt }],
        [b, { status: "pending", sentAtMs: aSentAt + 5, attemptedAt: aSentAt }],
        [c, { status: "sent", at: aSentAt }],
      ]),
    });

    const resumed = await Client.create(wallet, { apiUrl: node.url });
    const report = await resumed.broadcast([a, b, c], text, { resumeFile });
    expect(report).toMatchObject({ broadcastId: "test-broadcast", recovered: 1, sentThisRun: 1, alreadySent: 1, failed: [] });
    expect(report.sent).toEqual([a, b, c]);
    const deliveries = await deliveriesBySender(await Client.create(wallet, { apiUrl: node.url }));
    expect(deliveries.get(a.toLowerCase())).toEqual({ conversations: 1, envelopes: 1 });
    expect(deliveries.get(b.toLowerCase())).toEqual({ conversations: 1, envelopes: 1 });
    // C is trusted to have it (recorded as acknowledged), so nothing is sent to it.
    expect(deliveries.get(c.toLowerCase())).toBeUndefined();
  });
});

/**
 * A connection that fails after the request: every other message publish is lost on the wire either after the node
 * committed it (the answer never arrives) or before it got there, as a network error with no HTTP answer.
 */
class LossyApi implements MessageApi {
  private count = 0;
  lostAfterCommit = 0;
  lostBefore = 0;
  constructor(private readonly inner: HttpMessageApi) {}
  setAuthTokenProvider(provider: Parameters<HttpMessageApi["setAuthTokenProvider"]>[0]): void {
    this.inner.setAuthTokenProvider(provider);
  }
  async publish(envelopes: Envelope[]): Promise<void> {
    const message = envelopes.length === 1 && envelopes[0].contentTopic.startsWith("/xmtp/0/m-");
    const turn = message ? this.count++ : -1;
    const lost = () => new ApiError({ call: "publish", code: 14, serverMessage: "connection reset", transient: true });
    if (turn % 4 === 1) {
      this.lostBefore++;
      throw lost();
    }
    await this.inner.publish(envelopes);
    if (turn % 4 === 3) {
      this.lostAfterCommit++;
      throw lost();
    }
  }
  query(params: QueryParams) {
    return this.inner.query(params);
  }
  queryAll(params: QueryParams & { limit?: number }) {
    return this.inner.queryAll(params);
  }
  batchQuery(queries: QueryParams[]) {
    return this.inner.batchQuery(queries);
  }
  subscribe(topics: string[]) {
    return this.inner.subscribe(topics);
  }
}

describe("client.broadcast on a connection that loses answers", () => {
  it("checks the network after a send with no answer: one copy whether the node got it or not; refusals are reported", async () => {
    const recipients = (await publishedIdentities(node.url, 16)).map((k) => k.walletAddress);
    const api = new LossyApi(new HttpMessageApi({ apiUrl: node.url, retry: { attempts: 1 } }));
    const wallet = Wallet.createRandom();
    const sender = await Client.create(wallet, { apiUrl: node.url, api });
    const report = await sender.broadcast([...recipients, sender.address], "through a bad connection", { inFlightSettleMs: 50, initialBackoffMs: 10 });
    expect(api.lostAfterCommit).toBeGreaterThan(0);
    expect(api.lostBefore).toBeGreaterThan(0);
    expect(report.sent.sort()).toEqual([...recipients].sort());
    expect(report.failed).toEqual([{ address: sender.address, reason: "cannot start a conversation with yourself", code: "conversation_unavailable" }]);
    const deliveries = await deliveriesBySender(await Client.create(wallet, { apiUrl: node.url }));
    for (const address of recipients) expect(deliveries.get(address.toLowerCase())).toEqual({ conversations: 1, envelopes: 1 });
  });
});

describe("client.broadcast against a node that rate-limits", () => {
  let limited: RunningNode;
  beforeAll(async () => {
    limited = await startNode({ args: ["--publish-rate", "4", "--publish-burst", "6", "--max-envelopes-per-publish", "6"] });
  });
  afterAll(async () => {
    await limited?.dispose();
  });

  it("backs off on 429 (Retry-After) and still sends each recipient exactly one copy", { timeout: 300_000 }, async () => {
    const recipients = (await publishedIdentities(limited.url, 12, 4)).map((k) => k.walletAddress);
    const wallet = Wallet.createRandom();
    // One attempt per HTTP call, so the node's 429s reach the broadcast instead of being retried underneath it.
    const api = () => new HttpMessageApi({ apiUrl: limited.url, retry: { attempts: 1 } });
    // A new wallet's bucket is full: Client.create's three envelopes fit in the burst.
    const sender = await Client.create(wallet, { apiUrl: limited.url, api: api() });
    const report = await sender.broadcast(recipients, "rate limited hello", { concurrency: 4 });
    expect(report.rateLimited).toBeGreaterThan(0);
    expect(report.failed).toEqual([]);
    expect(report.sent.sort()).toEqual([...recipients].sort());
    const deliveries = await deliveriesBySender(await Client.create(wallet, { apiUrl: limited.url }));
    for (const address of recipients) expect(deliveries.get(address.toLowerCase())).toEqual({ conversations: 1, envelopes: 1 });
  });
});
