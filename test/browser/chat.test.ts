// End to end in headless Chromium: the built chat app (apps/chat), a real node, two development wallets in two
// browser contexts, a public-SDK client in Node, and a browser wallet (EIP-1193) backed by ethers; and a node that
// requires postage, on a real EVM chain (anvil) with a deployed PostageVault. Also: the app runs on libsecp256k1 as
// WebAssembly (the .wasm its build emits), and a reload lists the conversations from the inbox database (IndexedDB).
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type * as XmtpSdk from "@xmtp/xmtp-js";
import { Client as XmtpTsClient } from "@xmtp-ts/client";
import { deployVault } from "@xmtp-ts/postage";
import { Wallet, getBytes, type HDNodeWallet } from "ethers";
import type { Browser, BrowserContext, Locator, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnvil, type Anvil } from "../../packages/postage/src/test-support/anvil.js";
import { startNode, type RunningNode } from "../support/runningNode.js";
import { serveChatApp, type ServedChatApp } from "./support/chatApp.js";
import { BROWSER_TESTS_RUN, launchChromium } from "./support/chromium.js";

const require = createRequire(import.meta.url);
// The public SDK as a peer in Node; its ES-module build fails on Node 20, so load the CJS one.
const sdk = require("@xmtp/xmtp-js") as typeof XmtpSdk;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const screenshotDir = join(repoRoot, "test-results/screenshots");
/** The README's screenshot is only rewritten on request, so test runs leave the committed file alone. */
const updateReadmeScreenshot = process.env.XMTP_UPDATE_README_SCREENSHOT === "1";

let node: RunningNode;
let app: ServedChatApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

interface ChatUser {
  page: Page;
  address: string;
  name: string;
}

async function screenshot(user: ChatUser, name: string): Promise<string> {
  const path = join(screenshotDir, `${name}.png`);
  await user.page.screenshot({ path });
  return path;
}

async function newPage(name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 720 }, deviceScaleFactor: 1 });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(`${name}: ${error.message}`));
  return page;
}

async function openApp(page: Page, apiUrl = node.url): Promise<void> {
  await page.goto(`${app.url}?apiUrl=${encodeURIComponent(apiUrl)}`);
}

async function connected(page: Page, name: string): Promise<ChatUser> {
  const me = page.getByTestId("my-address");
  await me.waitFor();
  const address = await me.getAttribute("data-address");
  expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  return { page, address: address!, name };
}

/** A fresh browser profile that creates a development wallet and connects it. */
async function developmentWalletUser(name: string, apiUrl = node.url): Promise<ChatUser> {
  const page = await newPage(name);
  await openApp(page, apiUrl);
  await page.getByTestId("connect-dev-wallet").click();
  return connected(page, name);
}

async function startConversation(user: ChatUser, peerAddress: string): Promise<void> {
  await user.page.getByTestId("new-conversation-address").fill(peerAddress);
  await user.page.getByTestId("new-conversation-start").click();
  await user.page.getByTestId("thread-peer").filter({ hasText: peerAddress }).waitFor();
}

async function send(user: ChatUser, text: string): Promise<void> {
  await user.page.getByTestId("composer-input").fill(text);
  await user.page.getByTestId("composer-input").press("Enter");
  // The bubble shows at once as sending; it is marked sent once the node accepted it.
  await messageBubble(user, user.address, text).and(user.page.locator('[data-status="sent"]')).waitFor();
  await user.page.waitForFunction(
    () => (document.querySelector('[data-testid="composer-input"]') as HTMLTextAreaElement).value === "",
  );
}

function messageBubble(user: ChatUser, sender: string, text: string) {
  return user.page.locator(`[data-testid="message"][data-sender="${sender}"]`, { hasText: text });
}

function conversationItem(user: ChatUser, peerAddress: string) {
  return user.page.locator(`[data-testid="conversation-item"][data-peer="${peerAddress}"]`);
}

async function threadTexts(user: ChatUser): Promise<string[]> {
  return user.page.locator('[data-testid="message"] .bubble').allTextContents();
}

