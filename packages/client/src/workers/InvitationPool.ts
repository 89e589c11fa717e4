// Opening an invitation costs three ECDH, a signature check and a wallet recovery; a cold listing opens one per
// conversation. In Node.js this pool spreads big batches over worker threads (one per core); elsewhere, or when the
// compiled worker is not available (tests running from TypeScript sources), everything runs in this thread.
import { encodePrivateKeyBundle, toHex, type CryptoCaches, type UserKeys } from "@xmtp-ts/crypto";
import { fromBinary, SealedInvitationHeaderV1Schema, SealedInvitationSchema } from "@xmtp-ts/proto";
import { openInvitations } from "./openInvitations.js";
import type { InvitationJob, InvitationJobResult, WorkerRequest, WorkerResponse } from "./protocol.js";

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

  private constructor(
    private readonly workerUrl: URL | undefined,
    private readonly size: number,
  ) {}

  /**
   * A pool of `size` workers (default: one per core, at most 3) running `workerUrl` (default: the compiled
   * invitationWorker.js next to this module). This thread takes a share of every batch too. Without Node.js,
   * without that file, or on one core, a pool that runs everything in this thread.
   */
  static async create(options: { workerUrl?: URL; size?: number } = {}): Promise<InvitationPool> {
    if (!isNode()) return new InvitationPool(undefined, 0);
    const workerUrl = options.workerUrl ?? new URL("./invitationWorker.js", import.meta.url);
    const fs = await dynamicImport<typeof import("node:fs")>("node:fs");
    const { fileURLToPath } = await dynamicImport<typeof import("node:url")>("node:url");
    if (workerUrl.protocol !== "file:" || !fs.existsSync(fileURLToPath(workerUrl))) return new InvitationPool(undefined, 0);
    const os = await dynamicImport<typeof import("node:os")>("node:os");
    const cores = os.availableParallelism();
    const size = options.size ?? (cores > 1 ? Math.min(MAX_WORKERS, cores) : 0);
    return new InvitationPool(size > 0 ? workerUrl : undefined, size);
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
      const pooled: PooledWorker = { worker: new Worker(workerUrl) as unknown as NodeWorker, pending: new Map() };
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
  private localRunning = false;

  /** Opens every invitation; one result per job, in order. */
  async open(keys: UserKeys, jobs: InvitationJob[], caches?: CryptoCaches): Promise<InvitationJobResult[]> {
    const workers = jobs.length >= MIN_PARALLEL_JOBS ? await this.ensureWorkers() : undefined;
    if (!workers) return openInvitations(keys, jobs, caches);
    // Invitations between the same two parties sit together, so they mostly land in one chunk, where the bundle
    // check and the X3DH exchange are shared.
    const order = jobs
      .map((job, index) => ({ index, party: partiesOf(job.message) }))
      .sort((a, b) => (a.party < b.party ? -1 : a.party > b.party ? 1 : a.index - b.index));
    const sorted = order.map(({ index }) => jobs[index]);
    // Small chunks handed out as threads free up: a thread the OS runs less often takes fewer of them.
    const threads = workers.length + 1;
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
      order.forEach(({ index }, i) => (inOrder[index] = results[i]));
      return inOrder;
    } catch {
      // A worker died: do the batch here rather than fail the listing.
      return openInvitations(keys, jobs, caches);
    }
  }

  /** Hands queued chunks to idle workers (two in flight each, so none waits for this thread) and to this thread. */
  private pump(workers: PooledWorker[]): void {
    for (const pooled of workers) {
      while (!pooled.broken && pooled.pending.size < IN_FLIGHT_PER_WORKER && this.queue.length > 0) {
        const chunk = this.queue.shift()!;
        this.run(pooled, chunk.keys, chunk.jobs).then(
          (results) => {
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
    if (!this.localRunning && this.queue.length > 0) {
      this.localRunning = true;
      // After the current turn, so the workers' postMessage calls go out before this thread gets busy.
      void yieldToEventLoop().then(() => this.runLocally(workers));
    }
  }

  /**
   * This thread's share: one invitation at a time, yielding to the event loop in between. Opening one is a
   * synchronous run of about 5 ms; a whole chunk at once would hold back the workers' results, and with them
   * their next chunks, for as long as the chunk takes.
   */
  private async runLocally(workers: PooledWorker[]): Promise<void> {
    try {
      for (let chunk = this.queue.shift(); chunk; chunk = this.queue.shift()) {
        const results: InvitationJobResult[] = [];
        for (const job of chunk.jobs) {
          results.push(...(await openInvitations(chunk.keys, [job], chunk.caches)));
          await yieldToEventLoop();
        }
        chunk.resolve(results);
        this.pump(workers);
      }
    } finally {
      this.localRunning = false;
    }
  }

  async close(): Promise<void> {
    const workers = this.workers ? await this.workers : [];
    this.workers = undefined;
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

/** Lets pending worker messages through; setImmediate, since a zero timeout waits a whole millisecond in Node. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/** The two identity keys an invitation is between (cheap: no crypto), or "" when it does not parse. */
function partiesOf(message: Uint8Array): string {
  try {
    const sealed = fromBinary(SealedInvitationSchema, message);
    if (sealed.version.case !== "v1") return "";
    const header = fromBinary(SealedInvitationHeaderV1Schema, sealed.version.value.headerBytes);
    const a = toHex(header.sender?.identityKey?.keyBytes ?? new Uint8Array(0));
    const b = toHex(header.recipient?.identityKey?.keyBytes ?? new Uint8Array(0));
    return a < b ? a + b : b + a;
  } catch {
    return "";
  }
}

let shared: Promise<InvitationPool> | undefined;

/** The process-wide pool (workers are shared by every client in the process). */
export function sharedInvitationPool(): Promise<InvitationPool> {
  shared ??= InvitationPool.create();
  return shared;
}
