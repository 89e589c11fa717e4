// The browser side of the invitation pool test (test/webInvitationPool.test.ts): lists an inbox with @xmtp-ts/client
// through the page's shared pool of Web Workers or in the page's thread, on demand from Node.js through
// page.evaluate(). Bundled by vite from the package's sources, as an app bundles the package.
/// <reference types="vite/client" />
import { fromBase64, getCryptoBackend, toHex, useWasmSecp256k1 } from "@xmtp-ts/crypto";
import secp256k1WasmUrl from "@xmtp-ts/crypto/secp256k1.wasm?url";
import { Client, ConversationV2 } from "../../src/index.js";
import { WebInvitationPool } from "../../src/workers/WebInvitationPool.js";
import type { PoolActivity, PoolPageApi, PoolTestWindow } from "./pageApi.js";

/** The conversation's key: private to ConversationV2, read here only to compare two listings key for key. */
function keyMaterialOf(conversation: ConversationV2): Uint8Array {
  return (conversation as unknown as { keyMaterial: Uint8Array }).keyMaterial;
}

/** The pool's counts once every worker has answered or failed (a worker's failure to load may come after the listing). */
async function activityOf(client: Client): Promise<PoolActivity> {
  const pool = await client.invitationPool;
  if (!(pool instanceof WebInvitationPool)) throw new Error(`the client's pool is not a WebInvitationPool: ${String(pool?.constructor.name)}`);
  await pool.warmUp();
  return { parallel: pool.parallel, batchesOnWorkers: pool.batchesOnWorkers, workerBackends: pool.workerBackends, workerFailures: pool.workerFailures };
}

const api: PoolPageApi = {
  async useWasm() {
    return (await useWasmSecp256k1(secp256k1WasmUrl)).name;
  },
  async list({ apiUrl, keysBase64, throughPool }) {
    const client = await Client.create(null, {
      apiUrl,
      privateKeyOverride: fromBase64(keysBase64),
      skipContactPublishing: true,
      parallelInvitations: throughPool,
    });
    try {
      const conversations = (await client.conversations.list()).map((conversation) => {
        if (!(conversation instanceof ConversationV2)) throw new Error(`a v1 conversation in a v2-only inbox: ${conversation.peerAddress}`);
        return {
          topic: conversation.topic,
          peerAddress: conversation.peerAddress,
          keyMaterialHex: toHex(keyMaterialOf(conversation)),
          createdAtMs: conversation.createdAt.getTime(),
          context: conversation.context,
        };
      });
      return {
        conversations,
        backend: (await getCryptoBackend()).name,
        pool: throughPool ? await activityOf(client) : undefined,
      };
    } finally {
      await client.close();
    }
  },
};

(window as unknown as PoolTestWindow).poolTests = api;
