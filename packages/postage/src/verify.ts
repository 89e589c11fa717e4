// The postage decision a node makes at every door (docs/postage.md §1-§4): may this envelope be stored and
// relayed, and on what grounds? Pure apart from the relationship lookup: no clock, no chain, no store writes. What
// it cannot know (the payer's balance, the last voucher it accepted) it hands back in the "paid" outcome for the
// node to settle against its own state.
//
// Order of the decision:
//   1. only reach topics (docs/postage.md §1) are subject to postage; a topic that looks like one but has no owner is
//      refused;
//   2. the writer (docs/postage.md §2): the auth token's wallet, else the seal's wallet, else the header's claimed
//      sender; a seal must verify, and must match the token where there is one;
//   3. the owner writing to its own topic is free;
//   4. otherwise the proof's basis must hold for that writer: a prior contact, a grant, or a stamp.
import { toChecksumAddress, type KeyBundleVerifier } from "@xmtp-ts/crypto";
import type { postage } from "@xmtp-ts/proto";
import { ENVELOPE_DIGEST_BYTES } from "./envelopeDigest.js";
import { verifyRelationshipGrant, type GrantRefusalCode } from "./grant.js";
import { headerParties, type HeaderParties } from "./headers.js";
import { PostageProofError, validatePostageProof } from "./proof.js";
import { parseReachTopic, reachTopicKind, type ReachTopic } from "./reachTopics.js";
import { InvalidSenderSealError, verifySenderSeal } from "./seal.js";
import { verifyStamp, type StampRefusalCode, type VerifiedStamp } from "./stamp.js";

/**
 * How the envelope reached this node. "token": HTTP publish with an auth token, whose wallet is verified.
 * "untrusted": Waku LightPush, relay, catch-up: nothing but the envelope and its proof says who wrote it.
 */
export type PostageDoor = { kind: "token"; wallet: string } | { kind: "untrusted" };

/** The node's postage network and prices (docs/postage.md §4, §5). */
export interface PostageTerms {
  chainId: bigint;
  vault: string;
  /** This node's operator address; needed only at an accepting door, where a stamp must pay it. */
  operator?: string;
  /** The price in wei of an envelope whose message has this many bytes. */
  priceWei(messageBytes: number): bigint;
}

/** The node's relationship records (docs/postage.md §3.4): did `inviter` write first to `invitee`'s reach topic? */
export interface RelationshipLookup {
  has(inviter: string, invitee: string): boolean | Promise<boolean>;
}

export interface PostageInput {
  contentTopic: string;
  message: Uint8Array;
  /** envelopeDigest(contentTopic, message), which the node has already computed; not recomputed here. */
  digest: Uint8Array;
  proof?: postage.PostageProof;
  door: PostageDoor;
  /**
   * The node's terms; absent when the node runs with postage off. It still decides (to learn relationships from
   * what it accepts) but cannot check grants or stamps, which are bound to a network.
   */
  terms?: PostageTerms;
  relationships: RelationshipLookup;
  /**
   * The instant a grant's expiry is checked against (docs/postage.md §3.3): the node's clock when accepting at a door,
   * the envelope's own timestamp when relaying (a relayed envelope may be older than the grant's end).
   */
  nowNs: bigint;
  /** True at the door where this node accepts the envelope for a client (HTTP publish, LightPush), false when relaying. */
  acceptingDoor: boolean;
  /** Remembers verified key bundles across calls (header parsing verifies two per envelope). */
  keyBundleVerifier?: KeyBundleVerifier;
}

export type WriterEvidence = "token" | "seal" | "header";

/** What was established about the envelope on the way to the decision; relationshipEvidence reads it. */
export interface EnvelopeFacts {
  topic: ReachTopic;
  /** The seal's wallet, when the proof carries a seal that verified. */
  sealWallet?: string;
  /** The header's parties, verified bundles; undefined when unreadable or not needed (the owner's writes). */
  header?: HeaderParties;
  /** Who wrote the envelope and how that is known; undefined when it could not be told. */
  writer?: { address: string; evidence: WriterEvidence };
}

export type PostageRefusalCode =
  | "malformed_reach_topic"
  | "malformed_proof"
  | "seal_invalid"
  | "seal_not_token_wallet"
  | "writer_unknown"
  | "postage_required"
  | "no_prior_contact"
  | "postage_off"
  | GrantRefusalCode
  | StampRefusalCode;

export type PostageDecision =
  /** Not a reach topic: postage does not apply. */
  | { outcome: "not-applicable" }
  /** The topic's owner wrote it (its own copy of an invitation or intro). */
  | { outcome: "owner"; facts: EnvelopeFacts }
  | { outcome: "free"; basis: "prior_contact" | "grant"; writer: string; facts: EnvelopeFacts }
  /** The stamp's signature, binding and network hold; the node still checks balance and ordering. */
  | { outcome: "paid"; stamp: VerifiedStamp; writer: string; facts: EnvelopeFacts }
  /** `reason` is for people (an HTTP 402 message), `code` for programs and metrics. */
  | { outcome: "refused"; code: PostageRefusalCode; reason: string; facts?: EnvelopeFacts };

type Refusal = Extract<PostageDecision, { outcome: "refused" }>;

function refused(code: PostageRefusalCode, reason: string, facts?: EnvelopeFacts): Refusal {
  const worded = reason.startsWith("postage required") ? reason : `postage refused: ${reason}`;
  return { outcome: "refused", code, reason: worded, facts };
}

