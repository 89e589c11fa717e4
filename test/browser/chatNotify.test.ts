// Push notifications in the chat app, in headless Chromium: a real node, a real xmtp-notify (in process, from its
// sources), the notify tests' Web Push receiver (a push service that checks VAPID and decrypts like a browser), the
// app's real service worker, and two users (Alice in the app, Bob a client in Node). Headless Chromium has no push
// service (subscribe fails with "AbortError: Registration failed - permission denied"), so the test stands in for
// that one part: an init script makes PushManager hand out a subscription of the receiver (its endpoint, real keys),
// and what the receiver decrypts is given to the page's service worker with CDP's ServiceWorker.deliverPushMessage,
// as the browser would after decrypting. Everything else is the app's own doing. Screenshots:
// test-results/screenshots/notify-*.png.
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client as XmtpTsClient } from "@xmtp-ts/client";
import { introTopic, inviteTopic } from "@xmtp-ts/crypto";
import { Wallet } from "ethers";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService, type TestService } from "../../packages/notify/src/test-support/harness.js";
import { waitLive } from "../../packages/notify/src/test-support/deliveries.js";
import { startWebPushReceiver, type PushSubscriptionJson, type WebPushReceiver } from "../../packages/notify/src/test-support/webPushReceiver.js";
import { startNode, type RunningNode } from "../support/runningNode.js";
import { serveChatApp, type ServedChatApp } from "./support/chatApp.js";
import { myAddress, screenshot, startConversation, type ChatHarness, type ChatUser, closeChatHarness } from "./support/chatPage.js";
import { BROWSER_TESTS_RUN, launchChromium } from "./support/chromium.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

let node: RunningNode;
let notify: TestService;
let receiver: WebPushReceiver;
let app: ServedChatApp;
let browser: Browser;
const harness = { pageErrors: [], contexts: [], screenshotDir: join(repoRoot, "test-results/screenshots") } as unknown as ChatHarness;
const peers: XmtpTsClient[] = [];

beforeAll(async () => {
  if (!BROWSER_TESTS_RUN) return;
  mkdirSync(harness.screenshotDir, { recursive: true });
  [node, receiver, app, browser] = await Promise.all([startNode(), startWebPushReceiver(), serveChatApp(), launchChromium()]);
  notify = await startTestService({ nodes: [node.url], retry: { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 } });
  await waitLive(notify.url);
  Object.assign(harness, { browser, appUrl: app.url, nodeUrl: node.url });
}, 180_000);

afterAll(async () => {
  await closeChatHarness(harness, { peers, browser, app });
  await notify?.dispose();
  await Promise.all([node?.dispose(), receiver?.close()]);
});

async function peer(): Promise<XmtpTsClient> {
  const client = await XmtpTsClient.create(Wallet.createRandom(), { apiUrl: node.url });
  peers.push(client);
  return client;
}

function appOrigin(): string {
  return new URL(app.url).origin;
}

function appAddress(): string {
  return `${app.url}?${new URLSearchParams({ apiUrl: node.url, notifyUrl: notify.url }).toString()}`;
}

/**
 * The browser's push service, stood in for: PushManager.subscribe returns a subscription of the test receiver
 * (endpoint and the public half of real keys), kept in localStorage so getSubscription still finds it after a
 * reload, and unsubscribe forgets it. Everything a PushSubscription offers the app is there.
 */
async function standInPushService(context: BrowserContext, subscription: PushSubscriptionJson): Promise<void> {
  await context.addInitScript((sub: PushSubscriptionJson) => {
    if (typeof PushManager === "undefined" || location.protocol === "about:") return;
    const KEY = "test:push-subscription";
    const fromBase64Url = (text: string): ArrayBuffer => {
      const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
      return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
    };
    const make = (serverKey: number[]) => ({
      endpoint: sub.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: new Uint8Array(serverKey).buffer },
      getKey: (name: "p256dh" | "auth") => fromBase64Url(sub.keys[name]),
      toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: { ...sub.keys } }),
      unsubscribe: async () => {
        localStorage.removeItem(KEY);
        return true;
      },
    });
    PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
      const key = options?.applicationServerKey;
      const bytes = key instanceof ArrayBuffer ? new Uint8Array(key) : ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength) : new Uint8Array();
      localStorage.setItem(KEY, JSON.stringify([...bytes]));
      return make([...bytes]) as unknown as PushSubscription;
    };
    PushManager.prototype.getSubscription = async function () {
      const saved = localStorage.getItem(KEY);
      return (saved ? make(JSON.parse(saved) as number[]) : null) as unknown as PushSubscription | null;
    };
  }, subscription);
}

