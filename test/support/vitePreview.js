// Builds a page with vite's JS API into a temporary directory and serves the build with `vite preview` on a free
// loopback port: what the browser tests and the browser benchmark load, the same bundle a user would get. Plain
// JavaScript (typed by vitePreview.d.ts) so that bench/ can use it too.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, preview } from "vite";

export async function buildAndPreview(config, { tmpPrefix, headers } = {}) {
  const outDir = mkdtempSync(join(tmpdir(), tmpPrefix ?? "xmtp-vite-build-"));
  const built = { ...config, build: { ...config.build, outDir, emptyOutDir: true } };
  try {
    await build(built);
    const server = await preview({ ...built, preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false, headers } });
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