/** "writing to T costs N wei (vault V on chain C, operator O)": what docs/postage.md §4 asks a refusal to name. */
function priceSentence(input: PostageInput, owner: string): string {
  const { terms } = input;
  if (!terms) return `writing to ${input.contentTopic} needs a prior contact or a relationship grant from ${owner}`;
  const operator = input.acceptingDoor && terms.operator !== undefined ? `, operator ${toChecksumAddress(terms.operator)}` : "";
  return (
    `writing to ${input.contentTopic} costs ${terms.priceWei(input.message.length)} wei ` +
    `(vault ${toChecksumAddress(terms.vault)} on chain ${terms.chainId}${operator})`
  );
}

/** The writer and the facts behind it, or a refusal when the seal is bad or nobody can be named. */
async function establishWriter(
  input: PostageInput,
  topic: ReachTopic,
): Promise<{ facts: EnvelopeFacts; owner: boolean } | Refusal> {
  const facts: EnvelopeFacts = { topic };
  const tokenWallet = input.door.kind === "token" ? toChecksumAddress(input.door.wallet) : undefined;
  const seal = input.proof?.seal;
  if (seal) {
    try {
      facts.sealWallet = verifySenderSeal(seal, input.digest);
    } catch (err) {
      if (!(err instanceof InvalidSenderSealError)) throw err;
      return refused("seal_invalid", err.message, facts);
    }
    if (tokenWallet !== undefined && facts.sealWallet !== tokenWallet) {
      return refused("seal_not_token_wallet", `the envelope is sealed by ${facts.sealWallet}, but the auth token is ${tokenWallet}'s`, facts);
    }
  }
  const proven = tokenWallet ?? facts.sealWallet;
  if (proven !== undefined) {
    // A proven writer needs no header: who it wrote to is the topic's owner (docs/postage.md §3.4). Reading one would
    // verify two key bundles (four signatures) on every publish to a reach topic for nothing.
    facts.writer = { address: proven, evidence: tokenWallet !== undefined ? "token" : "seal" };
    return { facts, owner: proven === topic.owner };
  }
  facts.header = await headerParties(topic.kind, input.message, input.keyBundleVerifier);
  const { header } = facts;
  if (!header) {
    return refused(
      "writer_unknown",
      `cannot tell who wrote this envelope to ${input.contentTopic}: no auth token, no sender seal, and no readable header`,
      facts,
    );
  }
  // docs/postage.md §3.5: the header names its writer only when it is addressed to the topic's owner. The one other
  // header a reach topic legitimately carries is the owner's own copy of what it sent, which names the owner as sender.
  if (header.recipient === topic.owner || header.sender === topic.owner) {
    facts.writer = { address: header.sender, evidence: "header" };
    return { facts, owner: header.sender === topic.owner };
  }
  return refused(
    "writer_unknown",
    `cannot tell who wrote this envelope to ${input.contentTopic}: no auth token, no sender seal, and its header ` +
      `(from ${header.sender} to ${header.recipient}) does not involve the topic owner ${topic.owner}`,
    facts,
  );
}

/** Decides whether an envelope may enter this node (at a door) or pass through it (relaying); see the top. */
export async function checkPostage(input: PostageInput): Promise<PostageDecision> {
  if (input.digest.length !== ENVELOPE_DIGEST_BYTES) {
    throw new TypeError(`an envelope digest is ${ENVELOPE_DIGEST_BYTES} bytes, got ${input.digest.length}`);
  }
  const topic = parseReachTopic(input.contentTopic);
  if (!topic) {
    if (reachTopicKind(input.contentTopic) === undefined) return { outcome: "not-applicable" };
    return refused(
      "malformed_reach_topic",
      `${input.contentTopic} is not a reach topic of an EIP-55 address (/xmtp/0/invite-<address>/proto or ` +
        `/xmtp/0/intro-<address>/proto); nobody reads it`,
    );
  }
  const { proof } = input;
  if (proof) {
    try {
      validatePostageProof(proof);
    } catch (err) {
      if (!(err instanceof PostageProofError)) throw err;
      return refused("malformed_proof", err.message);
    }
  }

  const established = await establishWriter(input, topic);
  if ("outcome" in established) return established;
  const { facts } = established;
  if (established.owner) return { outcome: "owner", facts };
  const writer = facts.writer!.address;
  const owner = topic.owner;

  const basis = proof?.basis ?? { case: undefined };
  switch (basis.case) {
    case undefined:
      return refused(
        "postage_required",
        `postage required: ${priceSentence(input, owner)}; free with a prior contact or a relationship grant from ${owner}`,
        facts,
      );
    case "priorContact": {
      if (await input.relationships.has(owner, writer)) return { outcome: "free", basis: "prior_contact", writer, facts };
      return refused(
        "no_prior_contact",
        `postage required: no prior contact from ${owner} to ${writer} is known to this node; ` +
          `${priceSentence(input, owner)}; free with a relationship grant from ${owner}`,
        facts,
      );
    }
    case "grant": {
      if (!input.terms) return refused("postage_off", "this node has postage off and cannot check a relationship grant", facts);
      const check = verifyRelationshipGrant(basis.value, {
        topicOwner: owner,
        writer,
        chainId: input.terms.chainId,
        vault: input.terms.vault,
        nowNs: input.nowNs,
      });
      if (!check.ok) return refused(check.code, check.reason, facts);
      return { outcome: "free", basis: "grant", writer, facts };
    }
    case "stamp": {
      if (!input.terms) return refused("postage_off", "this node has postage off and cannot check a postage stamp", facts);
      const check = verifyStamp(basis.value, {
        digest: input.digest,
        chainId: input.terms.chainId,
        vault: input.terms.vault,
        operator: input.terms.operator,
        acceptingDoor: input.acceptingDoor,
      });
      if (!check.ok) return refused(check.code, check.reason, facts);
      return { outcome: "paid", stamp: check.stamp, writer, facts };
    }
  }
}
