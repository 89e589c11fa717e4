// Publishing envelopes that write to other wallets' reach topics (invitations, v1 intros) with a postage proof each
// (docs/postage.md §3). Every such envelope is sealed with our identity key (so any door, and every relaying node,
// knows who wrote it) and claims the cheapest basis the client believes in: the recipient's relationship grant, a
// prior contact (the recipient wrote to us first), a stamp when a payer is configured, else none. A node that
// refuses (402) gets one more try with stamps when there is a payer; without one, the refusal becomes a
// PostageRequiredError carrying the node's terms. Our own reach topics (the sender's copy) take no proof, nor does
// any other topic: conversation messages never come through here.
import {
  encodePostageProof,
  envelopeDigest,
  grantProof,
  identityKeyMaterialOf,
  InvalidIdentityKeyError,
  makeSenderSeal,
  parseReachTopic,
  priorContactProof,
  sealOnlyProof,
  stampProof,
  type IdentityKeyMaterial,
} from "@xmtp-ts/postage";
import type { postage } from "@xmtp-ts/proto";
import type { UserKeys } from "@xmtp-ts/crypto";
import type { Envelope, MessageApi } from "../api/index.js";
import { PostageRequiredError, type PostageBasisKind } from "./errors.js";
import type { GrantStore } from "./GrantStore.js";
import type { PriorContacts } from "./PriorContacts.js";
import { postageRefusalOf, type PostageRefusal } from "./refusal.js";
import type { StampedBatch, Stamper } from "./Stamper.js";

export interface ReachPublisherOptions {
  api: MessageApi;
  /** This client's wallet (EIP-55): its own reach topics need no proof. */
  address: string;
  keys: Pick<UserKeys, "identityPrivateKey" | "signedBundle">;
  priorContacts: PriorContacts;
  grants: GrantStore;
  /** Present when a payer is configured. */
  stamper?: Stamper;
}

/** An envelope written to another wallet's reach topic, and whose topic it is. */
interface ReachTarget {
  index: number;
  owner: string;
}

/** The basis a target claims before any stamp: a free one, or nothing yet. */
type FreeBasis = { kind: "grant"; grant: postage.SignedRelationshipGrant } | { kind: "priorContact" } | { kind: "none" };

/** The reach topic's owner when `topic` is someone else's reach topic; undefined for every other topic. */
export function othersReachTopicOwner(topic: string, ownAddress: string): string | undefined {
  const reach = parseReachTopic(topic);
  return reach && reach.owner !== ownAddress ? reach.owner : undefined;
}

export class ReachPublisher {
  private identity: IdentityKeyMaterial | null | undefined;

  constructor(private readonly options: ReachPublisherOptions) {}

  /** Publishes `envelopes` (one request), with a proof on each envelope written to someone else's reach topic. */
  async publish(envelopes: Envelope[]): Promise<void> {
    const targets = this.targetsOf(envelopes);
    if (targets.length === 0) return this.options.api.publish(envelopes);
    const { stamper } = this.options;
    const free = targets.map((target) => this.freeBasis(target.owner));
    const needsStamps = free.map((basis) => basis.kind === "none" && stamper !== undefined);

    // What each target's proof claimed in the last attempt, filled in as the proofs are made: a refusal names it.
    const attempted: PostageBasisKind[] = [];
    let refusal: PostageRefusal | undefined;
    try {
      await this.send(envelopes, targets, free, needsStamps, attempted);
      return;
    } catch (error) {
      refusal = postageRefusalOf(error);
      if (!refusal) throw error;
    }
    if (!stamper || needsStamps.every(Boolean)) throw this.required(targets, refusal, attempted, stamper !== undefined);

    // The node knew no relationship (or not the grant): pay for every reach envelope this time.
    try {
      await this.send(envelopes, targets, free, targets.map(() => true), attempted);
    } catch (error) {
      const again = postageRefusalOf(error);
      if (!again) throw error;
      throw this.required(targets, again, attempted, true);
    }
  }