/** What the page's windows hear from the service worker (a push while focused, a notification clicked). */
async function recordServiceWorkerMessages(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const seen: unknown[] = [];
    (window as unknown as { __swMessages: unknown[] }).__swMessages = seen;
    navigator.serviceWorker?.addEventListener("message", (event) => seen.push(event.data));
  });
}

/** The app's service worker registration id, as CDP reports it (needed to deliver a push to it). */
function followRegistrations(cdp: CDPSession): () => string | undefined {
  const byScope = new Map<string, string>();
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
    for (const registration of registrations) {
      if (registration.isDeleted) byScope.delete(registration.scopeURL);
      else byScope.set(registration.scopeURL, registration.registrationId);
    }
  });
  return () => byScope.get(app.url);
}

async function connect(page: Page, name: string): Promise<ChatUser> {
  page.on("pageerror", (error) => harness.pageErrors.push(`${name}: ${error.message}`));
  await page.goto(appAddress());
  await page.getByTestId("connect-dev-wallet").click();
  return { page, context: page.context(), address: await myAddress(page), name };
}

/** The installation the page keeps in localStorage (id and access key) for its wallet and this service. */
async function keptInstallation(page: Page, address: string): Promise<{ id: string; accessKey: string; endpoint: string } | null> {
  const raw = await page.evaluate((key) => localStorage.getItem(key), `xmtp-chat:push-installation:${address}:${notify.url}`);
  return raw ? JSON.parse(raw) : null;
}

async function installationStatus(installation: { id: string; accessKey: string }): Promise<{ status: number; body: any }> {
  const response = await fetch(`${notify.url}/v1/installations/${installation.id}`, { headers: { authorization: `Bearer ${installation.accessKey}` } });
  return { status: response.status, body: response.status === 200 ? await response.json() : undefined };
}

/** The notifications the app's service worker is showing, read from a page of the app. */
function shownNotifications(page: Page): Promise<{ title: string; body: string; tag: string }[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    const notifications = (await registration?.getNotifications()) ?? [];
    return notifications.map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
  });
}

function pushesOn(endpoint: string, topic: string) {
  return receiver.received(endpoint).filter((push) => (JSON.parse(push.plaintext) as { envelope: { contentTopic: string } }).envelope.contentTopic === topic);
}

