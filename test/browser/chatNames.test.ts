// The chat app with ENS names, in headless Chromium against a real node and a real chain (anvil) carrying a small
// ENS at ENS's registry address (packages/client/test/support/ens): verified names instead of short hex in the list
// and the thread header, a name accepted in the "address to message" box, ENS avatars from `avatar` text records
// (https / data: images only), the initials otherwise, and nothing looked up without an RPC. The browser calls
// anvil's JSON-RPC directly (anvil answers CORS). Screenshots: test-results/screenshots/names-*.png.
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client as XmtpTsClient } from "@xmtp-ts/client";
import { Wallet } from "ethers";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../support/runningNode.js";
import { startAnvil, type Anvil } from "../../packages/postage/src/test-support/anvil.js";
import { deployTestEns, type TestEns } from "../../packages/client/test/support/ens/testEns.js";
import { serveChatApp, type ServedChatApp } from "./support/chatApp.js";
import { conversationItem, myAddress, newContext, screenshot, type ChatHarness, type ChatUser, closeChatHarness } from "./support/chatPage.js";
import { BROWSER_TESTS_RUN, launchChromium } from "./support/chromium.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

let node: RunningNode;
let app: ServedChatApp;
let browser: Browser;
let anvil: Anvil;
let ens: TestEns;
const harness = { pageErrors: [], contexts: [], screenshotDir: join(repoRoot, "test-results/screenshots") } as unknown as ChatHarness;
const peers: XmtpTsClient[] = [];

/** Bob's avatar: a small picture inlined as a data: URL (the test loads nothing from the internet). */
const BOB_AVATAR =
  "data:image/svg+xml;base64," +
  Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#e8590c"/>' +
      '<circle cx="32" cy="26" r="12" fill="#fff"/><rect x="14" y="42" width="36" height="22" rx="11" fill="#fff"/></svg>',
  ).toString("base64");

async function peer(): Promise<XmtpTsClient> {
  const client = await XmtpTsClient.create(Wallet.createRandom(), { apiUrl: node.url });
  peers.push(client);
  return client;
}

/** The JSON-RPC requests a page sends to anvil. */
function rpcRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    if (request.url().startsWith(anvil.rpcUrl)) seen.push(request.postData() ?? "");
  });
  return seen;
}

async function developmentWallet(name: string, query: Record<string, string>, before?: (page: Page) => Promise<void>): Promise<ChatUser & { rpc: string[] }> {
  const { context, page } = await newContext(harness, name);
  const rpc = rpcRequests(page);
  await page.goto(`${harness.appUrl}?${new URLSearchParams({ apiUrl: node.url, ...query }).toString()}`);
  await before?.(page);
  await page.getByTestId("connect-dev-wallet").click();
  return { page, context, address: await myAddress(page), name, rpc };
}

beforeAll(async () => {
  if (!BROWSER_TESTS_RUN) return;
  mkdirSync(harness.screenshotDir, { recursive: true });
  [node, app, browser, anvil] = await Promise.all([startNode(), serveChatApp(), launchChromium(), startAnvil({ accounts: 1 })]);
  ens = await deployTestEns(anvil);
  Object.assign(harness, { browser, appUrl: app.url, nodeUrl: node.url });
}, 180_000);

afterAll(async () => {
  await closeChatHarness(harness, { peers, browser, app });
  await Promise.all([node?.dispose(), anvil?.stop()]);
});

