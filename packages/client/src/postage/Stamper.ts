// Paying for envelopes with postage stamps (docs/postage.md §3.6): EIP-712 vouchers by the payer's wallet, each
// carrying the total the payer owes the node's operator so far. The total is read from the node (its last accepted
// voucher) and the envelope is published before the next stamp is made, all inside one queue per (node, payer):
// a stamp made from a quote that another stamp has already moved on would repeat a total, and the node would
// refuse it. Reading the total fresh each time also means a stamp lost on the way costs nothing extra.
import { toChecksumAddress } from "@xmtp-ts/crypto";
import { envelopeDigest, makePostageStamp, signVoucher, type Voucher } from "@xmtp-ts/postage";
import type { postage } from "@xmtp-ts/proto";
import { envelopePriceWei, type PostageQuote, type PostageRequiredQuote } from "../api/index.js";
import { malformedResponse } from "../api/errors.js";
import { PostageBalanceTooLowError, PostagePriceTooHighError, PostageWithdrawalPendingError } from "./errors.js";
import type { PostagePayer } from "./payer.js";
import { stampQueues, type SerialQueues } from "./SerialQueues.js";

/** An envelope to pay for: the digest the voucher is bound to is computed from these. */
export interface StampRequest {
  contentTopic: string;
  message: Uint8Array;
}

export interface StamperOptions {
  payer: PostagePayer;
  /** The node's terms with the payer's standing (`GET /postage/v1/quote?payer=`). */
  quote: (payer: string) => Promise<PostageQuote>;
  /** Names the node; stamps for one (node, payer) are made one at a time across every client in the process. */
  nodeKey: string;
  /** Refuse to pay more than this per envelope. */
  maxPriceWei?: bigint;
  /** Defaults to the process-wide queues. */
  queues?: SerialQueues;
}

/** The stamps of one batch, in request order, and the terms they were made under. */
export interface StampedBatch {
  quote: PostageRequiredQuote;
  stamps: postage.PostageStamp[];
}

export class Stamper {
  private payerAddressPromise: Promise<string> | undefined;

  constructor(private readonly options: StamperOptions) {
    if (options.maxPriceWei !== undefined && (typeof options.maxPriceWei !== "bigint" || options.maxPriceWei < 0n)) {
      throw new RangeError(`maxPriceWei must be a non-negative bigint, got ${String(options.maxPriceWei)}`);
    }
  }

  /** The payer's EIP-55 address (asked of the wallet once). */
  payerAddress(): Promise<string> {
    this.payerAddressPromise ??= Promise.resolve(this.options.payer.getAddress()).then((address) => toChecksumAddress(address));
    return this.payerAddressPromise;
  }

  /**
   * Makes stamps for `requests` and runs `use` with them (it publishes the envelopes), inside the payer's queue at
   * this node, so the next stamp is made only once the node has answered for these. `use` gets undefined when the
   * node has postage off: there is nothing to pay and no network to sign for.
   */
  async withStamps<T>(requests: StampRequest[], use: (batch: StampedBatch | undefined) => Promise<T>): Promise<T> {
    const payer = await this.payerAddress();
    const queues = this.options.queues ?? stampQueues;
    return queues.run(`${this.options.nodeKey}\n${payer}`, async () => {
      const quote = await this.options.quote(payer);
      if (quote.postage === "off") return use(undefined);
      const stamps = await this.stamp(payer, quote, requests);
      return use({ quote, stamps });
    });
  }

  /** The stamps for `requests` after the payer's last accepted voucher; checks price, deposit and withdrawal first. */
  private async stamp(payer: string, quote: PostageRequiredQuote, requests: StampRequest[]): Promise<postage.PostageStamp[]> {
    const standing = quote.payer;
    if (!standing) throw malformedResponse("postageQuote", "the quote asked for a payer has no payer standing");
    if (standing.address !== payer) {
      throw malformedResponse("postageQuote", `the quote is for payer ${standing.address}, not ${payer}`);
    }
    if (standing.withdrawalPending) throw new PostageWithdrawalPendingError(payer, quote);
    const { maxPriceWei } = this.options;
    let cumulative = standing.acceptedCumulativeWei;
    // Several envelopes in one publish are paid in order: each total includes the ones before it.
    const vouchers: Voucher[] = requests.map((request) => {
      const price = envelopePriceWei(quote, request.message.length);
      if (maxPriceWei !== undefined && price > maxPriceWei) throw new PostagePriceTooHighError(price, maxPriceWei, quote);
      cumulative += price;
      return { payer, operator: quote.operator, cumulative, digest: envelopeDigest(request.contentTopic, request.message) };
    });
    // The node would refuse a total above the deposit; saying so here names the shortfall and asks no signature.
    if (cumulative > standing.depositedWei) throw new PostageBalanceTooLowError(payer, cumulative, standing.depositedWei, quote);
    const domain = { chainId: quote.chainId, vault: quote.vault };
    const stamps: postage.PostageStamp[] = [];
    // One at a time: a wallet that asks its user shows one prompt after another, not several at once.
    for (const voucher of vouchers) {
      const signature = await signVoucher(this.options.payer, voucher, domain);
      stamps.push(makePostageStamp({ payer, operator: voucher.operator, cumulative: voucher.cumulative, signature }));
    }
    return stamps;
  }
}
