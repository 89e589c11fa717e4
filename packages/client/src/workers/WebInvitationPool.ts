// Browsers: big batches of invitations (cold listings) are opened on Web Workers, one per core (at most 3), so a
// listing uses every core and the page's thread stays free for the UI: it takes no share of a batch, only hands
// out chunks and takes in results. Workers run the page's secp256k1: the pool posts them the compiled
// secp256k1.wasm the page loaded (no second fetch or compile), or they use noble as the page does. Without Web
// Workers (another runtime, a Content-Security-Policy forbidding them), on one core, for small batches, or once
// every worker has failed, invitations are opened in the page's thread.
import { encodePrivateKeyBundle, secp256k1WasmModuleInUse, type CryptoBackendName, type CryptoCaches, type UserKeys } from "@xmtp-ts/crypto";
import type { InvitationOpener } from "./invitationOpener.js";
import { orderByParties } from "./invitationParties.js";
import { openInvitations } from "./openInvitations.js";
import type { InvitationJob, InvitationJobResult, WorkerRequest } from "./protocol.js";
import type { UseBackendRequest, WebWorkerResponse } from "./webWorkerProtocol.js";

/** Below this many invitations the page opens them itself: quicker than a round trip, let alone starting workers. */
export const MIN_WORKER_JOBS = 24;
const MAX_WORKERS = 3;
/** Chunks per worker in a batch: enough to even out workers that get less CPU, few enough to keep overhead low. */
const CHUNKS_PER_WORKER = 4;
/** Smaller chunks would cost more in messages than they even out. */
const MIN_CHUNK_JOBS = 4;
/** Chunks sent to a worker at once: one running, one waiting on its port while the page takes in the results. */
const IN_FLIGHT_PER_WORKER = 2;

interface Chunk {
  /** The open() call it belongs to, to drop its queued chunks when that call gives up on the workers. */
  batch: object;
  keys: Uint8Array;
  jobs: InvitationJob[];
  resolve(results: InvitationJobResult[]): void;
  reject(error: Error): void;
}

interface PooledWorker {
  worker: Worker;
  /** The module last posted to it (undefined: noble), to post the page's again when the page changes curve. */
  secp256k1Wasm: WebAssembly.Module | undefined;
  /** What it reported running on after the last module posted. */
  backend?: CryptoBackendName;
  /** Settles when it has answered the first module posted, or failed. */
  ready: Promise<void>;
  markReady(): void;
  pending: Map<number, Chunk>;
  /** Why it was retired: a retired worker gets no more work. */
  failure?: Error;
}

export class WebInvitationPool implements InvitationOpener {
  private workers: PooledWorker[] | undefined;
  /** Chunks waiting for a worker, from every batch in flight: a batch arriving meanwhile shares the workers. */
  private readonly queue: Chunk[] = [];
  private nextId = 0;
  private readonly encodedKeys = new WeakMap<UserKeys, Uint8Array>();
  private batchesDoneOnWorkers = 0;

  private constructor(private readonly size: number) {}

  /** A pool of one worker per core (at most 3); none on one core or where Web Workers do not exist. */
  static create(): WebInvitationPool {
    const cores = typeof navigator === "undefined" ? 1 : (navigator.hardwareConcurrency ?? 1);
    const size = typeof Worker === "undefined" || cores < 2 ? 0 : Math.min(MAX_WORKERS, cores);
    return new WebInvitationPool(size);
  }

  /** Whether big batches go to workers: there are workers, and not all of them have failed. */
  get parallel(): boolean {
    return this.size > 0 && (this.workers === undefined || this.workers.some((w) => !w.failure));
  }

  /** How many batches the workers have opened, all of it (a batch the page had to finish is not counted). */
  get batchesOnWorkers(): number {
    return this.batchesDoneOnWorkers;
  }

  /** The back end each working worker runs on, as it reported it (the page's: "libsecp256k1-wasm+webcrypto" or "noble+webcrypto"). */
  get workerBackends(): CryptoBackendName[] {
    return (this.workers ?? []).flatMap((w) => (!w.failure && w.backend ? [w.backend] : []));
  }

  /** Why workers were retired, one message each: where to look when `parallel` turns false. */
  get workerFailures(): string[] {
    return (this.workers ?? []).flatMap((w) => (w.failure ? [w.failure.message] : []));
  }

  /** Starts the workers; resolves once each has put the page's back end in use and warmed up, or failed. */
  async warmUp(): Promise<void> {
    await Promise.all(this.startedWorkers().map((w) => w.ready));
  }

  async open(keys: UserKeys, jobs: InvitationJob[], caches?: CryptoCaches): Promise<InvitationJobResult[]> {
    const workers = jobs.length >= MIN_WORKER_JOBS ? this.startedWorkers().filter((w) => !w.failure) : [];
    if (workers.length === 0) return openInvitations(keys, jobs, caches);
    const order = orderByParties(jobs);
    const batch = {};
    const encodedKeys = this.keysFor(keys);
    const size = Math.max(MIN_CHUNK_JOBS, Math.ceil(jobs.length / (workers.length * CHUNKS_PER_WORKER)));
    const chunks: Promise<InvitationJobResult[]>[] = [];
    for (let i = 0; i < order.length; i += size) {
      const chunkJobs = order.slice(i, i + size).map((index) => jobs[index]);
      chunks.push(new Promise((resolve, reject) => this.queue.push({ batch, keys: encodedKeys, jobs: chunkJobs, resolve, reject })));
    }
    this.pump();
    let results: InvitationJobResult[];
    try {
      results = (await Promise.all(chunks)).flat();
    } catch {
      // A worker failed: the page does the whole batch rather than fail the listing (its caches may help there).
      this.dropQueued(batch);
      return openInvitations(keys, jobs, caches);
    }
    this.batchesDoneOnWorkers++;
    const inOrder = new Array<InvitationJobResult>(jobs.length);
    order.forEach((index, i) => (inOrder[index] = results[i]));
    return inOrder;
  }

