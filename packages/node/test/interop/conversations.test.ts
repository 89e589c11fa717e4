// Interop: v1 and v2 conversations, contexts, compression, paging and time filters between public-SDK clients
// (@xmtp/xmtp-js 13.0.4) through a real xmtp-node process.
import { inflateSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromBinary, ContactBundleSchema, EncodedContentSchema, Compression } from "@xmtp-ts/proto";
import { concatBytes, fromBase64 } from "@xmtp-ts/crypto";
import type { RunningNode } from "../../../../test/support/runningNode.js";
import {
  createClient,
  newWallet,
  rawQuery,
  sdk,
  startInteropNode,
  texts,
  topics,
  type SdkClient,
  type SdkConversation,
  type SdkMessage,
} from "./sdk.js";

let node: RunningNode;

beforeAll(async () => {
  node = await startInteropNode();
});

afterAll(async () => {
  await node?.dispose();
});

async function pair(options: { legacyPeer?: boolean } = {}): Promise<[SdkClient, SdkClient]> {
  return Promise.all([
    createClient(node, newWallet()),
    createClient(node, newWallet(), { publishLegacyContact: options.legacyPeer }),
  ]);
}

/** The receiver's copy of a conversation, found by listing its conversations from the network. */
async function findConversation(client: SdkClient, topic: string): Promise<SdkConversation> {
  const conversations = await client.conversations.list();
  const found = conversations.find((c) => c.topic === topic);
  if (!found) {
    throw new Error(`${client.address} does not list ${topic}; it lists ${JSON.stringify(conversations.map((c) => c.topic))}`);
  }
  return found;
}

describe("v2 conversation", () => {
  it("carries messages both ways and both sides list it", async () => {
    const [alice, bob] = await pair();
    const aliceSide = await alice.conversations.newConversation(bob.address);
    expect(aliceSide.conversationVersion).toBe("v2");
    expect(aliceSide.topic).toMatch(/^\/xmtp\/0\/m-[0-9a-f]{64}\/proto$/);
    const sent = await aliceSide.send("hello bob");

    const bobSide = await findConversation(bob, aliceSide.topic);
    expect(bobSide.conversationVersion).toBe("v2");
    expect(bobSide.peerAddress).toBe(alice.address);
    const received = await bobSide.messages();
    expect(texts(received)).toEqual(["hello bob"]);
    expect(received[0].senderAddress).toBe(alice.address);
    expect(received[0].id).toBe(sent.id);
    expect(received[0].sent.getTime()).toBe(sent.sent.getTime());

    await bobSide.send("hello alice");
    const aliceView = await aliceSide.messages();
    expect(texts(aliceView)).toEqual(["hello bob", "hello alice"]);
    expect(aliceView.map((m) => m.senderAddress)).toEqual([alice.address, bob.address]);
    expect((await alice.conversations.list()).map((c) => c.topic)).toEqual([aliceSide.topic]);

    // Both invitations (one per participant) were stored with the same bytes and timestamp.
    const [bobInvites, aliceInvites] = await Promise.all([
      rawQuery(node, topics.invite(bob.address)),
      rawQuery(node, topics.invite(alice.address)),
    ]);
    expect(bobInvites).toHaveLength(1);
    expect(aliceInvites).toHaveLength(1);
    expect(bobInvites[0].message).toBe(aliceInvites[0].message);
    expect(bobInvites[0].timestampNs).toBe(aliceInvites[0].timestampNs);
  });

  it("is found by the peer when the peer starts the same conversation", async () => {
    const [alice, bob] = await pair();
    const aliceSide = await alice.conversations.newConversation(bob.address);
    await aliceSide.send("first");
    const bobSide = await bob.conversations.newConversation(alice.address);
    expect(bobSide.topic).toBe(aliceSide.topic);
    expect(texts(await bobSide.messages())).toEqual(["first"]);
  });

  it("keeps a conversationId and metadata, separate from the pair's plain conversation", async () => {
    const [alice, bob] = await pair();
    const context = { conversationId: "xmtp.org/interop/thread-1", metadata: { title: "Interop", topic: "paging" } };
    const plain = await alice.conversations.newConversation(bob.address);
    const threaded = await alice.conversations.newConversation(bob.address, context);
    expect(threaded.topic).not.toBe(plain.topic);
    expect(threaded.context).toEqual(context);
    await plain.send("plain message");
    await threaded.send("threaded message");

    const bobThreaded = await findConversation(bob, threaded.topic);
    expect(bobThreaded.context?.conversationId).toBe(context.conversationId);
    expect(bobThreaded.context?.metadata).toEqual(context.metadata);
    expect(texts(await bobThreaded.messages())).toEqual(["threaded message"]);
    const bobPlain = await findConversation(bob, plain.topic);
    expect(bobPlain.context).toBeUndefined();
    expect(texts(await bobPlain.messages())).toEqual(["plain message"]);
  });
});

