// A thin typed client of PostageVault (contracts/PostageVault.sol, docs/postage.md §5) over ethers 6: every call
// waits for its receipt and turns a revert into a VaultRevertError naming the contract's rule.

import { Contract, ContractFactory, getAddress, getBytes, hexlify, type ContractRunner, type Signer } from "ethers";
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { POSTAGE_VAULT_ABI, POSTAGE_VAULT_BYTECODE } from "./vaultArtifact.js";
import { toVaultError } from "./vaultErrors.js";
import type { Voucher } from "./voucher.js";

export interface ChannelState {
  deposited: bigint;
  redeemed: bigint;
  /** Chain time (seconds) after which the payer may withdraw; 0 when no withdrawal is pending. */
  unlockAt: bigint;
}

export interface SignedVoucher {
  voucher: Voucher;
  /** 65-byte r ‖ s ‖ v by the payer (signVoucher). */
  signature: Uint8Array;
}

/** Deploys a vault and returns its address once the deployment is mined. */
export async function deployVault(deployer: Signer, withdrawalDelaySeconds: bigint): Promise<string> {
  const factory = new ContractFactory(POSTAGE_VAULT_ABI, POSTAGE_VAULT_BYTECODE, deployer);
  try {
    const contract = await factory.deploy(withdrawalDelaySeconds);
    await contract.waitForDeployment();
    return getAddress(await contract.getAddress());
  } catch (err) {
    throw toVaultError(err);
  }
}

function voucherTuple(voucher: Voucher) {
  return {
    payer: voucher.payer,
    operator: voucher.operator,
    cumulative: voucher.cumulative,
    digest: hexlify(voucher.digest),
  };
}

export class PostageVaultClient {
  readonly address: string;
  private readonly contract: Contract;

  /** `runner` is a Signer to send transactions, or a Provider for the read-only calls. */
  constructor(address: string, runner: ContractRunner) {
    this.address = getAddress(address);
    this.contract = new Contract(this.address, POSTAGE_VAULT_ABI, runner);
  }

  /** The same vault, sending as another account. */
  connect(runner: ContractRunner): PostageVaultClient {
    return new PostageVaultClient(this.address, runner);
  }

  async channel(payer: string, operator: string): Promise<ChannelState> {
    const [deposited, redeemed, unlockAt] = (await this.contract.channel(payer, operator)) as [bigint, bigint, bigint];
    return { deposited, redeemed, unlockAt };
  }

  async domainSeparator(): Promise<Uint8Array> {
    return getBytes((await this.contract.domainSeparator()) as string);
  }

  async withdrawalDelaySeconds(): Promise<bigint> {
    return (await this.contract.withdrawalDelaySeconds()) as bigint;
  }

  /** Adds `amountWei` to the sender's channel with `operator` (and cancels its pending withdrawal). */
  deposit(operator: string, amountWei: bigint): Promise<TransactionReceipt> {
    return this.send(() => this.contract.deposit(operator, { value: amountWei }));
  }

  requestWithdrawal(operator: string): Promise<TransactionReceipt> {
    return this.send(() => this.contract.requestWithdrawal(operator));
  }

  withdraw(operator: string): Promise<TransactionReceipt> {
    return this.send(() => this.contract.withdraw(operator));
  }

  /**
   * Redeems vouchers as their operator (the sender): one voucher through redeem, several through redeemMany in one
   * transaction, which fails as a whole; the VaultRevertError's voucherIndex names the voucher to drop.
   */
  async redeem(vouchers: readonly SignedVoucher[]): Promise<TransactionReceipt> {
    if (vouchers.length === 0) throw new RangeError("redeem needs at least one voucher");
    if (vouchers.length === 1) {
      const [{ voucher, signature }] = vouchers;
      return this.send(() => this.contract.redeem(voucherTuple(voucher), hexlify(signature)), true);
    }
    return this.send(() =>
      this.contract.redeemMany(
        vouchers.map((v) => voucherTuple(v.voucher)),
        vouchers.map((v) => hexlify(v.signature)),
      ),
    );
  }

  private async send(
    call: () => Promise<ContractTransactionResponse>,
    singleVoucher = false,
  ): Promise<TransactionReceipt> {
    try {
      const response = await call();
      const receipt = await response.wait();
      // wait() resolves null only when asked for 0 confirmations; a mined transaction always has a receipt.
      if (!receipt) throw new Error(`no receipt for transaction ${response.hash}`);
      return receipt;
    } catch (err) {
      throw toVaultError(err, singleVoucher);
    }
  }
}