  async close(): Promise<void> {
    for (const pooled of this.workers ?? []) this.retire(pooled, new Error("the invitation pool was closed"));
    this.workers = undefined;
  }

  /** The workers, started on the first call; empty when the pool has none or the browser refused to start them. */
  private startedWorkers(): PooledWorker[] {
    this.workers ??= this.startWorkers();
    return this.workers;
  }

  private startWorkers(): PooledWorker[] {
    const started: PooledWorker[] = [];
    for (let i = 0; i < this.size; i++) {
      let worker: Worker;
      try {
        // Written out in full: bundlers (vite, webpack) recognize this very expression and bundle the entry as a worker.
        worker = new Worker(new URL("./webInvitationWorker.js", import.meta.url), { type: "module" });
      } catch {
        // Refused at once: a script on another origin than the page's (the package served from a CDN), or in some
        // browsers a Content-Security-Policy (Chromium fires "error" instead, handled below).
        break;
      }
      let markReady!: () => void;
      const ready = new Promise<void>((resolve) => (markReady = resolve));
      const pooled: PooledWorker = { worker, secp256k1Wasm: undefined, ready, markReady, pending: new Map() };
      worker.addEventListener("message", (event: MessageEvent<WebWorkerResponse>) => this.received(pooled, event.data));
      // A script that does not load (missing, blocked) or throws as it loads, or an uncaught error later.
      worker.addEventListener("error", (event) =>
        this.retire(pooled, new Error(`the invitation worker failed${event instanceof ErrorEvent && event.message ? `: ${event.message}` : " to load"}`)),
      );
      worker.addEventListener("messageerror", () => this.retire(pooled, new Error("a message from the invitation worker could not be deserialized")));
      this.postBackend(pooled);
      started.push(pooled);
    }
    return started;
  }

  private received(pooled: PooledWorker, response: WebWorkerResponse): void {
    if ("backend" in response) {
      pooled.backend = response.backend;
      pooled.markReady();
    } else if ("backendError" in response) {
      this.retire(pooled, new Error(`the invitation worker could not use the page's secp256k1: ${response.backendError}`));
    } else {
      const chunk = pooled.pending.get(response.id);
      if (!chunk) return;
      // Failing a whole request (not single invitations) means the worker itself is broken.
      if (!response.results) return this.retire(pooled, new Error(`the invitation worker failed a request: ${response.error ?? "no reason given"}`));
      pooled.pending.delete(response.id);
      chunk.resolve(response.results);
      this.pump();
    }
  }

  /** Hands queued chunks to the working workers, two in flight each. */
  private pump(): void {
    for (const pooled of this.workers ?? []) {
      while (!pooled.failure && pooled.pending.size < IN_FLIGHT_PER_WORKER && this.queue.length > 0) {
        // The page may have changed curve since (libsecp256k1 loaded after the workers started, or noble put back).
        if (pooled.secp256k1Wasm !== secp256k1WasmModuleInUse()) this.postBackend(pooled);
        else this.postChunk(pooled, this.queue.shift()!);
      }
    }
  }

  private postChunk(pooled: PooledWorker, chunk: Chunk): void {
    const id = this.nextId++;
    pooled.pending.set(id, chunk);
    this.post(pooled, { id, keys: chunk.keys, jobs: chunk.jobs } satisfies WorkerRequest);
  }

  private postBackend(pooled: PooledWorker): void {
    pooled.secp256k1Wasm = secp256k1WasmModuleInUse();
    this.post(pooled, { useBackend: { secp256k1Wasm: pooled.secp256k1Wasm } } satisfies UseBackendRequest);
  }

  private post(pooled: PooledWorker, message: WorkerRequest | UseBackendRequest): void {
    try {
      pooled.worker.postMessage(message);
    } catch (err) {
      // A browser that cannot clone a compiled WebAssembly module to a worker (DataCloneError).
      this.retire(pooled, err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Stops a failed worker; its chunks fail (so their batches finish in the page), and so do queued ones when no worker is left. */
  private retire(pooled: PooledWorker, failure: Error): void {
    if (pooled.failure) return;
    pooled.failure = failure;
    pooled.worker.terminate();
    pooled.markReady();
    for (const chunk of pooled.pending.values()) chunk.reject(failure);
    pooled.pending.clear();
    if (this.workers?.every((w) => w.failure)) {
      for (const chunk of this.queue.splice(0)) chunk.reject(failure);
    }
  }

  private dropQueued(batch: object): void {
    const kept = this.queue.filter((chunk) => chunk.batch !== batch);
    this.queue.splice(0, this.queue.length, ...kept);
  }

  private keysFor(keys: UserKeys): Uint8Array {
    let bytes = this.encodedKeys.get(keys);
    if (!bytes) this.encodedKeys.set(keys, (bytes = encodePrivateKeyBundle(keys.bundle)));
    return bytes;
  }
}