describe("compressed content", () => {
  // Compressible and well under SDK 13's 1,000-byte decompression limit (docs/protocol/content.md §4).
  const text = "interop compression check. ".repeat(30);

  function encodedContentOf(message: SdkMessage) {
    return fromBinary(EncodedContentSchema, message.contentBytes);
  }

  it("delivers deflate-compressed text, compressed on the wire", async () => {
    const [alice, bob] = await pair();
    const conversation = await alice.conversations.newConversation(bob.address);
    await conversation.send(text, { compression: sdk.Compression.COMPRESSION_DEFLATE });

    const [received] = await (await findConversation(bob, conversation.topic)).messages();
    expect(received.content).toBe(text);
    const encoded = encodedContentOf(received);
    expect(encoded.compression).toBe(Compression.DEFLATE);
    expect(encoded.content.length).toBeLessThan(text.length);
    expect(inflateSync(encoded.content).toString("utf8")).toBe(text);
  });

  it("delivers gzip-compressed text, compressed on the wire", async () => {
    const [alice, bob] = await pair();
    const conversation = await alice.conversations.newConversation(bob.address);
    await conversation.send(text, { compression: sdk.Compression.COMPRESSION_GZIP });

    const [received] = await (await findConversation(bob, conversation.topic)).messages();
    expect(received.content).toBe(text);
    const encoded = encodedContentOf(received);
    expect(encoded.compression).toBe(Compression.GZIP);
    expect(gunzipSync(encoded.content).toString("utf8")).toBe(text);
  });
});

describe("v1 conversation with a legacy-only contact", () => {
  it("carries messages both ways through intros and the dm topic", async () => {
    const [alice, legacy] = await pair({ legacyPeer: true });
    const aliceSide = await alice.conversations.newConversation(legacy.address);
    expect(aliceSide.conversationVersion).toBe("v1");
    await aliceSide.send("hello legacy");

    // The first v1 send publishes the same envelope to both intro topics and the dm topic.
    const [legacyIntros, aliceIntros, dm] = await Promise.all([
      rawQuery(node, topics.intro(legacy.address)),
      rawQuery(node, topics.intro(alice.address)),
      rawQuery(node, aliceSide.topic),
    ]);
    expect(legacyIntros).toHaveLength(1);
    expect(aliceIntros).toHaveLength(1);
    expect(dm).toHaveLength(1);
    expect(legacyIntros[0].message).toBe(dm[0].message);
    // v1 timestamps are milliseconds × 10^6, kept exactly as sent.
    expect(dm[0].timestampNs).toMatch(/000000$/);

    const legacySide = await findConversation(legacy, aliceSide.topic);
    expect(legacySide.conversationVersion).toBe("v1");
    expect(legacySide.peerAddress).toBe(alice.address);
    expect(texts(await legacySide.messages())).toEqual(["hello legacy"]);

    await legacySide.send("hello from legacy");
    const aliceView = await aliceSide.messages();
    expect(texts(aliceView)).toEqual(["hello legacy", "hello from legacy"]);
    expect(aliceView.map((m) => m.senderAddress)).toEqual([alice.address, legacy.address]);
  });

  it("lets the legacy-contact user start a conversation with a v2 user, which is v2", async () => {
    const [alice, legacy] = await pair({ legacyPeer: true });
    const legacySide = await legacy.conversations.newConversation(alice.address);
    // Alice has a v2 contact, so even a legacy-keyed client starts a v2 conversation with her.
    expect(legacySide.conversationVersion).toBe("v2");
    await legacySide.send("legacy starts");
    const aliceSide = await findConversation(alice, legacySide.topic);
    expect(texts(await aliceSide.messages())).toEqual(["legacy starts"]);
  });
});

describe("contact ordering (docs/protocol/api.md §6)", () => {
  // An unknown protobuf field (number 15, varint) changes the bytes, so the node's dedupe keeps both copies,
  // while every decoder ignores it.
  const withUnknownField = (bytes: Uint8Array, value: number) => concatBytes(bytes, Uint8Array.of(0x78, value));

  it("returns the later-arrived bundle first when timestamps tie, so SDK peers start v2", async () => {
    const [owner] = await pair();
    const published = await rawQuery(node, topics.contact(owner.address));
    const byVersion = new Map(
      published.map((e) => [fromBinary(ContactBundleSchema, fromBase64(e.message)).version.case, fromBase64(e.message)]),
    );
    const v1 = byVersion.get("v1")!;
    const v2 = byVersion.get("v2")!;
    const contactTopic = topics.contact(owner.address);

    // Same timestamp, v1 first then v2 in a separate request, as Client.create does within one millisecond.
    const tie = new Date(Date.now() + 60_000);
    await owner.publishEnvelopes([{ contentTopic: contactTopic, message: withUnknownField(v1, 1), timestamp: tie }]);
    await owner.publishEnvelopes([{ contentTopic: contactTopic, message: withUnknownField(v2, 1), timestamp: tie }]);
    const newest = (await rawQuery(node, contactTopic, 1))[0];
    expect(fromBinary(ContactBundleSchema, fromBase64(newest.message)).version.case).toBe("v2");

    const peer = await createClient(node, newWallet());
    const conversation = await peer.conversations.newConversation(owner.address);
    expect(conversation.conversationVersion).toBe("v2");

    // The reverse arrival order at a later tied timestamp must flip the answer: ties follow arrival, not bytes.
    const laterTie = new Date(tie.getTime() + 1_000);
    await owner.publishEnvelopes([{ contentTopic: contactTopic, message: withUnknownField(v2, 2), timestamp: laterTie }]);
    await owner.publishEnvelopes([{ contentTopic: contactTopic, message: withUnknownField(v1, 2), timestamp: laterTie }]);
    const newestAfterFlip = (await rawQuery(node, contactTopic, 1))[0];
    expect(fromBinary(ContactBundleSchema, fromBase64(newestAfterFlip.message)).version.case).toBe("v1");
  });
});

