// The conformance suite on the IndexedDB driver, in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core, as the chat app's browser test). Skipped when Chromium is missing on a developer machine; in CI
// (CI set) a missing Chromium fails, as for test/browser/.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROWSER_TESTS_RUN, launchChromium } from "../../../test/browser/support/chromium.js";
import { scenarios } from "../src/test-support/conformance.js";
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
    // A scenario that has no meaning for this driver (notFor, e.g. truncating a file) is left out, not skipped.
    if (scenario.notFor?.indexeddb !== undefined) continue;
    it(scenario.name, async () => {
      const outcome = await inPage("run", scenario.name);
      if (!outcome.ok) throw new Error(outcome.error);
    });
  }

  it("openLocalDatabase uses IndexedDB in a browser", async () => {
    expect(await inPage("openLocalDatabaseLocation", "picked-by-environment")).toBe("indexeddb:picked-by-environment");
  });

  it("raised no uncaught error in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
