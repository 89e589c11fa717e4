// docs/postage.md §3.4: which relationship an accepted envelope proves. The record (inviter S, invitee R) later
// lets R write to S free ("S contacted me before"), so it must only ever come from an envelope S provably wrote:
// one published with S's auth token, sealed by S, or paid for by S's stamp. A header alone proves nothing — anyone
// can copy S's public bundle into one.
//
// Unlike §3.4 as written, a `prior_contact` basis is not evidence on its own. It shows that R contacted S, not that
// S wrote this envelope, and accepting it as evidence reopens the forged-header attack: X pays once to reach B
// (record (X, B)), then writes to its own topic, through a door without a token, an envelope with the copied
// header "B → X" and basis prior_contact. The claimed writer B passes the check (X contacted B), and a record
// (B, X) would let X write to B free from then on. A prior-contact envelope whose writer is proven (token, seal)
// still yields its record through that proof.
import { toChecksumAddress } from "@xmtp-ts/crypto";
import type { PostageDecision, PostageInput } from "./verify.js";

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
export function relationshipEvidence(input: PostageInput, decision: PostageDecision): RelationshipRecord | undefined {
  if (decision.outcome === "not-applicable" || decision.outcome === "owner") return undefined;
  const { facts } = decision;
  const header = facts?.header;
  if (!facts || !header) return undefined;
  const { sender, recipient } = header;
  if (recipient !== facts.topic.owner || sender === recipient) return undefined;
  const tokenWallet = input.door.kind === "token" ? toChecksumAddress(input.door.wallet) : undefined;
  const proven =
    tokenWallet === sender ||
    facts.sealWallet === sender ||
    (decision.outcome === "paid" && decision.stamp.payer === sender);
  return proven ? { inviter: sender, invitee: recipient } : undefined;
}
