// Builds the chat app (apps/chat) with vite's JS API, as `npm run chat:build` would, and serves the build on a free
// loopback port: the test exercises the same bundle a user gets.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, preview } from "vite";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const chatAppRoot = join(repoRoot, "apps/chat");

export interface ServedChatApp {
  url: string;
  /** The files the build emitted under assets/ (served at `${url}assets/<name>`). */
  assets: string[];
  close(): Promise<void>;
}

export async function serveChatApp(): Promise<ServedChatApp> {
  const outDir = mkdtempSync(join(tmpdir(), "xmtp-chat-build-"));
  const configFile = join(chatAppRoot, "vite.config.ts");
  await build({ root: chatAppRoot, configFile, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  const server = await preview({
    root: chatAppRoot,
    configFile,
    logLevel: "warn",
    build: { outDir },
    preview: { host: "127.0.0.1", port: 0, strictPort: true, open: false },
  });
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
}
