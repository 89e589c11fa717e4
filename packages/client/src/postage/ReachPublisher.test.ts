// Which envelopes get a postage proof, which basis it claims, and what happens when the node says 402.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inviteTopic, introTopic, contactTopic, randomBytes } from "@xmtp-ts/crypto";
import { decodeCumulative, decodePostageProof, envelopeDigest, makeRelationshipGrant, identityKeyMaterialOf, verifySenderSeal, postageProofFromBase64 } from "@xmtp-ts/postage";
import { ApiError, HttpMessageApi, type Envelope, type MessageApi } from "../api/index.js";
import { sendJson, startFakeNode, type FakeNode } from "../api/test-support/fakeNode.js";
import { PostageRequiredError } from "./errors.js";
import { GrantStore } from "./GrantStore.js";
import { postageGrantOf } from "./PostageGrant.js";
import { PriorContacts } from "./PriorContacts.js";
import { othersReachTopicOwner, ReachPublisher } from "./ReachPublisher.js";
import { postageRefusalOf } from "./refusal.js";
import { SerialQueues } from "./SerialQueues.js";
import { Stamper } from "./Stamper.js";
import { makeIdentity, type TestIdentity } from "./test-support/identities.js";
import { MemoryPostageNode } from "./test-support/memoryPostageNode.js";
import { countingPayer, randomWallet } from "./test-support/wallets.js";

let me: TestIdentity;
let peer: TestIdentity;
beforeEach(async () => {
  [me, peer] = await Promise.all([makeIdentity(), makeIdentity()]);
});

function envelope(contentTopic: string): Envelope {
  return { contentTopic, timestampNs: BigInt(Date.now()) * 1_000_000n, message: randomBytes(64) };
}

/** The invitation pair a new conversation publishes: the peer's copy, then ours. */
function invitationPair(): Envelope[] {
  const message = randomBytes(64);
  return [
    { contentTopic: inviteTopic(peer.address), timestampNs: 1n, message },
    { contentTopic: inviteTopic(me.address), timestampNs: 1n, message },
  ];
}

function publisher(api: MessageApi, options: { payer?: boolean; node?: MemoryPostageNode } = {}) {
  const grants = new GrantStore(me.address);
  const priorContacts = new PriorContacts();
  const payerWallet = randomWallet();
  const payer = countingPayer(payerWallet);
  if (options.node) options.node.deposit(payerWallet.address, 1_000_000n);
  const stamper = options.payer
    ? new Stamper({ payer, nodeKey: "test", quote: (address) => api.postageQuote!(address), queues: new SerialQueues() })
    : undefined;
  const reach = new ReachPublisher({ api, address: me.address, keys: me.keys, grants, priorContacts, stamper });
  return { reach, grants, priorContacts, payer, payerWallet };
}

/** A grant from `peer` to `me` on the node's network. */
function grantFromPeer(node: MemoryPostageNode, expiresInMs = 60_000) {
  return postageGrantOf(
    makeRelationshipGrant({
      grantor: identityKeyMaterialOf(peer.keys),
      grantee: me.address,
      expiresNs: BigInt(Date.now() + expiresInMs) * 1_000_000n,
      chainId: node.terms.chainId,
      vault: node.terms.vault,
    }),
  );
}

describe("which envelopes carry a proof", () => {
  it("seals the write to the peer's reach topic, with our identity key over that envelope only", async () => {
    const node = new MemoryPostageNode();
    node.mode = "off";
    const { reach } = publisher(node.apiFor(me.address));
    const envelopes = [
      envelope(inviteTopic(peer.address)),
      envelope(inviteTopic(me.address)),
      envelope(introTopic(peer.address)),
      envelope(introTopic(me.address)),
      envelope("/xmtp/0/m-abc/proto"),
      envelope(contactTopic(me.address)),
    ];
    await reach.publish(envelopes);
    const [published] = node.publishes;
    expect(published.proofs.map((proof) => proof !== undefined)).toEqual([true, false, true, false, false, false]);
    for (const i of [0, 2]) {
      const proof = published.proofs[i]!;
      // No grant, no prior contact, no payer: the seal alone.
      expect(proof.basis.case).toBeUndefined();
      expect(verifySenderSeal(proof.seal!, envelopeDigest(envelopes[i].contentTopic, envelopes[i].message))).toBe(me.address);
      // Moved onto another envelope, the seal proves nothing.
      expect(() => verifySenderSeal(proof.seal!, envelopeDigest(envelopes[1].contentTopic, envelopes[1].message))).toThrow();
    }
    // Envelopes that need nothing go out untouched (same objects).
    for (const i of [1, 3, 4, 5]) expect(published.envelopes[i]).toBe(envelopes[i]);
  });

  it("hands envelopes without a stranger's reach topic to the API as they are, without any quote", async () => {
    const published: Envelope[][] = [];
    const api = { publish: async (e: Envelope[]) => void published.push(e), postageQuote: async () => { throw new Error("no quote on this path"); } } as unknown as MessageApi;
    const { reach } = publisher(api, { payer: true });
    const envelopes = [envelope("/xmtp/0/m-abc/proto"), envelope(inviteTopic(me.address))];
    await reach.publish(envelopes);
    expect(published[0]).toBe(envelopes);
  });

  it("knows a stranger's reach topic only in its canonical form", () => {
    expect(othersReachTopicOwner(inviteTopic(peer.address), me.address)).toBe(peer.address);
    expect(othersReachTopicOwner(introTopic(peer.address), me.address)).toBe(peer.address);
    expect(othersReachTopicOwner(inviteTopic(me.address), me.address)).toBeUndefined();
    expect(othersReachTopicOwner(`/xmtp/0/invite-${peer.address.toLowerCase()}/proto`, me.address)).toBeUndefined();
    expect(othersReachTopicOwner(`/xmtp/0/m-${peer.address}/proto`, me.address)).toBeUndefined();
  });
});

