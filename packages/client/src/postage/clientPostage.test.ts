// Postage through the whole client, on an in-memory node that charges the way docs/postage.md says: real keys, real
// invitations and intros, the library's own checkPostage deciding. What a new conversation with a stranger costs,
// what a reply costs, what a grant sent in a conversation does, and that ordinary messages are left alone.
import { beforeEach, describe, expect, it } from "vitest";
import { inviteTopic, introTopic } from "@xmtp-ts/crypto";
import { Client, type ClientOptions } from "../Client.js";
import { ContentTypePostageGrant } from "../content/index.js";
import { PostageRequiredError } from "./errors.js";
import type { PostageGrant } from "./PostageGrant.js";
import { MemoryPostageNode, stampCumulatives } from "./test-support/memoryPostageNode.js";
import { countingPayer, randomWallet } from "./test-support/wallets.js";

let node: MemoryPostageNode;
beforeEach(() => {
  node = new MemoryPostageNode({ priceWei: 1000n });
});

async function client(options: ClientOptions & { pays?: boolean } = {}) {
  const wallet = randomWallet();
  const payerWallet = randomWallet();
  const payer = countingPayer(payerWallet);
  if (options.pays) node.deposit(payerWallet.address, 100_000n);
  const { pays, ...clientOptions } = options;
  const created = await Client.create(wallet, {
    api: node.apiFor(wallet.address),
    parallelInvitations: false,
    ...clientOptions,
    postage: pays ? { payer } : undefined,
  });
  return Object.assign(created, { payer, payerAddress: payerWallet.address });
}

/** The publishes that wrote to `topic`, and the basis of the proof each carried for it. */
function basesOn(topic: string): (string | undefined)[] {
  return node.publishes.flatMap((p) => p.envelopes.flatMap((e, i) => (e.contentTopic === topic ? [p.proofs[i]?.basis.case ?? (p.proofs[i] ? "seal" : "none")] : [])));
}

describe("a new conversation with a stranger", () => {
  it("without a payer is refused with PostageRequiredError carrying the node's quote; no invitation is left anywhere", async () => {
    const [alice, bob] = await Promise.all([client(), client()]);
    const err = await alice.conversations.newConversation(bob.address).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostageRequiredError);
    expect((err as PostageRequiredError).quote).toMatchObject({ priceWei: 1000n, operator: node.terms.operator });
    expect((err as PostageRequiredError).recipients).toEqual([bob.address]);
    expect(node.stored.filter((e) => e.contentTopic === inviteTopic(bob.address) || e.contentTopic === inviteTopic(alice.address))).toEqual([]);
    expect(alice.conversations.listFromCache()).toEqual([]);
    expect(await bob.conversations.list()).toEqual([]);
  });

  it("with a payer pays one stamp, sealed by the sender; the recipient's reply is free as a prior contact", async () => {
    const [alice, bob] = await Promise.all([client({ pays: true }), client()]);
    const conversation = await alice.conversations.newConversation(bob.address);
    expect(basesOn(inviteTopic(bob.address))).toEqual(["stamp"]);
    // Alice's own copy carries nothing.
    expect(basesOn(inviteTopic(alice.address))).toEqual(["none"]);
    expect(alice.payer.signatures).toBe(1);
    expect(node.entry(alice.payerAddress).acceptedCumulativeWei).toBe(1000n);
    // The node learned that Alice contacted Bob (her token and seal prove she wrote the invitation).
    expect(node.relationships.has(`${alice.address}|${bob.address}`)).toBe(true);

    const [received] = await bob.conversations.list();
    expect(received.topic).toBe(conversation.topic);
    expect(bob.priorContacts.has(alice.address)).toBe(true);
    // Bob, who cannot pay, writes a first message to Alice on another conversation: free.
    await bob.conversations.newConversation(alice.address, { conversationId: "reply" });
    expect(basesOn(inviteTopic(alice.address))).toEqual(["none", "priorContact"]);
    expect(node.publishes.filter((p) => p.outcome === "refused")).toEqual([]);
  });

  it("leaves conversation messages alone: no proof, no quote, no stamp", async () => {
    const [alice, bob] = await Promise.all([client({ pays: true }), client()]);
    const conversation = await alice.conversations.newConversation(bob.address);
    const quotes = node.quoteRequests.length;
    const before = node.publishes.length;
    for (let i = 0; i < 5; i++) await conversation.send(`message ${i}`);
    const sends = node.publishes.slice(before).filter((p) => p.envelopes.some((e) => e.contentTopic === conversation.topic));
    expect(sends).toHaveLength(5);
    expect(sends.every((p) => p.proofs.every((proof) => proof === undefined))).toBe(true);
    expect(node.quoteRequests.length).toBe(quotes);
    expect(alice.payer.signatures).toBe(1);
  });

  it("pays stamps one after another when an app opens many conversations at once", async () => {
    const alice = await client({ pays: true });
    const peers = await Promise.all([client(), client(), client(), client()]);
    await Promise.all(peers.map((peer) => alice.conversations.newConversation(peer.address)));
    expect(stampCumulatives(node, alice.address)).toEqual([1000n, 2000n, 3000n, 4000n]);
    expect(node.publishes.every((p) => p.outcome === "accepted")).toBe(true);
  });
});

