// client.postage against a real chain (anvil) and a real PostageVault: deposit, balance, stamps against the
// deposit, withdrawal. The node is the in-memory one, reading the payer's channel from the same chain.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { randomBytes, inviteTopic } from "@xmtp-ts/crypto";
import { deployVault, PostageVaultClient, VaultRevertError } from "@xmtp-ts/postage";
import { Wallet, type JsonRpcProvider } from "ethers";
import { startAnvil, type Anvil } from "../../../postage/src/test-support/anvil.js";
import { Client } from "../Client.js";
import { PostagePayerMissingError, PostageUnavailableError, PostageWithdrawalPendingError, PostageWrongChainError } from "./errors.js";
import { MemoryPostageNode } from "./test-support/memoryPostageNode.js";
import { randomWallet } from "./test-support/wallets.js";

const DELAY_SECONDS = 3600n;

let anvil: Anvil;
let provider: JsonRpcProvider;
let deployer: Wallet;
let payer: Wallet;
let operator: string;
let vault: string;
let node: MemoryPostageNode;

beforeAll(async () => {
  anvil = await startAnvil({ accounts: 4 });
  provider = anvil.provider();
  [deployer, payer] = anvil.accounts.map((key) => new Wallet(key, provider));
  operator = new Wallet(anvil.accounts[2]).address;
});

afterAll(async () => {
  await anvil?.stop();
});

beforeEach(async () => {
  // A fresh vault per test: the payer's channel starts empty whatever the test before did.
  vault = await deployVault(deployer, DELAY_SECONDS);
  node = new MemoryPostageNode({ chainId: anvil.chainId, vault, operator, priceWei: 1000n });
  const chain = new PostageVaultClient(vault, provider);
  node.chainState = async (address) => {
    const channel = await chain.channel(address, operator);
    return { depositedWei: channel.deposited, redeemedWei: channel.redeemed, withdrawalPending: channel.unlockAt !== 0n };
  };
});

async function client(options: { pays?: boolean } = { pays: true }) {
  const wallet = randomWallet();
  return Client.create(wallet, {
    api: node.apiFor(wallet.address),
    parallelInvitations: false,
    skipContactPublishing: true,
    postage: options.pays ? { payer } : undefined,
  });
}

/** Writes one envelope to a stranger's invite topic, as a new conversation does. */
async function writeToStranger(sender: Client) {
  await sender.reachPublisher.publish([{ contentTopic: inviteTopic(randomWallet().address), timestampNs: 1n, message: randomBytes(40) }]);
}

describe("client.postage on a real vault", () => {
  it("deposits for the node's operator and reports the channel", async () => {
    const alice = await client();
    expect(await alice.postage.balance()).toEqual({ deposited: 0n, redeemed: 0n, owed: 0n, available: 0n, withdrawalPending: false, unlockAt: 0n });
    const tx = await alice.postage.deposit(50_000n);
    expect(tx.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(tx.blockNumber).toBeGreaterThan(0);
    // The money is in the channel with this node's operator, and no other.
    const onChain = new PostageVaultClient(vault, provider);
    expect((await onChain.channel(payer.address, operator)).deposited).toBe(50_000n);
    expect((await onChain.channel(payer.address, deployer.address)).deposited).toBe(0n);
    expect(await alice.postage.balance()).toMatchObject({ deposited: 50_000n, owed: 0n, available: 50_000n });
  });

  it("pays stamps out of the deposit: what the node accepted is owed, the rest available", async () => {
    const alice = await client();
    await alice.postage.deposit(2_500n);
    await writeToStranger(alice);
    await writeToStranger(alice);
    expect(await alice.postage.balance()).toMatchObject({ deposited: 2_500n, redeemed: 0n, owed: 2_000n, available: 500n });
    // A third stamp would exceed the deposit: refused before the wallet signs.
    await expect(writeToStranger(alice)).rejects.toMatchObject({ code: "postage_balance_too_low", neededWei: 3_000n, depositedWei: 2_500n });
  });

  it("withdraws after the delay; no stamps while the withdrawal is pending", async () => {
    const alice = await client();
    await alice.postage.deposit(10_000n);
    await writeToStranger(alice);
    await alice.postage.requestWithdrawal();
    const pending = await alice.postage.balance();
    expect(pending.withdrawalPending).toBe(true);
    expect(pending.unlockAt).toBeGreaterThan(await anvil.latestTimestamp());
    await expect(writeToStranger(alice)).rejects.toBeInstanceOf(PostageWithdrawalPendingError);
    // Too early: the vault refuses, with its own typed error.
    const early = await alice.postage.withdraw().catch((e: unknown) => e);
    expect(early).toBeInstanceOf(VaultRevertError);
    expect((early as VaultRevertError).errorName).toBe("WithdrawalLocked");

    await anvil.increaseTime(DELAY_SECONDS);
    const before = await provider.getBalance(payer.address);
    const tx = await alice.postage.withdraw();
    const receipt = await provider.getTransactionReceipt(tx.hash);
    const gas = receipt!.gasUsed * receipt!.gasPrice;
    // Nothing was redeemed by the operator, so the whole deposit comes back.
    expect((await provider.getBalance(payer.address)) - before + gas).toBe(10_000n);
    expect(await alice.postage.balance()).toMatchObject({ deposited: 0n, withdrawalPending: false, unlockAt: 0n });
  });

  it("a new deposit cancels a pending withdrawal", async () => {
    const alice = await client();
    await alice.postage.deposit(5_000n);
    await alice.postage.requestWithdrawal();
    await alice.postage.deposit(1_000n);
    expect(await alice.postage.balance()).toMatchObject({ deposited: 6_000n, withdrawalPending: false });
    await writeToStranger(alice);
  });

  it("refuses vault actions without a payer, on a node with postage off, and from a provider on another chain", async () => {
    const noPayer = await client({ pays: false });
    await expect(noPayer.postage.deposit(1n)).rejects.toBeInstanceOf(PostagePayerMissingError);
    await expect(noPayer.postage.balance()).rejects.toBeInstanceOf(PostagePayerMissingError);

    const alice = await client();
    node.terms.chainId = 1n;
    const wrong = await alice.postage.deposit(1_000n).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PostageWrongChainError);
    expect(wrong).toMatchObject({ payerChainId: anvil.chainId, nodeChainId: 1n });

    node.mode = "off";
    await expect(alice.postage.deposit(1_000n)).rejects.toBeInstanceOf(PostageUnavailableError);
    await expect(alice.postage.quote()).resolves.toEqual({ postage: "off" });
    await expect(alice.postage.deposit(0n)).rejects.toThrow(RangeError);
  });
});
