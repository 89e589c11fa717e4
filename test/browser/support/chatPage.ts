// Driving the chat app in Chromium as a person would: one browser context per user, development wallets, the
// composer and the list. Used by chatInbox.test.ts (chat.test.ts keeps its own copies of the older helpers).
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { expect } from "vitest";

export interface ChatUser {
  page: Page;
  context: BrowserContext;
  address: string;
  name: string;
}

export interface ChatHarness {
  browser: Browser;
  appUrl: string;
  nodeUrl: string;
  screenshotDir: string;
  /** Errors thrown in any page, prefixed by its user's name: a test ends by expecting none. */
  pageErrors: string[];
  contexts: BrowserContext[];
}

/**
 * Closes what a chat test opened, in order: the browser contexts, peers' clients, the browser, the app's server.
 * Each may be missing (a beforeAll that failed halfway, or browser tests not running).
 */
export async function closeChatHarness(
  harness: Partial<ChatHarness>,
  opened: { peers?: { close(): Promise<unknown> }[]; browser?: Browser; app?: { close(): Promise<unknown> } },
): Promise<void> {
  for (const context of harness.contexts ?? []) await context.close().catch(() => {});
  for (const client of opened.peers ?? []) await client.close().catch(() => {});
  await opened.browser?.close();
  await opened.app?.close();
}

export async function newContext(harness: ChatHarness, name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await harness.browser.newContext({ viewport: { width: 1200, height: 720 }, deviceScaleFactor: 1 });
  harness.contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (error) => harness.pageErrors.push(`${name}: ${error.message}`));
  return { context, page };
}

export async function openApp(harness: ChatHarness, page: Page, apiUrl = harness.nodeUrl): Promise<void> {
  await page.goto(`${harness.appUrl}?apiUrl=${encodeURIComponent(apiUrl)}`);
}

/** The address the chat screen shows once connected. */
export async function myAddress(page: Page, timeout?: number): Promise<string> {
  const me = page.getByTestId("my-address");
  await me.waitFor({ timeout });
  const address = await me.getAttribute("data-address");
  expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  return address!;
}

/**
 * A fresh browser profile that creates a development wallet and connects it; with `privateKey` (0x + 64 hex digits)
 * the profile holds that development key before the app loads, so a test can register the wallet elsewhere first.
 */
export async function developmentWalletUser(
  harness: ChatHarness,
  name: string,
  options: { apiUrl?: string; privateKey?: string } = {},
): Promise<ChatUser> {
  const { context, page } = await newContext(harness, name);
  if (options.privateKey) {
    await context.addInitScript((key) => {
      if (!localStorage.getItem("xmtp-chat:development-wallet-key")) localStorage.setItem("xmtp-chat:development-wallet-key", key);
    }, options.privateKey);
  }
  await openApp(harness, page, options.apiUrl);
  await page.getByTestId("connect-dev-wallet").click();
  return { page, context, address: await myAddress(page), name };
}

/**
 * A fresh browser profile whose window.ethereum forwards to `wallet` in Node (as an extension forwards to its key
 * store); `signed` collects the texts it was asked to sign. Not connected yet.
 */
export async function browserWalletPage(
  harness: ChatHarness,
  name: string,
  wallet: { address: string; signMessage(message: Uint8Array): Promise<string> },
): Promise<{ context: BrowserContext; page: Page; signed: string[] }> {
  const { context, page } = await newContext(harness, name);
  const signed: string[] = [];
  await context.exposeFunction("__walletRequest", async (method: string, params: unknown[]) => {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [wallet.address.toLowerCase()];
    if (method === "personal_sign") {
      const [messageHex] = params as [string];
      const bytes = Uint8Array.from(Buffer.from(messageHex.slice(2), "hex"));
      signed.push(new TextDecoder().decode(bytes));
      return wallet.signMessage(bytes);
    }
    throw new Error(`unsupported method ${method}`);
  });
  await context.addInitScript(() => {
    const call = (window as unknown as { __walletRequest: (m: string, p: unknown[]) => Promise<unknown> }).__walletRequest;
    (window as unknown as { ethereum: unknown }).ethereum = {
      request: ({ method, params }: { method: string; params?: unknown[] }) => call(method, params ?? []),
      on() {},
      removeListener() {},
    };
  });
  return { context, page, signed };
}

export async function startConversation(user: ChatUser, peerAddress: string): Promise<void> {
  await user.page.getByTestId("new-conversation-address").fill(peerAddress);
  await user.page.getByTestId("new-conversation-start").click();
  await user.page.getByTestId("thread-peer").filter({ hasText: peerAddress }).waitFor();
}

export function messageBubble(user: ChatUser, sender: string, text: string): Locator {
  return user.page.locator(`[data-testid="message"][data-sender="${sender}"]`, { hasText: text });
}

export function conversationItem(user: ChatUser, peerAddress: string): Locator {
  return user.page.locator(`[data-testid="conversation-item"][data-peer="${peerAddress}"]`);
}

/** Types `text` and presses Enter; resolves once the message shows as sent (the box is empty by then). */
export async function send(user: ChatUser, text: string): Promise<void> {
  await user.page.getByTestId("composer-input").fill(text);
  await user.page.getByTestId("composer-input").press("Enter");
  await messageBubble(user, user.address, text).and(user.page.locator('[data-status="sent"]')).waitFor();
  await user.page.waitForFunction(
    () => (document.querySelector('[data-testid="composer-input"]') as HTMLTextAreaElement).value === "",
  );
}

export async function screenshot(harness: ChatHarness, user: ChatUser, name: string): Promise<string> {
  const path = join(harness.screenshotDir, `${name}.png`);
  await user.page.screenshot({ path });
  return path;
}
