// Redeems the vouchers this node accepted (docs/postage.md §5): each payer's latest voucher settles all it owes,
// so a run is one transaction for up to MAX_VOUCHERS_PER_TRANSACTION payers, on a schedule, on command, and at
// once for payers that asked to withdraw (they may take back what is not redeemed when the vault's delay is over).
import { VaultRevertError, type ChannelState, type PostageVaultClient } from "@xmtp-ts/postage";
import type { Logger } from "../log.js";
import type { AcceptedVoucher, PostageLedger } from "../store/postageLedger.js";

/** Vouchers per redeemMany: about 17k gas each, so a batch stays far below a block's gas limit. */
const MAX_VOUCHERS_PER_TRANSACTION = 100;
/** How often payers with unredeemed vouchers are checked for a pending withdrawal. */
const WITHDRAWAL_WATCH_MS = 60_000;

export interface RedemptionResult {
  vouchers: number;
  /** Wei paid to the operator by this run. */
  wei: bigint;
  transactions: string[];
  /** Vouchers the vault refused (reason by payer); they are dropped from this run and logged. */
  refused: Array<{ payer: string; reason: string }>;
}

export interface VoucherRedeemerOptions {
  ledger: PostageLedger;
  vault: Pick<PostageVaultClient, "redeem" | "channel">;
  operator: string;
  logger: Logger;
  onRedeemed?: (wei: bigint) => void;
}

export class VoucherRedeemer {
  private running: Promise<RedemptionResult> | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: VoucherRedeemerOptions) {}

  /** Runs on a schedule until stop(); failures are logged, and the next run tries again. */
  start(intervalMs: number): void {
    const every = (ms: number, run: () => Promise<unknown>) => {
      const timer = setInterval(() => void run().catch((error) => this.options.logger.warn("postage redemption failed", { error })), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(intervalMs, () => this.redeem());
    every(Math.min(intervalMs, WITHDRAWAL_WATCH_MS), () => this.redeem({ onlyWithdrawing: true }));
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.running?.catch(() => undefined);
  }

  /** Redeems now (one run at a time: a call during a run waits for it and then runs). */
  async redeem(options: { onlyWithdrawing?: boolean } = {}): Promise<RedemptionResult> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.run(options.onlyWithdrawing ?? false);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async run(onlyWithdrawing: boolean): Promise<RedemptionResult> {
    const { ledger, vault, operator, logger } = this.options;
    const result: RedemptionResult = { vouchers: 0, wei: 0n, transactions: [], refused: [] };
    let due: Array<{ voucher: AcceptedVoucher; channel: ChannelState }> = [];
    for (const voucher of await ledger.unredeemedVouchers(operator)) {
      const channel = await vault.channel(voucher.payer, operator);
      // Redeemed already (a run whose bookkeeping was lost): record it and move on.
      if (channel.redeemed >= voucher.cumulative) {
        await ledger.markRedeemed(operator, voucher.payer, channel.redeemed);
        continue;
      }
      if (!onlyWithdrawing || channel.unlockAt !== 0n) due.push({ voucher, channel });
    }
    while (due.length > 0) {
      const batch = due.slice(0, MAX_VOUCHERS_PER_TRANSACTION);
      try {
        const receipt = await vault.redeem(
          batch.map(({ voucher }) => ({
            voucher: { payer: voucher.payer, operator: voucher.operator, cumulative: voucher.cumulative, digest: voucher.digest },
            signature: voucher.signature,
          })),
        );
        for (const { voucher, channel } of batch) {
          await ledger.markRedeemed(operator, voucher.payer, voucher.cumulative);
          result.wei += voucher.cumulative - channel.redeemed;
        }
        result.vouchers += batch.length;
        result.transactions.push(receipt.hash);
        due = due.slice(batch.length);
      } catch (error) {
        // One bad voucher fails the whole redeemMany; the vault names it. Drop it and redeem the rest.
        if (!(error instanceof VaultRevertError) || error.voucherIndex === undefined || !batch[error.voucherIndex]) throw error;
        const bad = batch[error.voucherIndex].voucher;
        logger.warn("postage voucher refused by the vault", { payer: bad.payer, cumulative: String(bad.cumulative), error: error.message });
        result.refused.push({ payer: bad.payer, reason: error.message });
        due = due.filter(({ voucher }) => voucher !== bad);
      }
    }
    if (result.vouchers > 0) {
      logger.info("postage vouchers redeemed", { vouchers: result.vouchers, wei: String(result.wei), transactions: result.transactions });
      this.options.onRedeemed?.(result.wei);
    }
    return result;
  }
}
