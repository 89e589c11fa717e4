// The node's postage gate with real keys, real invitations and real EIP-712 stamps, on a real (in-memory SQLite)
// ledger; the chain's channel state is the one part read through an interface here (the vault itself is tested on
// anvil in @xmtp-ts/postage, and end to end in test/postage).
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Wallet, hexlify, randomBytes } from "ethers";
import {
  encodePostageProof,
  grantProof,
  makePostageStamp,
  makeRelationshipGrant,
  makeSenderSeal,
  priorContactProof,
  signVoucher,
  stampProof,
  decodePostageProof,
} from "@xmtp-ts/postage";
import { forgedInvitationEnvelope, invitationEnvelope, makePerson, type Person, type TestEnvelope } from "../../../postage/src/test-support/people.js";
import { openSqliteStore } from "../store/sqlite.js";
import type { Envelope, WakuEnvelopeStore } from "../store/EnvelopeStore.js";
import type { PostageLedger } from "../store/postageLedger.js";
import type { ChannelState } from "@xmtp-ts/postage";
import { ChannelBalances } from "./channelBalances.js";
import { PostageGate, type GateDoor, type PostageEvent } from "./postageGate.js";
import { PostageRefusedError } from "./postageRefusedError.js";

const CHAIN_ID = 31337n;
const VAULT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const OPERATOR = new Wallet(hexlify(randomBytes(32))).address;
const PRICE = 1000n;
const NOW_NS = 1_800_000_000_000_000_000n;

let alice: Person, bob: Person, mallory: Person;
beforeAll(async () => {
  [alice, bob, mallory] = await Promise.all([makePerson(), makePerson(), makePerson()]);
});

const stores: WakuEnvelopeStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

const token = (person: Person): GateDoor => ({ door: { kind: "token", wallet: person.address }, accepting: true });
const relayed: GateDoor = { door: { kind: "untrusted" }, accepting: false };
const asEnvelope = (e: TestEnvelope, postage?: Uint8Array): Envelope => ({
  contentTopic: e.contentTopic,
  timestampNs: NOW_NS,
  message: e.message,
  ...(postage && { postage }),
});

async function setup(mode: "off" | "required" = "required") {
  const store = (await openSqliteStore(":memory:")) as WakuEnvelopeStore & { postage: PostageLedger };
  stores.push(store);
  const channels = new Map<string, ChannelState>();
  const reads: string[] = [];
  const reader = {
    channel: async (payer: string) => {
      reads.push(payer);
      return channels.get(payer.toLowerCase()) ?? { deposited: 0n, redeemed: 0n, unlockAt: 0n };
    },
  };
  const events: PostageEvent[] = [];
  const gate = new PostageGate({
    ledger: store.postage,
    required:
      mode === "required"
        ? { chainId: CHAIN_ID, vault: VAULT, operator: OPERATOR, priceWei: PRICE, pricePerByteWei: 0n, balances: new ChannelBalances(reader, OPERATOR, 60_000) }
        : undefined,
    nowNs: () => NOW_NS,
    onDecision: (event) => void events.push(event),
  });
  const deposit = (payer: string, deposited: bigint, unlockAt = 0n) => channels.set(payer.toLowerCase(), { deposited, redeemed: 0n, unlockAt });
  return { store, gate, deposit, events, reads };
}

async function refusal(promise: Promise<unknown>): Promise<PostageRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PostageRefusedError);
  return error as PostageRefusedError;
}

async function stampFor(payer: Wallet, envelope: TestEnvelope, cumulative: bigint, operator = OPERATOR) {
  const signature = await signVoucher(payer, { payer: payer.address, operator, cumulative, digest: envelope.digest }, { chainId: CHAIN_ID, vault: VAULT });
  return makePostageStamp({ payer: payer.address, operator, cumulative, signature });
}

