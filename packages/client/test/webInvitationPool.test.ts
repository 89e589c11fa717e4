// The browser pool of Web Workers (src/workers/WebInvitationPool.ts) in headless Chromium, bundled by vite as an app
// bundles the package: a cold listing through it gives the conversations the page's thread gives, really on the
// workers and on the page's secp256k1, and falls back to the page's thread when workers cannot run. A real node
// (packages/node/dist: build first) holds the inbox. Skipped when Chromium is missing on a developer machine; in CI
// (CI set) a missing Chromium fails, as for test/browser/.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compactToWalletSignature,
  createInvitation,
  encodePrivateKeyBundle,
  generatePrivateKey,
  generatePrivateKeyBundleV1,
  hashPersonalMessage,
  inviteTopic,
  signDigest,
  toBase64,
  toHex,
  userKeysFromBundle,
  type UserKeys,
} from "@xmtp-ts/crypto";
import { BROWSER_TESTS_RUN, launchChromium } from "../../../test/browser/support/chromium.js";
import { startNode, type RunningNode } from "../../../test/support/runningNode.js";
import { Client, type Envelope } from "../src/index.js";
import { MIN_WORKER_JOBS } from "../src/workers/WebInvitationPool.js";
import type { ListedConversation, Listing, PoolPageApi, PoolTestWindow } from "./browser/pageApi.js";
import { servePoolPage, type ServedPoolPage } from "./browser/servePage.js";

/** Two batches' worth from distinct peers, plus two from one peer, one the reader sent, and one that does not open. */
const DISTINCT_PEERS = 2 * MIN_WORKER_JOBS;
const WORKER_SCRIPT = /\/assets\/webInvitationWorker-[\w-]+\.js$/;

let node: RunningNode;
let served: ServedPoolPage;
let browser: Browser;
const contexts: BrowserContext[] = [];
let keysBase64: string;
/** The seeded conversations, by topic order, as the reader must list them (createdAt aside). */
let expected: Omit<ListedConversation, "createdAtMs">[];

async function identity(): Promise<UserKeys> {
  const wallet = generatePrivateKey();
  return userKeysFromBundle(await generatePrivateKeyBundleV1(async (text) => compactToWalletSignature(signDigest(hashPersonalMessage(text), wallet))));
}

/** Publishes the reader's inbox on the node; resolves with what listing it must give. */
async function seedInbox(reader: UserKeys): Promise<Omit<ListedConversation, "createdAtMs">[]> {
  const envelopes: Envelope[] = [];
  const conversations: Omit<ListedConversation, "createdAtMs">[] = [];
  const add = async (sender: UserKeys, recipient: UserKeys, context?: { conversationId: string; metadata: Record<string, string> }) => {
    const sealed = await createInvitation({ sender, recipient: recipient.signedBundle, context });
    envelopes.push({ contentTopic: inviteTopic(reader.walletAddress), timestampNs: sealed.createdNs, message: sealed.bytes });
    const peer = sender === reader ? recipient : sender;
    conversations.push({ topic: sealed.topic, peerAddress: peer.walletAddress, keyMaterialHex: toHex(sealed.keyMaterial), context });
  };
  for (let i = 0; i < DISTINCT_PEERS; i++) await add(await identity(), reader);
  const twice = await identity();
  await add(twice, reader, { conversationId: "pool-test/1", metadata: { n: "1" } });
  await add(twice, reader, { conversationId: "pool-test/2", metadata: { n: "2" } });
  await add(reader, await identity());
  envelopes.push({ contentTopic: inviteTopic(reader.walletAddress), timestampNs: 1n, message: new Uint8Array([1, 2, 3]) });
  const publisher = await Client.create(null, { apiUrl: node.url, privateKeyOverride: encodePrivateKeyBundle(reader.bundle), parallelInvitations: false });
  await publisher.api.publish(envelopes);
  await publisher.close();
  return conversations.sort((a, b) => (a.topic < b.topic ? -1 : 1));
}

interface PoolPage {
  page: Page;
  /** Every URL the page and its workers requested. */
  requests: string[];
  errors: string[];
  call<K extends keyof PoolPageApi>(method: K, ...args: Parameters<PoolPageApi[K]>): Promise<Awaited<ReturnType<PoolPageApi[K]>>>;
}

/**
 * A fresh page (its own context, so its own shared pool); `prepare` routes requests before it loads, `csp` is the
 * Content-Security-Policy it is served with.
 */
async function openPoolPage({ prepare, csp }: { prepare?: (context: BrowserContext) => Promise<unknown>; csp?: string } = {}): Promise<PoolPage> {
  const context = await browser.newContext();
  contexts.push(context);
  await prepare?.(context);
  const requests: string[] = [];
  context.on("request", (request) => requests.push(request.url()));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(csp ? `${served.url}?csp=${encodeURIComponent(csp)}` : served.url);
  await page.waitForFunction(() => (window as unknown as Partial<PoolTestWindow>).poolTests !== undefined, undefined, { timeout: 15_000 });
  const call = <K extends keyof PoolPageApi>(method: K, ...args: Parameters<PoolPageApi[K]>) =>
    page.evaluate(
      ([name, callArgs]) => ((window as unknown as PoolTestWindow).poolTests[name] as (...a: unknown[]) => unknown)(...callArgs),
      [method, args] as const,
    ) as Promise<Awaited<ReturnType<PoolPageApi[K]>>>;
  return { page, requests, errors, call };
}

const byTopic = (listing: Listing) => [...listing.conversations].sort((a, b) => (a.topic < b.topic ? -1 : 1));
const withoutTimes = (listing: Listing) => byTopic(listing).map(({ createdAtMs: _createdAtMs, ...conversation }) => conversation);