/** Whether anything inside the box is wider than its own box (text running out of it). */
function overflows(box: Locator): Promise<boolean> {
  return box.evaluate((element) => [element, ...element.querySelectorAll("*")].some((e) => e.scrollWidth > e.clientWidth + 1));
}

/**
 * Which of `selectors` (inside `box`, the box itself for "") have a border box reaching outside `box`'s own box: text or
 * a button running out of the card shows here even when nothing scrolls.
 */
function outsideOf(box: Locator, selectors: readonly string[]): Promise<string[]> {
  return box.evaluate((element, selectors) => {
    const outer = element.getBoundingClientRect();
    return selectors.filter((selector) => {
      const inner = (selector ? element.querySelector(selector) : element)?.getBoundingClientRect();
      if (!inner) return true; // missing counts as out: the check must not pass on nothing
      return inner.left < outer.left - 0.5 || inner.right > outer.right + 0.5 || inner.top < outer.top - 0.5 || inner.bottom > outer.bottom + 0.5;
    });
  }, selectors);
}

async function errorBannerText(user: ChatUser): Promise<string> {
  const banner = user.page.getByTestId("error-banner");
  await banner.waitFor();
  return (await banner.textContent()) ?? "";
}

/** The crypto back end the app runs on, as it leaves it on <html data-crypto-backend> once chosen. */
async function cryptoBackendOf(page: Page): Promise<string | null> {
  await page.locator("html[data-crypto-backend]").waitFor({ state: "attached" });
  return page.locator("html").getAttribute("data-crypto-backend");
}

async function indexedDbNames(page: Page): Promise<string[]> {
  return page.evaluate(async () => (await indexedDB.databases()).map((database) => database.name ?? ""));
}

/**
 * Holds back every query of `address`'s invite and intro topics (how the client syncs its conversation list with
 * the node) until `release()`: whatever the page lists meanwhile came from its own database.
 */
async function holdConversationSync(page: Page, address: string) {
  const held: Route[] = [];
  let holding = true;
  const topics = [`/xmtp/0/invite-${address}/proto`, `/xmtp/0/intro-${address}/proto`];
  const handler = async (route: Route) => {
    const body = route.request().postData() ?? "";
    if (holding && topics.some((topic) => body.includes(topic))) held.push(route);
    else await route.continue();
  };
  await page.route(/\/message\/v1\/(query|batch-query)$/, handler);
  return {
    count: () => held.length,
    async release() {
      holding = false;
      // Before unroute, which would settle the held routes itself.
      for (const route of held.splice(0)) await route.continue();
      await page.unroute(/\/message\/v1\/(query|batch-query)$/, handler);
    },
  };
}

function createSdkClient(wallet: HDNodeWallet, apiUrl = node.url): Promise<XmtpSdk.Client> {
  return sdk.Client.create(wallet, {
    apiUrl,
    env: "local",
    persistConversations: false,
    basePersistence: sdk.InMemoryPersistence.create(),
  });
}

