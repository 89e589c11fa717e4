import {
  ApiError,
  PostageBalanceTooLowError,
  PostagePriceTooHighError,
  PostageRequiredError,
  PostageUnavailableError,
  PostageWithdrawalPendingError,
  PostageWrongChainError,
  type PostageRequiredQuote,
} from "@xmtp-ts/client";
import { VaultRevertError } from "@xmtp-ts/postage";
import { describe, expect, it } from "vitest";
import { ExitCode } from "./errors.js";
import { explainSendRefusal, formatPrice, postageCliError } from "./postageErrors.js";

const ME = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const PEER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
const PAYER = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB";
const QUOTE: PostageRequiredQuote = {
  postage: "required",
  chainId: 8453n,
  vault: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  priceWei: 2_000n,
  pricePerByteWei: 3n,
};
const context = { apiUrl: "https://node.example", me: ME, peer: PEER, payer: PAYER };

describe("explainSendRefusal", () => {
  it("a refused stamp points at the payer's deposit, with the node's words", () => {
    const serverMessage = "voucher cumulative 4000 exceeds the deposit 3000";
    const error = new PostageRequiredError({
      recipients: [PEER],
      serverMessage,
      quote: QUOTE,
      attempted: ["stamp"],
      payerConfigured: true,
      cause: new ApiError({ call: "publish", code: 9, serverMessage, httpStatus: 402, transient: false }),
    });
    const explained = explainSendRefusal(error, context)!;
    expect(explained.exitCode).toBe(ExitCode.POSTAGE);
    expect(explained.message.split("\n")).toEqual([
      `the node at https://node.example refused the postage stamp of your payer ${PAYER} for a first message to ${PEER}.`,
      "  price: 2000 wei (0.000000000000002 ETH) per message + 3 wei per byte",
      `  paid into: vault ${QUOTE.vault} on chain 8453, for operator ${QUOTE.operator}`,
      `  the node said: ${serverMessage}`,
      "Nothing was sent. Three ways forward:",
      `  1. ask ${PEER} for a grant (they run: xmtp grant ${ME}), then run: xmtp accept-grant GRANT`,
      `  2. check your payer's deposit with "xmtp postage balance" and add to it with "xmtp postage deposit WEI"`,
      `  3. wait for ${PEER} to write to you first: replying is free`,
    ]);
  });

  it("a refusal without terms still says what the node said", () => {
    const error = new PostageRequiredError({
      recipients: [PEER],
      serverMessage: "postage required",
      quote: undefined,
      attempted: ["none"],
      payerConfigured: false,
      cause: new ApiError({ call: "publish", code: 9, serverMessage: "postage required", httpStatus: 402, transient: false }),
    });
    const message = explainSendRefusal(error, context)!.message;
    expect(message).not.toContain("price:");
    expect(message).toContain("  the node said: postage required\n");
    expect(message).toContain("a funded account on the node's chain");
  });

  it("the price above --max-price, a deposit too small, a withdrawal pending: the figures and the command that helps", () => {
    const dear = explainSendRefusal(new PostagePriceTooHighError(2_300n, 1_000n, QUOTE), context)!;
    expect(dear.exitCode).toBe(ExitCode.POSTAGE);
    expect(dear.message).toContain("costs 2300 wei (0.0000000000000023 ETH) at the node at https://node.example, more than your maximum of 1000 wei");
    expect(dear.message).toContain("  2. pay the price: send again with --max-price 2300");
    expect(dear.details).toMatchObject({ priceWei: "2300", maxPriceWei: "1000", quote: { chainId: "8453" } });

    const short = explainSendRefusal(new PostageBalanceTooLowError(PAYER, 7_000n, 5_000n, QUOTE), context)!;
    expect(short.message).toContain(`your payer ${PAYER} has 5000 wei (0.000000000000005 ETH) deposited for operator ${QUOTE.operator}`);
    expect(short.message).toContain("would owe 7000 wei (0.000000000000007 ETH) in all");
    expect(short.message).toContain("Deposit at least 2000 wei more, then send again: xmtp postage deposit 2000");
    expect(short.details).toMatchObject({ shortfallWei: "2000" });

    const pending = explainSendRefusal(new PostageWithdrawalPendingError(PAYER, QUOTE), context)!;
    expect(pending.message).toContain("has asked to withdraw its deposit");
    expect(pending.message).toContain("A new deposit cancels the withdrawal: xmtp postage deposit WEI");
  });

  it("leaves every other error alone", () => {
    expect(explainSendRefusal(new Error("boom"), context)).toBeUndefined();
  });
});

describe("postageCliError", () => {
  it("classifies chain and postage failures", () => {
    const rpcUrl = "http://127.0.0.1:8545";
    const wrong = postageCliError(new PostageWrongChainError(1n, 8453n), { apiUrl: "u", rpcUrl })!;
    expect(wrong.exitCode).toBe(ExitCode.CHAIN);
    expect(wrong.message).toBe(
      `the payer's RPC at ${rpcUrl} serves chain 1, but the node's vault is on chain 8453: give the RPC of chain 8453 with --rpc URL (or XMTP_PAYER_RPC)`,
    );
    const off = postageCliError(new PostageUnavailableError("grant"), { apiUrl: "https://node.example" })!;
    expect(off.exitCode).toBe(ExitCode.POSTAGE);
    expect(off.message).toContain("the node at https://node.example runs with postage off");
    const nothing = postageCliError(new VaultRevertError("NothingToWithdraw", { payer: PAYER, operator: QUOTE.operator }, "0x"), { apiUrl: "u" })!;
    expect(nothing.exitCode).toBe(ExitCode.POSTAGE);
    const funds = Object.assign(new Error("insufficient funds (…)"), { code: "INSUFFICIENT_FUNDS", shortMessage: "insufficient funds for intrinsic transaction cost" });
    const chain = postageCliError(funds, { apiUrl: "u", rpcUrl })!;
    expect(chain.exitCode).toBe(ExitCode.CHAIN);
    expect(chain.message).toBe(`the payer's chain at ${rpcUrl} refused: insufficient funds for intrinsic transaction cost`);
    expect(postageCliError(Object.assign(new Error("denied"), { code: 7 }), { apiUrl: "u" })).toBeUndefined();
  });

  it("prices per byte when the node charges per byte", () => {
    expect(formatPrice({ ...QUOTE, pricePerByteWei: 0n })).toBe("2000 wei (0.000000000000002 ETH) per message");
  });
});
