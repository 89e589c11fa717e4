// What the CLI says when postage stops something (docs/postage.md): who the recipient is to the node, what a first
// message costs there and on which network, and what the user can do about it. Every refusal names its figures in
// the text and, for --json, in the error's details.
import {
  InvalidPostageGrantError,
  PostageBalanceTooLowError,
  PostagePayerMissingError,
  PostagePriceTooHighError,
  PostageRequiredError,
  PostageUnavailableError,
  PostageWithdrawalPendingError,
  PostageWrongChainError,
  type PostageQuote,
  type PostageRequiredQuote,
} from "@xmtp-ts/client";
import { UnknownVaultRevertError, VaultRevertError } from "@xmtp-ts/postage";
import { formatEther } from "ethers";
import { CliError } from "./errors.js";

/** "1000000 wei (0.000000000001 ETH)". */
export function formatWei(wei: bigint): string {
  return `${wei} wei (${formatEther(wei)} ETH)`;
}

/** The price of one message under `quote`, in words. */
export function formatPrice(quote: PostageRequiredQuote): string {
  const perByte = quote.pricePerByteWei > 0n ? ` + ${quote.pricePerByteWei} wei per byte` : "";
  return `${formatWei(quote.priceWei)} per message${perByte}`;
}

/** A quote for --json: wei and chain ids as decimal strings (they exceed what JSON numbers hold exactly). */
export function quoteJson(quote: PostageQuote): Record<string, unknown> {
  if (quote.postage === "off") return { postage: "off" };
  return {
    postage: "required",
    chainId: quote.chainId.toString(),
    vault: quote.vault,
    operator: quote.operator,
    priceWei: quote.priceWei.toString(),
    pricePerByteWei: quote.pricePerByteWei.toString(),
    ...(quote.payer
      ? {
          payer: {
            address: quote.payer.address,
            acceptedCumulativeWei: quote.payer.acceptedCumulativeWei.toString(),
            depositedWei: quote.payer.depositedWei.toString(),
            redeemedWei: quote.payer.redeemedWei.toString(),
            withdrawalPending: quote.payer.withdrawalPending,
          },
        }
      : {}),
  };
}

function termsLines(quote: PostageRequiredQuote | undefined): string[] {
  if (!quote) return [];
  return [
    `  price: ${formatPrice(quote)}`,
    `  paid into: vault ${quote.vault} on chain ${quote.chainId}, for operator ${quote.operator}`,
  ];
}

export interface SendContext {
  apiUrl: string;
  /** Our own wallet. */
  me: string;
  /** The wallet written to. */
  peer: string;
  /** The payer's address when XMTP_PAYER_KEY is set. */
  payer?: string;
}

function waysForward(context: SendContext, chainId: bigint | undefined, options: { payerLine?: string } = {}): string[] {
  const chain = chainId === undefined ? "the node's chain" : `chain ${chainId}`;
  const payerLine =
    options.payerLine ??
    `pay: set XMTP_PAYER_KEY to the private key of a funded account on ${chain} and XMTP_PAYER_RPC to its RPC URL, ` +
      `run "xmtp postage deposit WEI", then send again`;
  return [
    "Three ways forward:",
    `  1. ask ${context.peer} for a grant (they run: xmtp grant ${context.me}), then run: xmtp accept-grant GRANT`,
    `  2. ${payerLine}`,
    `  3. wait for ${context.peer} to write to you first: replying is free`,
  ];
}

/**
 * The refusal of a first message (`xmtp send`) explained, or undefined when `error` is no postage refusal: the
 * node refused it (402), or the client would not pay (price above the maximum, deposit too low, withdrawal pending).
 */
