// Web Worker entry (browsers): opens batches of invitations for the page's WebInvitationPool, on the page's
// secp256k1. The page posts the compiled secp256k1.wasm it loaded (or nothing: noble) before the first request and
// again whenever its own changes.
import { getCryptoBackend, setCryptoBackend, useWasmSecp256k1, type CryptoBackend } from "@xmtp-ts/crypto";
import { answerWorkerRequest } from "./answerWorkerRequest.js";
import type { UseBackendRequest, UseBackendResponse, WebWorkerRequest, WebWorkerResponse } from "./webWorkerProtocol.js";
import { warmUpInvitationPath } from "./warmUp.js";

/** What this module needs of a DedicatedWorkerGlobalScope (the DOM typings give `self` a Window's). */
interface WorkerScope {
  addEventListener(type: "message", listener: (event: MessageEvent<WebWorkerRequest>) => void): void;
  postMessage(message: WebWorkerResponse): void;
}
const scope = self as unknown as WorkerScope;

// Taken before anything else is put in use: outside Node.js the default back end is noble, the one to return to
// when the page goes back to it.
const noble: Promise<CryptoBackend> = getCryptoBackend();
let warmedUp = false;

async function useBackend({ secp256k1Wasm }: UseBackendRequest["useBackend"]): Promise<UseBackendResponse> {
  try {
    let backend: CryptoBackend;
    if (secp256k1Wasm) backend = await useWasmSecp256k1(secp256k1Wasm);
    else setCryptoBackend((backend = await noble));
    // Once, so the first real request does not pay for JIT compilation; a failure here means requests would fail too.
    if (!warmedUp) await warmUpInvitationPath();
    warmedUp = true;
    return { backend: backend.name };
  } catch (err) {
    return { backendError: err instanceof Error ? err.message : String(err) };
  }
}

// One message at a time, in order: a request runs on the back end posted before it, and each request's results go
// back as soon as it is done, not once the next one (interleaved with it at every await) is done too.
let previous = Promise.resolve();
scope.addEventListener("message", ({ data }) => {
  previous = previous.then(async () => scope.postMessage("useBackend" in data ? await useBackend(data.useBackend) : await answerWorkerRequest(data)));
});
