// The postage check every envelope passes at every door (docs/postage.md): HTTP publish and Waku LightPush (where
// this node accepts envelopes for clients), the relay and catch-up (where it takes them from peers).
//
// checkPostage (@xmtp-ts/postage) decides from the envelope, its proof and the relationship records; this gate adds
// what needs the node's state: a stamp's balance on chain and its order among the payer's vouchers (at an
// accepting door only: a relaying node cannot see a payer's other vouchers, and only the named operator redeems), the
// relationships learned, and the proof kept with the envelope. With postage off nothing is refused, but
// relationships are still learned and proofs still carried, so that a network can turn postage on later.
import { KeyBundleVerifier, toChecksumAddress } from "@xmtp-ts/crypto";
import type { postage } from "@xmtp-ts/proto";
import {
  PostageProofError,
  checkPostage,
  decodePostageProof,
  encodePostageProof,
  priorContactProof,
  reachTopicKind,
  relationshipEvidence,
  type PostageDoor,
  type PostageInput,
  type VerifiedStamp,
} from "@xmtp-ts/postage";
import type { Envelope, StoredEnvelope } from "../store/EnvelopeStore.js";
import { envelopeDigest } from "../store/digest.js";
import type { PostageLedger, Relationship } from "../store/postageLedger.js";
import type { ChannelBalances } from "./channelBalances.js";
import { PostageRefusedError, type NodePostageRefusalCode } from "./postageRefusedError.js";
import { postageQuote, type PostageQuote, type QuoteTerms } from "./postageQuote.js";

export type PostageMode = "off" | "required";

/** What a gate needs in "required" mode: the network, this node's operator, prices and the payers' channels. */
export interface PostageRequirement extends QuoteTerms {
  balances: ChannelBalances;
}

export interface PostageGateOptions {
  ledger: PostageLedger;
  /** Absent: postage off. */
  required?: PostageRequirement;
  nowNs?: () => bigint;
  /** Told of every decision, for metrics. */
  onDecision?: (event: PostageEvent) => void;
}

export type PostageEvent =
  | { outcome: "free"; basis: "prior_contact" | "grant" }
  | { outcome: "paid"; wei: bigint }
  | { outcome: "refused"; code: NodePostageRefusalCode };

/** Where an envelope comes in. `accepting`: HTTP publish or LightPush, false for relay and catch-up. */
export interface GateDoor {
  door: PostageDoor;
  accepting: boolean;
}

export interface Admission {
  /** The envelopes as they are to be stored: with the proof they are kept with, or none. */
  envelopes: Envelope[];
  relationships: Relationship[];
}

const nowFromClock = () => BigInt(Date.now()) * 1_000_000n;

export class PostageGate {
  readonly mode: PostageMode;
  private readonly nowNs: () => bigint;
  // Header parsing verifies two key bundles per envelope; an invitation's parties recur (and the node tries a
  // prior contact after a failed first decision), so verified bundles are remembered.
  private readonly keyBundleVerifier = new KeyBundleVerifier();

  constructor(private readonly options: PostageGateOptions) {
    this.mode = options.required ? "required" : "off";
    this.nowNs = options.nowNs ?? nowFromClock;
  }

  /**
   * Admits every envelope or refuses the whole batch with PostageRefusedError (nothing of a refused request is
   * stored). Relationships proven by the admitted envelopes are recorded before this resolves.
   */
  async admit(envelopes: readonly Envelope[], door: GateDoor): Promise<Admission> {
    const admitted: Envelope[] = [];
    const relationships: Relationship[] = [];
    for (const envelope of envelopes) {
      const one = await this.admitOne(envelope, door);
      admitted.push(one.envelope);
      if (one.relationship) relationships.push(one.relationship);
    }
    if (relationships.length > 0) await this.options.ledger.recordRelationships(relationships);
    return { envelopes: admitted, relationships };
  }

  /** The node's terms, and the payer's standing when one is named. */
  async quote(payer?: string): Promise<PostageQuote> {
    const required = this.options.required;
    if (!required || payer === undefined) return postageQuote(required);
    const [channel, last] = await Promise.all([
      required.balances.get(payer, true),
      this.options.ledger.lastVoucher(required.operator, payer),
    ]);
    return postageQuote(required, {
      address: payer,
      standing: {
        acceptedCumulative: last?.cumulative ?? 0n,
        deposited: channel.deposited,
        redeemed: channel.redeemed,
        withdrawalPending: channel.unlockAt !== 0n,
      },
    });
  }