describe("PostageGate, postage required", () => {
  it("refuses a stranger's invitation with 402, naming the price, vault, chain and what would make it free", async () => {
    const { gate, store } = await setup();
    const invite = await invitationEnvelope(mallory, bob);
    const refused = await refusal(gate.admit([asEnvelope(invite)], token(mallory)));
    expect(refused.httpStatus).toBe(402);
    expect(refused.code).toBe(9);
    expect(refused.refusal).toBe("postage_required");
    expect(refused.message).toContain(`costs ${PRICE} wei (vault ${VAULT} on chain ${CHAIN_ID}, operator ${OPERATOR})`);
    expect(refused.message).toContain(`free with a prior contact or a relationship grant from ${bob.address}`);
    expect(refused.details).toEqual([
      { postage: "required", chainId: "31337", vault: VAULT, operator: OPERATOR, priceWei: "1000", pricePerByteWei: "0" },
    ]);
    expect(await store.postage.hasRelationship(mallory.address, bob.address)).toBe(false);
  });

  it("lets the owner write its own copy, and anyone write to topics that are not reach topics, dropping their proofs", async () => {
    const { gate } = await setup();
    const ownCopy = await invitationEnvelope(bob, alice, bob);
    const other = { contentTopic: "/xmtp/0/m-someconversation/proto", timestampNs: NOW_NS, message: Uint8Array.of(1), postage: Uint8Array.of(9) };
    const admitted = await gate.admit([asEnvelope(ownCopy), other], token(bob));
    expect(admitted.envelopes[0].postage).toBeUndefined();
    expect(admitted.envelopes[1]).toEqual({ contentTopic: other.contentTopic, timestampNs: NOW_NS, message: other.message });
  });

  it("makes a prior contact free: after Bob invites Alice (with his token), Alice may write to Bob with none of her own", async () => {
    const { gate, store, events } = await setup();
    // Bob reaches Alice by grant (she accepts him), which records (Bob, Alice): his token proves he wrote it.
    const bobToAlice = await invitationEnvelope(bob, alice);
    const grant = makeRelationshipGrant({ grantor: alice.identity, grantee: bob.address, expiresNs: NOW_NS + 1n, chainId: CHAIN_ID, vault: VAULT });
    const first = await gate.admit([asEnvelope(bobToAlice, encodePostageProof(grantProof(grant)))], token(bob));
    expect(first.relationships).toEqual([{ inviter: bob.address, invitee: alice.address, atNs: NOW_NS }]);
    expect(await store.postage.hasRelationship(bob.address, alice.address)).toBe(true);
    // Alice answers with the public SDK: no proof at all. The node finds the prior contact and attaches it.
    const aliceToBob = await invitationEnvelope(alice, bob);
    const admitted = await gate.admit([asEnvelope(aliceToBob)], token(alice));
    expect(decodePostageProof(admitted.envelopes[0].postage!).basis.case).toBe("priorContact");
    expect(events).toEqual([
      { outcome: "free", basis: "grant" },
      { outcome: "free", basis: "prior_contact" },
    ]);
  });

  it("refuses the forged-header attack: a header 'Bob invited Mallory' on Mallory's own topic proves nothing", async () => {
    const { gate, store } = await setup();
    const forged = forgedInvitationEnvelope(bob, mallory, mallory);
    const admitted = await gate.admit([asEnvelope(forged)], token(mallory));
    expect(admitted.relationships).toEqual([]);
    expect(await store.postage.hasRelationship(bob.address, mallory.address)).toBe(false);
    const malloryToBob = await invitationEnvelope(mallory, bob);
    const refused = await refusal(gate.admit([asEnvelope(malloryToBob, encodePostageProof(priorContactProof()))], token(mallory)));
    expect(refused.refusal).toBe("no_prior_contact");
  });

  it("takes a stamp covered by the deposit, in order, once; a retry of the same stamped envelope is not charged again", async () => {
    const { gate, store, deposit, events } = await setup();
    const payer = new Wallet(hexlify(randomBytes(32)));
    deposit(payer.address, 2_500n);
    const first = await invitationEnvelope(mallory, bob);
    const stamped = asEnvelope(first, encodePostageProof(stampProof(await stampFor(payer, first, 1000n))));
    await gate.admit([stamped], token(mallory));
    await gate.admit([stamped], token(mallory));
    expect((await store.postage.lastVoucher(OPERATOR, payer.address))!.cumulative).toBe(1000n);
    expect(events).toEqual([{ outcome: "paid", wei: 1000n }]);
    // The same cumulative for another envelope would pay for two with one amount.
    const second = await invitationEnvelope(mallory, alice);
    const again = await refusal(gate.admit([asEnvelope(second, encodePostageProof(stampProof(await stampFor(payer, second, 1000n))))], token(mallory)));
    expect(again.refusal).toBe("voucher_not_increasing");
    expect(again.message).toContain("does not exceed the last one accepted");
    await gate.admit([asEnvelope(second, encodePostageProof(stampProof(await stampFor(payer, second, 2000n))))], token(mallory));
    // Past the deposit: refused, after one fresh read of the chain.
    const third = await invitationEnvelope(alice, mallory);
    const over = await refusal(gate.admit([asEnvelope(third, encodePostageProof(stampProof(await stampFor(payer, third, 3000n))))], token(alice)));
    expect(over.refusal).toBe("stamp_over_deposit");
    expect(over.message).toContain("exceeds the 2500 wei");
  });

  it("refuses stamps from a channel with a withdrawal pending, for another operator, or signed by someone else", async () => {
    const { gate, deposit } = await setup();
    const payer = new Wallet(hexlify(randomBytes(32)));
    const invite = await invitationEnvelope(mallory, bob);
    deposit(payer.address, 10_000n, 1_900_000_000n);
    const pending = await refusal(gate.admit([asEnvelope(invite, encodePostageProof(stampProof(await stampFor(payer, invite, 1000n))))], token(mallory)));
    expect(pending.refusal).toBe("withdrawal_pending");
    deposit(payer.address, 10_000n);
    const otherOperator = await stampFor(payer, invite, 1000n, alice.address);
    expect((await refusal(gate.admit([asEnvelope(invite, encodePostageProof(stampProof(otherOperator)))], token(mallory)))).refusal).toBe(
      "stamp_wrong_operator",
    );
    const impostor = new Wallet(hexlify(randomBytes(32)));
    const forged = await stampFor(impostor, invite, 1000n);
    const claimed = makePostageStamp({ payer: payer.address, operator: OPERATOR, cumulative: 1000n, signature: forged.signature });
    expect((await refusal(gate.admit([asEnvelope(invite, encodePostageProof(stampProof(claimed)))], token(mallory)))).refusal).toBe(
      "stamp_not_payer",
    );
  });

  it("refuses the whole request when one envelope is refused, and a malformed proof with its reason", async () => {
    const { gate } = await setup();
    const ownCopy = await invitationEnvelope(mallory, bob, mallory);
    const toBob = await invitationEnvelope(mallory, bob);
    expect((await refusal(gate.admit([asEnvelope(ownCopy), asEnvelope(toBob)], token(mallory)))).refusal).toBe("postage_required");
    const garbage = await refusal(gate.admit([asEnvelope(toBob, Uint8Array.of(0xff, 0xff))], token(mallory)));
    expect(garbage.refusal).toBe("malformed_proof");
  });

  it("when relaying, accepts a valid stamp for any operator and a sealed grant, and refuses an unpaid envelope", async () => {
    const { gate } = await setup();
    const payer = new Wallet(hexlify(randomBytes(32)));
    const invite = await invitationEnvelope(mallory, bob);
    const elsewhere = await stampFor(payer, invite, 5000n, alice.address);
    await gate.admit([asEnvelope(invite, encodePostageProof(stampProof(elsewhere)))], relayed);
    expect((await refusal(gate.admit([asEnvelope(invite)], relayed))).refusal).toBe("postage_required");
    const grant = makeRelationshipGrant({ grantor: bob.identity, grantee: alice.address, expiresNs: NOW_NS + 1n, chainId: CHAIN_ID, vault: VAULT });
    const aliceToBob = await invitationEnvelope(alice, bob);
    const sealed = grantProof(grant, makeSenderSeal(alice.identity, aliceToBob.digest));
    const admitted = await gate.admit([asEnvelope(aliceToBob, encodePostageProof(sealed))], relayed);
    expect(admitted.relationships).toEqual([{ inviter: alice.address, invitee: bob.address, atNs: NOW_NS }]);
  });
});

