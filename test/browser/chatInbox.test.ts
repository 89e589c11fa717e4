// The chat app's inbox in headless Chromium against a real node (issue 16, item 3): one time format and day
// separators, sending / sent / failed with retry, the session restored on reload, the inbox split by consent,
// reactions and replies (also with a public-SDK user), desktop notifications. Screenshots go to
// test-results/screenshots/inbox-*.png.
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type * as XmtpSdk from "@xmtp/xmtp-js";
import { Client as XmtpTsClient } from "@xmtp-ts/client";
import { Wallet } from "ethers";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningNode } from "../support/runningNode.js";
import { serveChatApp, type ServedChatApp } from "./support/chatApp.js";
import {
  browserWalletPage,
  newContext,
  conversationItem,
  developmentWalletUser,
  myAddress,
  openApp,
  messageBubble,
  screenshot,
  send,
  startConversation,
  type ChatHarness,
  closeChatHarness,
} from "./support/chatPage.js";
import { BROWSER_TESTS_RUN, launchChromium } from "./support/chromium.js";

const require = createRequire(import.meta.url);
// The public SDK and its content types as a peer in Node; their ES-module builds fail on Node 20, so CJS.
const sdk = require("@xmtp/xmtp-js") as typeof XmtpSdk;
const publicReaction = require("@xmtp/content-type-reaction") as typeof import("@xmtp/content-type-reaction");
const publicReply = require("@xmtp/content-type-reply") as typeof import("@xmtp/content-type-reply");
// The text content type id of the SDK's own copy of the text codec.
const { ContentTypeText: SdkContentTypeText } = createRequire(require.resolve("@xmtp/xmtp-js"))("@xmtp/content-type-text") as {
  ContentTypeText: unknown;
};

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

let node: RunningNode;
let app: ServedChatApp;
let browser: Browser;
const harness = { pageErrors: [], contexts: [], screenshotDir: join(repoRoot, "test-results/screenshots") } as unknown as ChatHarness;

const DAY_MS = 86_400_000;

beforeAll(async () => {
  if (!BROWSER_TESTS_RUN) return;
  mkdirSync(harness.screenshotDir, { recursive: true });
  [node, app, browser] = await Promise.all([startNode(), serveChatApp(), launchChromium()]);
  Object.assign(harness, { browser, appUrl: app.url, nodeUrl: node.url });
}, 120_000);

afterAll(async () => {
  await closeChatHarness(harness, { browser, app });
  await node?.dispose();
});

