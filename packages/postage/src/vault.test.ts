// PostageVault on a real chain (anvil): every rule of docs/postage.md §5, through the typed client.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Contract, hexlify, Interface, Signature, Wallet, type JsonRpcProvider, type TransactionReceipt } from "ethers";
import { fromHex, randomBytes } from "@xmtp-ts/crypto";
import { startAnvil, type Anvil } from "./test-support/anvil.js";
import { deployVault, PostageVaultClient, type SignedVoucher } from "./vault.js";
import { POSTAGE_VAULT_ABI } from "./vaultArtifact.js";
import { VaultRevertError, type VaultErrorName } from "./vaultErrors.js";
import {
  signVoucher,
  voucherDomainSeparator,
  voucherTypedDataHash,
  type Voucher,
  type VoucherDomain,
} from "./voucher.js";

const DELAY = 3600n;
const ETH = 10n ** 18n;
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const vaultInterface = new Interface(POSTAGE_VAULT_ABI);

let anvil: Anvil;
let provider: JsonRpcProvider;
let wallets: Wallet[];
let deployer: Wallet, payerA: Wallet, payerB: Wallet, operatorX: Wallet, operatorY: Wallet, stranger: Wallet;
/** Payers for the batch tests, beyond the named accounts. */
let batchPayers: Wallet[];

let vault: PostageVaultClient;
let domain: VoucherDomain;

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 60 });
  provider = anvil.provider();
  wallets = anvil.accounts.map((key) => new Wallet(key, provider));
  [deployer, payerA, payerB, operatorX, operatorY, stranger] = wallets;
  batchPayers = wallets.slice(10);
});

afterAll(async () => {
  await anvil?.stop();
});

beforeEach(async () => {
  // A fresh vault per test: every channel starts empty, whatever the test before did.
  const address = await deployVault(deployer, DELAY);
  vault = new PostageVaultClient(address, provider);
  domain = { chainId: anvil.chainId, vault: address };
});

async function stamp(
  payer: Wallet,
  operator: Wallet | string,
  cumulative: bigint,
  onDomain: VoucherDomain = domain,
): Promise<SignedVoucher> {
  const voucher: Voucher = {
    payer: payer.address,
    operator: typeof operator === "string" ? operator : operator.address,
    cumulative,
    digest: randomBytes(32),
  };
  return { voucher, signature: await signVoucher(payer, voucher, onDomain) };
}

/** A signature by `signer` over `voucher`, whoever its payer is: what a forger can make. */
function forgedSignature(signer: Wallet, voucher: Voucher, onDomain: VoucherDomain = domain): Uint8Array {
  return fromHex(signer.signingKey.sign(voucherTypedDataHash(voucher, onDomain)).serialized);
}

