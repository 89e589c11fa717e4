import { beforeAll, describe, expect, it } from "vitest";
import { hexlify, randomBytes, Wallet } from "ethers";
import { makePostageStamp, priorContactProof, sealOnlyProof, stampProof } from "./proof.js";
import { relationshipEvidence } from "./relationshipEvidence.js";
import { makeSenderSeal } from "./seal.js";
import { forgedInvitationEnvelope, introEnvelope, invitationEnvelope, makePerson, type Person, type TestEnvelope } from "./test-support/people.js";
import { MemoryRelationships } from "./test-support/relationships.js";
import { checkPostage, type PostageDoor, type PostageInput, type PostageTerms } from "./verify.js";
import { signVoucher } from "./voucher.js";

const VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const CHAIN = 31337n;
const NOW_NS = 1_750_000_000_000_000_000n;
const operatorWallet = new Wallet(hexlify(randomBytes(32)));
const terms: PostageTerms = { chainId: CHAIN, vault: VAULT, operator: operatorWallet.address, priceWei: () => 1000n };

const token = (person: Person): PostageDoor => ({ kind: "token", wallet: person.address });
const untrusted: PostageDoor = { kind: "untrusted" };

describe("relationshipEvidence (docs/postage.md §3.4)", () => {
  let alice: Person;
  let bob: Person;
  let mallory: Person;
  beforeAll(async () => {
    [alice, bob, mallory] = await Promise.all([makePerson(), makePerson(), makePerson()]);
  });

  /** What a node with postage required does: decide, store only what it accepts, learn from what it stored. */
  async function publish(store: MemoryRelationships, fields: PostageInput) {
    const decision = await checkPostage(fields);
    const accepted = decision.outcome !== "refused";
    const evidence = accepted ? relationshipEvidence(decision) : undefined;
    if (evidence) store.add(evidence.inviter, evidence.invitee);
    return { decision, accepted, evidence };
  }

  function base(envelope: TestEnvelope, store: MemoryRelationships, fields: Partial<PostageInput> = {}): PostageInput {
    return { ...envelope, door: untrusted, terms, relationships: store, nowNs: NOW_NS, acceptingDoor: true, ...fields };
  }

  it("records (sender, recipient) when the sender is proven: by token, by seal, or by paying", async () => {
    const envelope = await invitationEnvelope(alice, bob);
    const stamp = await (async () => {
      const voucher = { payer: alice.address, operator: operatorWallet.address, cumulative: 7000n, digest: envelope.digest };
      return makePostageStamp({ ...voucher, signature: await signVoucher(alice.wallet, voucher, { chainId: CHAIN, vault: VAULT }) });
    })();
    const seal = makeSenderSeal(alice.identity, envelope.digest);
    for (const fields of [
      { door: token(alice), proof: stampProof(stamp) },
      { proof: stampProof(stamp) }, // no token, no seal: the stamp is Alice's own signature over this envelope
      { proof: stampProof(stamp, seal) },
      { acceptingDoor: false, proof: stampProof(stamp) },
    ]) {
      const store = new MemoryRelationships();
      const { evidence } = await publish(store, base(envelope, store, fields));
      expect(evidence).toEqual({ inviter: alice.address, invitee: bob.address });
    }
  });

  it("records the relationship of a prior-contact envelope whose writer is proven", async () => {
    const envelope = await introEnvelope(alice, bob);
    const store = new MemoryRelationships();
    store.add(bob.address, alice.address);
    const { evidence } = await publish(store, base(envelope, store, { door: token(alice), proof: priorContactProof() }));
    expect(evidence).toEqual({ inviter: alice.address, invitee: bob.address });
  });

  it("records nothing from a header alone, from the owner's own copies, or from a stamp paid by someone else", async () => {
    const envelope = await invitationEnvelope(alice, bob);
    const store = new MemoryRelationships();
    store.add(bob.address, alice.address);
    // Relayed with prior_contact and no seal: accepted, but the header only claims Alice wrote it.
    const relayed = await publish(store, base(envelope, store, { acceptingDoor: false, proof: priorContactProof() }));
    expect(relayed).toMatchObject({ accepted: true, evidence: undefined });
    const copy = await invitationEnvelope(bob, alice, bob);
    expect((await publish(store, base(copy, store, { door: token(bob) }))).evidence).toBeUndefined();
    const voucher = { payer: mallory.address, operator: operatorWallet.address, cumulative: 1n, digest: envelope.digest };
    const byMallory = makePostageStamp({ ...voucher, signature: await signVoucher(mallory.wallet, voucher, { chainId: CHAIN, vault: VAULT }) });
    expect(await publish(store, base(envelope, store, { proof: stampProof(byMallory) }))).toMatchObject({ accepted: true, evidence: undefined });
  });

  it("learns from what a node with postage off accepts: proven writers only", async () => {
    const envelope = await invitationEnvelope(alice, bob);
    const fields = base(envelope, new MemoryRelationships(), { door: token(alice), terms: undefined });
    const decision = await checkPostage(fields);
    expect(decision.outcome).toBe("refused"); // not enforced with postage off; the node stores it anyway
    expect(relationshipEvidence(decision)).toEqual({ inviter: alice.address, invitee: bob.address });
    const claimed = base(envelope, new MemoryRelationships(), { terms: undefined });
    expect(relationshipEvidence(await checkPostage(claimed))).toBeUndefined();
  });

  describe("the forged-header attack", () => {
    it("a header 'Bob invited Mallory' written by Mallory to her own topic creates nothing, so Mallory cannot then write to Bob free", async () => {
      const store = new MemoryRelationships();
      const forged = forgedInvitationEnvelope(bob, mallory, mallory);
      // With her token (or sealed): it is the owner writing, accepted free, and no record.
      const owned = await publish(store, base(forged, store, { door: token(mallory) }));
      expect(owned).toMatchObject({ accepted: true, evidence: undefined, decision: { outcome: "owner" } });
      const sealed = await publish(store, base(forged, store, { proof: sealOnlyProof(makeSenderSeal(mallory.identity, forged.digest)) }));
      expect(sealed).toMatchObject({ accepted: true, evidence: undefined, decision: { outcome: "owner" } });
      // Without a token or seal, the header's claimed writer is Bob, not the owner: postage is required.
      const claimed = await publish(store, base(forged, store, { acceptingDoor: false }));
      expect(claimed).toMatchObject({ accepted: false, decision: { outcome: "refused", code: "postage_required" } });
      expect(store.size).toBe(0);

      const malloryToBob = await invitationEnvelope(mallory, bob);
      const attempt = await publish(store, base(malloryToBob, store, { door: token(mallory), proof: priorContactProof() }));
      expect(attempt).toMatchObject({ accepted: false, decision: { outcome: "refused", code: "no_prior_contact" } });
      const relayedAttempt = await publish(store, base(malloryToBob, store, { acceptingDoor: false, proof: priorContactProof() }));
      expect(relayedAttempt).toMatchObject({ accepted: false, decision: { outcome: "refused", code: "no_prior_contact" } });
    });

    it("paying once to reach Bob does not let Mallory launder a reverse record through a prior-contact forgery", async () => {
      const store = new MemoryRelationships();
      // Mallory pays once to invite Bob: record (Mallory, Bob), which lets *Bob* reply free.
      const paid = await invitationEnvelope(mallory, bob);
      const voucher = { payer: mallory.address, operator: operatorWallet.address, cumulative: 5000n, digest: paid.digest };
      const stamp = makePostageStamp({ ...voucher, signature: await signVoucher(mallory.wallet, voucher, { chainId: CHAIN, vault: VAULT }) });
      expect(await publish(store, base(paid, store, { door: token(mallory), proof: stampProof(stamp) }))).toMatchObject({
        accepted: true,
        evidence: { inviter: mallory.address, invitee: bob.address },
      });
      // She then LightPushes, to her own topic, a header claiming "Bob → Mallory" with prior_contact: the claimed
      // writer Bob passes (Mallory contacted Bob), and the junk is accepted, but it must not record (Bob, Mallory).
      const forged = forgedInvitationEnvelope(bob, mallory, mallory);
      const laundering = await publish(store, base(forged, store, { proof: priorContactProof() }));
      expect(laundering).toMatchObject({ accepted: true, evidence: undefined, decision: { outcome: "free", basis: "prior_contact" } });
      // So her next invitation to Bob still needs postage.
      const next = await invitationEnvelope(mallory, bob);
      expect(await publish(store, base(next, store, { door: token(mallory), proof: priorContactProof() }))).toMatchObject({
        accepted: false,
        decision: { outcome: "refused", code: "no_prior_contact" },
      });
      // Bob, whom Mallory contacted, may write to her free.
      const bobToMallory = await invitationEnvelope(bob, mallory);
      expect(await publish(store, base(bobToMallory, store, { door: token(bob), proof: priorContactProof() }))).toMatchObject({
        accepted: true,
        decision: { outcome: "free", basis: "prior_contact" },
      });
    });
  });
});