export function explainSendRefusal(error: unknown, context: SendContext): CliError | undefined {
  const { apiUrl, peer } = context;
  if (error instanceof PostageRequiredError) {
    const quote = error.quote;
    const details = {
      recipients: error.recipients,
      attempted: error.attempted,
      serverMessage: error.serverMessage,
      ...(quote ? { quote: quoteJson(quote) } : {}),
    };
    let headline: string;
    let payerLine: string | undefined;
    if (error.attempted.includes("stamp")) {
      const payer = context.payer ? ` ${context.payer}` : "";
      headline = `the node at ${apiUrl} refused the postage stamp of your payer${payer} for a first message to ${peer}`;
      payerLine = `check your payer's deposit with "xmtp postage balance" and add to it with "xmtp postage deposit WEI"`;
    } else if (error.attempted.includes("grant")) {
      headline = `the node at ${apiUrl} charges strangers postage, and it refused the grant you hold from ${peer}`;
    } else {
      headline =
        `${peer} is a stranger to you on the node at ${apiUrl}: it charges postage for a first message to someone who ` +
        `has not written to you first or given you a grant, and no payer is configured (XMTP_PAYER_KEY)`;
    }
    const [ways, ...options] = waysForward(context, quote?.chainId, { payerLine });
    const lines = [
      headline + ".",
      ...termsLines(quote),
      `  the node said: ${error.serverMessage}`,
      `Nothing was sent. ${ways}`,
      ...options,
    ];
    return new CliError("POSTAGE", lines.join("\n"), { cause: error, details });
  }
  if (error instanceof PostagePriceTooHighError) {
    const lines = [
      `postage for a first message to ${peer} costs ${formatWei(error.priceWei)} at the node at ${apiUrl}, more than your ` +
        `maximum of ${formatWei(error.maxPriceWei)} (--max-price or XMTP_PAYER_MAX_PRICE).`,
      ...termsLines(error.quote),
      ...priceWays(context, error),
    ];
    return new CliError("POSTAGE", lines.join("\n"), {
      cause: error,
      details: { priceWei: error.priceWei.toString(), maxPriceWei: error.maxPriceWei.toString(), quote: quoteJson(error.quote) },
    });
  }
  if (error instanceof PostageBalanceTooLowError) {
    const shortfall = error.neededWei - error.depositedWei;
    const lines = [
      `your payer ${error.payer} has ${formatWei(error.depositedWei)} deposited for operator ${error.quote.operator}, ` +
        `and would owe ${formatWei(error.neededWei)} in all with this first message to ${peer}.`,
      ...termsLines(error.quote),
      `Nothing was paid or sent. Deposit at least ${shortfall} wei more, then send again: xmtp postage deposit ${shortfall}`,
    ];
    return new CliError("POSTAGE", lines.join("\n"), {
      cause: error,
      details: {
        payer: error.payer,
        neededWei: error.neededWei.toString(),
        depositedWei: error.depositedWei.toString(),
        shortfallWei: shortfall.toString(),
        quote: quoteJson(error.quote),
      },
    });
  }
  if (error instanceof PostageWithdrawalPendingError) {
    const lines = [
      `your payer ${error.payer} has asked to withdraw its deposit for operator ${error.quote.operator}, so the node ` +
        `takes no stamps from it.`,
      ...termsLines(error.quote),
      `Nothing was paid or sent. A new deposit cancels the withdrawal: xmtp postage deposit WEI`,
    ];
    return new CliError("POSTAGE", lines.join("\n"), {
      cause: error,
      details: { payer: error.payer, quote: quoteJson(error.quote) },
    });
  }
  return undefined;
}

function priceWays(context: SendContext, error: PostagePriceTooHighError): string[] {
  const [ways, ...options] = waysForward(context, error.quote.chainId, {
    payerLine: `pay the price: send again with --max-price ${error.priceWei}`,
  });
  return [`Nothing was paid or sent. ${ways}`, ...options];
}

export interface PostageContext {
  apiUrl: string;
  /** The payer's chain RPC, when one was given. */
  rpcUrl?: string;
}

function isEthersError(error: unknown): error is Error & { code: string; shortMessage: string } {
  const fields = error as { code?: unknown; shortMessage?: unknown };
  return error instanceof Error && typeof fields.code === "string" && typeof fields.shortMessage === "string";
}

/** Any other postage or chain failure as a CliError; undefined when `error` is neither. */
export function postageCliError(error: unknown, context: PostageContext): CliError | undefined {
  const rpc = context.rpcUrl ? ` at ${context.rpcUrl}` : "";
  if (error instanceof PostageUnavailableError) {
    return new CliError(
      "POSTAGE",
      `the node at ${context.apiUrl} runs with postage off: first messages are free there, and there is no vault or ` +
        `grant network to use (${error.action})`,
      { cause: error },
    );
  }
  if (error instanceof PostagePayerMissingError) {
    return new CliError("USAGE", `${error.action} needs a payer: set XMTP_PAYER_KEY to its private key`, { cause: error });
  }
  if (error instanceof PostageWrongChainError) {
    return new CliError(
      "CHAIN",
      `the payer's RPC${rpc} serves chain ${error.payerChainId}, but the node's vault is on chain ${error.nodeChainId}: ` +
        `give the RPC of chain ${error.nodeChainId} with --rpc URL (or XMTP_PAYER_RPC)`,
      { cause: error, details: { payerChainId: error.payerChainId.toString(), nodeChainId: error.nodeChainId.toString() } },
    );
  }
  if (error instanceof InvalidPostageGrantError) {
    const hint = {
      malformed: "check that it was copied whole",
      not_for_us: "a grant works only for the wallet it names",
      expired: "ask its grantor for a new one",
      forged: "it was not signed by its grantor",
      identity_not_grantor: "it was not signed by its grantor",
    }[error.reason];
    return new CliError("POSTAGE", `the grant is not usable (${error.reason}): ${error.detail}; ${hint}`, {
      cause: error,
      details: { reason: error.reason },
    });
  }
  if (error instanceof VaultRevertError) {
    if (error.errorName === "NothingToWithdraw") {
      return new CliError("POSTAGE", "nothing to withdraw: everything deposited has been paid out to the operator", { cause: error });
    }
    const args = Object.entries(error.args)
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(", ");
    return new CliError("CHAIN", `the vault refused the transaction: ${error.errorName}(${args})`, {
      cause: error,
      details: { vaultError: error.errorName },
    });
  }
  if (error instanceof UnknownVaultRevertError) {
    return new CliError("CHAIN", `the vault transaction failed: ${error.message}`, { cause: error });
  }
  if (isEthersError(error)) {
    return new CliError("CHAIN", `the payer's chain${rpc} refused: ${error.shortMessage}`, {
      cause: error,
      details: { chainError: error.code },
    });
  }
  return undefined;
}
