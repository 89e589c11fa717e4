// The real `xmtp` binary against a real node that charges strangers postage (--postage required), on a real chain
// (anvil) with a deployed PostageVault: refusals explained, a payer's deposit paying for a first message, grants
// carried from one CLI user to another, and a withdrawal across the vault's delay. One chain and one node for all.
import { readFileSync, statSync } from "node:fs";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { deployVault } from "@xmtp-ts/postage";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnvil, type Anvil } from "../../postage/src/test-support/anvil.js";
import { startNode, type RunningNode } from "../../../test/support/runningNode.js";
import { ExitCode } from "../src/errors.js";
import { assertCliBuilt, CliUser, closedPort } from "./support.js";

const PRICE = 1_000_000n;
const WITHDRAWAL_DELAY_SECONDS = 3600n;

let anvil: Anvil;
let vault: string;
let operator: string;
let node: RunningNode;
const users: CliUser[] = [];

beforeAll(async () => {
  assertCliBuilt();
  anvil = await startAnvil({ accounts: 6 });
  vault = await deployVault(new Wallet(anvil.accounts[0], anvil.provider()), WITHDRAWAL_DELAY_SECONDS);
  operator = new Wallet(anvil.accounts[1]).address;
  node = await startNode({
    args: ["--postage", "required", "--postage-rpc", anvil.rpcUrl, "--postage-vault", vault, "--postage-price", String(PRICE)],
    env: { XMTP_POSTAGE_OPERATOR_KEY: anvil.accounts[1] },
  });
});

afterAll(async () => {
  for (const u of users) u.dispose();
  await node?.dispose();
  await anvil?.stop();
});

/** A CLI user with an identity on the node; `payer` names an anvil account whose key goes in XMTP_PAYER_KEY. */
async function initialised(payer?: number): Promise<{ cli: CliUser; address: string }> {
  const env: Record<string, string> = payer === undefined ? {} : { XMTP_PAYER_KEY: anvil.accounts[payer], XMTP_PAYER_RPC: anvil.rpcUrl };
  const cli = new CliUser(node.url, env);
  users.push(cli);
  const { address } = await cli.json<{ address: string }>(["init"]);
  return { cli, address };
}