describe("the basis claimed", () => {
  it("prefers the peer's grant, then a prior contact, then a stamp, then the seal alone", async () => {
    const node = new MemoryPostageNode();
    node.mode = "off"; // records every proof, refuses nothing
    const withPayer = publisher(node.apiFor(me.address), { payer: true });
    withPayer.grants.accept(grantFromPeer(node));
    withPayer.priorContacts.add(peer.address);
    await withPayer.reach.publish(invitationPair());
    withPayer.grants.forget(peer.address);
    await withPayer.reach.publish(invitationPair());
    const fresh = publisher(node.apiFor(me.address), { payer: true });
    node.mode = "required";
    node.deposit(fresh.payerWallet.address, 10_000n);
    await fresh.reach.publish(invitationPair());
    const noPayer = publisher(node.apiFor(me.address));
    node.mode = "off";
    await noPayer.reach.publish(invitationPair());
    expect(node.proofsOf(me.address).map((proof) => proof.basis.case)).toEqual(["grant", "priorContact", "stamp", undefined]);
    expect(node.proofsOf(me.address).every((proof) => proof.seal !== undefined)).toBe(true);
  });

  it("skips an expired grant", async () => {
    const node = new MemoryPostageNode();
    node.mode = "off";
    let now = BigInt(Date.now()) * 1_000_000n;
    const grants = new GrantStore(me.address, () => now);
    grants.accept(grantFromPeer(node, 1_000));
    now += 2_000_000_000n;
    const reach = new ReachPublisher({ api: node.apiFor(me.address), address: me.address, keys: me.keys, grants, priorContacts: new PriorContacts() });
    await reach.publish(invitationPair());
    expect(node.proofsOf(me.address)[0].basis.case).toBeUndefined();
  });
});

describe("a node that charges", () => {
  it("writes free with the peer's grant: the node accepts it and charges nothing", async () => {
    const node = new MemoryPostageNode();
    const { reach, grants, payer } = publisher(node.apiFor(me.address), { payer: true });
    grants.accept(grantFromPeer(node));
    await reach.publish(invitationPair());
    expect(node.publishes.map((p) => p.outcome)).toEqual(["accepted"]);
    expect(payer.signatures).toBe(0);
    expect(node.quoteRequests).toHaveLength(0);
  });

  it("retries with a stamp when the node knows no prior contact, and pays once", async () => {
    const node = new MemoryPostageNode();
    const { reach, priorContacts, payer, payerWallet } = publisher(node.apiFor(me.address), { payer: true, node });
    priorContacts.add(peer.address); // what the client believes; the node has no record of it
    await reach.publish(invitationPair());
    expect(node.publishes.map((p) => p.outcome)).toEqual(["refused", "accepted"]);
    expect(node.publishes[0].reason).toContain("no prior contact");
    const retried = node.publishes[1].proofs[0]!;
    expect(retried.basis.case).toBe("stamp");
    expect(decodeCumulative((retried.basis.value as { cumulative: Uint8Array }).cumulative)).toBe(1000n);
    expect(payer.signatures).toBe(1);
    expect(node.entry(payerWallet.address).acceptedCumulativeWei).toBe(1000n);
    // Both copies were stored by the accepted publish, none by the refused one.
    expect(node.stored).toHaveLength(2);
  });

  it("without a payer, a refusal is a PostageRequiredError with the node's terms, and nothing is stored", async () => {
    const node = new MemoryPostageNode({ priceWei: 1234n });
    const { reach } = publisher(node.apiFor(me.address));
    const err = await reach.publish(invitationPair()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostageRequiredError);
    const required = err as PostageRequiredError;
    expect(required).toMatchObject({ code: "postage_required", recipients: [peer.address], attempted: ["seal"] });
    expect(required.quote).toMatchObject({ postage: "required", priceWei: 1234n, operator: node.terms.operator, vault: node.terms.vault });
    expect(required.serverMessage).toContain("costs 1234 wei");
    expect(required.message).toContain("configure postage.payer");
    expect(required.cause).toBeInstanceOf(ApiError);
    expect(node.publishes).toHaveLength(1);
    expect(node.stored).toHaveLength(0);
  });

  it("a refused stamp is not retried forever: one PostageRequiredError naming the stamp", async () => {
    const node = new MemoryPostageNode();
    const { reach, payerWallet } = publisher(node.apiFor(me.address), { payer: true, node });
    // Another installation of the payer gets a stamp in between our quote and our publish.
    node.beforePublish = () => {
      node.entry(payerWallet.address).acceptedCumulativeWei = 50_000n;
    };
    const err = await reach.publish(invitationPair()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostageRequiredError);
    expect(err).toMatchObject({ attempted: ["stamp"] });
    expect((err as Error).message).toContain("the stamp was refused too");
    expect(node.publishes).toHaveLength(1);
  });

  it("does not turn other failures into postage errors", async () => {
    const node = new MemoryPostageNode();
    node.beforePublish = () => {
      throw new ApiError({ call: "publish", code: 14, serverMessage: "down", httpStatus: 503, transient: true });
    };
    const { reach } = publisher(node.apiFor(me.address), { payer: true, node });
    const err = await reach.publish(invitationPair()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).not.toBeInstanceOf(PostageRequiredError);
  });
});

