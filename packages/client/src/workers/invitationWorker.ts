// Worker thread entry (Node.js only): opens batches of invitations for the main thread's InvitationPool.
// Only the reader's own derived keys are kept between batches; everything learned about peers (verified bundles,
// X3DH secrets) is per batch, so each batch works like a cold client would.
import { parentPort } from "node:worker_threads";
import { decodePrivateKeyBundle, KeyBundleVerifier, toHex, userKeysFromBundle, X3dhSecretCache, type UserKeys } from "@xmtp-ts/crypto";
import { openInvitations } from "./openInvitations.js";
import type { WorkerRequest, WorkerResponse } from "./protocol.js";
import { warmUpInvitationPath } from "./warmUp.js";

const ownKeys = new Map<string, UserKeys>();

function keysOf(bytes: Uint8Array): UserKeys {
  const id = toHex(bytes);
  let keys = ownKeys.get(id);
  if (!keys) {
    if (ownKeys.size >= 16) ownKeys.clear();
    keys = userKeysFromBundle(decodePrivateKeyBundle(bytes));
    ownKeys.set(id, keys);
  }
  return keys;
}

// Requests wait for the warm-up (messages queue on the port meanwhile).
const warm = warmUpInvitationPath().catch(() => undefined);

parentPort!.on("message", async (request: WorkerRequest) => {
  let response: WorkerResponse;
  await warm;
  try {
    const keys = keysOf(request.keys);
    const caches = { verifier: new KeyBundleVerifier(), secrets: new X3dhSecretCache() };
    response = { id: request.id, results: await openInvitations(keys, request.jobs, caches) };
  } catch (err) {
    response = { id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(response);
});