/** How many envelopes the node holds on a topic (a raw query, as any peer could make). */
async function stored(topic: string): Promise<number> {
  const response = await fetch(`${node.url}/message/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ contentTopics: [topic], pagingInfo: { limit: 100 } }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { envelopes?: unknown[] }).envelopes?.length ?? 0;
}

describe("xmtp on a node that requires postage", () => {
  it("a first message to a stranger without a grant or payer: the terms, the three ways forward, exit 9, nothing stored", async () => {
    const [alice, bob] = await Promise.all([initialised(), initialised()]);
    const result = await alice.cli.run(["send", bob.address, "hello stranger"]);
    expect(result.code).toBe(ExitCode.POSTAGE);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `xmtp: ${bob.address} is a stranger to you on the node at ${node.url}: it charges postage for a first message to ` +
        `someone who has not written to you first or given you a grant, and no payer is configured (XMTP_PAYER_KEY).`,
    );
    expect(lines.slice(1)).toEqual([
      "  price: 1000000 wei (0.000000000001 ETH) per message",
      `  paid into: vault ${vault} on chain 31337, for operator ${operator}`,
      expect.stringMatching(new RegExp(`^  the node said: postage required: writing to /xmtp/0/invite-${bob.address}/proto costs 1000000 wei`)),
      "Nothing was sent. Three ways forward:",
      `  1. ask ${bob.address} for a grant (they run: xmtp grant ${alice.address}), then run: xmtp accept-grant GRANT`,
      `  2. pay: set XMTP_PAYER_KEY to the private key of a funded account on chain 31337 and XMTP_PAYER_RPC to its RPC URL, run "xmtp postage deposit WEI", then send again`,
      `  3. wait for ${bob.address} to write to you first: replying is free`,
    ]);

    // Neither copy of the invitation was stored, and neither side has a conversation.
    expect(await stored(`/xmtp/0/invite-${bob.address}/proto`)).toBe(0);
    expect(await stored(`/xmtp/0/invite-${alice.address}/proto`)).toBe(0);
    expect((await bob.cli.json<{ conversations: unknown[] }>(["list"])).conversations).toEqual([]);

    const json = await alice.cli.run(["send", bob.address, "hello stranger", "--json"]);
    expect(json.code).toBe(ExitCode.POSTAGE);
    const report = JSON.parse(json.stderr);
    expect(report.error).toMatchObject({
      kind: "POSTAGE",
      exitCode: ExitCode.POSTAGE,
      details: { recipients: [bob.address], quote: { postage: "required", chainId: "31337", vault, operator, priceWei: String(PRICE) } },
    });

    const quote = await alice.cli.ok(["postage", "quote"]);
    expect(quote).toBe(
      [
        `postage at ${node.url}: required for first messages to strangers`,
        "  price:    1000000 wei (0.000000000001 ETH) per message",
        "  chain:    31337",
        `  vault:    ${vault}`,
        `  operator: ${operator} (deposits are for this operator; it is paid what you owe)`,
        "",
      ].join("\n"),
    );
  });

  it("a payer deposits, checks its balance, and pays for a first message, within --max-price", async () => {
    const [carol, dave] = await Promise.all([initialised(2), initialised()]);
    const deposit = await carol.cli.ok(["postage", "deposit", "1500000"]);
    const payer = new Wallet(anvil.accounts[2]).address;
    expect(deposit).toMatch(
      new RegExp(
        `^deposited 1500000 wei \\(0\\.0000000000015 ETH\\) for operator ${operator} into vault ${vault} on chain 31337\\n` +
          `transaction 0x[0-9a-f]{64} \\(block \\d+\\)\\n` +
          `available now: 1500000 wei \\(0\\.0000000000015 ETH\\) \\(deposited 1500000 wei in all\\)\\n$`,
      ),
    );
    expect(await carol.cli.json(["postage", "balance"])).toEqual({
      payer,
      operator,
      vault,
      chainId: "31337",
      depositedWei: "1500000",
      owedWei: "0",
      redeemedWei: "0",
      availableWei: "1500000",
      withdrawalPending: false,
      unlockAt: null,
    });

    // Above the sender's maximum: nothing is signed or sent.
    const tooDear = await carol.cli.run(["send", dave.address, "too dear", "--max-price", "999999"]);
    expect(tooDear.code).toBe(ExitCode.POSTAGE);
    expect(tooDear.stderr).toContain("costs 1000000 wei (0.000000000001 ETH) at the node at");
    expect(tooDear.stderr).toContain("more than your maximum of 999999 wei");
    expect(tooDear.stderr).toContain("pay the price: send again with --max-price 1000000");

    const sent = await carol.cli.ok(["send", dave.address, "paid hello", "--max-price", "1000000"]);
    expect(sent).toMatch(new RegExp(`^sent to ${dave.address} \\(message [0-9a-f]+\\)\\npaid 1000000 wei \\(0\\.000000000001 ETH\\) postage from payer ${payer}\\n$`));
    const read = await dave.cli.json<{ messages: { senderAddress: string; content: string }[] }>(["read", carol.address]);
    expect(read.messages.map((m) => [m.senderAddress, m.content])).toEqual([[carol.address, "paid hello"]]);

    const balance = await carol.cli.ok(["postage", "balance"]);
    expect(balance).toBe(
      [
        `payer ${payer} with operator ${operator} (vault ${vault} on chain 31337)`,
        "  deposited:  1500000 wei (0.0000000000015 ETH)",
        "  owed:       1000000 wei (0.000000000001 ETH), for the messages the node accepted so far",
        "  redeemed:   0 wei (0.0 ETH), paid out to the operator",
        "  available:  500000 wei (0.0000000000005 ETH), for further messages",
        "  withdrawal: none pending",
        "",
      ].join("\n"),
    );

    // A second stranger costs a second stamp, which the deposit no longer covers.
    const erin = await initialised();
    const short = await carol.cli.run(["send", erin.address, "one more"]);
    expect(short.code).toBe(ExitCode.POSTAGE);
    expect(short.stderr).toContain(`your payer ${payer} has 1500000 wei (0.0000000000015 ETH) deposited for operator ${operator}`);
    expect(short.stderr).toContain("Deposit at least 500000 wei more, then send again: xmtp postage deposit 500000");
    expect(await stored(`/xmtp/0/invite-${erin.address}/proto`)).toBe(0);

    // The quote now shows where the payer stands.
    expect(await carol.cli.json(["postage", "quote"])).toMatchObject({
      payer: { address: payer, acceptedCumulativeWei: "1000000", depositedWei: "1500000", withdrawalPending: false },
    });
  });

  it("a grant made by one user and accepted by another makes the first message free, across processes", async () => {
    const [frank, grace] = await Promise.all([initialised(), initialised()]);
    const made = await frank.cli.ok(["grant", grace.address, "--days", "2"]);
    const lines = made.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^grant: ${grace.address} may write first messages to you \\(${frank.address}\\) free until .+ \\(chain 31337, vault ${vault}\\)$`),
    );
    expect(lines[1]).toBe("they run: xmtp accept-grant GRANT, with GRANT the line below");
    const grant = lines[2];
    expect(grant).toMatch(/^[A-Za-z0-9+/]+=*$/);

    // Someone else cannot use it.
    const outsider = await initialised();
    const refused = await outsider.cli.run(["accept-grant", grant]);
    expect(refused.code).toBe(ExitCode.POSTAGE);
    expect(refused.stderr).toContain("the grant is not usable (not_for_us)");

    const accepted = await grace.cli.ok(["accept-grant", "-"], { input: grant + "\n" });
    expect(accepted).toMatch(new RegExp(`^accepted the grant from ${frank.address}: your first messages to them are free until .+\\nkept in ${grace.cli.home}/postage-grants.json\\n$`));
    const file = `${grace.cli.home}/postage-grants.json`;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).grants).toEqual([
      expect.objectContaining({ grantor: frank.address, grantee: grace.address, chainId: "31337", vault, grant }),
    ]);

    // A later process, no payer: the grant from the file makes it free.
    expect(await grace.cli.ok(["send", frank.address, "free, thanks to your grant"])).toMatch(/^sent to /);
    const read = await frank.cli.json<{ messages: { content: string }[] }>(["read", grace.address]);
    expect(read.messages.map((m) => m.content)).toEqual(["free, thanks to your grant"]);

    // With a conversation between them, a grant can travel inside it; reading it keeps it.
    const sent = await frank.cli.json<{ grantee: string; sent: { id: string } | null }>(["grant", grace.address, "--send"]);
    expect(sent).toMatchObject({ grantee: grace.address, sent: { id: expect.any(String) } });
    const received = await grace.cli.run(["read", frank.address, "--json"]);
    expect(received.code).toBe(0);
    const messages = JSON.parse(received.stdout).messages as { contentType: string; fallback?: string }[];
    expect(messages.at(-1)).toMatchObject({ contentType: "xmtp-ts.org/postageGrant:1.0" });
    expect(received.stderr).toContain(`kept the grant from ${frank.address}: your first messages to them are free until`);
    expect(JSON.parse(readFileSync(file, "utf8")).grants).toHaveLength(1);
  });

  it("withdraw: nothing to withdraw, then a request, still locked before the delay, and the money back after it", async () => {
    const { cli } = await initialised(3);
    const payer = new Wallet(anvil.accounts[3]).address;
    const nothing = await cli.run(["postage", "withdraw"]);
    expect(nothing.code).toBe(ExitCode.POSTAGE);
    expect(nothing.stderr).toContain(`xmtp: nothing to withdraw: payer ${payer} has 0 wei (0.0 ETH) deposited`);

    await cli.ok(["postage", "deposit", "--eth", "0.000000000003"]);
    const requested = await cli.ok(["postage", "withdraw"]);
    const lines = requested.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^requested a withdrawal of payer ${payer}'s deposit: transaction 0x[0-9a-f]{64} \\(block \\d+\\)$`));
    expect(lines[1]).toMatch(/^it unlocks at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(chain time\); run "xmtp postage withdraw" again then to receive it$/);
    expect(lines[2]).toBe(
      "you should receive 3000000 wei (0.000000000003 ETH): deposited 3000000 wei, less the 0 wei owed to the operator, which it redeems before then",
    );
    expect(lines[3]).toBe('until then the node takes no stamps from this deposit; "xmtp postage deposit" cancels the request');
    expect(await cli.json(["postage", "balance"])).toMatchObject({ withdrawalPending: true, unlockAt: expect.any(String) });

    const early = await cli.run(["postage", "withdraw"]);
    expect(early.code).toBe(ExitCode.POSTAGE);
    expect(early.stderr).toMatch(/^xmtp: the withdrawal is still locked: it unlocks at .+ \(chain time\), in \d+ s; run "xmtp postage withdraw" again then\. Nothing was withdrawn\.\n$/);

    await anvil.increaseTime(WITHDRAWAL_DELAY_SECONDS);
    const provider = anvil.provider();
    const before = await provider.getBalance(payer);
    const withdrawn = await cli.json<{ action: string; amountWei: string; transaction: string }>(["postage", "withdraw"]);
    expect(withdrawn).toMatchObject({ action: "withdrawn", amountWei: "3000000" });
    const receipt = (await provider.getTransactionReceipt(withdrawn.transaction))!;
    expect((await provider.getBalance(payer)) - before + receipt.gasUsed * receipt.gasPrice).toBe(3_000_000n);
    expect(await cli.json(["postage", "balance"])).toMatchObject({ depositedWei: "0", withdrawalPending: false });
  });

  it("the payer's chain: an RPC that is not there (exit 10), and one on another chain than the node's vault", async () => {
    const { cli } = await initialised(4);
    const deadRpc = `http://127.0.0.1:${await closedPort()}`;
    const dead = await cli.run(["postage", "balance", "--rpc", deadRpc]);
    expect(dead.code).toBe(ExitCode.CHAIN);
    expect(dead.stderr).toBe(`xmtp: cannot reach the payer's chain RPC at ${deadRpc} (ECONNREFUSED)\n`);

    // Anything answering eth_chainId with another chain: the client refuses to send the deposit there.
    const other = createHttpServer((request, response) => {
      request.resume();
      request.on("end", () => response.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: "0x1" })));
    });
    other.listen(0, "127.0.0.1");
    await once(other, "listening");
    try {
      const otherRpc = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
      const wrong = await cli.run(["postage", "deposit", "1000", "--rpc", otherRpc]);
      expect(wrong.code).toBe(ExitCode.CHAIN);
      expect(wrong.stderr).toBe(
        `xmtp: the payer's RPC at ${otherRpc} serves chain 1, but the node's vault is on chain 31337: give the RPC of chain 31337 with --rpc URL (or XMTP_PAYER_RPC)\n`,
      );
    } finally {
      other.close();
    }
  });
});