describe.skipIf(!BROWSER_TESTS_RUN)("chat app push notifications in Chromium", () => {
  it("registers with xmtp-notify, shows the pushed message's notification from the service worker, and stops", async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
    harness.contexts.push(context);
    await context.grantPermissions(["notifications"], { origin: appOrigin() });
    const subscription = receiver.newSubscription();
    await standInPushService(context, subscription);
    await recordServiceWorkerMessages(context);

    // The push service hands what it decrypted to the browser, which gives it to the service worker. A page that
    // stays open (not the app) carries the CDP session, so pushes still arrive once the app is closed.
    const carrier = await context.newPage();
    const cdp = await context.newCDPSession(carrier);
    const registrationId = followRegistrations(cdp);
    await cdp.send("ServiceWorker.enable");
    const deliveryErrors: string[] = [];
    receiver.onPush = async (push) => {
      if (push.endpoint !== subscription.endpoint) return;
      try {
        const id = registrationId();
        if (!id) throw new Error("no service worker registration for the app");
        await cdp.send("ServiceWorker.deliverPushMessage", { origin: appOrigin(), registrationId: id, data: push.plaintext });
      } catch (error) {
        deliveryErrors.push((error as Error).message);
      }
    };

    const bob = await peer();
    const alice = await connect(await context.newPage(), "alice");
    // The conversation with Bob exists before Alice turns notifications on: the first sync subscribes it.
    await startConversation(alice, bob.address);
    const fromBob = (await bob.conversations.list()).find((c) => c.peerAddress === alice.address)!;
    expect(fromBob).toBeDefined();

    const requests: string[] = [];
    alice.page.on("request", (request) => {
      if (request.url().startsWith(notify.url)) requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
    });
    await alice.page.getByTestId("enable-notifications").click();
    await alice.page.getByTestId("stop-notifications").waitFor();
    await screenshot(harness, alice, "notify-01-on");
    expect(requests).toContain("GET /v1/webpush/vapid-public-key");
    expect(requests.filter((r) => r === "POST /v1/installations")).toHaveLength(1);

    // The installation holds the inbox's topics, and pushes to the receiver's endpoint.
    const kept = await keptInstallation(alice.page, alice.address);
    expect(kept?.endpoint).toBe(subscription.endpoint);
    const registered = await installationStatus(kept!);
    expect(registered.status).toBe(200);
    expect(registered.body.target).toEqual({ kind: "webpush", endpoint: subscription.endpoint, keys: subscription.keys });
    expect([...registered.body.topics].sort()).toEqual([inviteTopic(alice.address), introTopic(alice.address), fromBob.topic].sort());

    // The app is closed; Bob writes. The service encrypts for the subscription, the push service passes it on, and
    // the service worker, with no window of the app open, shows a notification naming Bob.
    await alice.page.close();
    await fromBob.send("are you there, alice?");
    await expect.poll(() => pushesOn(subscription.endpoint, fromBob.topic).length, { timeout: 20_000 }).toBe(1);
    const pushed = JSON.parse(pushesOn(subscription.endpoint, fromBob.topic)[0].plaintext);
    expect(pushed.envelope.contentTopic).toBe(fromBob.topic);
    expect(pushed.installationId).toBe(kept!.id);

    // The app opened again at the conversation: the same session, the same installation (no second registration),
    // and the notification the service worker showed while it was closed.
    const reopened = await context.newPage();
    reopened.on("pageerror", (error) => harness.pageErrors.push(`alice again: ${error.message}`));
    const againRequests: string[] = [];
    reopened.on("request", (request) => {
      if (request.url().startsWith(notify.url)) againRequests.push(`${request.method()} ${new URL(request.url()).pathname}`);
    });
    // As the service worker opens it from a click on the notification: the app's root with the conversation, no
    // node or service in the address (the app remembered both).
    await reopened.goto(`${app.url}?open=${encodeURIComponent(fromBob.topic)}`);
    const again: ChatUser = { page: reopened, context, address: await myAddress(reopened), name: "alice" };
    expect(again.address).toBe(alice.address);
    await expect.poll(() => shownNotifications(again.page), { timeout: 10_000 }).toHaveLength(1);
    const notifications = await shownNotifications(again.page);
    await again.page.getByTestId("thread-peer").filter({ hasText: bob.address }).waitFor();
    const shortBob = `${bob.address.slice(0, 6)}…${bob.address.slice(-4)}`;
    expect(notifications[0]).toEqual({ title: shortBob, body: "Open XMTP chat to read it.", tag: fromBob.topic });
    expect(deliveryErrors).toEqual([]);
    await again.page.getByTestId("stop-notifications").waitFor();
    expect((await keptInstallation(again.page, alice.address))?.id).toBe(kept!.id);
    expect(againRequests.filter((r) => r === "POST /v1/installations")).toEqual([]);

    // With the app open and focused, a push shows nothing: the service worker tells the window, whose own stream
    // shows the message.
    await again.page.bringToFront();
    await fromBob.send("second message");
    await expect.poll(() => pushesOn(subscription.endpoint, fromBob.topic).length, { timeout: 20_000 }).toBe(2);
    await again.page.locator('[data-testid="message"], [data-testid="conversation-preview"]', { hasText: "second message" }).first().waitFor();
    await expect
      .poll(() => again.page.evaluate(() => (window as unknown as { __swMessages: { type: string; topic?: string }[] }).__swMessages))
      .toContainEqual(expect.objectContaining({ type: "xmtp-chat:push", topic: fromBob.topic }));
    expect((await shownNotifications(again.page)).length).toBe(1);

    // Exactly one push per message: nothing arrives twice, however long one waits.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(pushesOn(subscription.endpoint, fromBob.topic)).toHaveLength(2);
    expect(receiver.rejected).toEqual([]);

    // A conversation that appears later (Dave's) joins the installation's topics as it appears.
    const dave = await peer();
    const fromDave = await dave.conversations.newConversation(alice.address);
    await expect
      .poll(async () => (await installationStatus(kept!)).body?.topics ?? [], { timeout: 20_000 })
      .toContain(fromDave.topic);

    // Stop notifications: the installation is deleted, the subscription ended, Notify me offered again.
    await again.page.getByTestId("stop-notifications").click();
    await again.page.getByTestId("enable-notifications").waitFor();
    expect((await installationStatus(kept!)).status).toBe(404);
    expect(await keptInstallation(again.page, alice.address)).toBeNull();
    expect(await again.page.evaluate(() => localStorage.getItem("test:push-subscription"))).toBeNull();
    await screenshot(harness, again, "notify-02-stopped");

    // On again; then the browser's push service drops the subscription (410 Gone): the service removes the
    // installation, and the app, at its next call (Erin's new conversation), offers Notify me again.
    await again.page.getByTestId("enable-notifications").click();
    await again.page.getByTestId("stop-notifications").waitFor();
    const second = (await keptInstallation(again.page, alice.address))!;
    expect(second.id).not.toBe(kept!.id);
    receiver.respond = () => 410;
    await fromDave.send("are you still there?");
    await expect.poll(async () => (await installationStatus(second)).status, { timeout: 20_000 }).toBe(404);
    receiver.respond = () => 201;
    const erin = await peer();
    await erin.conversations.newConversation(alice.address);
    await again.page.getByTestId("enable-notifications").waitFor({ timeout: 20_000 });
    expect(await keptInstallation(again.page, alice.address)).toBeNull();
    expect(harness.pageErrors).toEqual([]);
  });

  it("says in plain words why push cannot be had when the browser has no push service", async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
    harness.contexts.push(context);
    await context.grantPermissions(["notifications"], { origin: appOrigin() });
    // The service typed under Advanced on the connect screen this time, not given in the page address.
    const page = await context.newPage();
    page.on("pageerror", (error) => harness.pageErrors.push(`carol: ${error.message}`));
    await page.goto(`${app.url}?apiUrl=${encodeURIComponent(node.url)}`);
    await page.locator("[data-testid=advanced-settings] summary").click();
    await page.getByTestId("notify-url").fill(`${notify.url}/`);
    await page.getByTestId("connect-dev-wallet").click();
    const carol: ChatUser = { page, context, address: await myAddress(page), name: "carol" };
    expect(await page.evaluate(() => localStorage.getItem("xmtp-chat:notify-url"))).toBe(notify.url);
    const registrations: string[] = [];
    carol.page.on("request", (request) => {
      if (request.method() === "POST" && request.url().startsWith(`${notify.url}/v1/installations`)) registrations.push(request.url());
    });
    await carol.page.getByTestId("enable-notifications").click();
    const reason = carol.page.getByTestId("push-unavailable");
    await reason.waitFor();
    expect(await reason.textContent()).toMatch(/push service refused to subscribe \(AbortError: Registration failed - permission denied\)/);
    expect(await reason.textContent()).toMatch(/still notified while this tab is open/);
    // Nothing was registered, and the desktop permission (for the hidden-tab notifications) is granted.
    expect(registrations).toEqual([]);
    expect(await carol.page.evaluate(() => Notification.permission)).toBe("granted");
    expect(await carol.page.getByTestId("stop-notifications").count()).toBe(0);
    await screenshot(harness, carol, "notify-03-unavailable");
    expect(harness.pageErrors).toEqual([]);
  });
});
