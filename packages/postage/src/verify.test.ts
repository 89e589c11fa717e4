import { beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { hexlify, randomBytes, Wallet } from "ethers";
import { contactTopic, KeyBundleVerifier } from "@xmtp-ts/crypto";
import { create, postage } from "@xmtp-ts/proto";
import { makeRelationshipGrant } from "./grant.js";
import {
  decodePostageProof,
  encodePostageProof,
  grantProof,
  makePostageStamp,
  PostageProofError,
  priorContactProof,
  sealOnlyProof,
  stampProof,
} from "./proof.js";
import { reachTopic } from "./reachTopics.js";
import { makeSenderSeal } from "./seal.js";
import {
  envelopeOf,
  forgedInvitationEnvelope,
  introEnvelope,
  invitationEnvelope,
  makePerson,
  type Person,
  type TestEnvelope,
} from "./test-support/people.js";
import { MemoryRelationships } from "./test-support/relationships.js";
import { editedBytes, postageFuzzParameters } from "./test-support/fuzz.js";
import { checkPostage, type PostageDecision, type PostageDoor, type PostageInput, type PostageTerms } from "./verify.js";
import { signVoucher } from "./voucher.js";

const VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const CHAIN = 31337n;
const NOW_NS = 1_750_000_000_000_000_000n;
const HOUR_NS = 3_600_000_000_000n;
const operatorWallet = new Wallet(hexlify(randomBytes(32)));
const terms: PostageTerms = { chainId: CHAIN, vault: VAULT, operator: operatorWallet.address, priceWei: (bytes) => 1000n + 2n * BigInt(bytes) };

const token = (person: Person): PostageDoor => ({ kind: "token", wallet: person.address });
const untrusted: PostageDoor = { kind: "untrusted" };

describe("checkPostage: the decision at every door (docs/postage.md §1-§4)", () => {
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let mallory: Person;
  let relationships: MemoryRelationships;
  let aliceToBob: TestEnvelope; // a real invitation on Bob's invite topic
  let aliceToBobIntro: TestEnvelope; // a real v1 intro on Bob's intro topic
  let bobsCopy: TestEnvelope; // Bob's own copy of his invitation to Alice, on Bob's invite topic

  beforeAll(async () => {
    [alice, bob, carol, mallory] = await Promise.all([makePerson(), makePerson(), makePerson(), makePerson()]);
    aliceToBob = await invitationEnvelope(alice, bob);
    aliceToBobIntro = await introEnvelope(alice, bob);
    bobsCopy = await invitationEnvelope(bob, alice, bob);
  });

  function input(envelope: TestEnvelope, fields: Partial<PostageInput> = {}): PostageInput {
    return {
      ...envelope,
      door: untrusted,
      terms,
      relationships: (relationships ??= new MemoryRelationships()),
      nowNs: NOW_NS,
      acceptingDoor: true,
      ...fields,
    };
  }

  function expectRefused(decision: PostageDecision, code: string, reason?: RegExp) {
    expect(decision.outcome).toBe("refused");
    if (decision.outcome !== "refused") return;
    expect(decision.code).toBe(code);
    expect(decision.reason).toMatch(/^postage (required|refused): /);
    if (reason) expect(decision.reason).toMatch(reason);
  }

  async function stampFor(envelope: TestEnvelope, payer: Person, fields: { cumulative?: bigint; operator?: string; chainId?: bigint } = {}) {
    const voucher = { payer: payer.address, operator: fields.operator ?? operatorWallet.address, cumulative: fields.cumulative ?? 5000n, digest: envelope.digest };
    const signature = await signVoucher(payer.wallet, voucher, { chainId: fields.chainId ?? CHAIN, vault: VAULT });
    return makePostageStamp({ ...voucher, signature });
  }

  describe("where postage applies", () => {
    it("does not apply outside reach topics, whatever the proof", async () => {
      relationships = new MemoryRelationships();
      for (const topic of [contactTopic(bob.address), "/xmtp/0/m-0123456789abcdef/proto", `/xmtp/0/dm-${alice.address}-${bob.address}/proto`]) {
        expect(await checkPostage(input(envelopeOf(topic, Uint8Array.of(1)), { proof: priorContactProof() }))).toEqual({ outcome: "not-applicable" });
      }
    });

    it("refuses a topic that looks like a reach topic but has no EIP-55 owner", async () => {
      const lower = envelopeOf(`/xmtp/0/invite-${bob.address.toLowerCase()}/proto`, aliceToBob.message);
      expectRefused(await checkPostage(input(lower, { door: token(alice) })), "malformed_reach_topic", /nobody reads it/);
    });

    it("lets the owner write its own topics: by token, by seal, or its own copy named in the header", async () => {
      expect(await checkPostage(input(bobsCopy, { door: token(bob) }))).toMatchObject({ outcome: "owner" });
      const sealed = sealOnlyProof(makeSenderSeal(bob.identity, bobsCopy.digest));
      expect(await checkPostage(input(bobsCopy, { proof: sealed }))).toMatchObject({ outcome: "owner" });
      // Relayed with no token and no seal: the header names the owner as sender of its own copy.
      expect(await checkPostage(input(bobsCopy, { acceptingDoor: false }))).toMatchObject({ outcome: "owner" });
      const bobsIntroCopy = await introEnvelope(bob, alice, bob);
      expect(await checkPostage(input(bobsIntroCopy, { acceptingDoor: false }))).toMatchObject({ outcome: "owner" });
    });
  });

  describe("without a basis", () => {
    it("refuses with a message naming postage, the price, vault, chain, operator and what would make it free", async () => {
      const decision = await checkPostage(input(aliceToBob, { door: token(alice) }));
      const price = 1000n + 2n * BigInt(aliceToBob.message.length);
      expectRefused(decision, "postage_required");
      if (decision.outcome !== "refused") return;
      expect(decision.reason).toBe(
        `postage required: writing to /xmtp/0/invite-${bob.address}/proto costs ${price} wei ` +
          `(vault ${VAULT} on chain 31337, operator ${operatorWallet.address}); free with a prior contact or a relationship grant from ${bob.address}`,
      );
    });

    it("names no operator when relaying", async () => {
      const decision = await checkPostage(input(aliceToBob, { acceptingDoor: false }));
      expectRefused(decision, "postage_required", new RegExp(`\\(vault ${VAULT} on chain 31337\\); free with`));
    });
  });

  describe("prior contact (docs/postage.md §3.2)", () => {
    it("is free when the topic owner contacted the writer before, for invitations and intros", async () => {
      relationships = new MemoryRelationships();
      relationships.add(bob.address, alice.address);
      for (const envelope of [aliceToBob, aliceToBobIntro]) {
        expect(await checkPostage(input(envelope, { door: token(alice), proof: priorContactProof() }))).toMatchObject({
          outcome: "free",
          basis: "prior_contact",
          writer: alice.address,
        });
        // Relayed without token or seal, the claimed header sender is the writer.
        expect(await checkPostage(input(envelope, { acceptingDoor: false, proof: priorContactProof() }))).toMatchObject({
          outcome: "free",
          writer: alice.address,
          facts: { writer: { address: alice.address, evidence: "header" } },
        });
      }
      expect(relationships.lookups.every(([inviter, invitee]) => inviter === bob.address && invitee === alice.address)).toBe(true);
    });

    it("is refused when only the other direction is known", async () => {
      relationships = new MemoryRelationships();
      relationships.add(alice.address, bob.address); // Alice contacted Bob: lets Bob write to Alice, not the reverse
      expectRefused(
        await checkPostage(input(aliceToBob, { door: token(alice), proof: priorContactProof() })),
        "no_prior_contact",
        new RegExp(`no prior contact from ${bob.address} to ${alice.address}.*costs \\d+ wei.*free with a relationship grant from ${bob.address}`),
      );
    });

    it("accepts a synchronous relationship lookup", async () => {
      const decision = await checkPostage(
        input(aliceToBob, { door: token(alice), proof: priorContactProof(), relationships: { has: (a, b) => a === bob.address && b === alice.address } }),
      );
      expect(decision).toMatchObject({ outcome: "free", basis: "prior_contact" });
    });
  });

  describe("sender seal (docs/postage.md §3.1)", () => {
    it("names the writer through a door without a token", async () => {
      relationships = new MemoryRelationships();
      relationships.add(bob.address, alice.address);
      const proof = priorContactProof(makeSenderSeal(alice.identity, aliceToBob.digest));
      expect(await checkPostage(input(aliceToBob, { proof }))).toMatchObject({
        outcome: "free",
        writer: alice.address,
        facts: { sealWallet: alice.address, writer: { address: alice.address, evidence: "seal" } },
      });
    });

    it("is refused when forged, altered or made for another envelope, even with a valid token", async () => {
      const seal = makeSenderSeal(alice.identity, aliceToBob.digest);
      const altered = { ...seal, signature: Uint8Array.from(seal.signature) };
      altered.signature[3] ^= 0x40;
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: priorContactProof(altered) })), "seal_invalid", /sender seal/);
      const moved = makeSenderSeal(alice.identity, aliceToBobIntro.digest);
      expectRefused(await checkPostage(input(aliceToBob, { proof: priorContactProof(moved) })), "seal_invalid", /over this envelope/);
      // Mallory's signature under Alice's identity key.
      const forged = { ...makeSenderSeal(mallory.identity, aliceToBob.digest), identityKey: alice.identity.publicKey };
      expectRefused(await checkPostage(input(aliceToBob, { proof: priorContactProof(forged) })), "seal_invalid");
    });

    it("is refused when its wallet is not the token's", async () => {
      const proof = priorContactProof(makeSenderSeal(mallory.identity, aliceToBob.digest));
      expectRefused(
        await checkPostage(input(aliceToBob, { door: token(alice), proof })),
        "seal_not_token_wallet",
        new RegExp(`sealed by ${mallory.address}, but the auth token is ${alice.address}'s`),
      );
      // ... the owner's token does not excuse someone else's seal either.
      const onOwnTopic = sealOnlyProof(makeSenderSeal(mallory.identity, bobsCopy.digest));
      expectRefused(await checkPostage(input(bobsCopy, { door: token(bob), proof: onOwnTopic })), "seal_not_token_wallet");
    });
  });

  describe("relationship grant (docs/postage.md §3.3)", () => {
    let grant: postage.SignedRelationshipGrant;
    beforeAll(() => {
      grant = makeRelationshipGrant({ grantor: bob.identity, grantee: alice.address, expiresNs: NOW_NS + HOUR_NS, chainId: CHAIN, vault: VAULT });
    });

    it("is free for the grantee writing to the grantor", async () => {
      relationships = new MemoryRelationships();
      expect(await checkPostage(input(aliceToBob, { door: token(alice), proof: grantProof(grant) }))).toMatchObject({
        outcome: "free",
        basis: "grant",
        writer: alice.address,
      });
    });

    it("is checked against the instant given: the clock at a door, the envelope's time when relaying", async () => {
      const later = NOW_NS + 2n * HOUR_NS;
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: grantProof(grant), nowNs: later })), "grant_expired", /relationship grant expired at 20\d\d-/);
      expect(await checkPostage(input(aliceToBob, { proof: grantProof(grant), acceptingDoor: false, nowNs: NOW_NS }))).toMatchObject({ outcome: "free" });
    });

    it("is refused for another writer, on another topic, or on another network", async () => {
      const malloryToBob = await invitationEnvelope(mallory, bob);
      expectRefused(await checkPostage(input(malloryToBob, { door: token(mallory), proof: grantProof(grant) })), "grant_wrong_grantee");
      const aliceToCarol = await invitationEnvelope(alice, carol);
      expectRefused(await checkPostage(input(aliceToCarol, { door: token(alice), proof: grantProof(grant) })), "grant_wrong_grantor");
      const elsewhere: PostageTerms = { ...terms, chainId: 8453n };
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: grantProof(grant), terms: elsewhere })), "grant_replayed_elsewhere", /replayed elsewhere/);
    });
  });

  describe("postage stamp (docs/postage.md §3.6)", () => {
    it("is paid when the payer signed this envelope for this network and operator", async () => {
      const stamp = await stampFor(aliceToBob, alice);
      const decision = await checkPostage(input(aliceToBob, { door: token(alice), proof: stampProof(stamp) }));
      expect(decision).toMatchObject({
        outcome: "paid",
        writer: alice.address,
        stamp: { payer: alice.address, operator: operatorWallet.address, cumulative: 5000n, digest: aliceToBob.digest, signature: stamp.signature },
      });
    });

    it("may be paid by someone other than the writer (an app paying for its users)", async () => {
      const stamp = await stampFor(aliceToBob, carol);
      expect(await checkPostage(input(aliceToBob, { door: token(alice), proof: stampProof(stamp) }))).toMatchObject({ outcome: "paid", writer: alice.address, stamp: { payer: carol.address } });
    });

    it("is refused when signed by another key, made for another envelope or network, or paying another operator", async () => {
      const byMallory = await stampFor(aliceToBob, mallory);
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: stampProof({ ...byMallory, payer: alice.address }) })), "stamp_not_payer", /stamp signature is not the payer's/);
      const otherEnvelope = await stampFor(aliceToBobIntro, alice);
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: stampProof(otherEnvelope) })), "stamp_not_payer");
      const otherChain = await stampFor(aliceToBob, alice, { chainId: 1n });
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: stampProof(otherChain) })), "stamp_not_payer");
      const otherOperator = await stampFor(aliceToBob, alice, { operator: carol.address });
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: stampProof(otherOperator) })), "stamp_wrong_operator");
    });

    it("relaying, accepts any operator but still checks signature, binding, network and amount", async () => {
      const otherOperator = await stampFor(aliceToBob, alice, { operator: carol.address });
      expect(await checkPostage(input(aliceToBob, { acceptingDoor: false, proof: stampProof(otherOperator) }))).toMatchObject({ outcome: "paid" });
      const zero = await stampFor(aliceToBob, alice, { cumulative: 0n, operator: carol.address });
      expectRefused(await checkPostage(input(aliceToBob, { acceptingDoor: false, proof: stampProof(zero) })), "stamp_zero");
      const otherChain = await stampFor(aliceToBob, alice, { chainId: 1n, operator: carol.address });
      expectRefused(await checkPostage(input(aliceToBob, { acceptingDoor: false, proof: stampProof(otherChain) })), "stamp_not_payer");
    });
  });

  describe("who wrote it (docs/postage.md §2, §3.5)", () => {
    it("refuses when nothing names a writer", async () => {
      const junk = envelopeOf(reachTopic("invite", bob.address), Uint8Array.of(1, 2, 3));
      expectRefused(await checkPostage(input(junk, { proof: priorContactProof() })), "writer_unknown", /no readable header/);
      const notAboutBob = forgedInvitationEnvelope(alice, carol, bob);
      expectRefused(await checkPostage(input(notAboutBob, { proof: priorContactProof() })), "writer_unknown", /does not involve the topic owner/);
    });

    it("refuses a malformed proof object", async () => {
      const proof = create(postage.PostageProofSchema, { seal: { signature: new Uint8Array(65) }, basis: { case: "priorContact", value: {} } });
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof })), "malformed_proof", /seal has no identity key/);
    });

    it("uses a KeyBundleVerifier when given one", async () => {
      relationships = new MemoryRelationships();
      relationships.add(bob.address, alice.address);
      const verifier = new KeyBundleVerifier();
      for (let i = 0; i < 2; i++) {
        expect(await checkPostage(input(aliceToBob, { proof: priorContactProof(), keyBundleVerifier: verifier }))).toMatchObject({ outcome: "free" });
      }
    });

    it("takes only 32-byte digests (a programming error otherwise)", async () => {
      await expect(checkPostage(input({ ...aliceToBob, digest: new Uint8Array(31) }))).rejects.toThrow(TypeError);
    });
  });

  it("fuzz: edited proofs decode to a typed error or to a decision; only Alice is freed and only Alice pays", async () => {
    relationships = new MemoryRelationships();
    const seal = makeSenderSeal(alice.identity, aliceToBob.digest);
    const grant = makeRelationshipGrant({ grantor: bob.identity, grantee: alice.address, expiresNs: NOW_NS + HOUR_NS, chainId: CHAIN, vault: VAULT });
    const seeds = [encodePostageProof(grantProof(grant, seal)), encodePostageProof(stampProof(await stampFor(aliceToBob, alice), seal))];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }).chain((i) => editedBytes(seeds[i])),
        fc.boolean(),
        async (bytes, acceptingDoor) => {
          let proof: postage.PostageProof;
          try {
            proof = decodePostageProof(bytes);
          } catch (err) {
            if (err instanceof PostageProofError) return;
            throw err;
          }
          const decision = await checkPostage(input(aliceToBob, { proof, acceptingDoor }));
          // A grant frees only its grantee; a stamp is only ever Alice's payment. (An edited seal may still name
          // a writer: changing the identity key's bytes makes its wallet signature recover some phantom wallet
          // nobody holds, which the stamp's payer then pays for; no relationship comes of it.)
          if (decision.outcome === "free") expect(decision.writer).toBe(alice.address);
          if (decision.outcome === "paid") expect(decision.stamp.payer).toBe(alice.address);
        },
      ),
      postageFuzzParameters("edited proofs through checkPostage", 300),
    );
  });

  describe("postage off (no terms)", () => {
    it("still decides prior contact and owner writes, and cannot check grants or stamps", async () => {
      relationships = new MemoryRelationships();
      relationships.add(bob.address, alice.address);
      expect(await checkPostage(input(aliceToBob, { door: token(alice), proof: priorContactProof(), terms: undefined }))).toMatchObject({ outcome: "free" });
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), terms: undefined })), "postage_required", /needs a prior contact or a relationship grant/);
      const stamp = await stampFor(aliceToBob, alice);
      expectRefused(await checkPostage(input(aliceToBob, { door: token(alice), proof: stampProof(stamp), terms: undefined })), "postage_off");
    });
  });
});
