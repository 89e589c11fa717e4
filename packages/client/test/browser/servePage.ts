// Builds test/browser/page.ts with vite's JS API as apps/chat is built (workspace sources through the "source"
// condition, secp256k1.wasm emitted through the alias of packages/crypto/README.md) and serves the build on a free
// loopback port. The build is also the check that vite finds the Web Worker entry in the package's sources.
// A page URL with `?csp=<policy>` is served with that Content-Security-Policy header.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { secp256k1WasmFile } from "@xmtp-ts/crypto/secp256k1-wasm-file";
import { build, defaultClientConditions, preview, type InlineConfig, type Plugin } from "vite";

const pageRoot = dirname(fileURLToPath(import.meta.url));

export interface ServedPoolPage {
  url: string;
  /** The files the build emitted under assets/ (served at `${url}assets/<name>`). */
  assets: string[];
  close(): Promise<void>;
}

export async function servePoolPage(): Promise<ServedPoolPage> {
  const outDir = mkdtempSync(join(tmpdir(), "xmtp-client-pool-page-"));
  const config: InlineConfig = {
    root: pageRoot,
    configFile: false,
    logLevel: "warn",
    resolve: {
      conditions: ["source", ...defaultClientConditions],
      alias: [{ find: /^@xmtp-ts\/crypto\/secp256k1\.wasm(?=\?|$)/, replacement: secp256k1WasmFile() }],
    },
    build: { outDir, emptyOutDir: true, target: "es2022", minify: false },
    plugins: [contentSecurityPolicyFromQuery()],
  };
  try {
    await build(config);
    const server = await preview({ ...config, preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false } });
    const address = server.httpServer.address();
    if (!address || typeof address === "string") throw new Error("vite preview did not listen on a TCP port");
    return {
      url: `http://127.0.0.1:${address.port}/`,
      assets: readdirSync(join(outDir, "assets")),
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
