// The node's postage terms as `GET /postage/v1/quote[?payer=0x…]` answers them (docs/postage.md §4), and the same
// JSON inside the `details` of a 402 refusal. Wei amounts travel as decimal strings (they exceed 2^53); they are
// read into bigints, and every address into its EIP-55 form, since stamps and grants compare addresses as exact
// strings. The answer comes from a node we do not control, so anything out of shape is refused, never guessed.
import { isAddress, toChecksumAddress } from "@xmtp-ts/crypto";
import { ResponseShapeError } from "./json.js";

/** What a payer stands at with the quoting node's operator. */
export interface PayerStanding {
  address: string;
  /** The payer's last voucher this node accepted: what it owes the operator so far. */
  acceptedCumulativeWei: bigint;
  /** Deposited in the payer's channel with this node's operator (the node's possibly cached chain read). */
  depositedWei: bigint;
  redeemedWei: bigint;
  withdrawalPending: boolean;
}

/** A node with postage off: it carries proofs along and charges nothing. */
export interface PostageOffQuote {
  postage: "off";
}

/** A node that charges strangers: its network (chain, vault), who is paid, and the price of an envelope. */
export interface PostageRequiredQuote {
  postage: "required";
  chainId: bigint;
  vault: string;
  operator: string;
  priceWei: bigint;
  pricePerByteWei: bigint;
  /** Present when the quote was asked for a payer (`?payer=`). */
  payer?: PayerStanding;
}

export type PostageQuote = PostageOffQuote | PostageRequiredQuote;

const UINT256_LIMIT = 1n << 256n;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readWei(value: unknown, name: string): bigint {
  if (typeof value === "string" && /^\d{1,78}$/.test(value)) {
    const parsed = BigInt(value);
    if (parsed < UINT256_LIMIT) return parsed;
  }
  throw new ResponseShapeError(`${name} is not a uint256 decimal string: ${JSON.stringify(value)?.slice(0, 80)}`);
}

function readAddress(value: unknown, name: string): string {
  if (typeof value !== "string" || !isAddress(value)) {
    throw new ResponseShapeError(`${name} is not an address: ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return toChecksumAddress(value);
}

function readPayer(value: unknown, name: string): PayerStanding {
  if (!isObject(value)) throw new ResponseShapeError(`${name} is not an object`);
  if (typeof value.withdrawalPending !== "boolean") throw new ResponseShapeError(`${name}.withdrawalPending is not a boolean`);
  return {
    address: readAddress(value.address, `${name}.address`),
    acceptedCumulativeWei: readWei(value.acceptedCumulativeWei, `${name}.acceptedCumulativeWei`),
    depositedWei: readWei(value.depositedWei, `${name}.depositedWei`),
    redeemedWei: readWei(value.redeemedWei, `${name}.redeemedWei`),
    withdrawalPending: value.withdrawalPending,
  };
}

/** Reads a quote; a ResponseShapeError names the first field out of shape. */
export function postageQuoteFromJson(value: unknown, name = "quote"): PostageQuote {
  if (!isObject(value)) throw new ResponseShapeError(`${name} is not an object`);
  if (value.postage === "off") return { postage: "off" };
  if (value.postage !== "required") {
    throw new ResponseShapeError(`${name}.postage is neither "off" nor "required": ${JSON.stringify(value.postage)?.slice(0, 40)}`);
  }
  const quote: PostageRequiredQuote = {
    postage: "required",
    chainId: readWei(value.chainId, `${name}.chainId`),
    vault: readAddress(value.vault, `${name}.vault`),
    operator: readAddress(value.operator, `${name}.operator`),
    priceWei: readWei(value.priceWei, `${name}.priceWei`),
    pricePerByteWei: readWei(value.pricePerByteWei, `${name}.pricePerByteWei`),
  };
  if (value.payer !== undefined && value.payer !== null) quote.payer = readPayer(value.payer, `${name}.payer`);
  return quote;
}

/** One envelope's price (docs/postage.md §4): the per-envelope price plus the per-byte price times its bytes. */
export function envelopePriceWei(quote: PostageRequiredQuote, messageBytes: number): bigint {
  return quote.priceWei + quote.pricePerByteWei * BigInt(messageBytes);
}