describe.skipIf(!BROWSER_TESTS_RUN)("the invitation pool of Web Workers in Chromium (install it with `bash .ci/chromium.sh`)", () => {
  beforeAll(async () => {
    node = await startNode();
    const reader = await identity();
    keysBase64 = toBase64(encodePrivateKeyBundle(reader.bundle));
    expected = await seedInbox(reader);
    served = await servePoolPage();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await served?.close();
    await node?.dispose();
  });

  it("is bundled by vite from the package's sources, worker entry included", () => {
    expect(served.assets.filter((name) => WORKER_SCRIPT.test(`/assets/${name}`))).toHaveLength(1);
  });

  it("opens a cold listing on the workers, on the page's libsecp256k1, with the conversations the page's thread gives", async () => {
    const { call, requests, errors } = await openPoolPage();
    expect(await call("useWasm")).toBe("libsecp256k1-wasm+webcrypto");
    const inThread = await call("list", { apiUrl: node.url, keysBase64, throughPool: false });
    const pooled = await call("list", { apiUrl: node.url, keysBase64, throughPool: true });
    expect(withoutTimes(inThread)).toEqual(expected);
    // Same conversations, keys and creation times, in the same order.
    expect(pooled.conversations).toEqual(inThread.conversations);
    expect(pooled.pool?.parallel, "needs at least 2 cores").toBe(true);
    expect(pooled.pool?.workerFailures).toEqual([]);
    expect(pooled.pool?.batchesOnWorkers).toBeGreaterThanOrEqual(1);
    expect(pooled.pool?.workerBackends.length).toBeGreaterThanOrEqual(2);
    expect(new Set(pooled.pool?.workerBackends)).toEqual(new Set(["libsecp256k1-wasm+webcrypto"]));
    // The workers got the page's compiled module: one fetch of the binary in all.
    expect(requests.filter((url) => url.endsWith(".wasm"))).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it("runs the workers on noble when the page does, still in parallel, and on libsecp256k1 once the page loads it", async () => {
    const { call, errors } = await openPoolPage();
    const onNoble = await call("list", { apiUrl: node.url, keysBase64, throughPool: true });
    expect(onNoble.backend).toBe("noble+webcrypto");
    expect(withoutTimes(onNoble)).toEqual(expected);
    expect(onNoble.pool?.batchesOnWorkers).toBeGreaterThanOrEqual(1);
    expect(new Set(onNoble.pool?.workerBackends)).toEqual(new Set(["noble+webcrypto"]));
    await call("useWasm");
    const onWasm = await call("list", { apiUrl: node.url, keysBase64, throughPool: true });
    expect(onWasm.conversations).toEqual(onNoble.conversations);
    expect(onWasm.pool?.batchesOnWorkers).toBeGreaterThan(onNoble.pool!.batchesOnWorkers);
    expect(new Set(onWasm.pool?.workerBackends)).toEqual(new Set(["libsecp256k1-wasm+webcrypto"]));
    expect(errors).toEqual([]);
  });

  it("opens the listing in the page's thread when the worker script does not load", async () => {
    let workerRequests = 0;
    const { call } = await openPoolPage({
      prepare: (context) =>
        context.route(WORKER_SCRIPT, (route) => {
          workerRequests++;
          return route.fulfill({ status: 404, body: "gone" });
        }),
    });
    await call("useWasm");
    const pooled = await call("list", { apiUrl: node.url, keysBase64, throughPool: true });
    expect(workerRequests).toBeGreaterThanOrEqual(1);
    expect(withoutTimes(pooled)).toEqual(expected);
    expect(pooled.pool).toMatchObject({ parallel: false, batchesOnWorkers: 0, workerBackends: [] });
    expect(pooled.pool?.workerFailures.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pooled.pool?.workerFailures)).toEqual(new Set(["the invitation worker failed to load"]));
  });

  it("opens a batch in the page's thread when a worker fails during it", async () => {
    // A worker that starts like the real one, then throws on every request it gets.
    const brokenWorker = `addEventListener("message", ({ data }) => {
      if ("useBackend" in data) postMessage({ backend: "libsecp256k1-wasm+webcrypto" });
      else throw new Error("this worker breaks on every request");
    });`;
    const { call } = await openPoolPage({
      prepare: (context) => context.route(WORKER_SCRIPT, (route) => route.fulfill({ contentType: "text/javascript", body: brokenWorker })),
    });
    await call("useWasm");
    const pooled = await call("list", { apiUrl: node.url, keysBase64, throughPool: true });
    expect(withoutTimes(pooled)).toEqual(expected);
    // The first failure sends the batch to the page's thread; the other worker may fail only after the listing.
    expect(pooled.pool?.batchesOnWorkers).toBe(0);
    expect(pooled.pool?.workerFailures.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pooled.pool?.workerFailures)).toEqual(new Set(["the invitation worker failed: Uncaught Error: this worker breaks on every request"]));
  });

  it("opens the listing in the page's thread when a Content-Security-Policy forbids workers", async () => {
    const { call, requests } = await openPoolPage({ csp: "worker-src 'none'" });
    await call("useWasm");
    const pooled = await call("list", { apiUrl: node.url, keysBase64, throughPool: true });
    expect(withoutTimes(pooled)).toEqual(expected);
    expect(pooled.pool).toMatchObject({ parallel: false, batchesOnWorkers: 0, workerBackends: [] });
    expect(pooled.pool?.workerFailures.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pooled.pool?.workerFailures)).toEqual(new Set(["the invitation worker failed to load"]));
    expect(requests.filter((url) => WORKER_SCRIPT.test(url))).toEqual([]);
  });
});
