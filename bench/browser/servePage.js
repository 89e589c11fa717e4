// Builds the benchmark page (./page) with vite's JS API the way apps/chat is built (workspace sources through the
// "source" condition, secp256k1.wasm emitted through the alias of packages/crypto/README.md) and serves it on a
// free loopback port.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { secp256k1WasmFile } from "@xmtp-ts/crypto/secp256k1-wasm-file";
import { build, defaultClientConditions, preview } from "vite";

const pageRoot = join(dirname(fileURLToPath(import.meta.url)), "page");

/** `readableNames`: no minification, so a CPU profile names the functions (for BENCH_BROWSER_PROFILE). */
export async function serveBenchPage({ readableNames = false } = {}) {
  const outDir = mkdtempSync(join(tmpdir(), "xmtp-bench-browser-"));
  const config = {
    root: pageRoot,
    configFile: false,
    logLevel: "warn",
    resolve: {
      conditions: ["source", ...defaultClientConditions],
      alias: [{ find: /^@xmtp-ts\/crypto\/secp256k1\.wasm(?=\?|$)/, replacement: secp256k1WasmFile() }],
    },
    build: { outDir, emptyOutDir: true, target: "es2022", minify: !readableNames },
  };
  try {
    await build(config);
    const assets = readdirSync(join(outDir, "assets"));
    if (!assets.some((name) => name.endsWith(".wasm"))) throw new Error(`the page's build emitted no .wasm: ${assets.join(", ")}`);
    // Cross-origin isolated, so performance.now() has 5 µs resolution instead of 100 µs: the page times single
    // curve operations of 0.2 to 1 ms (the node answers CORS requests, which isolation allows).
    const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
    const server = await preview({ ...config, preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false, headers } });
    const address = server.httpServer.address();
    if (!address || typeof address === "string") throw new Error("vite preview did not listen on a TCP port");
    return {
      url: `http://127.0.0.1:${address.port}/`,
      async close() {
        await server.close();
        rmSync(outDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(outDir, { recursive: true, force: true });
    throw error;
  }
}
