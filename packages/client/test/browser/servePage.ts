// Builds test/browser/page.ts with vite's JS API as apps/chat is built (workspace sources through the "source"
// condition, secp256k1.wasm emitted through the alias of packages/crypto/README.md) and serves the build on a free
// loopback port. The build is also the check that vite finds the Web Worker entry in the package's sources.
// A page URL with `?csp=<policy>` is served with that Content-Security-Policy header.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { secp256k1WasmFile } from "@xmtp-ts/crypto/secp256k1-wasm-file";
import { defaultClientConditions, type InlineConfig, type Plugin } from "vite";
import { buildAndPreview, type PreviewedBuild } from "../../../../test/support/vitePreview.js";

const pageRoot = dirname(fileURLToPath(import.meta.url));

export type ServedPoolPage = PreviewedBuild;

export function servePoolPage(): Promise<ServedPoolPage> {
  const config: InlineConfig = {
    root: pageRoot,
    configFile: false,
    logLevel: "warn",
    resolve: {
      conditions: ["source", ...defaultClientConditions],
      alias: [{ find: /^@xmtp-ts\/crypto\/secp256k1\.wasm(?=\?|$)/, replacement: secp256k1WasmFile() }],
    },
    build: { target: "es2022", minify: false },
    plugins: [contentSecurityPolicyFromQuery()],
  };
  return buildAndPreview(config, { tmpPrefix: "xmtp-client-pool-page-" });
}

/**
 * Serves a page with the Content-Security-Policy its URL's `csp` parameter names, as a server would. (A header
 * added by intercepting the request in the browser would not do: Chromium then treats the page as public and
 * refuses its requests to the node on loopback.)
 */
function contentSecurityPolicyFromQuery(): Plugin {
  return {
    name: "client-pool-test:csp-from-query",
    configurePreviewServer(server) {
      server.middlewares.use((request, response, next) => {
        const policy = new URL(request.url ?? "/", "http://page").searchParams.get("csp");
        if (policy) response.setHeader("Content-Security-Policy", policy);
        next();
      });
    },
  };
}