/** Polls the SDK until a conversation with `peer` holds `text` (the SDK side has no UI to wait on). */
async function sdkReceives(client: XmtpSdk.Client, peer: string, text: string): Promise<XmtpSdk.DecodedMessage> {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const conversation of await client.conversations.list()) {
      if (conversation.peerAddress !== peer) continue;
      const found = (await conversation.messages()).find((m) => m.content === text);
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the SDK client never received "${text}" from ${peer}`);
}

beforeAll(async () => {
  if (!BROWSER_TESTS_RUN) return;
  mkdirSync(screenshotDir, { recursive: true });
  [node, app, browser] = await Promise.all([startNode(), serveChatApp(), launchChromium()]);
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await app?.close();
  await node?.dispose();
});

describe.skipIf(!BROWSER_TESTS_RUN)("chat app in Chromium (install it with `bash .ci/chromium.sh`)", () => {
  it("two development wallets chat live, then with a public-SDK user, and errors are shown plainly", async () => {
    const alice = await developmentWalletUser("alice");
    const bob = await developmentWalletUser("bob");
    expect(alice.address).not.toBe(bob.address);
    await screenshot(alice, "01-alice-connected");

    // Alice starts a conversation by address and writes first.
    await startConversation(alice, bob.address);
    await send(alice, "Hi Bob! This is Alice, writing from Chromium.");

    // Bob's list gains the conversation live, with the latest message, marked unread: a request, since they have
    // never talked.
    await bob.page.getByTestId("inbox-tab-requests").click();
    const fromAlice = conversationItem(bob, alice.address);
    await fromAlice.filter({ hasText: "This is Alice" }).waitFor();
    expect(await fromAlice.getAttribute("class")).toContain("unread");
    await screenshot(bob, "02-bob-new-conversation");

    // Bob opens it, reads, and replies; Alice sees the reply arrive in her open thread.
    await fromAlice.click();
    await messageBubble(bob, alice.address, "This is Alice").waitFor();
    await send(bob, "Hey Alice, got it. Bob here 👋");
    await messageBubble(alice, bob.address, "Bob here 👋").waitFor();
    expect(await threadTexts(alice)).toEqual([
      "Hi Bob! This is Alice, writing from Chromium.",
      "Hey Alice, got it. Bob here 👋",
    ]);
    await screenshot(bob, "03-bob-replied");

    // A public-SDK user in Node writes to Alice: a new conversation appears live in her list.
    const sdkWallet = Wallet.createRandom();
    const sdkClient = await createSdkClient(sdkWallet);
    try {
      const sdkConversation = await sdkClient.conversations.newConversation(alice.address);
      await sdkConversation.send("Hello Alice, from a public-SDK client in Node.js");
      await alice.page.getByTestId("inbox-tab-requests").click();
      const fromSdk = conversationItem(alice, sdkWallet.address);
      await fromSdk.filter({ hasText: "from a public-SDK client" }).waitFor();
      expect(await fromSdk.locator(".badge").textContent()).toBe("1");

      await fromSdk.click();
      await messageBubble(alice, sdkWallet.address, "from a public-SDK client").waitFor();
      await send(alice, "Welcome! Your SDK message arrived in the browser.");
      const reply = await sdkReceives(sdkClient, alice.address, "Welcome! Your SDK message arrived in the browser.");
      expect(reply.senderAddress).toBe(alice.address);

      // Bob starts a conversation with the SDK user, who finds it with the SDK.
      await startConversation(bob, sdkWallet.address);
      await send(bob, "Bob to the SDK user: hello!");
      const toSdk = await sdkReceives(sdkClient, bob.address, "Bob to the SDK user: hello!");
      expect(toSdk.senderAddress).toBe(bob.address);

      // Back to Bob's conversation; Alice's list shows both peers with their latest messages.
      await conversationItem(alice, bob.address).click();
      await send(alice, "Both conversations work. See you on XMTP!");
      // Bob has the SDK conversation open: Alice's message shows in his list, and in the thread once he opens it.
      await conversationItem(bob, alice.address).filter({ hasText: "See you on XMTP!" }).waitFor();
      await conversationItem(bob, alice.address).click();
      await messageBubble(bob, alice.address, "See you on XMTP!").waitFor();
      const previews = await alice.page.getByTestId("conversation-preview").allTextContents();
      expect(previews).toEqual([
        "You: Both conversations work. See you on XMTP!",
        "You: Welcome! Your SDK message arrived in the browser.",
      ]);
      const readme = await screenshot(alice, "04-alice-two-conversations");
      await screenshot(bob, "05-bob-two-conversations");
      if (updateReadmeScreenshot) {
        mkdirSync(join(repoRoot, "docs"), { recursive: true });
        copyFileSync(readme, join(repoRoot, "docs/chat.png"));
      }
    } finally {
      await sdkClient.close();
    }

    // Errors, in plain words: not an address, and an address nobody registered.
    await alice.page.getByTestId("new-conversation-address").fill("0x1234");
    await alice.page.getByTestId("new-conversation-start").click();
    expect(await errorBannerText(alice)).toContain('"0x1234" is not an Ethereum address');
    const stranger = Wallet.createRandom().address;
    await alice.page.getByTestId("new-conversation-address").fill(stranger);
    await alice.page.getByTestId("new-conversation-start").click();
    await alice.page.getByTestId("error-banner").filter({ hasText: "is not on the XMTP network" }).waitFor();
    expect(await errorBannerText(alice)).toContain(stranger);
    await screenshot(alice, "06-alice-error");

    // Alice's inbox is kept in IndexedDB, one database per wallet and node.
    expect(await indexedDbNames(alice.page)).toContain(`xmtp-inbox:${alice.address}:${node.url.replace(/\/+$/, "")}`);

    // Reloading restores the session by itself (the same development wallet, no click) and lists its
    // conversations from that database: the node's answer to the conversation sync is held back until both show.
    const sync = await holdConversationSync(alice.page, alice.address);
    await alice.page.reload();
    const again = await connected(alice.page, "alice");
    expect(again.address).toBe(alice.address);
    await conversationItem(alice, bob.address).waitFor();
    await conversationItem(alice, sdkWallet.address).waitFor();
    // The sync did ask (and still waits): the list above did not come from it.
    await expect.poll(() => sync.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await sync.release();
    await conversationItem(alice, bob.address).filter({ hasText: "See you on XMTP!" }).waitFor();

    expect(pageErrors).toEqual([]);
  }, 240_000);

  it("runs secp256k1 on libsecp256k1 as WebAssembly, from the .wasm the build emitted", async () => {
    const wasmAssets = app.assets.filter((name) => name.endsWith(".wasm"));
    expect(wasmAssets).toEqual([expect.stringMatching(/^secp256k1-[\w-]+\.wasm$/)]);
    const page = await newPage("crypto-backend");
    const wasmResponses: string[] = [];
    const warnings: string[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith(".wasm")) wasmResponses.push(`${response.status()} ${response.url()}`);
    });
    page.on("console", (message) => {
      if (message.type() === "warning" || message.type() === "error") warnings.push(message.text());
    });
    await openApp(page);
    // Not noble+webcrypto, the browsers' default: the app loaded libsecp256k1 before any client exists.
    expect(await cryptoBackendOf(page)).toBe("libsecp256k1-wasm+webcrypto");
    expect(wasmResponses).toEqual([`200 ${app.url}assets/${wasmAssets[0]}`]);
    await page.getByTestId("connect-dev-wallet").click();
    await connected(page, "crypto-backend");
    expect(await cryptoBackendOf(page)).toBe("libsecp256k1-wasm+webcrypto");
    expect(warnings).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it("connects a browser wallet through EIP-1193 (window.ethereum) and chats with it", async () => {
    const wallet = Wallet.createRandom();
    const page = await newPage("browser-wallet");
    const signatureRequests: string[] = [];
    // The page's window.ethereum forwards to this wallet in Node, as an extension forwards to its key store.
    await page.exposeFunction("__walletRequest", async (method: string, params: unknown[]) => {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [wallet.address.toLowerCase()];
      if (method === "personal_sign") {
        const [messageHex, account] = params as [string, string];
        if (account.toLowerCase() !== wallet.address.toLowerCase()) throw new Error(`unknown account ${account}`);
        signatureRequests.push(new TextDecoder().decode(getBytes(messageHex)));
        return wallet.signMessage(getBytes(messageHex));
      }
      throw new Error(`unsupported method ${method}`);
    });
    await page.addInitScript(() => {
      const call = (window as unknown as { __walletRequest: (m: string, p: unknown[]) => Promise<unknown> }).__walletRequest;
      (window as unknown as { ethereum: unknown }).ethereum = {
        request: ({ method, params }: { method: string; params?: unknown[] }) => call(method, params ?? []),
        on() {},
        removeListener() {},
      };
    });
    await openApp(page);
    await page.getByTestId("connect-browser-wallet").click();
    const user = await connected(page, "browser-wallet");
    expect(user.address).toBe(wallet.address);
    // A new identity: the wallet signed XMTP's Create Identity and Enable Identity texts, nothing else.
    expect(signatureRequests.map((text) => text.split("\n")[0])).toEqual([
      "XMTP : Create Identity",
      "XMTP : Enable Identity",
    ]);

    const peer = await developmentWalletUser("peer-of-browser-wallet");
    await startConversation(user, peer.address);
    await send(user, "Signed in with a browser wallet.");
    await peer.page.getByTestId("inbox-tab-requests").click();
    await conversationItem(peer, user.address).click();
    await messageBubble(peer, user.address, "Signed in with a browser wallet.").waitFor();
    await screenshot(user, "07-browser-wallet");
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it("keeps a wallet error with long addresses inside its box on the connect screen", async () => {
    const page = await newPage("long-wallet-error");
    await page.addInitScript(() => {
      const account = `0x${"ab".repeat(20)}`;
      (window as unknown as { ethereum: unknown }).ethereum = {
        request: async () => {
          throw new Error(`account ${account} is locked by session 0x${"cd".repeat(64)}`);
        },
      };
    });
    await openApp(page);
    await page.getByTestId("connect-browser-wallet").click();
    const banner = page.getByTestId("error-banner");
    await banner.waitFor();
    expect(await banner.textContent()).toContain("Your wallet could not share an account: account 0xabab");
    const card = page.locator(".connect-card");
    const parts = ['[data-testid="error-banner"]', '[data-testid="error-banner"] .error-text', '[data-testid="error-banner"] button'];
    // On a desktop window and on a phone-sized one: the banner, its text and its dismiss button stay in the card.
    for (const width of [1200, 360]) {
      await page.setViewportSize({ width, height: 720 });
      expect(await overflows(banner)).toBe(false);
      expect(await outsideOf(card, parts)).toEqual([]);
      expect(await outsideOf(banner, [".error-text", "button"])).toEqual([]);
      // Nor does the page grow sideways.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(screenshotDir, `09-connect-long-error-${width}.png`), fullPage: true });
    }
    // The same for a node URL that is one long word, in the "cannot reach" error.
    await page.getByTestId("api-url").fill(`http://127.0.0.1:1/${"very-long-path-".repeat(12)}`);
    await page.getByTestId("connect-dev-wallet").click();
    await banner.filter({ hasText: "Cannot reach the XMTP node" }).waitFor();
    expect(await outsideOf(card, parts)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it("explains postage before a first message to a stranger, and the node's refusal; a pasted grant makes it free", async () => {
    // A node that charges strangers 1,000,000 wei per first message, settled in a vault on a local chain.
    const price = 1_000_000n;
    let anvil: Anvil | undefined;
    let postageNode: RunningNode | undefined;
    let frank: XmtpTsClient | undefined;
    try {
      anvil = await startAnvil({ accounts: 2 });
      const vault = await deployVault(new Wallet(anvil.accounts[0], anvil.provider()), 3600n);
      const operator = new Wallet(anvil.accounts[1]).address;
      postageNode = await startNode({
        args: ["--postage", "required", "--postage-rpc", anvil.rpcUrl, "--postage-vault", vault, "--postage-price", String(price)],
        env: { XMTP_POSTAGE_OPERATOR_KEY: anvil.accounts[1] },
      });
      const dave = await developmentWalletUser("dave", postageNode.url);
      const erin = await developmentWalletUser("erin", postageNode.url);

      // Dave starts a conversation with Erin, a stranger: before anything is sent he reads what it costs and why.
      await startConversation(dave, erin.address);
      const notice = dave.page.getByTestId("postage-notice");
      await notice.waitFor();
      expect(await notice.getAttribute("data-tone")).toBe("cost");
      const noticeText = (await notice.textContent()) ?? "";
      expect(noticeText).toContain("Postage required");
      expect(noticeText).toContain("1,000,000 wei (0.000000000001 ETH) per first message");
      expect(noticeText).toContain(vault);
      expect(noticeText).toContain("31337 (local development chain)");
      expect(noticeText).toContain(operator);
      expect(noticeText).toContain(`It is free if ${erin.address} writes to you first, or gives you a relationship grant`);
      expect(noticeText).toContain("This app does not pay postage");
      await screenshot(dave, "10-postage-notice");

      // He sends anyway: the node refuses (402), and the thread explains it; the text stays in the box.
      const first = "Hi Erin, we have not met: this is Dave.";
      await dave.page.getByTestId("composer-input").fill(first);
      await dave.page.getByTestId("composer-input").press("Enter");
      const refusal = dave.page.getByTestId("postage-refusal");
      await refusal.waitFor();
      const refusalText = (await refusal.textContent()) ?? "";
      expect(refusalText).toContain("Not sent: postage required");
      expect(refusalText).toContain(
        `The node refused your first message to ${erin.address}: it charges 1,000,000 wei (0.000000000001 ETH) for a first message to someone who has not written to you, and this app does not pay postage.`,
      );
      expect(refusalText).toContain(`The node said: postage required: writing to /xmtp/0/invite-${erin.address}/proto costs 1000000 wei`);
      expect(refusalText).toContain("Nothing was sent: your message is still in the box.");
      expect(await dave.page.getByTestId("composer-input").inputValue()).toBe(first);
      expect(await dave.page.getByTestId("error-banner").count()).toBe(0);
      // The refusal box keeps its long words (addresses, the node's topic) inside it.
      expect(await overflows(refusal)).toBe(false);
      await screenshot(dave, "11-postage-refused");
      // Nothing reached Erin.
      await erin.page.getByText("No conversations yet").waitFor();

      // Frank (our client, in Node) gives Dave a relationship grant; Dave pastes it: his first message is free.
      frank = await XmtpTsClient.create(Wallet.createRandom(), { apiUrl: postageNode.url });
      const grant = await frank.postage.grant(dave.address, { expiresInMs: 3_600_000 });
      await startConversation(dave, frank.address);
      await dave.page.getByTestId("postage-notice").filter({ hasText: "Postage required" }).waitFor();
      await dave.page.getByTestId("postage-grant-input").fill(grant.base64);
      await dave.page.getByTestId("postage-grant-use").click();
      const free = dave.page.locator('[data-testid="postage-notice"][data-tone="free"]');
      await free.waitFor();
      expect(await free.textContent()).toContain(
        `No postage neededThis node charges 1,000,000 wei (0.000000000001 ETH) for a first message to a stranger, but ${frank.address} gave you a relationship grant`,
      );
      await screenshot(dave, "12-postage-grant-free");
      await send(dave, "Thanks for the grant, Frank!");
      const [withDave] = await frank.conversations.list();
      expect(withDave.peerAddress).toBe(dave.address);
      expect((await withDave.messages()).map((m) => m.content)).toEqual(["Thanks for the grant, Frank!"]);
      expect(pageErrors).toEqual([]);
    } finally {
      await frank?.close();
      await postageNode?.dispose();
      await anvil?.stop();
    }
  }, 120_000);

  it("says so when the node goes away, and resumes live updates when it is back", async () => {
    // Its own node, since this test stops it.
    const ownNode = await startNode();
    const port = Number(new URL(ownNode.url).port);
    let restarted: RunningNode | undefined;
    const sdkClient = await createSdkClient(Wallet.createRandom(), ownNode.url);
    try {
      const carol = await developmentWalletUser("carol", ownNode.url);
      const conversation = await sdkClient.conversations.newConversation(carol.address);
      await conversation.send("before the node restarts");
      await carol.page.getByTestId("inbox-tab-requests").click();
      await conversationItem(carol, sdkClient.address).filter({ hasText: "before the node restarts" }).click();
      await messageBubble(carol, sdkClient.address, "before the node restarts").waitFor();

      await ownNode.stop();
      const notice = carol.page.getByTestId("connection-notice");
      await notice.waitFor();
      expect(await notice.textContent()).toContain(`Lost the connection to the node at ${ownNode.url}`);
      await screenshot(carol, "08-node-down");

      restarted = await startNode({ dataDir: ownNode.dataDir, port });
      // The notice goes once the node answers again, before anything new arrives.
      await notice.waitFor({ state: "detached" });
      await conversation.send("after the node restarted");
      await messageBubble(carol, sdkClient.address, "after the node restarted").waitFor();
      expect(await threadTexts(carol)).toEqual(["before the node restarts", "after the node restarted"]);
      expect(pageErrors).toEqual([]);
    } finally {
      await sdkClient.close();
      await restarted?.stop();
      await ownNode.dispose();
    }
  }, 120_000);
});
