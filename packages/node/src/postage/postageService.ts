// Postage as a part of a running node (docs/postage.md): the gate every door uses, GET /postage/v1/quote, the
// chain connection, voucher redemption and the metrics. With postage off only the gate runs (it learns
// relationships and carries proofs) and the quote says "off".
import type { IncomingMessage, ServerResponse } from "node:http";
import { Wallet } from "ethers";
import { isAddress } from "@xmtp-ts/crypto";
import { PostageVaultClient, createChainProvider } from "@xmtp-ts/postage";
import type { Logger } from "../log.js";
import type { NodeMetrics } from "../metrics/nodeMetrics.js";
import type { PostageLedger } from "../store/postageLedger.js";
import { ChannelBalances } from "./channelBalances.js";
import type { PostageConfig } from "./postageFlags.js";
import { PostageGate, type PostageEvent } from "./postageGate.js";
import { VoucherRedeemer } from "./voucherRedeemer.js";

export const POSTAGE_QUOTE_PATH = "/postage/v1/quote";

export interface PostageService {
  gate: PostageGate;
  /** Present with postage required. */
  redeemer?: VoucherRedeemer;
  /** The operator's address (paid by the vault), with postage required. */
  operator?: string;
  /** Answers GET /postage/v1/quote; false for other paths. */
  handleQuote(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** Chain reads wait this long for a receipt between polls (ethers' default is 4 s; a local chain mines at once). */
const RECEIPT_POLL_MS = 500;

/** Connects to the chain and checks the vault (with postage required); throws a clear error when it cannot. */
export async function startPostage(config: PostageConfig, ledger: PostageLedger, deps: { logger: Logger; metrics: NodeMetrics }): Promise<PostageService> {
  const { metrics } = deps;
  const decisions = metrics.registry.counter("xmtp_postage_decisions_total", "Publishes to reach topics by postage outcome.", [
    "outcome",
    "reason",
  ]);
  const earned = metrics.registry.counter("xmtp_postage_earned_wei_total", "Wei owed to the operator by accepted stamps.");
  const redeemed = metrics.registry.counter("xmtp_postage_redeemed_wei_total", "Wei paid to the operator by redeemed vouchers.");
  const onDecision = (event: PostageEvent) => {
    if (event.outcome === "free") decisions.inc({ outcome: "free", reason: event.basis });
    else if (event.outcome === "paid") {
      decisions.inc({ outcome: "paid", reason: "stamp" });
      earned.inc(undefined, Number(event.wei));
    } else decisions.inc({ outcome: "refused", reason: event.code });
  };

  if (config.mode === "off") {
    const gate = new PostageGate({ ledger, onDecision });
    const byResult = { learned: "learned", learningSkipped: "skipped", learningFailed: "failed" } as const;
    for (const [field, result] of Object.entries(byResult)) {
      metrics.registry
        .gauge(`xmtp_postage_relationships_${result}`, `Postage off: relationships ${result} beside publishes since start.`)
        .collect(() => gate.stats[field as keyof typeof byResult]);
    }
    return { gate, handleQuote: (req, res, path) => answerQuote(gate, req, res, path), stop: () => gate.drain() };
  }

  const provider = createChainProvider(config.rpcUrl, { pollingIntervalMs: RECEIPT_POLL_MS });
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
    const code = await provider.getCode(config.vault);
    if (code === "0x") throw new Error(`there is no contract at ${config.vault} on chain ${chainId}`);
  } catch (error) {
    provider.destroy();
    throw new Error(`postage: cannot use the vault ${config.vault} through ${redactRpc(config.rpcUrl)}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const operator = new Wallet(config.operatorKey, provider);
  const vault = new PostageVaultClient(config.vault, operator);
  const gate = new PostageGate({
    ledger,
    required: {
      chainId,
      vault: config.vault,
      operator: operator.address,
      priceWei: config.priceWei,
      pricePerByteWei: config.pricePerByteWei,
      balances: new ChannelBalances(vault, operator.address, config.chainCacheMs),
    },
    onDecision,
  });
  const redeemer = new VoucherRedeemer({
    ledger,
    vault,
    operator: operator.address,
    logger: deps.logger,
    onRedeemed: (wei) => redeemed.inc(undefined, Number(wei)),
  });
  redeemer.start(config.redeemIntervalMs);
  deps.logger.info("postage required", {
    chainId: String(chainId),
    vault: config.vault,
    operator: operator.address,
    priceWei: String(config.priceWei),
    pricePerByteWei: String(config.pricePerByteWei),
  });
  return {
    gate,
    redeemer,
    operator: operator.address,
    handleQuote: (req, res, path) => answerQuote(gate, req, res, path),
    async stop() {
      await redeemer.stop();
      provider.destroy();
    },
  };
}

async function answerQuote(gate: PostageGate, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (path !== POSTAGE_QUOTE_PATH) return false;
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
    res.end(JSON.stringify(body));
  };
  if (req.method !== "GET") {
    res.setHeader("allow", "GET");
    send(405, { code: 12, message: `method ${req.method} is not allowed on ${POSTAGE_QUOTE_PATH}; use GET`, details: [] });
    return true;
  }
  const payer = new URL(req.url ?? "/", "http://node").searchParams.get("payer");
  if (payer !== null && !isAddress(payer)) {
    send(400, { code: 3, message: `payer must be an Ethereum address, got ${JSON.stringify(payer.slice(0, 100))}`, details: [] });
    return true;
  }
  try {
    send(200, await gate.quote(payer ?? undefined));
  } catch (error) {
    send(503, { code: 14, message: error instanceof Error ? error.message : String(error), details: [] });
  }
  return true;
}

/** The RPC URL for messages, without credentials a provider URL may carry. */
function redactRpc(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    parsed.search = "";
    return parsed.toString();
  } catch {
    return "the configured RPC URL";
  }
}
