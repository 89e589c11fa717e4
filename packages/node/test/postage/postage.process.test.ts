// Postage end to end: a real node process, a real EVM chain (anvil) with a deployed PostageVault, the public SDK
// (@xmtp/xmtp-js 13) and raw HTTP publishes carrying real stamps; redemption by `xmtp-node postage redeem`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { Wallet, formatEther } from "ethers";
import { createAuthToken, toBase64 } from "@xmtp-ts/crypto";
import { PostageVaultClient, deployVault, encodePostageProof, makePostageStamp, signVoucher, stampProof } from "@xmtp-ts/postage";
import { startAnvil, type Anvil } from "../../../postage/src/test-support/anvil.js";
import { invitationEnvelope, makePerson, type Person } from "../../../postage/src/test-support/people.js";
import { nodeBinary, startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { createClient, newWallet } from "../interop/sdk.js";
import { eventually, queryAll, startRelayNode } from "../network/support.js";
import { multiaddr } from "@multiformats/multiaddr";
import { startBareRelayHost } from "../../src/relay/test-support/bareRelayHost.js";
import { envelopeToWakuMessageBytes } from "../../src/relay/wakuRelay.js";
import { Protocols } from "@waku/sdk";
import { WAKU_ARGS, lightNodeFor } from "../waku/support.js";
import { publish } from "../http/helpers.js";

const PRICE = 1_000_000n;
let anvil: Anvil;
let vault: string;
let operatorKey: string;
const nodes: RunningNode[] = [];
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  anvil = await startAnvil();
  const provider = anvil.provider();
  vault = await deployVault(new Wallet(anvil.accounts[0], provider), 3600n);
  operatorKey = anvil.accounts[1];
});
afterAll(async () => {
  for (const close of closers) await close();
  await Promise.all(nodes.map((node) => node.dispose()));
  await anvil?.stop();
});

const postageArgs = () => ["--postage", "required", "--postage-rpc", anvil.rpcUrl, "--postage-vault", vault, "--postage-price", String(PRICE)];
const postageEnv = () => ({ XMTP_POSTAGE_OPERATOR_KEY: operatorKey });

async function startPostageNode(dataDir?: string): Promise<RunningNode> {
  const node = await startNode({ dataDir, args: postageArgs(), env: postageEnv() });
  nodes.push(node);
  return node;
}

const tokenOf = (person: Person) =>
  createAuthToken({
    identityKey: person.keys.identityKey,
    identityPrivateKey: person.keys.identityPrivateKey,
    walletAddress: person.address,
    createdNs: BigInt(Date.now()) * 1_000_000n,
  });