describe("PostageGate, postage off", () => {
  it("refuses nothing, carries proofs on reach topics, and still learns relationships from proven writers", async () => {
    const { gate, store } = await setup("off");
    const invite = await invitationEnvelope(mallory, bob);
    const proof = encodePostageProof(priorContactProof(makeSenderSeal(mallory.identity, invite.digest)));
    const admitted = await gate.admit([asEnvelope(invite, proof)], relayed);
    expect(admitted.envelopes[0].postage).toEqual(proof);
    // Learned beside the publish, not before it is answered.
    await gate.drain();
    expect(await store.postage.hasRelationship(mallory.address, bob.address)).toBe(true);
    expect(gate.stats).toEqual({ learned: 1, learningSkipped: 0, learningFailed: 0 });
    // The public SDK's invitation, proven by its token, is learned too; a relayed one without a proof is not looked at.
    const bobToAlice = await invitationEnvelope(bob, alice);
    await gate.admit([asEnvelope(bobToAlice)], token(bob));
    await gate.admit([asEnvelope(await invitationEnvelope(alice, mallory))], relayed);
    await gate.drain();
    expect(await store.postage.hasRelationship(bob.address, alice.address)).toBe(true);
    expect(await store.postage.hasRelationship(alice.address, mallory.address)).toBe(false);
    expect(gate.stats.learned).toBe(2);
    expect((await gate.admit([asEnvelope(invite, Uint8Array.of(1, 2, 3))], token(mallory))).envelopes[0].postage).toBeUndefined();
    expect(await gate.quote(mallory.address)).toEqual({ postage: "off" });
  });
});
