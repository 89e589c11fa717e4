// Builds the benchmark page (./page) with vite's JS API the way apps/chat is built (workspace sources through the
// "source" condition, secp256k1.wasm emitted through the alias of packages/crypto/README.md) and serves it on a
// free loopback port.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { secp256k1WasmFile } from "@xmtp-ts/crypto/secp256k1-wasm-file";
import { defaultClientConditions } from "vite";
import { buildAndPreview } from "../../test/support/vitePreview.js";

const pageRoot = join(dirname(fileURLToPath(import.meta.url)), "page");

/**
 * `readableNames`: no minification, so a CPU profile names the functions (for BENCH_BROWSER_PROFILE).
 * @param {{ readableNames?: boolean }} [options]
 */
export async function serveBenchPage({ readableNames = false } = {}) {
  /** @type {import("vite").InlineConfig} */
  const config = {
    root: pageRoot,
    configFile: false,
    logLevel: "warn",
    resolve: {
      conditions: ["source", ...defaultClientConditions],
      alias: [{ find: /^@xmtp-ts\/crypto\/secp256k1\.wasm(?=\?|$)/, replacement: secp256k1WasmFile() }],
    },
    build: { target: "es2022", minify: !readableNames },
  };
  // Cross-origin isolated, so performance.now() has 5 µs resolution instead of 100 µs: the page times single
  // curve operations of 0.2 to 1 ms (the node answers CORS requests, which isolation allows).
  const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
  const page = await buildAndPreview(config, { tmpPrefix: "xmtp-bench-browser-", headers });
  if (!page.assets.some((name) => name.endsWith(".wasm"))) {
    await page.close();
    throw new Error(`the page's build emitted no .wasm: ${page.assets.join(", ")}`);
  }
  return page;
}
