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

/** Learning tasks (one per publish batch) waiting or running at most, with postage off. */
const MAX_PENDING_LEARNING = 64;

const nowFromClock = () => BigInt(Date.now()) * 1_000_000n;

export class PostageGate {
  readonly mode: PostageMode;
  /** Postage off: relationships learned in the background, and those not learned (too busy, or failed). */
  readonly stats = { learned: 0, learningSkipped: 0, learningFailed: 0 };
  private readonly learning = new Set<Promise<void>>();
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
    if (!this.options.required) {
      // Postage off: nothing is refused, and the publish does not wait for the learning of relationships, which
      // verifies key bundles (about 3 ms of CPU for a stranger's invitation): that runs beside it, bounded.
      const carried = envelopes.map(carriedProof);
      this.learnLater(carried, door);
      return { envelopes: carried, relationships: [] };
    }
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

  /** Resolves once the relationships being learned in the background (postage off) are recorded. */
  async drain(): Promise<void> {
    while (this.learning.size > 0) await Promise.allSettled([...this.learning]);
  }

  /**
   * Postage off: learns, after the fact, the relationships the envelopes prove. Only envelopes that can prove a writer
   * are looked at (an auth token's, or a proof's seal or stamp); when too many are waiting, new ones are skipped.
   */
  private learnLater(envelopes: readonly Envelope[], { door, accepting }: GateDoor): void {
    const candidates = envelopes.filter((e) => reachTopicKind(e.contentTopic) !== undefined && (door.kind === "token" || e.postage));
    if (candidates.length === 0) return;
    if (this.learning.size >= MAX_PENDING_LEARNING) {
      this.stats.learningSkipped += candidates.length;
      return;
    }
    const task = (async () => {
      const relationships: Relationship[] = [];
      for (const envelope of candidates) {
        const input = this.inputFor(envelope, decodeOrUndefined(envelope.postage), door, accepting);
        const evidence = relationshipEvidence(await checkPostage(input));
        if (evidence) relationships.push({ inviter: evidence.inviter, invitee: evidence.invitee, atNs: envelope.timestampNs });
      }
      if (relationships.length > 0) await this.options.ledger.recordRelationships(relationships);
      this.stats.learned += relationships.length;
    })()
      .catch(() => void this.stats.learningFailed++)
      .finally(() => this.learning.delete(task));
    this.learning.add(task);
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
    const required = this.options.required!;
    let proof: postage.PostageProof | undefined;
    if (envelope.postage) {
      try {
        proof = decodePostageProof(envelope.postage);
      } catch (error) {
        if (!(error instanceof PostageProofError)) throw error;
        throw this.refusal("malformed_proof", `postage refused: ${error.message}`);
      }
    }
    const input = this.inputFor(envelope, proof, door, accepting);
    let decision = await checkPostage(input);
    // A publish with no basis (the public SDK's, or a client's seal alone): the node looks for a prior contact
    // itself, and when there is one, the envelope travels on with that basis for the nodes after this one.
    if (decision.outcome === "refused" && decision.code === "postage_required" && (!proof || proof.basis.case === undefined)) {
      const withContact = priorContactProof(proof?.seal);
      const retried = await checkPostage({ ...input, proof: withContact });
      if (retried.outcome === "free") {
        decision = retried;
        envelope = { ...envelope, postage: encodePostageProof(withContact) };
      }
    }
    const evidence = relationshipEvidence(decision);
    const relationship = evidence && { inviter: evidence.inviter, invitee: evidence.invitee, atNs: envelope.timestampNs };
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

  private inputFor(envelope: Envelope, proof: postage.PostageProof | undefined, door: PostageDoor, accepting: boolean): PostageInput {
    const required = this.options.required;
    // The relay and catch-up computed the digest when they validated the envelope.
    const known = (envelope as Partial<StoredEnvelope>).digest;
    return {
      contentTopic: envelope.contentTopic,
      message: envelope.message,
      digest: known instanceof Uint8Array ? known : envelopeDigest(envelope.contentTopic, envelope.message),
      proof,
      door,
      terms: required && {
        chainId: required.chainId,
        vault: required.vault,
        operator: accepting ? required.operator : undefined,
        priceWei: (bytes) => required.priceWei + required.pricePerByteWei * BigInt(bytes),
      },
      relationships: { has: (inviter, invitee) => this.options.ledger.hasRelationship(inviter, invitee) },
      // docs/postage.md §3.3: grants expire against the node's clock at a door, against the envelope's own time when
      // relayed.
      nowNs: accepting ? this.nowNs() : envelope.timestampNs,
      acceptingDoor: accepting,
      keyBundleVerifier: this.keyBundleVerifier,
    };
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

/** Postage off: a proof is carried on a reach topic when it decodes, and dropped everywhere else. */
function carriedProof(envelope: Envelope): Envelope {
  if (envelope.postage === undefined) return envelope;
  if (reachTopicKind(envelope.contentTopic) === undefined) return withoutProof(envelope);
  return decodeOrUndefined(envelope.postage) ? envelope : withoutProof(envelope);
}

function decodeOrUndefined(bytes: Uint8Array | undefined): postage.PostageProof | undefined {
  if (!bytes) return undefined;
  try {
    return decodePostageProof(bytes);
  } catch (error) {
    if (error instanceof PostageProofError) return undefined;
    throw error;
  }
}

function withoutProof(envelope: Envelope): Envelope {
  if (envelope.postage === undefined) return envelope;
  const { postage: _dropped, ...rest } = envelope;
  return rest;
}
