// What test/browser/page.ts exposes on `window` for the Node.js side to call through page.evaluate().
import type { ConversationContext } from "../../src/index.js";

/** A conversation as listed, with its key (hex) so two listings can be compared in full. */
export interface ListedConversation {
  topic: string;
  peerAddress: string;
  keyMaterialHex: string;
  createdAtMs: number;
  context?: ConversationContext;
}

export interface PoolActivity {
  parallel: boolean;
  batchesOnWorkers: number;
  workerBackends: string[];
  workerFailures: string[];
}

export interface Listing {
  conversations: ListedConversation[];
  /** The back end the page ran on. */
  backend: string;
  /** The page's shared pool after the listing (a pool listing only). */
  pool?: PoolActivity;
}

export interface PoolPageApi {
  /** Puts libsecp256k1 as WebAssembly in use in the page (the .wasm the build emitted); resolves with the back end's name. */
  useWasm(): Promise<string>;
  /** A fresh client (no database) lists every conversation: through the shared pool, or all in the page's thread. */
  list(options: { apiUrl: string; keysBase64: string; throughPool: boolean }): Promise<Listing>;
}

export interface PoolTestWindow {
  poolTests: PoolPageApi;
}