  private async admitOne(envelope: Envelope, { door, accepting }: GateDoor): Promise<{ envelope: Envelope; relationship?: Relationship }> {
    // Proofs are kept only where they mean something: on reach topics.
    if (reachTopicKind(envelope.contentTopic) === undefined) return { envelope: withoutProof(envelope) };
    const required = this.options.required;
    let proof: postage.PostageProof | undefined;
    if (envelope.postage) {
      try {
        proof = decodePostageProof(envelope.postage);
      } catch (error) {
        if (!(error instanceof PostageProofError)) throw error;
        if (required) throw this.refusal("malformed_proof", `postage refused: ${error.message}`);
        envelope = withoutProof(envelope);
      }
    }
    // The relay and catch-up computed the digest when they validated the envelope.
    const known = (envelope as Partial<StoredEnvelope>).digest;
    const digest = known instanceof Uint8Array ? known : envelopeDigest(envelope.contentTopic, envelope.message);
    const input: PostageInput = {
      contentTopic: envelope.contentTopic,
      message: envelope.message,
      digest,
      proof,
      door,
      terms: required && {
        chainId: required.chainId,
        vault: required.vault,
        operator: accepting ? required.operator : undefined,
        priceWei: (bytes) => required.priceWei + required.pricePerByteWei * BigInt(bytes),
      },
      relationships: { has: (inviter, invitee) => this.options.ledger.hasRelationship(inviter, invitee) },
      // §3.3: grants expire against the node's clock at a door, against the envelope's own time when relayed.
      nowNs: accepting ? this.nowNs() : envelope.timestampNs,
      acceptingDoor: accepting,
      keyBundleVerifier: this.keyBundleVerifier,
    };
    let decision = await checkPostage(input);
    // A publish with no basis (the public SDK's, or a client's seal alone): the node looks for a prior contact
    // itself, and when there is one, the envelope travels on with that basis for the nodes after this one.
    if (decision.outcome === "refused" && decision.code === "postage_required" && (!proof || proof.basis.case === undefined)) {
      const withContact = priorContactProof(proof?.seal);
      const retried = await checkPostage({ ...input, proof: withContact });
      if (retried.outcome === "free") {
        decision = retried;
        proof = withContact;
        envelope = { ...envelope, postage: encodePostageProof(withContact) };
      }
    }
    const evidence = relationshipEvidence({ ...input, proof }, decision);
    const relationship = evidence && { inviter: evidence.inviter, invitee: evidence.invitee, atNs: envelope.timestampNs };
    if (!required) return { envelope, relationship };
    switch (decision.outcome) {
      case "not-applicable":
        return { envelope: withoutProof(envelope) };
      case "owner":
        return { envelope, relationship };
      case "free":
        this.options.onDecision?.({ outcome: "free", basis: decision.basis });
        return { envelope, relationship };
      case "paid":
        if (accepting) await this.settle(decision.stamp, envelope, required);
        return { envelope, relationship };
      case "refused":
        throw this.refusal(decision.code, decision.reason);
    }
  }

  /** At an accepting door: the stamp must be covered by the payer's deposit and follow its last voucher by the price. */
  private async settle(stamp: VerifiedStamp, envelope: Envelope, required: PostageRequirement): Promise<void> {
    const price = required.priceWei + required.pricePerByteWei * BigInt(envelope.message.length);
    let channel = await required.balances.get(stamp.payer);
    if (stamp.cumulative > channel.deposited && channel.unlockAt === 0n) channel = await required.balances.get(stamp.payer, true);
    if (channel.unlockAt !== 0n) {
      throw this.refusal(
        "withdrawal_pending",
        `postage refused: ${toChecksumAddress(stamp.payer)} has asked to withdraw its deposit for operator ` +
          `${toChecksumAddress(required.operator)}; deposit again to cancel the withdrawal`,
      );
    }
    if (stamp.cumulative > channel.deposited) {
      throw this.refusal(
        "stamp_over_deposit",
        `postage refused: the stamp's cumulative ${stamp.cumulative} wei exceeds the ${channel.deposited} wei ` +
          `${toChecksumAddress(stamp.payer)} has deposited for operator ${toChecksumAddress(required.operator)}`,
      );
    }
    const acceptance = await this.options.ledger.acceptVoucher(
      { operator: required.operator, payer: stamp.payer, cumulative: stamp.cumulative, digest: stamp.digest, signature: stamp.signature },
      price,
      this.nowNs(),
    );
    if (!acceptance.accepted) {
      throw this.refusal(
        "voucher_not_increasing",
        `postage refused: the stamp's cumulative ${stamp.cumulative} wei does not exceed the last one accepted from ` +
          `${toChecksumAddress(stamp.payer)}, ${acceptance.lastCumulative} wei, by the price ${price} wei`,
      );
    }
    if (!acceptance.retry) this.options.onDecision?.({ outcome: "paid", wei: price });
  }

  /** The refusal, with the node's terms (a payer's own standing is in GET /postage/v1/quote?payer=…). */
  private refusal(code: NodePostageRefusalCode, reason: string): PostageRefusedError {
    this.options.onDecision?.({ outcome: "refused", code });
    const required = this.options.required;
    return new PostageRefusedError(code, reason, required && postageQuote(required));
  }
}

function withoutProof(envelope: Envelope): Envelope {
  if (envelope.postage === undefined) return envelope;
  const { postage: _dropped, ...rest } = envelope;
  return rest;
}