describe.skipIf(!BROWSER_TESTS_RUN)("chat app inbox in Chromium", () => {
  it("writes times one way and separates the days of a thread", async () => {
    // A peer in Node writes to Grace three days ago, yesterday and today (the node keeps the sender's timestamps),
    // before her browser first syncs: she reads a history, not a live stream.
    const graceWallet = Wallet.createRandom();
    const graceFirst = await XmtpTsClient.create(graceWallet, { apiUrl: node.url });
    await graceFirst.close();
    const peer = await XmtpTsClient.create(Wallet.createRandom(), { apiUrl: node.url });
    try {
      const conversation = await peer.conversations.newConversation(graceWallet.address);
      const now = Date.now();
      await conversation.send("three days ago", { timestamp: new Date(now - 3 * DAY_MS) });
      await conversation.send("yesterday", { timestamp: new Date(now - DAY_MS) });
      await conversation.send("today, first", { timestamp: new Date(now - 60_000) });
      await conversation.send("today, second", { timestamp: new Date(now - 30_000) });

      const grace = await developmentWalletUser(harness, "grace", { privateKey: graceWallet.privateKey });
      expect(grace.address).toBe(graceWallet.address);
      // A stranger's first messages: a request.
      await grace.page.getByTestId("inbox-tab-requests").click();
      await conversationItem(grace, peer.address).filter({ hasText: "today, second" }).click();
      await messageBubble(grace, peer.address, "today, second").waitFor();
      const rows = await grace.page
        .locator('[data-testid="messages"] > li')
        .evaluateAll((items) =>
          items.map((item) =>
            item.getAttribute("data-testid") === "day-separator" ? `[${item.textContent}]` : item.querySelector(".bubble")?.textContent,
          ),
        );
      const threeDaysAgo = await grace.page.evaluate(
        (ms) => new Date(ms).toLocaleDateString(undefined, { weekday: "long", month: "long", day: "numeric", ...(new Date(ms).getFullYear() !== new Date().getFullYear() ? { year: "numeric" } : {}) }),
        now - 3 * DAY_MS,
      );
      expect(rows).toEqual([`[${threeDaysAgo}]`, "three days ago", "[Yesterday]", "yesterday", "[Today]", "today, first", "today, second"]);

      // One clock format: the list's time of the latest message is the bubble's, and the header and tooltips
      // write it the same way (no zero-padded hour on one and not the other).
      const bubbleTime = (await messageBubble(grace, peer.address, "today, second").locator("time").textContent()) ?? "";
      expect(bubbleTime).toMatch(/^[1-9]\d?:\d\d/);
      expect(await conversationItem(grace, peer.address).locator(".time").textContent()).toBe(bubbleTime);
      const tooltip = (await messageBubble(grace, peer.address, "today, second").locator("time").getAttribute("title")) ?? "";
      expect(tooltip.endsWith(`, ${bubbleTime}`)).toBe(true);
      const headerClock = (await grace.page.locator(".thread-sub").textContent())?.match(/\d{1,2}:\d\d/)?.[0] ?? "";
      expect(headerClock).toMatch(/^[1-9]\d?:\d\d$/);
      await screenshot(harness, grace, "inbox-01-day-separators");
      expect(harness.pageErrors).toEqual([]);
    } finally {
      await peer.close();
    }
  }, 120_000);

  it("shows a message as sending, then sent; one the node never got as failed, and a retry sends it once", async () => {
    const heidi = await developmentWalletUser(harness, "heidi");
    const peer = await XmtpTsClient.create(Wallet.createRandom(), { apiUrl: node.url });
    try {
      await startConversation(heidi, peer.address);
      await send(heidi, "first, straight through");

      // The network drops every publish: the message shows as sending, then as not sent, with why and a retry.
      const publish = /\/message\/v1\/publish$/;
      let dropped = 0;
      await heidi.page.route(publish, async (route) => {
        dropped++;
        await route.abort("internetdisconnected");
      });
      await heidi.page.getByTestId("composer-input").fill("second, after a failure");
      await heidi.page.getByTestId("composer-input").press("Enter");
      const second = messageBubble(heidi, heidi.address, "second, after a failure");
      // Written, shown at once, and the box is free for the next message.
      expect(await heidi.page.getByTestId("composer-input").inputValue()).toBe("");
      await second.and(heidi.page.locator('[data-status="failed"]')).waitFor();
      expect(dropped).toBeGreaterThan(0);
      expect(await second.getByTestId("message-status").textContent()).toContain("Not sent");
      expect(await second.getByTestId("send-failure").textContent()).toContain(`Cannot reach the XMTP node at ${node.url}`);
      expect(await heidi.page.getByTestId("error-banner").count()).toBe(0);
      await screenshot(harness, heidi, "inbox-02-send-failed");

      // The network is back: Retry sends it, and it shows as sent, after the first.
      await heidi.page.unroute(publish);
      await second.getByTestId("message-retry").click();
      await second.and(heidi.page.locator('[data-status="sent"]')).waitFor();
      expect(await heidi.page.locator('[data-testid="message"] .bubble').allTextContents()).toEqual([
        "first, straight through",
        "second, after a failure",
      ]);
      await screenshot(harness, heidi, "inbox-03-send-retried");

      // The peer got each message exactly once, in order.
      const [conversation] = await peer.conversations.list();
      await expect
        .poll(async () => (await conversation.messages()).map((m) => m.content), { timeout: 10_000 })
        .toEqual(["first, straight through", "second, after a failure"]);
      expect(harness.pageErrors).toEqual([]);
    } finally {
      await peer.close();
    }
  }, 120_000);

  it("splits the inbox by consent into Messages, Requests and Blocked, in step with the wallet's other devices", async () => {
    const leoWallet = Wallet.createRandom();
    const leo = await developmentWalletUser(harness, "leo", { privateKey: leoWallet.privateKey });
    // The same wallet on another device: our client in Node, with its own copy of the consent list.
    const elsewhere = await XmtpTsClient.create(leoWallet, { apiUrl: node.url });
    const [friend, stranger1, stranger2] = await Promise.all(
      [0, 1, 2].map(() => XmtpTsClient.create(Wallet.createRandom(), { apiUrl: node.url })),
    );
    const tab = (name: string) => leo.page.getByTestId(`inbox-tab-${name}`);
    const listed = () => leo.page.locator('[data-testid="conversation-item"]').evaluateAll((items) => items.map((i) => i.getAttribute("data-peer")));
    const consentElsewhere = async (address: string) => {
      await elsewhere.contacts.refreshConsentList();
      return elsewhere.contacts.consentState(address);
    };
    try {
      // Leo starts a conversation: Messages. Two strangers write to him: Requests, counted on the tab.
      await startConversation(leo, friend.address);
      await send(leo, "hi friend");
      await (await stranger1.conversations.newConversation(leo.address)).send("hello from stranger one");
      await (await stranger2.conversations.newConversation(leo.address)).send("buy my token");
      await leo.page.getByTestId("inbox-tab-requests-count").filter({ hasText: "2" }).waitFor();
      expect(await listed()).toEqual([friend.address]);
      await tab("requests").click();
      await conversationItem(leo, stranger1.address).waitFor();
      expect((await listed()).sort()).toEqual([stranger1.address, stranger2.address].sort());
      await conversationItem(leo, stranger1.address).click();
      await messageBubble(leo, stranger1.address, "hello from stranger one").waitFor();
      expect(await leo.page.getByTestId("consent-bar").getAttribute("data-consent")).toBe("unknown");
      await screenshot(harness, leo, "inbox-05-requests");

      // Accepted: it moves to Messages (the list follows it), and the other device's list says allowed.
      await leo.page.getByTestId("consent-accept").click();
      await leo.page.getByTestId("consent-bar").waitFor({ state: "detached" });
      expect(await tab("messages").getAttribute("aria-selected")).toBe("true");
      await expect.poll(listed).toEqual([stranger1.address, friend.address]);
      await expect.poll(() => consentElsewhere(stranger1.address), { timeout: 10_000 }).toBe("allowed");

      // Blocked: it moves to Blocked, on the other device too.
      await tab("requests").click();
      await conversationItem(leo, stranger2.address).click();
      await leo.page.getByTestId("consent-block").click();
      await leo.page.locator('[data-testid="consent-bar"][data-consent="denied"]').waitFor();
      expect(await tab("blocked").getAttribute("aria-selected")).toBe("true");
      expect(await listed()).toEqual([stranger2.address]);
      await expect.poll(() => consentElsewhere(stranger2.address), { timeout: 10_000 }).toBe("denied");
      await screenshot(harness, leo, "inbox-06-blocked");

      // The other device changes its mind, both ways: the browser follows live, without a reload.
      await elsewhere.contacts.allow([stranger2.address]);
      await leo.page.getByTestId("consent-bar").waitFor({ state: "detached" });
      expect(await tab("messages").getAttribute("aria-selected")).toBe("true");
      await expect.poll(listed).toEqual([stranger2.address, stranger1.address, friend.address]);
      await elsewhere.contacts.deny([stranger1.address]);
      await expect.poll(listed).toEqual([stranger2.address, friend.address]);
      await tab("blocked").click();
      expect(await listed()).toEqual([stranger1.address]);
      // Nothing is left in Requests.
      await tab("requests").click();
      expect(await leo.page.getByTestId("tab-empty").textContent()).toContain("No requests");
      expect(await leo.page.getByTestId("inbox-tab-requests-count").count()).toBe(0);
      expect(harness.pageErrors).toEqual([]);
    } finally {
      await Promise.all([elsewhere, friend, stranger1, stranger2].map((c) => c.close()));
    }
  }, 120_000);

  it("reacts and replies in the public content types, read by a public-SDK user, and shows theirs", async () => {
    const nina = await developmentWalletUser(harness, "nina");
    const sdkWallet = Wallet.createRandom();
    const sdkClient = await sdk.Client.create(sdkWallet, {
      apiUrl: node.url,
      env: "local",
      persistConversations: false,
      basePersistence: sdk.InMemoryPersistence.create(),
      codecs: [new publicReaction.ReactionCodec(), new publicReply.ReplyCodec()],
    });
    /** Polls the SDK's side of the conversation for a message `matches` accepts. */
    const sdkSees = async (matches: (m: XmtpSdk.DecodedMessage) => boolean): Promise<XmtpSdk.DecodedMessage> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const found = (await sdkConversation.messages()).find(matches);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error("the SDK never saw the message");
    };
    const typeOf = (m: XmtpSdk.DecodedMessage) => m.contentType.typeId;
    const sdkConversation = await sdkClient.conversations.newConversation(nina.address);
    try {
      const first = await sdkConversation.send("React to me, Nina");
      await nina.page.getByTestId("inbox-tab-requests").click();
      await conversationItem(nina, sdkWallet.address).click();
      const firstBubble = messageBubble(nina, sdkWallet.address, "React to me, Nina");
      await firstBubble.waitFor();

      // Tap to react: the count shows under the message, marked as ours; the SDK reads it with the public codec.
      await firstBubble.hover();
      await firstBubble.locator('[data-testid="react"][data-emoji="👍"]').click();
      const thumbs = firstBubble.locator('[data-testid="reaction"][data-emoji="👍"]');
      await thumbs.and(nina.page.locator('[aria-pressed="true"]')).waitFor();
      expect(await thumbs.textContent()).toBe("👍 1");
      const reaction = await sdkSees((m) => typeOf(m) === "reaction");
      expect(reaction.content).toMatchObject({ reference: first.id, action: "added", schema: "unicode", content: "👍" });
      expect(reaction.senderAddress).toBe(nina.address);

      // Reply: the composer quotes the message; the sent bubble carries the quote; the SDK reads a reply to it.
      await firstBubble.hover();
      await firstBubble.getByTestId("reply").click();
      expect(await nina.page.getByTestId("reply-bar").textContent()).toContain("React to me, Nina");
      await send(nina, "A quoted answer from the browser");
      expect(await nina.page.getByTestId("reply-bar").count()).toBe(0);
      const ninaReply = messageBubble(nina, nina.address, "A quoted answer from the browser");
      expect(await ninaReply.getByTestId("quote").textContent()).toContain("React to me, Nina");
      const replyBySdk = await sdkSees((m) => typeOf(m) === "reply");
      expect(replyBySdk.content).toMatchObject({ reference: first.id, content: "A quoted answer from the browser" });
      expect(String((replyBySdk.content as { contentType: unknown }).contentType)).toBe("xmtp.org/text:1.0");

      // The other way round: the SDK reacts to Nina's reply and answers it; the app shows both.
      await sdkConversation.send(
        { reference: replyBySdk.id, action: "added", schema: "unicode", content: "❤️" },
        { contentType: publicReaction.ContentTypeReaction },
      );
      await sdkConversation.send(
        { reference: replyBySdk.id, contentType: SdkContentTypeText, content: "And the SDK answers your answer" },
        { contentType: publicReply.ContentTypeReply },
      );
      const heart = ninaReply.locator('[data-testid="reaction"][data-emoji="❤️"]');
      await heart.waitFor();
      expect(await heart.getAttribute("aria-pressed")).toBe("false");
      expect(await heart.textContent()).toBe("❤️ 1");
      const sdkAnswer = messageBubble(nina, sdkWallet.address, "And the SDK answers your answer");
      await sdkAnswer.waitFor();
      expect(await sdkAnswer.getByTestId("quote").textContent()).toContain("A quoted answer from the browser");
      // Reactions are not bubbles of their own.
      expect(await nina.page.locator('[data-testid="message"] .bubble').allTextContents()).toEqual([
        "React to me, Nina",
        "A quoted answer from the browser",
        "And the SDK answers your answer",
      ]);
      await nina.page.mouse.move(0, 0);
      await nina.page.waitForTimeout(300); // the hover bar fades out
      await screenshot(harness, nina, "inbox-07-reactions-replies");

      // Tapping our reaction again takes it back, here and for the SDK.
      await thumbs.click();
      await thumbs.waitFor({ state: "detached" });
      const removed = await sdkSees((m) => typeOf(m) === "reaction" && (m.content as { action?: string }).action === "removed");
      expect(removed.content).toMatchObject({ reference: first.id, content: "👍" });
      expect(harness.pageErrors).toEqual([]);
    } finally {
      await sdkClient.close();
    }
  }, 120_000);

  it("asks for notification permission only when the user turns them on, and notifies only while the tab is hidden", async () => {
    // Headless Chromium shows no notifications: the page's Notification API is a recording stand-in whose
    // permission prompt answers "granted", and the tab's visibility is the test's to set.
    const { context, page } = await newContext(harness, "oscar");
    await context.addInitScript(() => {
      const w = window as unknown as { __shown: { title: string; body?: string; tag?: string; onclick: (() => void) | null }[]; __asked: number; __hidden: boolean };
      w.__shown = [];
      w.__asked = 0;
      w.__hidden = false;
      class RecordingNotification {
        static permission: NotificationPermission = "default";
        static async requestPermission(): Promise<NotificationPermission> {
          w.__asked++;
          RecordingNotification.permission = "granted";
          return "granted";
        }
        onclick: (() => void) | null = null;
        constructor(
          readonly title: string,
          readonly options: NotificationOptions = {},
        ) {
          w.__shown.push(this as unknown as (typeof w.__shown)[number]);
        }
        get body() {
          return this.options.body;
        }
        get tag() {
          return this.options.tag;
        }
        close() {}
      }
      (window as unknown as { Notification: unknown }).Notification = RecordingNotification;
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (w.__hidden ? "hidden" : "visible") });
    });
    await openApp(harness, page);
    await page.getByTestId("connect-dev-wallet").click();
    const oscar = { page, context, address: await myAddress(page), name: "oscar" };
    const shown = () => page.evaluate(() => (window as unknown as { __shown: { title: string; body?: string; tag?: string }[] }).__shown.map(({ title, body, tag }) => ({ title, body, tag })));
    const asked = () => page.evaluate(() => (window as unknown as { __asked: number }).__asked);
    const setHidden = (hidden: boolean) => page.evaluate((h) => ((window as unknown as { __hidden: boolean }).__hidden = h), hidden);
    const [friend, stranger] = await Promise.all([0, 1].map(() => XmtpTsClient.create(Wallet.createRandom(), { apiUrl: node.url })));
    try {
      // Connected, and nothing asked: the offer waits in the top bar for a click.
      const enable = page.getByTestId("enable-notifications");
      await enable.waitFor();
      expect(await asked()).toBe(0);
      await screenshot(harness, oscar, "inbox-08-notifications-offer");
      await enable.click();
      await enable.waitFor({ state: "detached" });
      expect(await asked()).toBe(1);

      await startConversation(oscar, friend.address);
      await send(oscar, "tell me when you write");
      const [withOscar] = await friend.conversations.list();
      // While the tab is in sight, a message just shows.
      await withOscar.send("you are looking");
      await messageBubble(oscar, friend.address, "you are looking").waitFor();
      expect(await shown()).toEqual([]);

      // Hidden: a message from a contact and a request from a stranger are notified.
      await setHidden(true);
      await withOscar.send("while you were away");
      await messageBubble(oscar, friend.address, "while you were away").waitFor();
      await (await stranger.conversations.newConversation(oscar.address)).send("a stranger says hi");
      await page.getByTestId("inbox-tab-requests-count").filter({ hasText: "1" }).waitFor();
      await expect.poll(shown).toHaveLength(2);
      const [fromFriend, fromStranger] = await shown();
      expect(fromFriend).toMatchObject({ title: `${friend.address.slice(0, 6)}…${friend.address.slice(-4)}`, body: "while you were away" });
      expect(fromStranger).toMatchObject({
        title: `Message request from ${stranger.address.slice(0, 6)}…${stranger.address.slice(-4)}`,
        body: "a stranger says hi",
      });

      // Clicking the request's notification opens it, in Requests.
      await page.evaluate(() => (window as unknown as { __shown: { onclick: (() => void) | null }[] }).__shown[1].onclick?.());
      await page.getByTestId("thread-peer").filter({ hasText: stranger.address }).waitFor();
      expect(await page.getByTestId("inbox-tab-requests").getAttribute("aria-selected")).toBe("true");

      // Blocked: nothing more from them, even hidden.
      await page.getByTestId("consent-block").click();
      await page.locator('[data-testid="consent-bar"][data-consent="denied"]').waitFor();
      const [withStranger] = await stranger.conversations.list();
      await withStranger.send("let me in");
      await messageBubble(oscar, stranger.address, "let me in").waitFor();
      expect(await shown()).toHaveLength(2);
      expect(harness.pageErrors).toEqual([]);
    } finally {
      await Promise.all([friend.close(), stranger.close()]);
    }
  }, 120_000);

  it("restores the session on reload without reconnecting, and stays disconnected after Disconnect", async () => {
    const peer = await XmtpTsClient.create(Wallet.createRandom(), { apiUrl: node.url });
    try {
      const ivan = await developmentWalletUser(harness, "ivan");
      await startConversation(ivan, peer.address);
      await send(ivan, "before the reload");

      // Reloaded: the chat screen and the conversation list come back with nothing clicked.
      await ivan.page.reload();
      expect(await myAddress(ivan.page)).toBe(ivan.address);
      await conversationItem(ivan, peer.address).filter({ hasText: "before the reload" }).waitFor();
      await conversationItem(ivan, peer.address).click();
      await messageBubble(ivan, ivan.address, "before the reload").waitFor();
      // And it works: a message in each direction.
      await send(ivan, "after the reload");
      const [withIvan] = await peer.conversations.list();
      await withIvan.send("seen after your reload");
      await messageBubble(ivan, peer.address, "seen after your reload").waitFor();
      await screenshot(harness, ivan, "inbox-04-restored");

      // Disconnect is remembered too: a reload shows the connect screen, with the wallet offered, not connected.
      await ivan.page.getByRole("button", { name: "Disconnect" }).click();
      await ivan.page.reload();
      await ivan.page.getByTestId("connect-dev-wallet").filter({ hasText: "Continue as development wallet" }).waitFor();
      await new Promise((r) => setTimeout(r, 1000));
      expect(await ivan.page.getByTestId("my-address").count()).toBe(0);

      // A browser wallet: it signs when connecting, not again on reload (the XMTP keys were kept, encrypted).
      const wallet = Wallet.createRandom();
      const judy = await browserWalletPage(harness, "judy", wallet);
      await openApp(harness, judy.page);
      await judy.page.getByTestId("connect-browser-wallet").click();
      expect(await myAddress(judy.page)).toBe(wallet.address);
      const judyUser = { ...judy, address: wallet.address, name: "judy" };
      await startConversation(judyUser, peer.address);
      await send(judyUser, "from a browser wallet");
      const signedBefore = judy.signed.length;
      expect(signedBefore).toBe(2);
      await judy.page.reload();
      expect(await myAddress(judy.page)).toBe(wallet.address);
      await conversationItem(judyUser, peer.address).filter({ hasText: "from a browser wallet" }).waitFor();
      expect(judy.signed.length).toBe(signedBefore);
      // What is kept is not readable as text anywhere in localStorage: no key material there.
      const stored = await judy.page.evaluate(() => Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`));
      expect(stored.filter((entry) => /key|bundle/i.test(entry))).toEqual([]);
      const vaultEntries = () =>
        judy.page.evaluate(
          () =>
            new Promise<number>((resolve, reject) => {
              const open = indexedDB.open("xmtp-chat-keys");
              open.onerror = () => reject(open.error);
              open.onsuccess = () => {
                const count = open.result.transaction("bundles").objectStore("bundles").count();
                count.onsuccess = () => {
                  open.result.close();
                  resolve(count.result);
                };
              };
            }),
        );
      expect(await vaultEntries()).toBe(1);
      // Disconnecting forgets the kept keys: the next visit asks the wallet again.
      await judy.page.getByRole("button", { name: "Disconnect" }).click();
      await expect.poll(vaultEntries).toBe(0);
      await judy.page.reload();
      await judy.page.getByTestId("connect-browser-wallet").waitFor();
      expect(await judy.page.getByTestId("my-address").count()).toBe(0);
      expect(harness.pageErrors).toEqual([]);
    } finally {
      await peer.close();
    }
  }, 120_000);
});
