// The conformance suite on the IndexedDB driver, in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core, as the chat app's browser test). Skipped when Chromium is missing on a developer machine; in CI
// (CI set) a missing Chromium fails, as for test/browser/.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_TESTS_RUN, launchChromium } from "../../../test/browser/support/chromium.js";
import { scenarios } from "../src/test-support/conformance.js";
import { formatTimings, WARM_START_CONVERSATIONS } from "../src/test-support/timings.js";
import type { LocalDbPageApi, LocalDbTestWindow } from "./browser/pageApi.js";
import { serveLocalDbPage, type ServedPage } from "./browser/servePage.js";

let served: ServedPage;
let browser: Browser;
let page: Page;
/** The page loaded with its test API; awaited by each test, so a bundle that fails to load shows in the bundle test. */
let pageReady: Promise<unknown>;
const pageErrors: string[] = [];

/** Calls the page's test API. */
async function inPage<K extends keyof LocalDbPageApi>(method: K, ...args: Parameters<LocalDbPageApi[K]>): Promise<Awaited<ReturnType<LocalDbPageApi[K]>>> {
  await pageReady;
  return page.evaluate(
    ([name, callArgs]) => ((window as unknown as LocalDbTestWindow).localDbTests[name] as (...a: unknown[]) => unknown)(...callArgs),
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<LocalDbPageApi[K]>>>;
}

describe.skipIf(!BROWSER_TESTS_RUN)("IndexedDB driver conformance in Chromium (install it with `bash .ci/chromium.sh`)", () => {
  beforeAll(async () => {
    served = await serveLocalDbPage();
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    pageReady = page
      .goto(served.url)
      .then(() => page.waitForFunction(() => (window as unknown as Partial<LocalDbTestWindow>).localDbTests !== undefined, undefined, { timeout: 15_000 }))
      .catch((error: unknown) => {
        throw new Error(`the test page did not load (page errors: ${pageErrors.join("; ") || "none"}): ${String(error)}`);
      });
    pageReady.catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it("the package bundles for browsers with no Node.js built-in", () => {
    expect(served.warnings).toEqual([]);
    expect(served.nodeImports).toEqual([]);
  });

  for (const scenario of scenarios) {
    const skipReason = scenario.notFor?.indexeddb;
    it.skipIf(skipReason !== undefined)(scenario.name, async () => {
      const outcome = await inPage("run", scenario.name);
      if (!outcome.ok) throw new Error(outcome.error);
    });
  }

  it("openLocalDatabase uses IndexedDB in a browser", async () => {
    expect(await inPage("openLocalDatabaseLocation", "picked-by-environment")).toBe("indexeddb:picked-by-environment");
  });

  it(`warm start: opens and lists ${WARM_START_CONVERSATIONS} conversations in 0.3 s, or close to IndexedDB's own cost`, async () => {
    const full = process.env.XMTP_LOCAL_DB_TIMINGS === "1";
    const timings = await inPage("timings", { smallRecords: full ? 2000 : 200, largeRecords: full ? 100 : 10, warmStartRuns: 3 });
    const rawList = await inPage("rawIndexedDbListMilliseconds", WARM_START_CONVERSATIONS);
    const warmStart = Math.min(...timings.warmStartMilliseconds);
    console.log(`${formatTimings("IndexedDB", timings)}\nIndexedDB  raw getAll() of ${WARM_START_CONVERSATIONS} rows, no crypto: ${rawList} ms`);
    // Chromium's IndexedDB alone costs ~20-50 us per row on a slow machine (a plain getAll, before any decryption),
    // so there the 0.3 s budget cannot be met by one row per record; this then checks that the driver adds at most
    // 1.5x on top of IndexedDB's own cost (decryption, checks, the open).
    expect(warmStart < 300 || warmStart < 2.5 * rawList, `warm start ${warmStart} ms, raw getAll ${rawList} ms`).toBe(true);
  });

  it("raised no uncaught error in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
