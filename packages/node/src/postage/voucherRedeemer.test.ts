// Voucher redemption against a real chain (anvil) and a real ledger (SQLite): what is owed is paid once, payers who
// asked to withdraw are redeemed first, and a voucher the vault refuses does not hold back the others.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Wallet, hexlify, randomBytes } from "ethers";
import { PostageVaultClient, deployVault, signVoucher } from "@xmtp-ts/postage";
import { startAnvil, type Anvil } from "../../../postage/src/test-support/anvil.js";
import { openSqliteStore } from "../store/sqlite.js";
import { silentLogger } from "../log.js";
import { VoucherRedeemer } from "./voucherRedeemer.js";

let anvil: Anvil;
let vault: string;
beforeAll(async () => {
  anvil = await startAnvil();
  vault = await deployVault(new Wallet(anvil.accounts[0], anvil.provider()), 3600n);
});
afterAll(async () => {
  await anvil?.stop();
});

async function setup() {
  const provider = anvil.provider();
  const operator = new Wallet(anvil.accounts[1], provider);
  const store = await openSqliteStore(":memory:");
  const ledger = store.postage;
  const redeemed: bigint[] = [];
  const redeemer = new VoucherRedeemer({
    ledger,
    vault: new PostageVaultClient(vault, operator),
    operator: operator.address,
    logger: silentLogger,
    onRedeemed: (wei) => void redeemed.push(wei),
  });
  /** A payer with a deposit, and a function to accept its next voucher into the ledger as the gate would. */
  const payerWith = async (key: string, deposit: bigint) => {
    const payer = new Wallet(key, provider);
    const client = new PostageVaultClient(vault, payer);
    await client.deposit(operator.address, deposit);
    const accept = async (cumulative: bigint) => {
      const digest = randomBytes(32);
      const signature = await signVoucher(payer, { payer: payer.address, operator: operator.address, cumulative, digest }, { chainId: anvil.chainId, vault });
      expect(await ledger.acceptVoucher({ operator: operator.address, payer: payer.address, cumulative, digest, signature }, 1n, 1n)).toMatchObject({ accepted: true });
    };
    return { payer, client, accept };
  };
  return { operator, store, ledger, redeemer, redeemed, payerWith };
}

describe("VoucherRedeemer", () => {
  it("redeems each payer's latest voucher in one transaction, once, and records it", async () => {
    const { operator, store, ledger, redeemer, redeemed, payerWith } = await setup();
    const first = await payerWith(anvil.accounts[2], 1000n);
    const second = await payerWith(anvil.accounts[3], 1000n);
    await first.accept(100n);
    await first.accept(300n);
    await second.accept(50n);
    const result = await redeemer.redeem();
    expect(result).toMatchObject({ vouchers: 2, wei: 350n, refused: [] });
    expect(result.transactions).toHaveLength(1);
    expect(await first.client.channel(first.payer.address, operator.address)).toMatchObject({ redeemed: 300n });
    expect(await ledger.unredeemedVouchers(operator.address)).toEqual([]);
    expect((await redeemer.redeem()).vouchers).toBe(0);
    expect(redeemed).toEqual([350n]);
    await store.close();
  });

  it("redeems at once the payers who asked to withdraw, and only them on a withdrawal watch", async () => {
    const { operator, store, redeemer, payerWith } = await setup();
    const staying = await payerWith(anvil.accounts[4], 1000n);
    const leaving = await payerWith(anvil.accounts[5], 1000n);
    await staying.accept(10n);
    await leaving.accept(20n);
    await leaving.client.requestWithdrawal(operator.address);
    expect(await redeemer.redeem({ onlyWithdrawing: true })).toMatchObject({ vouchers: 1, wei: 20n });
    expect((await leaving.client.channel(leaving.payer.address, operator.address)).redeemed).toBe(20n);
    expect((await staying.client.channel(staying.payer.address, operator.address)).redeemed).toBe(0n);
    await store.close();
  });

  it("leaves out a voucher the vault refuses and redeems the rest", async () => {
    const { operator, store, ledger, redeemer, payerWith } = await setup();
    const good = await payerWith(anvil.accounts[6], 1000n);
    await good.accept(40n);
    // A voucher signed by someone other than the payer it names: the vault refuses it.
    const named = new Wallet(hexlify(randomBytes(32)));
    const impostor = new Wallet(hexlify(randomBytes(32)));
    const digest = randomBytes(32);
    const signature = await signVoucher(impostor, { payer: impostor.address, operator: operator.address, cumulative: 5n, digest }, { chainId: anvil.chainId, vault });
    await ledger.acceptVoucher({ operator: operator.address, payer: named.address, cumulative: 5n, digest, signature }, 1n, 1n);
    const result = await redeemer.redeem();
    expect(result.vouchers).toBe(1);
    expect(result.wei).toBe(40n);
    expect(result.refused.map((r) => r.payer)).toEqual([named.address.toLowerCase()]);
    expect((await good.client.channel(good.payer.address, operator.address)).redeemed).toBe(40n);
    await store.close();
  });
});
