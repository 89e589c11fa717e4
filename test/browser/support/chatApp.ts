// Builds the chat app (apps/chat) with vite's JS API, as `npx vite build apps/chat` would, and serves the build on a
// free loopback port: the test exercises the same bundle a user gets.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAndPreview, type PreviewedBuild } from "../../support/vitePreview.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const chatAppRoot = join(repoRoot, "apps/chat");

export type ServedChatApp = PreviewedBuild;

export function serveChatApp(): Promise<ServedChatApp> {
  return buildAndPreview({ root: chatAppRoot, configFile: join(chatAppRoot, "vite.config.ts"), logLevel: "warn" }, { tmpPrefix: "xmtp-chat-build-" });
}
