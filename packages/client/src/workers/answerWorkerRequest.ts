// A worker's side of protocol.ts: opens one request's invitations. Only the reader's own derived keys are kept
// between requests; everything learned about peers (verified bundles, X3DH secrets) is per request, so each one
// works like a cold client would.
import { decodePrivateKeyBundle, KeyBundleVerifier, toHex, userKeysFromBundle, X3dhSecretCache, type UserKeys } from "@xmtp-ts/crypto";
import { openInvitations } from "./openInvitations.js";
import type { WorkerRequest, WorkerResponse } from "./protocol.js";

/** Derived keys by bundle bytes (hex); a few identities at most, since deriving them again is cheap anyway. */
const ownKeys = new Map<string, UserKeys>();
const MAX_OWN_KEYS = 16;

function keysOf(bytes: Uint8Array): UserKeys {
  const id = toHex(bytes);
  let keys = ownKeys.get(id);
  if (!keys) {
    if (ownKeys.size >= MAX_OWN_KEYS) ownKeys.clear();
    keys = userKeysFromBundle(decodePrivateKeyBundle(bytes));
    ownKeys.set(id, keys);
  }
  return keys;
}

/** The results of every job, or the error that kept the request from running at all. Never rejects. */
export async function answerWorkerRequest(request: WorkerRequest): Promise<WorkerResponse> {
  try {
    const keys = keysOf(request.keys);
    const caches = { verifier: new KeyBundleVerifier(), secrets: new X3dhSecretCache() };
    return { id: request.id, results: await openInvitations(keys, request.jobs, caches) };
  } catch (err) {
    return { id: request.id, error: err instanceof Error ? err.message : String(err) };
  }
}
