// Opening an invitation costs three ECDH, a signature check and a wallet recovery; a cold listing opens one per
// conversation. In Node.js this pool spreads big batches over worker threads (one per core); browsers have
// WebInvitationPool; where the compiled worker is not available (tests running from TypeScript sources), everything
// runs in this thread.
import { encodePrivateKeyBundle, type CryptoCaches, type UserKeys } from "@xmtp-ts/crypto";
import { orderByParties } from "./invitationParties.js";
import { openInvitations } from "./openInvitations.js";
import type { InvitationOpener } from "./invitationOpener.js";
import type { InvitationJob, InvitationJobResult, WorkerRequest, WorkerResponse } from "./protocol.js";
import { WebInvitationPool } from "./WebInvitationPool.js";

/** Below this many invitations a worker round trip is not worth it. */
export const MIN_PARALLEL_JOBS = 24;
const MAX_WORKERS = 3;
/** Chunks per thread in a batch: enough to even out threads that get less CPU, few enough to keep overhead low. */
const CHUNKS_PER_THREAD = 4;
/** Chunks sent to a worker at once: one running, one queued on its port while this thread is busy. */
const IN_FLIGHT_PER_WORKER = 2;

interface NodeWorker {
  postMessage(value: unknown): void;
  on(event: "message", listener: (value: WorkerResponse) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface QueuedChunk {
  keys: UserKeys;
  jobs: InvitationJob[];
  caches?: CryptoCaches;
  resolve(results: InvitationJobResult[]): void;
  reject(error: Error): void;
}

interface PooledWorker {
  worker: NodeWorker;
  pending: Map<number, { resolve(results: InvitationJobResult[]): void; reject(error: Error): void }>;
  broken?: Error;
}

function dynamicImport<T>(specifier: string): Promise<T> {
  // A computed specifier keeps browser bundlers from resolving Node built-ins.
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";
}

export class InvitationPool {
  private workers: Promise<PooledWorker[]> | undefined;
  private nextId = 0;
  private readonly encodedKeys = new WeakMap<UserKeys, Uint8Array>();

  /** Chunks the workers have opened (the rest of a batch, if any, was opened in this thread). */
  workerChunks = 0;

  private constructor(
    private readonly workerUrl: URL | undefined,
    private readonly size: number,
    private readonly execArgv?: string[],
  ) {}

  /**
   * A pool of `size` workers (default: one per core, at most 3) running `workerUrl` (default: the compiled
   * invitationWorker.js next to this module). This thread only hands out the work. Without Node.js,
   * without that file, or on one core, a pool that runs everything in this thread. `execArgv` replaces the Node.js
   * flags the workers inherit (tests drop the "source" export condition, under which workers would load sources).
   */
  static async create(options: { workerUrl?: URL; size?: number; execArgv?: string[] } = {}): Promise<InvitationPool> {
    // Browsers have their own pool of Web Workers: WebInvitationPool, which sharedInvitationPool() picks there.
    if (!isNode()) return new InvitationPool(undefined, 0);
    const workerUrl = options.workerUrl ?? new URL("./invitationWorker.js", import.meta.url);
    const fs = await dynamicImport<typeof import("node:fs")>("node:fs");
    const { fileURLToPath } = await dynamicImport<typeof import("node:url")>("node:url");
    if (workerUrl.protocol !== "file:" || !fs.existsSync(fileURLToPath(workerUrl))) return new InvitationPool(undefined, 0);
    const os = await dynamicImport<typeof import("node:os")>("node:os");
    const cores = os.availableParallelism();
    const size = options.size ?? (cores > 1 ? Math.min(MAX_WORKERS, cores) : 0);
    return new InvitationPool(size > 0 ? workerUrl : undefined, size, options.execArgv);
  }

  /** Whether big batches go to worker threads. */
  get parallel(): boolean {
    return this.workerUrl !== undefined;
  }

  /** Starts the workers ahead of the first batch (they take tens of milliseconds to load). */
  async warmUp(): Promise<void> {
    await this.ensureWorkers();
  }

  private async ensureWorkers(): Promise<PooledWorker[] | undefined> {
    if (!this.workerUrl) return undefined;
    this.workers ??= this.startWorkers(this.workerUrl);
    const healthy = (await this.workers).filter((w) => !w.broken);
    return healthy.length > 0 ? healthy : undefined;
  }

  private async startWorkers(workerUrl: URL): Promise<PooledWorker[]> {
    const { Worker } = await dynamicImport<typeof import("node:worker_threads")>("node:worker_threads");
    return Array.from({ length: this.size }, () => {
      const pooled: PooledWorker = { worker: new Worker(workerUrl, { execArgv: this.execArgv }) as unknown as NodeWorker, pending: new Map() };
      pooled.worker.on("message", (response) => {
        const waiter = pooled.pending.get(response.id);
        if (!waiter) return;
        pooled.pending.delete(response.id);
        if (pooled.pending.size === 0) pooled.worker.unref();
        if (response.results) waiter.resolve(response.results);
        else waiter.reject(new Error(response.error ?? "worker failed"));
      });
      pooled.worker.on("error", (error) => {
        pooled.broken = error;
        for (const waiter of pooled.pending.values()) waiter.reject(error);
        pooled.pending.clear();
        void this.failQueueIfNoWorkers();
      });
      // After the listeners: attaching a message listener refs the worker again.
      pooled.worker.unref();
      return pooled;
    });
  }

  private keysFor(keys: UserKeys): Uint8Array {
    let bytes = this.encodedKeys.get(keys);
    if (!bytes) this.encodedKeys.set(keys, (bytes = encodePrivateKeyBundle(keys.bundle)));
    return bytes;
  }

  private run(pooled: PooledWorker, keys: UserKeys, jobs: InvitationJob[]): Promise<InvitationJobResult[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      pooled.pending.set(id, { resolve, reject });
      // A worker with work in flight keeps the process alive; an idle one does not.
      pooled.worker.ref();
      pooled.worker.postMessage({ id, keys: this.keysFor(keys), jobs } satisfies WorkerRequest);
    });
  }

