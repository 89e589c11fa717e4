// docs/postage.md §3.4: which relationship an accepted envelope proves. The record (inviter S, invitee R) later
// lets R write to S free ("S contacted me before"), so it must only ever come from an envelope S provably wrote to
// R's reach topic: one published with S's auth token or sealed by S (then S is the writer and R the topic's owner,
// whatever the bytes say), or one whose header names S and that S's own stamp paid for. A header alone proves
// nothing: anyone can copy S's public bundle into one.
//
// A `prior_contact` basis is no evidence on its own either. It shows that R contacted S, not that S wrote this
// envelope, and accepting it as evidence reopens the forged-header attack: X pays once to reach B (record (X, B)),
// then writes to its own topic, through a door without a token, an envelope with the copied header "B → X" and basis
// prior_contact. The claimed writer B passes the check (X contacted B), and a record (B, X) would let X write to B
// free from then on. A prior-contact envelope whose writer is proven (token, seal) still yields its record.
import type { PostageDecision } from "./verify.js";

export interface RelationshipRecord {
  /** The wallet that wrote first (the header's sender). */
  inviter: string;
  /** The owner of the reach topic it wrote to (the header's recipient). */
  invitee: string;
}

/**
 * The record to store for an envelope the node accepted (stored), or undefined. Call it whatever the node's
 * postage mode: with postage off the decision may be a refusal the node did not enforce, and tokens and seals
 * still prove their writers.
 */
export function relationshipEvidence(decision: PostageDecision): RelationshipRecord | undefined {
  if (decision.outcome === "not-applicable" || decision.outcome === "owner") return undefined;
  const { facts } = decision;
  if (!facts) return undefined;
  const owner = facts.topic.owner;
  const writer = facts.writer;
  // The token's or the seal's wallet wrote to the owner's reach topic: it contacted the owner.
  if (writer && writer.evidence !== "header") return writer.address === owner ? undefined : { inviter: writer.address, invitee: owner };
  // Only claimed by the header: proven when the claimed sender paid for this very envelope.
  const header = facts.header;
  if (!header || decision.outcome !== "paid" || decision.stamp.payer !== header.sender) return undefined;
  if (header.recipient !== owner || header.sender === owner) return undefined;
  return { inviter: header.sender, invitee: owner };
}