  /** Publishes once with proofs; stamps are made, and the publish made, inside the payer's queue. */
  private async send(
    envelopes: Envelope[],
    targets: ReachTarget[],
    free: FreeBasis[],
    stamped: boolean[],
    attempted: PostageBasisKind[],
  ): Promise<void> {
    const paid = targets.filter((_, i) => stamped[i]);
    if (paid.length === 0) return this.options.api.publish(this.withProofs(envelopes, targets, free, stamped, undefined, attempted));
    const requests = paid.map((target) => envelopes[target.index]);
    await this.options.stamper!.withStamps(requests, (batch) =>
      this.options.api.publish(this.withProofs(envelopes, targets, free, stamped, batch, attempted)),
    );
  }

  /**
   * Copies of `envelopes` with a proof on each target; `batch` holds the stamps of the stamped targets in order
   * (none when the node turned out to have postage off). Records each target's basis in `attempted`.
   */
  private withProofs(
    envelopes: Envelope[],
    targets: ReachTarget[],
    free: FreeBasis[],
    stamped: boolean[],
    batch: StampedBatch | undefined,
    attempted: PostageBasisKind[],
  ): Envelope[] {
    const out = envelopes.slice();
    let nextStamp = 0;
    targets.forEach((target, i) => {
      const envelope = envelopes[target.index];
      const seal = this.seal(envelope);
      const basis = free[i];
      let proof: postage.PostageProof | undefined;
      if (stamped[i] && batch) {
        proof = stampProof(batch.stamps[nextStamp++], seal);
        attempted[i] = "stamp";
      } else if (!stamped[i] && basis.kind === "grant") {
        proof = grantProof(basis.grant, seal);
        attempted[i] = "grant";
      } else if (!stamped[i] && basis.kind === "priorContact") {
        proof = priorContactProof(seal);
        attempted[i] = "priorContact";
      } else if (seal) {
        // No basis (or postage off, so no stamp): the seal alone still tells the node who wrote it.
        proof = sealOnlyProof(seal);
        attempted[i] = "seal";
      } else {
        attempted[i] = "none";
      }
      out[target.index] = proof ? { ...envelope, postage: encodePostageProof(proof) } : envelope;
    });
    return out;
  }

  private targetsOf(envelopes: Envelope[]): ReachTarget[] {
    const targets: ReachTarget[] = [];
    envelopes.forEach((envelope, index) => {
      const owner = othersReachTopicOwner(envelope.contentTopic, this.options.address);
      if (owner !== undefined) targets.push({ index, owner });
    });
    return targets;
  }

  private freeBasis(owner: string): FreeBasis {
    const grant = this.options.grants.forGrantor(owner);
    if (grant) return { kind: "grant", grant: grant.signed };
    if (this.options.priorContacts.has(owner)) return { kind: "priorContact" };
    return { kind: "none" };
  }

  /** Our seal over `envelope`; undefined when our identity key cannot seal (not wallet-signed: the token still proves us). */
  private seal(envelope: Envelope): postage.SenderSeal | undefined {
    if (this.identity === undefined) {
      try {
        this.identity = identityKeyMaterialOf(this.options.keys);
      } catch (err) {
        if (!(err instanceof InvalidIdentityKeyError)) throw err;
        this.identity = null;
      }
    }
    if (this.identity === null) return undefined;
    try {
      return makeSenderSeal(this.identity, envelopeDigest(envelope.contentTopic, envelope.message));
    } catch (err) {
      if (!(err instanceof InvalidIdentityKeyError)) throw err;
      this.identity = null;
      return undefined;
    }
  }

  private required(targets: ReachTarget[], refusal: PostageRefusal, attempted: PostageBasisKind[], payerConfigured: boolean): PostageRequiredError {
    return new PostageRequiredError({
      recipients: [...new Set(targets.map((target) => target.owner))],
      serverMessage: refusal.serverMessage,
      quote: refusal.quote,
      attempted,
      payerConfigured,
      cause: refusal.error,
    });
  }
}
