// Postage end to end with our client: a node process with postage required on a real chain (anvil + PostageVault),
// our clients and the public SDK (@xmtp/xmtp-js 13) on it. A stranger pays with a stamp from its deposit, a grant
// makes a first message free, a public-SDK user answers a paying stranger for free, and a stranger without a payer
// gets a typed error carrying the node's terms.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Wallet } from "ethers";
import { deployVault } from "@xmtp-ts/postage";
import { startAnvil, type Anvil } from "../../../postage/src/test-support/anvil.js";
import { startNode, type RunningNode } from "../../../../test/support/runningNode.js";
import { PostageRequiredError } from "../../src/index.js";
import { ourClient, sdkClient } from "../support/peers.js";

const PRICE = 1_000_000n;
let anvil: Anvil;
let node: RunningNode;
let operator: string;

beforeAll(async () => {
  anvil = await startAnvil();
  const vault = await deployVault(new Wallet(anvil.accounts[0], anvil.provider()), 3600n);
  operator = new Wallet(anvil.accounts[1]).address;
  node = await startNode({
    args: ["--postage", "required", "--postage-rpc", anvil.rpcUrl, "--postage-vault", vault, "--postage-price", String(PRICE)],
    env: { XMTP_POSTAGE_OPERATOR_KEY: anvil.accounts[1] },
  });
});
afterAll(async () => {
  await node?.dispose();
  await anvil?.stop();
});

describe("postage with our client on a node that requires it", () => {
  it("a stranger pays with a stamp; the public-SDK recipient reads it and answers in a new conversation for free", { timeout: 120_000 }, async () => {
    const payer = new Wallet(anvil.accounts[2], anvil.provider());
    const carol = await ourClient(node.url, Wallet.createRandom(), { postage: { payer } });
    await carol.postage.deposit(10n * PRICE);
    const bob = await sdkClient(node.url);

    const conversation = await carol.conversations.newConversation(bob.address);
    await conversation.send("a paid first message");
    const balance = await carol.postage.balance();
    expect(balance.deposited).toBe(10n * PRICE);
    expect(balance.owed).toBe(PRICE);

    const bobsView = (await bob.conversations.list()).find((c: { topic: string }) => c.topic === conversation.topic);
    expect(bobsView).toBeDefined();
    expect((await bobsView.messages()).map((m: { content: unknown }) => m.content)).toEqual(["a paid first message"]);
    // Carol wrote first (her token proved it): Bob's public SDK may open another conversation with her, free.
    const reply = await bob.conversations.newConversation(carol.address, { conversationId: "xmtp-ts.org/postage/reply", metadata: {} });
    await reply.send("free, since you wrote first");
    expect((await carol.postage.balance()).owed).toBe(PRICE);
    const carolsConversations = await carol.conversations.list();
    expect(carolsConversations.map((c) => c.topic)).toContain(reply.topic);
  });

  it("consent makes a relationship: allowing a paying stranger (grantOnAllow) sends a grant, and its next first message is free", { timeout: 120_000 }, async () => {
    const payer = new Wallet(anvil.accounts[3], anvil.provider());
    const carol = await ourClient(node.url, Wallet.createRandom(), { postage: { payer } });
    await carol.postage.deposit(10n * PRICE);
    const bob = await ourClient(node.url, Wallet.createRandom(), { postage: { grantOnAllow: { expiresInMs: 86_400_000 } } });
    const first = await carol.conversations.newConversation(bob.address);
    await first.send("hello Bob, paid");
    expect((await carol.postage.balance()).owed).toBe(PRICE);

    await bob.contacts.allow([carol.address]);
    // Carol's client keeps the grant it reads in the conversation.
    const messages = await first.messages();
    expect(messages.map((m) => m.contentType?.typeId)).toEqual(["text", "postageGrant"]);
    expect(carol.postage.grants().map((g) => g.grantor)).toEqual([bob.address]);
    const second = await carol.conversations.newConversation(bob.address, { conversationId: "xmtp-ts.org/postage/second", metadata: {} });
    await second.send("free now: you allowed me");
    expect((await carol.postage.balance()).owed).toBe(PRICE);
    expect((await bob.conversations.list()).map((c) => c.topic)).toContain(second.topic);
  });

  it("a grant makes a first message free; without a grant or a payer the client throws PostageRequiredError with the terms", { timeout: 120_000 }, async () => {
    const [alice, dave, eve] = await Promise.all([ourClient(node.url), ourClient(node.url), ourClient(node.url)]);
    const grant = await alice.postage.grant(dave.address, { expiresInMs: 3_600_000 });
    await dave.postage.acceptGrant(grant.base64);
    const conversation = await dave.conversations.newConversation(alice.address);
    await conversation.send("free with Alice's grant");
    const alicesView = (await alice.conversations.list()).find((c) => c.topic === conversation.topic);
    expect(alicesView).toBeDefined();
    expect((await alicesView!.messages()).map((m) => m.content)).toEqual(["free with Alice's grant"]);

    const refused = await eve.conversations.newConversation(alice.address).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(PostageRequiredError);
    const required = refused as PostageRequiredError;
    expect(required.quote).toMatchObject({ postage: "required", priceWei: PRICE, operator });
    expect(required.serverMessage).toMatch(/^postage required: writing to \/xmtp\/0\/invite-/);
  });
});