describe("a grant sent inside a conversation", () => {
  it("is kept by its grantee when read, and makes the grantee's next first message free", async () => {
    const [dana, bob] = await Promise.all([client({ pays: true }), client()]);
    // Dana pays to reach Bob; Bob answers inside that conversation with a grant for Dana.
    await dana.conversations.newConversation(bob.address);
    const [withDana] = await bob.conversations.list();
    const grant = await bob.postage.grant(dana.address, { expiresInMs: 3_600_000 });
    await withDana.send(grant, { contentType: ContentTypePostageGrant });
    // Bob's own copy of his grant is not one he can use: nothing kept on his side.
    expect(bob.postage.grants()).toEqual([]);

    const [withBob] = await dana.conversations.list();
    const messages = await withBob.messages();
    const received = messages.find((m) => m.contentType?.sameAs(ContentTypePostageGrant));
    expect((received?.content as PostageGrant).grantor).toBe(bob.address);
    expect(dana.postage.grants().map((g) => g.grantor)).toEqual([bob.address]);

    await dana.conversations.newConversation(bob.address, { conversationId: "second" });
    expect(basesOn(inviteTopic(bob.address))).toEqual(["stamp", "grant"]);
    expect(dana.payer.signatures).toBe(1);
    expect(node.entry(dana.payerAddress).acceptedCumulativeWei).toBe(1000n);
  });

  it("a forged grant in a message is shown but not kept", async () => {
    const [dana, bob, mallory] = await Promise.all([client({ pays: true }), client(), client()]);
    await dana.conversations.newConversation(bob.address);
    const [withDana] = await bob.conversations.list();
    // Mallory's grant for Dana with one byte of its signature flipped: well-formed, so it is sent and shown, but
    // its signature no longer holds, so it is not kept.
    const mallorys = await mallory.postage.grant(dana.address, { expiresInMs: 60_000 });
    const forgedBytes = Uint8Array.from(mallorys.bytes);
    forgedBytes[forgedBytes.length - 10] ^= 0x01;
    await withDana.send(forgedBytes, { contentType: ContentTypePostageGrant });
    const [withBob] = await dana.conversations.list();
    const messages = await withBob.messages();
    expect(messages.some((m) => m.contentType?.sameAs(ContentTypePostageGrant))).toBe(true);
    expect(dana.postage.grants()).toEqual([]);
  });
});

describe("v1 intros", () => {
  it("the first message to a legacy peer pays on the peer's intro topic only; later ones go straight out", async () => {
    const [alice, bob] = await Promise.all([client({ pays: true }), client({ publishLegacyContact: true })]);
    const conversation = await alice.conversations.newConversation(bob.address);
    expect(conversation.conversationVersion).toBe("v1");
    await conversation.send("hello");
    await conversation.send("again");
    expect(basesOn(introTopic(bob.address))).toEqual(["stamp"]);
    expect(basesOn(introTopic(alice.address))).toEqual(["none"]);
    expect(basesOn(conversation.topic)).toEqual(["none", "none"]);
    expect(alice.payer.signatures).toBe(1);
  });
});