describe("a 402 over HTTP", () => {
  let fake: FakeNode;
  beforeEach(async () => {
    fake = await startFakeNode();
  });
  afterEach(async () => {
    await fake.close();
  });

  const quote = {
    postage: "required",
    chainId: "31337",
    vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    priceWei: "1000",
    pricePerByteWei: "0",
  };
  const message = (owner: string) =>
    `postage required: writing to /xmtp/0/invite-${owner}/proto costs 1000 wei (vault ${quote.vault} on chain 31337, operator ${quote.operator}); free with a prior contact or a relationship grant from ${owner}`;

  it("is parsed into a PostageRequiredError carrying the quote from details and the node's message", async () => {
    fake.handle = (_request, response) => sendJson(response, 402, { code: 9, message: message(peer.address), details: [quote] });
    const api = new HttpMessageApi({ apiUrl: fake.url, retry: { attempts: 3, initialDelayMs: 1 }, authTokenProvider: async () => "t" });
    const { reach } = publisher(api);
    const err = await reach.publish(invitationPair()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostageRequiredError);
    const required = err as PostageRequiredError;
    expect(required.serverMessage).toBe(message(peer.address));
    expect(required.quote).toEqual({
      postage: "required",
      chainId: 31337n,
      vault: quote.vault,
      operator: quote.operator,
      priceWei: 1000n,
      pricePerByteWei: 0n,
    });
    expect((required.cause as ApiError).httpStatus).toBe(402);
    // A 402 is an answer, not a transient failure: sent once.
    expect(fake.requests).toHaveLength(1);
    // What went over the wire: a sealed proof on the peer's copy only.
    const [theirs, ours] = fake.requests[0].json.envelopes;
    expect(postageProofFromBase64(theirs.postage).seal).toBeDefined();
    expect(ours.postage).toBeUndefined();
  });

  it("finds the quote among other details, and stands without one when the details are garbage", async () => {
    const api = new HttpMessageApi({ apiUrl: fake.url, retry: { attempts: 1 }, authTokenProvider: async () => "t" });
    fake.handle = (_request, response) =>
      sendJson(response, 402, { code: 9, message: "postage required", details: [{ "@type": "other" }, { ...quote, priceWei: "x" }, quote] });
    let refusal = postageRefusalOf(await api.publish([envelope("/xmtp/0/m-a/proto")]).catch((e: unknown) => e));
    expect(refusal?.quote?.priceWei).toBe(1000n);
    fake.handle = (_request, response) => sendJson(response, 402, { code: 9, message: "postage required", details: ["junk", 7] });
    refusal = postageRefusalOf(await api.publish([envelope("/xmtp/0/m-a/proto")]).catch((e: unknown) => e));
    expect(refusal).toMatchObject({ serverMessage: "postage required", quote: undefined });
  });

  it("is the only status read as a refusal: code 9 on another status is not", async () => {
    const api = new HttpMessageApi({ apiUrl: fake.url, retry: { attempts: 1 }, authTokenProvider: async () => "t" });
    fake.handle = (_request, response) => sendJson(response, 400, { code: 9, message: "precondition", details: [quote] });
    expect(postageRefusalOf(await api.publish([envelope("/xmtp/0/m-a/proto")]).catch((e: unknown) => e))).toBeUndefined();
    expect(postageRefusalOf(new Error("402"))).toBeUndefined();
  });
});

describe("proof bytes", () => {
  it("decode back to the proof the node reads", async () => {
    const node = new MemoryPostageNode();
    node.mode = "off";
    const { reach } = publisher(node.apiFor(me.address));
    await reach.publish(invitationPair());
    const sent = node.publishes[0].envelopes[0].postage!;
    expect(decodePostageProof(sent).seal?.identityKey).toEqual(me.keys.signedBundle.identityKey);
  });
});
