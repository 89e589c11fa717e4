// Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core. Playwright's own
// browser downloads are never used (CI installs Chromium with .ci/chromium.sh).
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether the browser tests run: always in CI (where a missing Chromium is a failure, since .ci/run installs it),
 * and on a developer machine only when Chromium is installed, so `npm test` passes on a fresh clone without it.
 */
export const BROWSER_TESTS_RUN = Boolean(process.env.CI) || existsSync(CHROMIUM_PATH);

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with .ci/chromium.sh (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}
