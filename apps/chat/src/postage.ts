// Postage in words (docs/postage.md): what a first message to a stranger costs on this node, whether this one is
// free, and why the node refused one. Pure functions, no DOM: the app renders what they return.
//
// This app has no payer (its wallets only sign XMTP's identity texts), so it never pays postage: it explains it.
import type { PostageGrant, PostageQuote, PostageRequiredQuote } from "@xmtp-ts/client";
import { fullTime } from "./format.js";

const WEI_PER_ETH = 10n ** 18n;

/** Chains a node is likely to run its vault on; any other is shown by its id alone. */
const CHAIN_NAMES: Record<string, string> = {
  "1": "Ethereum",
  "10": "OP Mainnet",
  "8453": "Base",
  "42161": "Arbitrum One",
  "17000": "Holesky testnet",
  "84532": "Base Sepolia testnet",
  "11155111": "Sepolia testnet",
  "31337": "local development chain",
};

/** 1234567 → "1,234,567" (no locale: the same digits everywhere). */
export function groupDigits(value: bigint): string {
  const sign = value < 0n ? "-" : "";
  const digits = (value < 0n ? -value : value).toString();
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Wei as ETH, exactly (no floating point): 1000 → "0.000000000000001", 1.5e18 → "1.5". */
export function formatEth(wei: bigint): string {
  const sign = wei < 0n ? "-" : "";
  const abs = wei < 0n ? -wei : wei;
  const whole = abs / WEI_PER_ETH;
  const fraction = (abs % WEI_PER_ETH).toString().padStart(18, "0").replace(/0+$/, "");
  return `${sign}${groupDigits(whole)}${fraction ? `.${fraction}` : ""}`;
}

/** "1,000 wei (0.000000000000001 ETH)". */
export function formatWei(wei: bigint): string {
  return `${groupDigits(wei)} wei (${formatEth(wei)} ETH)`;
}

/** The price of a first message as the node states it: per message, plus per byte when it charges by size. */
export function priceText(quote: PostageRequiredQuote): string {
  const perByte = quote.pricePerByteWei > 0n ? ` plus ${groupDigits(quote.pricePerByteWei)} wei per byte` : "";
  return `${formatWei(quote.priceWei)} per first message${perByte}`;
}

/** "31337 (local development chain)", or the bare id for a chain this app does not know. */
export function chainText(chainId: bigint): string {
  const name = CHAIN_NAMES[chainId.toString()];
  return name ? `${chainId} (${name})` : chainId.toString();
}

function sameNetwork(grant: PostageGrant, quote: PostageRequiredQuote): boolean {
  return grant.chainId === quote.chainId && grant.vault.toLowerCase() === quote.vault.toLowerCase();
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** What a first message to a peer will cost on this node, as far as the client can tell before sending it. */
export type PostageOutlook =
  /** The node charges nobody (or does not know postage). */
  | { kind: "off" }
  /** The node's terms could not be read: a refusal, if any, will say. */
  | { kind: "unknown" }
  /** The node charges strangers, but the peer wrote to us first. */
  | { kind: "free"; basis: "priorContact"; quote: PostageRequiredQuote }
  /** The node charges strangers, but we hold the peer's grant for this node's network. */
  | { kind: "free"; basis: "grant"; quote: PostageRequiredQuote; grant: PostageGrant }
  /** The node charges for this message; `foreignGrant` is a grant from the peer for another network, if we hold one. */
  | { kind: "required"; quote: PostageRequiredQuote; foreignGrant?: PostageGrant };

export interface OutlookInput {
  /** The node's terms; undefined when they could not be read. */
  quote: PostageQuote | undefined;
  peer: string;
  /** The client knows the peer contacted us first (client.priorContacts). */
  priorContact: boolean;
  /** The grants the client holds (client.postage.grants()). */
  grants: readonly PostageGrant[];
  nowMs?: number;
}

/**
 * Whether a first message to `peer` is free, and why, or what it costs. The client claims a grant before a prior
 * contact (ReachPublisher), so this says so in the same order. The node has the last word: it may still refuse.
 */
export function postageOutlook(input: OutlookInput): PostageOutlook {
  const { quote, peer } = input;
  if (!quote) return { kind: "unknown" };
  if (quote.postage === "off") return { kind: "off" };
  const now = input.nowMs ?? Date.now();
  const fromPeer = input.grants.filter((g) => sameAddress(g.grantor, peer) && g.expiresAt.getTime() > now);
  const longest = (grants: PostageGrant[]) =>
    grants.reduce<PostageGrant | undefined>((best, g) => (!best || g.expiresNs > best.expiresNs ? g : best), undefined);
  const grant = longest(fromPeer.filter((g) => sameNetwork(g, quote)));
  if (grant) return { kind: "free", basis: "grant", quote, grant };
  if (input.priorContact) return { kind: "free", basis: "priorContact", quote };
  const foreignGrant = longest(fromPeer);
  return foreignGrant ? { kind: "required", quote, foreignGrant } : { kind: "required", quote };
}

export interface NoticeDetail {
  label: string;
  value: string;
}

/** A box of text the app shows in the thread: a cost before sending, a free first message, or a refusal. */
export interface PostageNotice {
  tone: "cost" | "free" | "refused";
  title: string;
  paragraphs: string[];
  /** The node's terms, one per row (price, vault, chain, operator). */
  details: NoticeDetail[];
  /** The node's own words, for a refusal. */
  serverMessage?: string;
}

function termsOf(quote: PostageRequiredQuote): NoticeDetail[] {
  return [
    { label: "Price", value: priceText(quote) },
    { label: "Vault", value: quote.vault },
    { label: "Chain", value: chainText(quote.chainId) },
    { label: "Paid to", value: `the node's operator ${quote.operator}` },
  ];
}

const NO_PAYER = "This app does not pay postage (it has no payer wallet)";

function whatMakesItFree(peer: string): string {
  return `It is free if ${peer} writes to you first, or gives you a relationship grant for this node's postage network (paste it below).`;
}

/** The notice shown before the first message to `peer`; undefined when there is nothing to say (postage off or unknown). */
export function noticeForOutlook(outlook: PostageOutlook, peer: string, formatDate: (date: Date) => string = fullTime): PostageNotice | undefined {
  if (outlook.kind === "off" || outlook.kind === "unknown") return undefined;
  const { quote } = outlook;
  if (outlook.kind === "free") {
    const because =
      outlook.basis === "priorContact"
        ? `${peer} wrote to you first`
        : `${peer} gave you a relationship grant, valid until ${formatDate(outlook.grant.expiresAt)}`;
    return {
      tone: "free",
      title: "No postage needed",
      paragraphs: [
        `This node charges ${formatWei(quote.priceWei)} for a first message to a stranger, but ${because}: your first message is free.`,
      ],
      details: [],
    };
  }
  const paragraphs = [
    `This node charges for a first message to someone who has not written to you. Your first message to ${peer} starts a new conversation, so it needs postage.`,
    whatMakesItFree(peer),
  ];
  if (outlook.foreignGrant) {
    const grant = outlook.foreignGrant;
    paragraphs.push(
      `The grant you hold from ${peer} is for another postage network (vault ${grant.vault} on chain ${chainText(grant.chainId)}): this node does not accept it.`,
    );
  }
  paragraphs.push(`${NO_PAYER}: unless one of those applies, the node will refuse the message.`);
  return { tone: "cost", title: "Postage required", paragraphs, details: termsOf(quote) };
}

/** What a PostageRequiredError carries that the app uses. */
export interface PostageRefusalInput {
  recipients: readonly string[];
  serverMessage: string;
  quote: PostageRequiredQuote | undefined;
  /** The basis each refused envelope claimed ("grant", "priorContact", "stamp", "seal", "none"). */
  attempted: readonly string[];
}

function recipientsText(refusal: PostageRefusalInput): string {
  return refusal.recipients.length > 0 ? refusal.recipients.join(", ") : "this person";
}

/** Why a claimed free basis did not help, when the client claimed one. */
function refusedBasis(refusal: PostageRefusalInput, peer: string): string | undefined {
  if (refusal.attempted.includes("grant")) return `The node did not accept your grant from ${peer}.`;
  if (refusal.attempted.includes("priorContact")) return `The node does not know of ${peer} writing to you first.`;
  return undefined;
}

/** The notice shown in the thread when the node refused a first message for postage. */
export function noticeForRefusal(refusal: PostageRefusalInput): PostageNotice {
  const peer = recipientsText(refusal);
  const charge = refusal.quote
    ? `it charges ${formatWei(refusal.quote.priceWei)} for a first message to someone who has not written to you`
    : "it requires postage for a first message to someone who has not written to you";
  const paragraphs = [`The node refused your first message to ${peer}: ${charge}, and this app does not pay postage.`];
  const basis = refusedBasis(refusal, peer);
  if (basis) paragraphs.push(basis);
  paragraphs.push(`It will be free once ${peer} writes to you first, or gives you a relationship grant for this node's postage network.`);
  return {
    tone: "refused",
    title: "Not sent: postage required",
    paragraphs,
    details: refusal.quote ? termsOf(refusal.quote) : [],
    serverMessage: refusal.serverMessage,
  };
}

/** The same refusal in one sentence, for the error banner (a refusal outside a new conversation, e.g. a v1 intro). */
export function explainPostageRefusal(refusal: PostageRefusalInput): string {
  const peer = recipientsText(refusal);
  const terms = refusal.quote
    ? ` (${formatWei(refusal.quote.priceWei)}, vault ${refusal.quote.vault} on chain ${chainText(refusal.quote.chainId)})`
    : "";
  return (
    `Postage required: the node refused your first message to ${peer}${terms}, and this app does not pay postage. ` +
    `It is free if ${peer} writes to you first or gives you a relationship grant.`
  );
}

/** Why a pasted grant was not accepted (InvalidPostageGrantError's reason), in words. */
export function explainGrantError(reason: string, detail: string): string {
  switch (reason) {
    case "malformed":
      return "That is not a relationship grant: paste the whole text (base64) the person gave you.";
    case "not_for_us":
      return `That grant is for another wallet, not for you (${detail}).`;
    case "expired":
      return "That grant has expired: ask for a new one.";
    case "forged":
    case "identity_not_grantor":
      return "That grant's signature does not hold: it was not made by the wallet it names.";
    default:
      return `That grant cannot be used: ${detail}`;
  }
}

// Grants live in the client's memory only (client.postage.grants()); the app keeps them per wallet in the browser's
// storage so that a pasted grant survives a reload. Only the signed bytes are kept: the client checks them again.
const GRANTS_KEY_PREFIX = "xmtp-chat:postage-grants:";

/** The grants saved for `address` (base64 texts to hand to acceptGrant); none when nothing readable is saved. */
export function loadSavedGrants(storage: Storage, address: string): string[] {
  try {
    const saved: unknown = JSON.parse(storage.getItem(GRANTS_KEY_PREFIX + address) ?? "[]");
    return Array.isArray(saved) ? saved.filter((g): g is string => typeof g === "string") : [];
  } catch {
    return [];
  }
}

export function saveGrants(storage: Storage, address: string, grants: readonly PostageGrant[]): void {
  const key = GRANTS_KEY_PREFIX + address;
  if (grants.length === 0) storage.removeItem(key);
  else storage.setItem(key, JSON.stringify(grants.map((g) => g.base64)));
}
