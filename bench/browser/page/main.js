// The benchmark page (bench/clientBrowser.js drives it through playwright): lists a seeded inbox with
// @xmtp-ts/client on either secp256k1 back end, opening invitations in this page's thread or on the client's pool
// of Web Workers (as the chat app does), with or without the IndexedDB inbox database. Everything is exposed on
// window.xmtpBench and returns plain data.
import { Client } from "@xmtp-ts/client";
import { fromBase64, getCryptoBackend, setCryptoBackend, useWasmSecp256k1 } from "@xmtp-ts/crypto";
import secp256k1WasmUrl from "@xmtp-ts/crypto/secp256k1.wasm?url";
import { countingBackend } from "./curveCounter.js";

/** @typedef {import("@xmtp-ts/crypto").CryptoBackend} CryptoBackend */
/** @typedef {{ noble: CryptoBackend; wasm: CryptoBackend }} LoadedBackends */

/**
 * What the listing reads of the client's pool of Web Workers (WebInvitationPool, which a browser gets).
 * @typedef {{ batchesOnWorkers: number; workerBackends: string[] }} PoolCounters
 */

/** @type {Promise<LoadedBackends> | undefined} */
let backends;

/** Both back ends, kept so each measure can put its own in use: noble (browsers' default) and libsecp256k1. */
function loadBackends() {
  backends ??= (async () => {
    const noble = await getCryptoBackend();
    if (!noble.name.startsWith("noble+")) throw new Error(`the browsers' default back end should be noble, got ${noble.name}`);
    const wasm = await useWasmSecp256k1(secp256k1WasmUrl);
    return { noble, wasm };
  })();
  return backends;
}

/**
 * Puts a back end in use; `counted`: through countingBackend, whose `calls` are returned too.
 * @param {keyof LoadedBackends} kind
 * @param {{ counted?: boolean }} [options]
 */
async function useBackend(kind, { counted = false } = {}) {
  const loaded = await loadBackends();
  const backend = loaded[kind];
  if (!backend) throw new Error(`unknown back end ${kind}: "noble" or "wasm"`);
  const { backend: inUse, calls } = counted ? countingBackend(backend) : { backend, calls: undefined };
  setCryptoBackend(inUse);
  return { ...inUse, calls };
}

/**
 * A fresh client (create) lists every conversation (list); with `dbName`, through that IndexedDB inbox database;
 * with `workers`, opening invitations on the client's pool of Web Workers, else in this page's thread. Wall times
 * of each phase, in milliseconds; with `counted`, also the curve's calls (count and time per operation); with
 * `workers`, what the pool did during the listing (batches opened on workers, the back ends the workers run on).
 * @param {{ apiUrl: string; keysBase64: string; backend: keyof LoadedBackends; dbName?: string; counted?: boolean; workers?: boolean }} options
 */
async function list({ apiUrl, keysBase64, backend, dbName, counted, workers }) {
  const inUse = await useBackend(backend, { counted });
  const privateKeyOverride = fromBase64(keysBase64);
  const started = performance.now();
  const client = await Client.create(null, { apiUrl, privateKeyOverride, skipContactPublishing: true, dbPath: dbName, parallelInvitations: workers });
  const pool = /** @type {PoolCounters | undefined} */ (/** @type {unknown} */ (await client.invitationPool));
  const batchesBefore = pool?.batchesOnWorkers ?? 0;
  const created = performance.now();
  const conversations = await client.conversations.list();
  const listed = performance.now();
  await client.close();
  return {
    ms: listed - started,
    createMs: created - started,
    listMs: listed - created,
    conversations: conversations.length,
    backend: (await getCryptoBackend()).name,
    curveCalls: inUse.calls,
    pool: pool && { batchesOnWorkers: pool.batchesOnWorkers - batchesBefore, workerBackends: pool.workerBackends },
  };
}

/** The names of both back ends once loaded (the WebAssembly one fetched and compiled). */
async function backendNames() {
  const { noble, wasm } = await loadBackends();
  return { noble: noble.name, wasm: wasm.name };
}

/** @typedef {{ backendNames: typeof backendNames; list: typeof list }} XmtpBench */

window.xmtpBench = { backendNames, list };