async function refusal(pending: Promise<unknown>, errorName: VaultErrorName): Promise<VaultRevertError> {
  const err = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected the vault to refuse with ${errorName}`).toBeInstanceOf(VaultRevertError);
  expect((err as VaultRevertError).errorName).toBe(errorName);
  return err as VaultRevertError;
}

function events(receipt: TransactionReceipt, name: string) {
  return receipt.logs
    .map((log) => vaultInterface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => parsed!.args);
}

const EMPTY_CHANNEL = { deposited: 0n, redeemed: 0n, unlockAt: 0n };
const fee = (receipt: TransactionReceipt) => receipt.gasUsed * receipt.gasPrice;
const as = (wallet: Wallet) => vault.connect(wallet);

describe("deposit", () => {
  it("adds to the (payer, operator) channel and emits Deposited with the new total", async () => {
    const first = await as(payerA).deposit(operatorX.address, 3n * ETH);
    const second = await as(payerA).deposit(operatorX.address, 2n * ETH);
    expect(await vault.channel(payerA.address, operatorX.address)).toEqual({
      deposited: 5n * ETH,
      redeemed: 0n,
      unlockAt: 0n,
    });
    expect(await vault.channel(payerA.address, operatorY.address)).toEqual(EMPTY_CHANNEL);
    const [event] = events(second, "Deposited");
    expect([event.payer, event.operator, event.amount, event.deposited]).toEqual([
      payerA.address,
      operatorX.address,
      2n * ETH,
      5n * ETH,
    ]);
    expect(events(first, "Deposited")[0].deposited).toBe(3n * ETH);
    expect(await provider.getBalance(vault.address)).toBe(5n * ETH);
  });

  it("refuses an empty deposit and the zero operator", async () => {
    await refusal(as(payerA).deposit(operatorX.address, 0n), "ZeroDeposit");
    await refusal(as(payerA).deposit("0x0000000000000000000000000000000000000000", ETH), "ZeroOperator");
  });

  it("has the domain separator the off-chain hash uses, and the delay it was deployed with", async () => {
    expect(hexlify(await vault.domainSeparator())).toBe(hexlify(voucherDomainSeparator(domain)));
    expect(await vault.withdrawalDelaySeconds()).toBe(DELAY);
  });
});

describe("redeem", () => {
  beforeEach(async () => {
    await as(payerA).deposit(operatorX.address, ETH);
  });

  it("pays the operator exactly cumulative − redeemed for the latest voucher", async () => {
    // The operator holds vouchers 1000, 2000, 3000 and redeems only the last: one transaction settles all three.
    await stamp(payerA, operatorX, 1000n);
    await stamp(payerA, operatorX, 2000n);
    const latest = await stamp(payerA, operatorX, 3000n);
    const before = await provider.getBalance(operatorX.address);
    const receipt = await as(operatorX).redeem([latest]);
    expect(await provider.getBalance(operatorX.address)).toBe(before + 3000n - fee(receipt));
    expect(await vault.channel(payerA.address, operatorX.address)).toEqual({
      deposited: ETH,
      redeemed: 3000n,
      unlockAt: 0n,
    });
    const [event] = events(receipt, "Redeemed");
    expect([event.payer, event.operator, event.cumulative, event.paid]).toEqual([
      payerA.address,
      operatorX.address,
      3000n,
      3000n,
    ]);

    const next = await stamp(payerA, operatorX, 4500n);
    const before2 = await provider.getBalance(operatorX.address);
    const receipt2 = await as(operatorX).redeem([next]);
    expect(await provider.getBalance(operatorX.address)).toBe(before2 + 1500n - fee(receipt2));
    expect(events(receipt2, "Redeemed")[0].paid).toBe(1500n);
    expect(await provider.getBalance(vault.address)).toBe(ETH - 4500n);
  });

  it("refuses the same voucher twice and a lower one after a higher", async () => {
    const low = await stamp(payerA, operatorX, 1000n);
    const high = await stamp(payerA, operatorX, 2000n);
    await as(operatorX).redeem([high]);
    const again = await refusal(as(operatorX).redeem([high]), "CumulativeNotAboveRedeemed");
    expect(again.args).toMatchObject({ cumulative: 2000n, redeemed: 2000n });
    expect(again.voucherIndex).toBe(0);
    await refusal(as(operatorX).redeem([low]), "CumulativeNotAboveRedeemed");
    expect((await vault.channel(payerA.address, operatorX.address)).redeemed).toBe(2000n);
  });

  it("refuses a voucher over the deposit", async () => {
    const over = await stamp(payerA, operatorX, ETH + 1n);
    const err = await refusal(as(operatorX).redeem([over]), "CumulativeAboveDeposit");
    expect(err.args).toMatchObject({ payer: payerA.address, cumulative: ETH + 1n, deposited: ETH });
    // Exactly the deposit is fine.
    await as(operatorX).redeem([await stamp(payerA, operatorX, ETH)]);
  });

  it("refuses a voucher signed by someone else than its payer", async () => {
    const voucher: Voucher = {
      payer: payerA.address,
      operator: operatorX.address,
      cumulative: 1000n,
      digest: randomBytes(32),
    };
    const err = await refusal(
      as(operatorX).redeem([{ voucher, signature: forgedSignature(stranger, voucher) }]),
      "SignerNotPayer",
    );
    expect(err.args).toMatchObject({ signer: stranger.address, payer: payerA.address });
  });

  it("refuses a voucher whose digest or amount was altered after signing", async () => {
    const signed = await stamp(payerA, operatorX, 1000n);
    const digest = Uint8Array.from(signed.voucher.digest);
    digest[0] ^= 0x80;
    await refusal(as(operatorX).redeem([{ ...signed, voucher: { ...signed.voucher, digest } }]), "SignerNotPayer");
    await refusal(
      as(operatorX).redeem([{ ...signed, voucher: { ...signed.voucher, cumulative: 5000n } }]),
      "SignerNotPayer",
    );
    await as(operatorX).redeem([signed]);
  });

  it("refuses a voucher signed for another chain or another vault", async () => {
    const otherChain = await stamp(payerA, operatorX, 1000n, { ...domain, chainId: 1n });
    await refusal(as(operatorX).redeem([otherChain]), "SignerNotPayer");
    const otherVault = await deployVault(deployer, DELAY);
    await refusal(
      as(operatorX).redeem([await stamp(payerA, operatorX, 1000n, { ...domain, vault: otherVault })]),
      "SignerNotPayer",
    );
    // And a voucher good here is worth nothing at the other vault.
    const good = await stamp(payerA, operatorX, 1000n);
    await refusal(new PostageVaultClient(otherVault, operatorX).redeem([good]), "CumulativeAboveDeposit");
  });

  it("refuses a voucher sent by anyone but its operator", async () => {
    const signed = await stamp(payerA, operatorX, 1000n);
    const err = await refusal(as(stranger).redeem([signed]), "NotOperator");
    expect(err.args).toMatchObject({ sender: stranger.address, operator: operatorX.address });
    await refusal(as(payerA).redeem([signed]), "NotOperator");
  });

  it("never lets operator Y take a deposit made for operator X", async () => {
    // The payer signs vouchers for both nodes against its single deposit (for X).
    const forY = await stamp(payerA, operatorY, 1000n);
    await refusal(as(operatorY).redeem([forY]), "CumulativeAboveDeposit");
    const forX = await stamp(payerA, operatorX, 1000n);
    await refusal(as(operatorY).redeem([forX]), "NotOperator");
    await as(operatorX).redeem([forX]);
    expect(await vault.channel(payerA.address, operatorY.address)).toEqual(EMPTY_CHANNEL);
  });

  it("refuses the high-s twin of a good signature, v outside 27/28 and a wrong length", async () => {
    const signed = await stamp(payerA, operatorX, 1000n);
    const parsed = Signature.from(hexlify(signed.signature));
    const twin = Uint8Array.from(signed.signature);
    twin.set(fromHex((SECP256K1_ORDER - BigInt(parsed.s)).toString(16).padStart(64, "0")), 32);
    twin[64] = signed.signature[64] === 27 ? 28 : 27;
    // ecrecover alone accepts the twin: only the explicit low-s rule refuses it.
    await refusal(as(operatorX).redeem([{ ...signed, signature: twin }]), "SignatureSHigh");
    const v1 = Uint8Array.from(signed.signature);
    v1[64] -= 27;
    await refusal(as(operatorX).redeem([{ ...signed, signature: v1 }]), "SignatureVInvalid");
    const short = signed.signature.subarray(0, 64);
    await refusal(as(operatorX).redeem([{ ...signed, signature: short }]), "SignatureLengthInvalid");
    const zeroR = Uint8Array.from(signed.signature);
    zeroR.fill(0, 0, 32);
    await refusal(as(operatorX).redeem([{ ...signed, signature: zeroR }]), "SignatureUnrecoverable");
    await as(operatorX).redeem([signed]);
  });
});

describe("withdrawal", () => {
  beforeEach(async () => {
    await as(payerA).deposit(operatorX.address, ETH);
  });

  it("waits the delay, lets the operator redeem meanwhile, then pays exactly deposited − redeemed", async () => {
    const requested = await as(payerA).requestWithdrawal(operatorX.address);
    const requestedAt = BigInt((await provider.getBlock(requested.blockNumber))!.timestamp);
    const [event] = events(requested, "WithdrawalRequested");
    expect(event.unlockAt).toBe(requestedAt + DELAY);
    expect((await vault.channel(payerA.address, operatorX.address)).unlockAt).toBe(requestedAt + DELAY);

    const locked = await refusal(as(payerA).withdraw(operatorX.address), "WithdrawalLocked");
    expect(locked.args).toMatchObject({ unlockAt: requestedAt + DELAY });

    // The node sees the pending withdrawal and redeems at once.
    await as(operatorX).redeem([await stamp(payerA, operatorX, 7000n)]);

    await anvil.increaseTime(DELAY - 60n);
    await refusal(as(payerA).withdraw(operatorX.address), "WithdrawalLocked");
    await anvil.increaseTime(60n);

    const before = await provider.getBalance(payerA.address);
    const receipt = await as(payerA).withdraw(operatorX.address);
    expect(await provider.getBalance(payerA.address)).toBe(before + ETH - 7000n - fee(receipt));
    const [withdrawn] = events(receipt, "Withdrawn");
    expect([withdrawn.payer, withdrawn.operator, withdrawn.amount]).toEqual([
      payerA.address,
      operatorX.address,
      ETH - 7000n,
    ]);
    expect(await vault.channel(payerA.address, operatorX.address)).toEqual({
      deposited: 7000n,
      redeemed: 7000n,
      unlockAt: 0n,
    });
    expect(await provider.getBalance(vault.address)).toBe(0n);

    // Nothing left: no second withdrawal, and no voucher beyond what was redeemed.
    await refusal(as(payerA).withdraw(operatorX.address), "WithdrawalNotRequested");
    await refusal(as(payerA).requestWithdrawal(operatorX.address), "NothingToWithdraw");
    await refusal(as(operatorX).redeem([await stamp(payerA, operatorX, 8000n)]), "CumulativeAboveDeposit");
  });

  it("is cancelled by a deposit", async () => {
    await as(payerA).requestWithdrawal(operatorX.address);
    await as(payerA).deposit(operatorX.address, 1000n);
    expect(await vault.channel(payerA.address, operatorX.address)).toEqual({
      deposited: ETH + 1000n,
      redeemed: 0n,
      unlockAt: 0n,
    });
    await anvil.increaseTime(DELAY + 1n);
    await refusal(as(payerA).withdraw(operatorX.address), "WithdrawalNotRequested");
  });

  it("only touches the payer's channel with that operator", async () => {
    await as(payerA).deposit(operatorY.address, 5000n);
    await as(payerA).requestWithdrawal(operatorX.address);
    await anvil.increaseTime(DELAY);
    await as(payerA).withdraw(operatorX.address);
    expect(await vault.channel(payerA.address, operatorY.address)).toEqual({ ...EMPTY_CHANNEL, deposited: 5000n });
    await as(operatorY).redeem([await stamp(payerA, operatorY, 5000n)]);
  });
});

describe("redeemMany", () => {
  it("settles several payers in one transaction", async () => {
    const payers = [payerA, payerB, ...batchPayers.slice(0, 3)];
    for (const payer of payers) await as(payer).deposit(operatorX.address, ETH);
    const vouchers = await Promise.all(payers.map((payer, i) => stamp(payer, operatorX, 1000n * BigInt(i + 1))));
    const before = await provider.getBalance(operatorX.address);
    const receipt = await as(operatorX).redeem(vouchers);
    const total = vouchers.reduce((sum, v) => sum + v.voucher.cumulative, 0n);
    expect(await provider.getBalance(operatorX.address)).toBe(before + total - fee(receipt));
    expect(events(receipt, "Redeemed").map((e) => [e.payer, e.paid])).toEqual(
      vouchers.map((v) => [v.voucher.payer, v.voucher.cumulative]),
    );
    for (const v of vouchers) {
      expect((await vault.channel(v.voucher.payer, operatorX.address)).redeemed).toBe(v.voucher.cumulative);
    }
  });

  it("refuses the whole batch for one bad voucher and names its index", async () => {
    await as(payerA).deposit(operatorX.address, ETH);
    await as(payerB).deposit(operatorX.address, ETH);
    const good = await stamp(payerA, operatorX, 1000n);
    const bad = await stamp(payerB, operatorX, 1000n);
    bad.voucher = { ...bad.voucher, cumulative: 999_999n };
    const err = await refusal(as(operatorX).redeem([good, bad]), "SignerNotPayer");
    expect(err.voucherIndex).toBe(1);
    expect(err.args).toMatchObject({ payer: payerB.address });
    // Nothing was settled, not even the good voucher.
    expect((await vault.channel(payerA.address, operatorX.address)).redeemed).toBe(0n);

    const notMine = await stamp(payerB, operatorY, 1000n);
    expect((await refusal(as(operatorX).redeem([notMine, good]), "NotOperator")).voucherIndex).toBe(0);
  });

  it("applies vouchers in order, so a channel may appear twice only with a growing cumulative", async () => {
    await as(payerA).deposit(operatorX.address, ETH);
    const first = await stamp(payerA, operatorX, 1000n);
    const second = await stamp(payerA, operatorX, 2500n);
    const err = await refusal(as(operatorX).redeem([second, first]), "CumulativeNotAboveRedeemed");
    expect(err.voucherIndex).toBe(1);
    const receipt = await as(operatorX).redeem([first, second]);
    expect(events(receipt, "Redeemed").map((e) => e.paid)).toEqual([1000n, 1500n]);
  });

  it("refuses an empty batch and mismatched lengths", async () => {
    const contract = new Contract(vault.address, POSTAGE_VAULT_ABI, operatorX);
    const revertName = async (call: Promise<unknown>) => {
      const err = (await call.catch((e: unknown) => e)) as { data?: string };
      return vaultInterface.parseError(err.data!)?.name;
    };
    expect(await revertName(contract.redeemMany([], []))).toBe("BatchEmpty");
    const signed = await stamp(payerA, operatorX, 1n);
    const tuple = { ...signed.voucher, digest: hexlify(signed.voucher.digest) };
    expect(await revertName(contract.redeemMany([tuple], []))).toBe("BatchLengthMismatch");
  });
});

describe("gas", () => {
  it("is lower per voucher through redeemMany than through redeem", async () => {
    const contract = new Contract(vault.address, POSTAGE_VAULT_ABI, operatorX);
    const figures: Record<string, string | number>[] = [];
    for (const n of [1, 10, 50]) {
      const payers = batchPayers.slice(0, n);
      for (const payer of payers) await as(payer).deposit(operatorX.address, ETH);
      const cumulativeBase = BigInt(figures.length) * 10_000n;
      // Both rounds find the channel slot non-zero and leave it non-zero, so their storage costs are alike.
      let redeemGas = 0n;
      for (const payer of payers) {
        const receipt = await as(operatorX).redeem([await stamp(payer, operatorX, cumulativeBase + 1000n)]);
        redeemGas += receipt.gasUsed;
      }
      const vouchers = await Promise.all(payers.map((payer) => stamp(payer, operatorX, cumulativeBase + 2000n)));
      const response = await contract.redeemMany(
        vouchers.map((v) => ({ ...v.voucher, digest: hexlify(v.voucher.digest) })),
        vouchers.map((v) => hexlify(v.signature)),
      );
      const batchGas = (await response.wait()).gasUsed as bigint;
      figures.push({
        vouchers: n,
        "redeem × n, total": Number(redeemGas),
        "redeem per voucher": Number(redeemGas / BigInt(n)),
        "redeemMany total": Number(batchGas),
        "redeemMany per voucher": Number(batchGas / BigInt(n)),
      });
      if (n > 1) expect(batchGas).toBeLessThan(redeemGas);
    }
    console.log("PostageVault gas (anvil, solc 0.8.37, optimizer 10000 runs, cancun):");
    console.table(figures);
  });

  it("of deposit, requestWithdrawal and withdraw", async () => {
    const first = await as(payerA).deposit(operatorX.address, ETH);
    const topUp = await as(payerA).deposit(operatorX.address, ETH);
    const request = await as(payerA).requestWithdrawal(operatorX.address);
    await anvil.increaseTime(DELAY);
    const withdrawal = await as(payerA).withdraw(operatorX.address);
    console.table({
      "first deposit": Number(first.gasUsed),
      "top-up deposit": Number(topUp.gasUsed),
      requestWithdrawal: Number(request.gasUsed),
      withdraw: Number(withdrawal.gasUsed),
    });
    expect(first.gasUsed).toBeGreaterThan(topUp.gasUsed);
  });
});