describe.skipIf(!BROWSER_TESTS_RUN)("chat app with ENS names in Chromium", () => {
  it("shows verified names and avatars, starts a conversation by name, and shows hex for the rest", async () => {
    const [bob, carol, dave, eve] = await Promise.all([peer(), peer(), peer(), peer()]);
    await ens.setAddress("bob.eth", bob.address);
    await ens.setReverse(bob.address, "bob.eth");
    await ens.setText("bob.eth", "avatar", BOB_AVATAR);
    // Carol's avatar is an IPFS reference: not loaded, her initials show.
    await ens.setAddress("carol.eth", carol.address);
    await ens.setReverse(carol.address, "carol.eth");
    await ens.setText("carol.eth", "avatar", "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
    // Eve's reverse record claims bob.eth, which points elsewhere: never shown as hers.
    await ens.setReverse(eve.address, "bob.eth");
    // Dave has no name at all.

    const alice = await developmentWallet("alice", { ethRpcUrl: anvil.rpcUrl });
    for (const [who, text] of [[carol, "hi from carol"], [dave, "hi from dave"], [eve, "hi from eve"]] as const) {
      await (await who.conversations.newConversation(alice.address)).send(text);
    }

    // A name in the "address to message" box: resolved, and the thread is with its address, headed by the name.
    await alice.page.getByTestId("new-conversation-address").fill("Bob.ETH");
    await alice.page.getByTestId("new-conversation-start").click();
    await alice.page.getByTestId("thread-peer-address").filter({ hasText: bob.address }).waitFor();
    await expect.poll(() => alice.page.getByTestId("thread-peer").textContent()).toBe("bob.eth");
    const headerPicture = alice.page.locator(".thread-header [data-testid=avatar-picture]");
    await headerPicture.waitFor();
    expect(await headerPicture.getAttribute("src")).toBe(BOB_AVATAR);
    await alice.page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>(".thread-header img.avatar");
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    await alice.page.getByTestId("composer-input").fill("hello bob, by name");
    await alice.page.getByTestId("composer-input").press("Enter");
    await alice.page.locator('[data-testid="message"][data-status="sent"]', { hasText: "hello bob, by name" }).waitFor();
    await expect.poll(() => conversationItem(alice, bob.address).getByTestId("conversation-peer").textContent()).toBe("bob.eth");
    expect(await conversationItem(alice, bob.address).getByTestId("avatar-picture").getAttribute("src")).toBe(BOB_AVATAR);

    // The peer's side: the node has the message from alice on the conversation with bob's address.
    const bobConversations = await bob.conversations.list();
    const withAlice = bobConversations.find((c) => c.peerAddress === alice.address);
    expect(withAlice).toBeDefined();
    expect((await withAlice!.messages()).map((m) => m.content)).toEqual(["hello bob, by name"]);

    // Bob answers; a reply to him quotes him by name.
    await withAlice!.send("hi alice, bob here");
    const bobBubble = alice.page.locator(`[data-testid="message"][data-sender="${bob.address}"]`, { hasText: "hi alice, bob here" });
    await bobBubble.waitFor();
    await bobBubble.hover();
    await bobBubble.getByTestId("reply").click();
    expect(await alice.page.getByTestId("reply-bar").locator(".quote-author").textContent()).toBe("bob.eth");
    await screenshot(harness, alice, "names-01-thread-by-name");
    await alice.page.getByTestId("reply-cancel").click();

    // Requests: carol by name with her initials (her avatar is not an https/data URL); dave and eve in short hex.
    await alice.page.getByTestId("inbox-tab-requests").click();
    await expect.poll(() => conversationItem(alice, carol.address).getByTestId("conversation-peer").textContent()).toBe("carol.eth");
    expect(await conversationItem(alice, carol.address).getByTestId("avatar-picture").count()).toBe(0);
    expect(await conversationItem(alice, carol.address).locator(".avatar").textContent()).toBe(carol.address.slice(2, 4).toUpperCase());
    const short = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;
    // Looked up and found nameless (data-name=""): dave has no reverse record, eve's names someone else.
    for (const who of [dave, eve]) await conversationItem(alice, who.address).locator('[data-testid=conversation-peer][data-name=""]').waitFor();
    expect(await conversationItem(alice, dave.address).getByTestId("conversation-peer").textContent()).toBe(short(dave.address));
    await conversationItem(alice, eve.address).click();
    await expect.poll(() => alice.page.getByTestId("thread-peer").textContent()).toBe(eve.address);
    expect(await alice.page.getByTestId("thread-peer-address").count()).toBe(0);
    expect(await conversationItem(alice, eve.address).getByTestId("conversation-peer").textContent()).toBe(short(eve.address));
    await conversationItem(alice, carol.address).click();
    await expect.poll(() => alice.page.getByTestId("thread-peer").textContent()).toBe("carol.eth");
    await screenshot(harness, alice, "names-02-requests");

    // A name that points nowhere: said so, and nothing is started.
    await alice.page.getByTestId("new-conversation-address").fill("nobody.eth");
    await alice.page.getByTestId("new-conversation-start").click();
    await expect
      .poll(() => alice.page.getByTestId("error-banner").textContent())
      .toContain("nobody.eth does not point to an address");
    expect(alice.rpc.length).toBeGreaterThan(0);
    expect(harness.pageErrors).toEqual([]);
  }, 180_000);

  it("takes the RPC from the connect screen's advanced settings, and looks up nothing without one", async () => {
    const bob = await peer();
    await ens.setAddress("robert.eth", bob.address);
    await ens.setReverse(bob.address, "robert.eth");

    // No RPC: hex everywhere, a name is refused with the way to turn names on, and the chain is never called.
    const plain = await developmentWallet("plain", {});
    await (await bob.conversations.newConversation(plain.address)).send("hello, plain");
    await plain.page.getByTestId("new-conversation-address").fill("robert.eth");
    await plain.page.getByTestId("new-conversation-start").click();
    await expect.poll(() => plain.page.getByTestId("error-banner").textContent()).toContain("needs an Ethereum JSON-RPC");
    await plain.page.getByTestId("inbox-tab-requests").click();
    await conversationItem(plain, bob.address).click();
    await expect.poll(() => plain.page.getByTestId("thread-peer").textContent()).toBe(bob.address);
    expect(await plain.page.getByTestId("avatar-picture").count()).toBe(0);
    expect(plain.rpc).toEqual([]);

    // Typed under Advanced before connecting: names on, and remembered for the next visit.
    const typed = await developmentWallet("typed", {}, async (page) => {
      await page.getByTestId("advanced-settings").locator("summary").click();
      await page.getByTestId("eth-rpc-url").fill(anvil.rpcUrl);
      await screenshot(harness, { page } as ChatUser, "names-03-advanced-settings");
    });
    await typed.page.getByTestId("new-conversation-address").fill("robert.eth");
    await typed.page.getByTestId("new-conversation-start").click();
    await typed.page.getByTestId("thread-peer-address").filter({ hasText: bob.address }).waitFor();
    await expect.poll(() => typed.page.getByTestId("thread-peer").textContent()).toBe("robert.eth");
    expect(await typed.page.evaluate(() => localStorage.getItem("xmtp-chat:eth-rpc-url"))).toBe(anvil.rpcUrl);
    expect(harness.pageErrors).toEqual([]);
  }, 180_000);
});
