// What a page says to its invitation Web Workers besides protocol.ts's requests and responses: which secp256k1 to
// run on. Node.js worker threads load the fastest one there is by themselves; a Web Worker must use the page's,
// which it cannot load on its own (the page knows where its secp256k1.wasm is, and already compiled it).
import type { CryptoBackendName } from "@xmtp-ts/crypto";
import type { WorkerRequest, WorkerResponse } from "./protocol.js";

/** Run on libsecp256k1 from this compiled secp256k1.wasm, or on noble without one. */
export interface UseBackendRequest {
  useBackend: { secp256k1Wasm?: WebAssembly.Module };
}

/** The back end the worker now runs on (after warming it up), or why it could not put the page's in use. */
export type UseBackendResponse = { backend: CryptoBackendName } | { backendError: string };

export type WebWorkerRequest = WorkerRequest | UseBackendRequest;
export type WebWorkerResponse = WorkerResponse | UseBackendResponse;
