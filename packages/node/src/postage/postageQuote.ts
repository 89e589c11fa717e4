// GET /postage/v1/quote (docs/postage.md §4): the node's terms, and a payer's standing with its operator.
import { toChecksumAddress } from "@xmtp-ts/crypto";

export type PostageQuote =
  | { postage: "off" }
  | {
      postage: "required";
      chainId: string;
      vault: string;
      operator: string;
      priceWei: string;
      pricePerByteWei: string;
      payer?: {
        address: string;
        acceptedCumulativeWei: string;
        depositedWei: string;
        redeemedWei: string;
        withdrawalPending: boolean;
      };
    };

export interface QuoteTerms {
  chainId: bigint;
  vault: string;
  operator: string;
  priceWei: bigint;
  pricePerByteWei: bigint;
}

export interface PayerStanding {
  acceptedCumulative: bigint;
  deposited: bigint;
  redeemed: bigint;
  withdrawalPending: boolean;
}

export function postageQuote(terms: QuoteTerms | undefined, payer?: { address: string; standing: PayerStanding }): PostageQuote {
  if (!terms) return { postage: "off" };
  return {
    postage: "required",
    chainId: terms.chainId.toString(),
    vault: toChecksumAddress(terms.vault),
    operator: toChecksumAddress(terms.operator),
    priceWei: terms.priceWei.toString(),
    pricePerByteWei: terms.pricePerByteWei.toString(),
    ...(payer && {
      payer: {
        address: toChecksumAddress(payer.address),
        acceptedCumulativeWei: payer.standing.acceptedCumulative.toString(),
        depositedWei: payer.standing.deposited.toString(),
        redeemedWei: payer.standing.redeemed.toString(),
        withdrawalPending: payer.standing.withdrawalPending,
      },
    }),
  };
}
