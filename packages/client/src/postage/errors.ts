// The ways postage can stop a write or a vault action (docs/postage.md). Each error carries what an app needs to
// act on it (the node's terms, the amounts, the reason) as fields, not only as words in the message.
import type { ApiError, PostageRequiredQuote } from "../api/index.js";
import { XmtpClientError, type PostageErrorCode } from "../errors/XmtpClientError.js";

export type { PostageErrorCode };

export abstract class PostageError extends XmtpClientError {
  abstract override readonly code: PostageErrorCode;
}

/** The basis a refused proof claimed: what was tried before the node said 402. */
export type PostageBasisKind = "grant" | "priorContact" | "stamp" | "seal" | "none";

/**
 * The node refused a write to someone else's reach topic (HTTP 402): no proof of a relationship it accepts, and
 * either no payer is configured or the stamp was refused too. `quote` holds the node's terms when it sent them.
 */
export class PostageRequiredError extends PostageError {
  readonly code = "postage_required";
  /** The owners of the reach topics written to. */
  readonly recipients: string[];
  /** The node's own words: the price, the vault, the chain, or why a proof was refused. */
  readonly serverMessage: string;
  readonly quote: PostageRequiredQuote | undefined;
  /** The basis of each refused reach envelope, in order. */
  readonly attempted: PostageBasisKind[];

  constructor(init: {
    recipients: string[];
    serverMessage: string;
    quote: PostageRequiredQuote | undefined;
    attempted: PostageBasisKind[];
    payerConfigured: boolean;
    cause: ApiError;
  }) {
    const hint = init.payerConfigured
      ? "the stamp was refused too"
      : "configure postage.payer to pay, or get a relationship grant from the recipient";
    super(`the node refused the write to ${init.recipients.join(", ")}: ${init.serverMessage} (${hint})`, { cause: init.cause });
    this.name = "PostageRequiredError";
    this.recipients = init.recipients;
    this.serverMessage = init.serverMessage;
    this.quote = init.quote;
    this.attempted = init.attempted;
  }
}

/** An envelope costs more than `maxPriceWei`: no stamp was signed. */
export class PostagePriceTooHighError extends PostageError {
  readonly code = "postage_price_too_high";
  constructor(
    readonly priceWei: bigint,
    readonly maxPriceWei: bigint,
    readonly quote: PostageRequiredQuote,
  ) {
    super(`postage costs ${priceWei} wei per envelope at this node, more than maxPriceWei ${maxPriceWei}`);
    this.name = "PostagePriceTooHighError";
  }
}

/** The payer's deposit with the node's operator does not cover the stamp: deposit more first. */
export class PostageBalanceTooLowError extends PostageError {
  readonly code = "postage_balance_too_low";
  constructor(
    readonly payer: string,
    /** The cumulative the stamp would need. */
    readonly neededWei: bigint,
    readonly depositedWei: bigint,
    readonly quote: PostageRequiredQuote,
  ) {
    super(
      `postage: ${payer} would owe ${neededWei} wei to operator ${quote.operator} but has deposited ${depositedWei} ` +
        `(vault ${quote.vault} on chain ${quote.chainId}); deposit at least ${neededWei - depositedWei} wei more`,
    );
    this.name = "PostageBalanceTooLowError";
  }
}

/** The payer asked to withdraw its deposit: nodes take no stamps from the channel until it deposits again. */
export class PostageWithdrawalPendingError extends PostageError {
  readonly code = "postage_withdrawal_pending";
  constructor(
    readonly payer: string,
    readonly quote: PostageRequiredQuote,
  ) {
    super(`postage: ${payer} has a withdrawal pending with operator ${quote.operator}; a new deposit cancels it`);
    this.name = "PostageWithdrawalPendingError";
  }
}

/** The node runs with postage off (or does not know postage): there is no vault, operator or network to use. */
export class PostageUnavailableError extends PostageError {
  readonly code = "postage_unavailable";
  constructor(readonly action: string) {
    super(`${action}: the node runs with postage off, so it has no postage network`);
    this.name = "PostageUnavailableError";
  }
}

/** A vault action or stamp needs `postage.payer` in the client options. */
export class PostagePayerMissingError extends PostageError {
  readonly code = "postage_no_payer";
  constructor(readonly action: string) {
    super(`${action} needs a payer: pass { postage: { payer } } to Client.create`);
    this.name = "PostagePayerMissingError";
  }
}

/** The payer's provider is on another chain than the node's vault: a transaction would go to the wrong place. */
export class PostageWrongChainError extends PostageError {
  readonly code = "postage_wrong_chain";
  constructor(
    readonly payerChainId: bigint,
    readonly nodeChainId: bigint,
  ) {
    super(`postage: the payer's provider is on chain ${payerChainId}, the node's vault on chain ${nodeChainId}`);
    this.name = "PostageWrongChainError";
  }
}

export type InvalidPostageGrantReason =
  | "malformed"
  | "not_for_us"
  | "expired"
  | "forged"
  | "identity_not_grantor";

/** A relationship grant offered to `acceptGrant` that is not usable by this client. */
export class InvalidPostageGrantError extends PostageError {
  readonly code = "postage_invalid_grant";
  constructor(
    readonly reason: InvalidPostageGrantReason,
    readonly detail: string,
  ) {
    super(`relationship grant refused (${reason}): ${detail}`);
    this.name = "InvalidPostageGrantError";
  }
}