/** Runs `xmtp-node postage …` and returns its exit code and output. */
function runPostageCommand(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nodeBinary, "postage", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("postage on a node, end to end", () => {
  it("public SDK: a reply to a prior contact is free, a stranger is refused with 402 and nothing is stored", { timeout: 120_000 }, async () => {
    // The network runs without postage first: the node learns who contacted whom from what it accepts.
    const off = await startNode();
    const [aliceWallet, bobWallet, carolWallet] = [newWallet(), newWallet(), newWallet()];
    const [alice, bob] = await Promise.all([createClient(off, aliceWallet), createClient(off, bobWallet)]);
    await (await bob.conversations.newConversation(alice.address)).send("hello Alice");
    await off.stop();

    // The same node with postage required.
    const node = await startPostageNode(off.dataDir);
    const bobInvites = `/xmtp/0/invite-${bob.address}/proto`;
    const before = (await queryAll(node, bobInvites)).length;
    const aliceAgain = await createClient(node, aliceWallet);
    // A second conversation (another conversation id) is a new invitation on Bob's invite topic: free, Bob wrote first.
    const second = await aliceAgain.conversations.newConversation(bob.address, { conversationId: "xmtp-ts.org/postage/second", metadata: {} });
    await second.send("free, since you wrote first");
    expect((await queryAll(node, bobInvites)).length).toBe(before + 1);

    // Carol never had contact with Bob: her SDK's invitation is refused, and nothing of it is stored.
    const carol = await createClient(node, carolWallet);
    const refused = await carol.conversations.newConversation(bob.address).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(refused)).toMatch(/postage required: writing to \/xmtp\/0\/invite-0x[0-9a-fA-F]{40}\/proto costs 1000000 wei/);
    expect((await queryAll(node, bobInvites)).length).toBe(before + 1);

    const quote = await (await fetch(`${node.url}/postage/v1/quote`)).json();
    expect(quote).toEqual({
      postage: "required",
      chainId: String(anvil.chainId),
      vault,
      operator: new Wallet(operatorKey).address,
      priceWei: String(PRICE),
      pricePerByteWei: "0",
    });
  });

  it("a stamp pays: the payer's channel is debited, vouchers survive a restart, and the operator is paid exactly on chain", { timeout: 120_000 }, async () => {
    const provider = anvil.provider();
    const payer = new Wallet(anvil.accounts[2], provider);
    const operator = new Wallet(operatorKey, provider);
    const vaultClient = new PostageVaultClient(vault, payer);
    await vaultClient.deposit(operator.address, 5n * PRICE);
    const node = await startPostageNode();
    const [carol, bob, dave] = await Promise.all([makePerson(), makePerson(), makePerson()]);

    const stamped = async (sender: Person, recipient: Person, cumulative: bigint) => {
      const invite = await invitationEnvelope(sender, recipient);
      const signature = await signVoucher(
        payer,
        { payer: payer.address, operator: operator.address, cumulative, digest: invite.digest },
        { chainId: anvil.chainId, vault },
      );
      const proof = stampProof(makePostageStamp({ payer: payer.address, operator: operator.address, cumulative, signature }));
      return {
        topic: invite.contentTopic,
        json: { contentTopic: invite.contentTopic, timestampNs: String(BigInt(Date.now()) * 1_000_000n), message: toBase64(invite.message), postage: toBase64(encodePostageProof(proof)) },
      };
    };
    // No stamp: refused with the terms.
    const bare = await stamped(carol, bob, PRICE);
    const unpaid = await publish(node, [{ ...bare.json, postage: undefined }], tokenOf(carol));
    expect(unpaid.status).toBe(402);
    expect(unpaid.body.code).toBe(9);
    expect(unpaid.body.details[0].vault).toBe(vault);
    // Two stamped first messages from two senders, paid by one payer: cumulative 1x, then 2x the price.
    expect((await publish(node, [bare.json], tokenOf(carol))).status).toBe(200);
    const next = await stamped(dave, bob, 2n * PRICE);
    expect((await publish(node, [next.json], tokenOf(dave))).status).toBe(200);
    expect((await queryAll(node, bare.topic)).length).toBe(2);
    // Replaying an old stamp on a new envelope is refused: its amount does not grow.
    const replay = await stamped(dave, carol, 2n * PRICE);
    const replayed = await publish(node, [replay.json], tokenOf(dave));
    expect(replayed.status).toBe(402);
    expect(replayed.body.message).toMatch(/does not exceed the last one accepted/);
    expect((await queryAll(node, replay.topic)).length).toBe(0);
    const standing = await (await fetch(`${node.url}/postage/v1/quote?payer=${payer.address}`)).json();
    expect(standing.payer).toEqual({
      address: payer.address,
      acceptedCumulativeWei: String(2n * PRICE),
      depositedWei: String(5n * PRICE),
      redeemedWei: "0",
      withdrawalPending: false,
    });

    // A restart keeps the accepted vouchers; the operator redeems them on command.
    await node.stop();
    const restarted = await startPostageNode(node.dataDir);
    await restarted.stop();
    const balanceBefore = await provider.getBalance(operator.address);
    const redeemed = await runPostageCommand(["redeem", "--data-dir", node.dataDir, ...postageArgs()], postageEnv());
    expect(redeemed.stderr).toBe("");
    expect(redeemed.code).toBe(0);
    const hash = /transactions (0x[0-9a-f]{64})/.exec(redeemed.stdout)?.[1];
    expect(hash, redeemed.stdout).toBeDefined();
    const receipt = (await provider.getTransactionReceipt(hash!))!;
    const gas = receipt.gasUsed * receipt.gasPrice;
    const balanceAfter = await provider.getBalance(operator.address);
    expect(balanceAfter - balanceBefore + gas, `operator got ${formatEther(balanceAfter - balanceBefore + gas)} ETH`).toBe(2n * PRICE);
    expect(await vaultClient.channel(payer.address, operator.address)).toEqual({ deposited: 5n * PRICE, redeemed: 2n * PRICE, unlockAt: 0n });
    // Nothing is redeemed twice.
    const again = await runPostageCommand(["redeem", "--data-dir", node.dataDir, ...postageArgs()], postageEnv());
    expect(again.stdout).toMatch(/nothing to redeem/);
  });

  it("relaying nodes refuse an unpaid invitation a rogue peer injects, and carry a paid one", { timeout: 120_000 }, async () => {
    const b = await startRelayNode({ extraArgs: postageArgs(), env: postageEnv() });
    nodes.push(b);
    const c = await startRelayNode({ peers: [b.multiaddr], extraArgs: postageArgs(), env: postageEnv() });
    nodes.push(c);
    const shard = "/waku/2/rs/0/4";
    const rogue = await startBareRelayHost((stop) => closers.push(stop));
    rogue.services.pubsub.subscribe(shard);
    await rogue.dial(multiaddr(b.multiaddr));
    await eventually(() => rogue.services.pubsub.getSubscribers(shard).some((p) => p.toString() === b.peerId), "the rogue to see B on the shard");

    const [mallory, bob] = await Promise.all([makePerson(), makePerson()]);
    const unpaid = await invitationEnvelope(mallory, bob);
    const timestampNs = BigInt(Date.now()) * 1_000_000n;
    await rogue.services.pubsub.publish(shard, envelopeToWakuMessageBytes({ contentTopic: unpaid.contentTopic, timestampNs, message: unpaid.message }));
    // A stamp for any operator is worth nothing to the relaying nodes but proves someone pays: it travels.
    const payer = new Wallet(anvil.accounts[4]);
    const paid = await invitationEnvelope(mallory, bob);
    const signature = await signVoucher(payer, { payer: payer.address, operator: payer.address, cumulative: PRICE, digest: paid.digest }, { chainId: anvil.chainId, vault });
    const proof = encodePostageProof(stampProof(makePostageStamp({ payer: payer.address, operator: payer.address, cumulative: PRICE, signature })));
    await rogue.services.pubsub.publish(shard, envelopeToWakuMessageBytes({ contentTopic: paid.contentTopic, timestampNs: timestampNs + 1n, message: paid.message, postage: proof }));

    await eventually(async () => (await queryAll(c, paid.contentTopic)).length === 1, "the paid invitation at C");
    for (const node of [b, c]) {
      expect((await queryAll(node, paid.contentTopic)).map((e) => e.message)).toEqual([toBase64(paid.message)]);
    }
    expect(b.logs.some((line) => line.includes("dropped relay message") && line.includes("postage required"))).toBe(true);
  });

  it("Waku LightPush: an unpaid invitation is refused with nothing stored; one with a stamp in its meta is taken", { timeout: 120_000 }, async () => {
    const node = await startRelayNode({ extraArgs: [...WAKU_ARGS, ...postageArgs()], env: postageEnv() });
    nodes.push(node);
    const light = await lightNodeFor(node, [Protocols.LightPush]);
    closers.push(() => light.stop());
    const provider = anvil.provider();
    const payer = new Wallet(anvil.accounts[5], provider);
    const operator = new Wallet(operatorKey).address;
    await new PostageVaultClient(vault, payer).deposit(operator, 3n * PRICE);
    const [mallory, bob] = await Promise.all([makePerson(), makePerson()]);

    const unpaid = await invitationEnvelope(mallory, bob);
    const encoder = light.createEncoder({ contentTopic: unpaid.contentTopic });
    const refused = await light.lightPush.send(encoder, { payload: unpaid.message });
    expect(refused.successes).toEqual([]);
    expect(await queryAll(node, unpaid.contentTopic)).toEqual([]);

    // The proof travels in the WakuMessage's meta (RFC 14); the SDK's encoder has no option for it, so it is set
    // on the message the encoder builds.
    const paid = await invitationEnvelope(mallory, bob);
    const signature = await signVoucher(payer, { payer: payer.address, operator, cumulative: PRICE, digest: paid.digest }, { chainId: anvil.chainId, vault });
    const proof = encodePostageProof(stampProof(makePostageStamp({ payer: payer.address, operator, cumulative: PRICE, signature })));
    const withMeta = light.createEncoder({ contentTopic: paid.contentTopic });
    const build = withMeta.toProtoObj.bind(withMeta);
    withMeta.toProtoObj = async (message) => ({ ...(await build(message))!, meta: proof });
    const accepted = await light.lightPush.send(withMeta, { payload: paid.message });
    expect(accepted.failures, JSON.stringify(accepted.failures)).toEqual([]);
    expect((await queryAll(node, paid.contentTopic)).map((e) => e.message)).toEqual([toBase64(paid.message)]);
    const standing = await (await fetch(`${node.url}/postage/v1/quote?payer=${payer.address}`)).json();
    expect(standing.payer.acceptedCumulativeWei).toBe(String(PRICE));
  });

  it("deploy prints the vault address last, and a node refuses to start on a vault that is not there", { timeout: 60_000 }, async () => {
    const deployed = await runPostageCommand(["deploy", "--rpc", anvil.rpcUrl], { XMTP_POSTAGE_DEPLOYER_KEY: anvil.accounts[3] });
    expect(deployed.code).toBe(0);
    const lines = deployed.stdout.trim().split("\n");
    expect(lines.at(-1)).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(await anvil.provider().getCode(lines.at(-1)!)).not.toBe("0x");
    const nowhere = "0x000000000000000000000000000000000000dEaD";
    const failed = await startNode({
      args: ["--postage", "required", "--postage-rpc", anvil.rpcUrl, "--postage-vault", nowhere],
      env: postageEnv(),
    }).then(
      (node) => {
        nodes.push(node);
        return undefined;
      },
      (error: unknown) => String(error),
    );
    expect(failed).toMatch(/there is no contract at 0x000000000000000000000000000000000000dEaD/);
  });
});