  /**
   * Chunks waiting for a thread, from every batch in flight: a batch arriving while another is being opened (the
   * next page of a listing) shares the threads instead of waiting for the first batch's slowest chunk.
   */
  private readonly queue: QueuedChunk[] = [];

  /** Opens every invitation; one result per job, in order. */
  async open(keys: UserKeys, jobs: InvitationJob[], caches?: CryptoCaches): Promise<InvitationJobResult[]> {
    const workers = jobs.length >= MIN_PARALLEL_JOBS ? await this.ensureWorkers() : undefined;
    if (!workers) return openInvitations(keys, jobs, caches);
    // Invitations between the same two parties sit together, so they mostly land in one chunk, where the bundle
    // check and the X3DH exchange are shared.
    const order = orderByParties(jobs);
    const sorted = order.map((index) => jobs[index]);
    // Small chunks handed out as threads free up: a thread the OS runs less often takes fewer of them.
    const threads = workers.length;
    const size = Math.max(4, Math.ceil(sorted.length / (threads * CHUNKS_PER_THREAD)));
    const chunks: Promise<InvitationJobResult[]>[] = [];
    for (let i = 0; i < sorted.length; i += size) {
      const chunkJobs = sorted.slice(i, i + size);
      chunks.push(new Promise((resolve, reject) => this.queue.push({ keys, jobs: chunkJobs, caches, resolve, reject })));
    }
    this.pump(workers);
    try {
      const results = (await Promise.all(chunks)).flat();
      const inOrder = new Array<InvitationJobResult>(jobs.length);
      order.forEach((index, i) => (inOrder[index] = results[i]));
      return inOrder;
    } catch {
      // A worker died: do the batch here rather than fail the listing.
      return openInvitations(keys, jobs, caches);
    }
  }

  /**
   * Hands queued chunks to idle workers, two in flight each so none waits for this thread. This thread takes no
   * share: it has the network to read and the results to take in, and measured with a share of its own (10,000
   * invitations, 2 cores) the listing took 30% more CPU and longer.
   */
  private pump(workers: PooledWorker[]): void {
    for (const pooled of workers) {
      while (!pooled.broken && pooled.pending.size < IN_FLIGHT_PER_WORKER && this.queue.length > 0) {
        const chunk = this.queue.shift()!;
        this.run(pooled, chunk.keys, chunk.jobs).then(
          (results) => {
            this.workerChunks++;
            chunk.resolve(results);
            this.pump(workers);
          },
          (error: Error) => {
            chunk.reject(error);
            this.pump(workers);
          },
        );
      }
    }
  }

  /** With every worker broken, nothing would take the queued chunks: their batches go back to this thread. */
  private async failQueueIfNoWorkers(): Promise<void> {
    const workers = this.workers ? await this.workers : [];
    if (workers.some((w) => !w.broken)) return;
    for (const chunk of this.queue.splice(0)) chunk.reject(new Error("every invitation worker failed"));
  }

  async close(): Promise<void> {
    const workers = this.workers ? await this.workers : [];
    this.workers = undefined;
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}


let shared: Promise<InvitationOpener> | undefined;

/** The process-wide pool (workers are shared by every client in the process or page): worker threads in Node.js, Web Workers elsewhere. */
export function sharedInvitationPool(): Promise<InvitationOpener> {
  shared ??= isNode() ? InvitationPool.create() : Promise.resolve(WebInvitationPool.create());
  return shared;
}