describe("paging and time filters", () => {
  const count = 5;
  let conversation: SdkConversation;
  let receiverSide: SdkConversation;
  let sentAt: Date[];

  beforeAll(async () => {
    const [alice, bob] = await pair();
    conversation = await alice.conversations.newConversation(bob.address);
    // Explicit, distinct sender timestamps one second apart make the expected pages exact.
    const base = Date.now() - 60_000;
    sentAt = Array.from({ length: count }, (_, i) => new Date(base + i * 1_000));
    // Sent out of order on purpose: the node must order by sender timestamp, not by arrival.
    for (const i of [2, 0, 4, 1, 3]) await conversation.send(`p${i + 1}`, { timestamp: sentAt[i] });
    receiverSide = await findConversation(bob, conversation.topic);
  });

  async function pages(target: SdkConversation, options: Parameters<SdkConversation["messagesPaginated"]>[0]) {
    const result: unknown[][] = [];
    for await (const page of target.messagesPaginated(options)) result.push(texts(page));
    return result;
  }

  it("lists all messages by sender timestamp", async () => {
    expect(texts(await receiverSide.messages())).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    const descending = await receiverSide.messages({ direction: sdk.SortDirection.SORT_DIRECTION_DESCENDING });
    expect(texts(descending)).toEqual(["p5", "p4", "p3", "p2", "p1"]);
  });

  it("pages ascending with a cursor", async () => {
    const ascending = { pageSize: 2, direction: sdk.SortDirection.SORT_DIRECTION_ASCENDING };
    expect(await pages(receiverSide, ascending)).toEqual([["p1", "p2"], ["p3", "p4"], ["p5"]]);
    expect(await pages(conversation, ascending)).toEqual([["p1", "p2"], ["p3", "p4"], ["p5"]]);
  });

  it("pages descending with a cursor", async () => {
    const descending = { pageSize: 2, direction: sdk.SortDirection.SORT_DIRECTION_DESCENDING };
    expect(await pages(receiverSide, descending)).toEqual([["p5", "p4"], ["p3", "p2"], ["p1"]]);
  });

  it("pages newest first when the SDK leaves the direction out, as the reference node does", async () => {
    expect(await pages(receiverSide, { pageSize: 3 })).toEqual([["p5", "p4", "p3"], ["p2", "p1"]]);
  });

  it("ends paging on an exactly full last page", async () => {
    const ascending = { pageSize: 5, direction: sdk.SortDirection.SORT_DIRECTION_ASCENDING };
    expect(await pages(receiverSide, ascending)).toEqual([["p1", "p2", "p3", "p4", "p5"]]);
  });

  it("includes both time bounds", async () => {
    const between = await receiverSide.messages({ startTime: sentAt[1], endTime: sentAt[3] });
    expect(texts(between)).toEqual(["p2", "p3", "p4"]);
    expect(texts(await receiverSide.messages({ startTime: sentAt[3] }))).toEqual(["p4", "p5"]);
    expect(texts(await receiverSide.messages({ endTime: sentAt[1] }))).toEqual(["p1", "p2"]);
    expect(texts(await receiverSide.messages({ startTime: sentAt[2], endTime: sentAt[2] }))).toEqual(["p3"]);
  });

  it("filters by time and pages at once", async () => {
    const options = {
      startTime: sentAt[1],
      endTime: sentAt[4],
      pageSize: 2,
      direction: sdk.SortDirection.SORT_DIRECTION_DESCENDING,
    };
    expect(await pages(receiverSide, options)).toEqual([["p5", "p4"], ["p3", "p2"]]);
  });

  it("stops at a client-side limit", async () => {
    expect(texts(await receiverSide.messages({ limit: 2 }))).toEqual(["p1", "p2"]);
  });
});
