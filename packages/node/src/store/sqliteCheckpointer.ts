// Checkpoints of the SQLite store (copying the WAL into the database file, with an fsync of each) run on a worker
// thread with its own connection instead of inside whichever commit crosses SQLite's auto-checkpoint threshold, so
// they never stall the event loop. SQLite starts the WAL over only when a write begins with every frame copied;
// commits made while a background checkpoint copies would prevent that forever (the WAL would grow without bound), so
// each checkpoint ends with a short second pass during which new appends wait (reads go on): the bulk is copied with
// writes flowing, the pause covers only what came in meanwhile.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { StoredEnvelope } from "./EnvelopeStore.js";
import { CHECKPOINT_WORKER_SOURCE } from "./sqliteCheckpointWorkerSource.js";

/**
 * Checkpoint once the WAL has grown by about this many pages (as estimated by PAGES_PER_ENVELOPE) since the last one;
 * the WAL file then peaks at ~30 MB. Ten times SQLite's default: every envelope dirties a random leaf of the digest
 * index, and a checkpoint copies each dirtied page once however often the WAL rewrote it, so longer intervals copy
 * far fewer pages per envelope. Appending batches of 40 to a 140 000-envelope store took 28.7 us of CPU per envelope
 * with checkpoints every 1 000 pages and 19.8 us with 10 000; query throughput in bench/run.js stayed level with the
 * bare server (0.99-1.01x).
 */
export const DEFAULT_CHECKPOINT_AFTER_PAGES = 10_000;
const PAGE_BYTES = 4096;
/** Pages a stored envelope dirties besides its bytes: the table leaf and a leaf of each of the two indexes. */
const PAGES_PER_ENVELOPE = 3;

export interface CheckpointerOptions {
  /** WAL growth in pages after which a checkpoint starts. */
  afterPages: number;
  /** The waku_hash column is filled: its index is one more leaf dirtied per envelope. */
  wakuHashIndex: boolean;
  /** The worker cannot run (or a checkpoint failed): no more checkpoints are made here. */
  onUnavailable: () => void;
  /** The appends held during a checkpoint's last pass may be committed. */
  onWritesReleased: () => void;
}

/** Decides when to checkpoint the WAL, and runs checkpoints (both passes) on a CheckpointWorker. */
export class SqliteCheckpointer {
  private readonly worker: CheckpointWorker;
  private readonly pagesPerEnvelope: number;
  /** Estimated WAL pages written since the last checkpoint was started. */
  private walPagesSinceCheckpoint = 0;
  /** The checkpoint in progress (both passes). */
  private checkpointing: Promise<void> | undefined;
  private holdingWrites = false;
  private stopped = false;

  constructor(
    databasePath: string,
    private readonly options: CheckpointerOptions,
  ) {
    this.worker = new CheckpointWorker(databasePath, options.onUnavailable);
    this.pagesPerEnvelope = PAGES_PER_ENVELOPE + (options.wakuHashIndex ? 1 : 0);
  }

  /** Appends wait (stay pending) while the last pass of a checkpoint runs. */
  get writesHeld(): boolean {
    return this.holdingWrites;
  }

  /** Counts what commits added to the WAL, and starts a checkpoint when it has grown by `afterPages`. */
  countCommitted(committed: StoredEnvelope[][]): void {
    for (const envelopes of committed) {
      for (const e of envelopes) this.walPagesSinceCheckpoint += this.pagesPerEnvelope + e.message.byteLength / PAGE_BYTES;
    }
    if (this.walPagesSinceCheckpoint >= this.options.afterPages && !this.checkpointing) {
      this.walPagesSinceCheckpoint = 0;
      void this.checkpoint();
    }
  }

  /**
   * Counts what a retention batch's deletions added to the WAL (each deleted row rewrites a leaf of the table and of
   * each index), so a long purge without appends still checkpoints and the WAL does not grow without bound.
   */
  countDeleted(rows: number): void {
    this.walPagesSinceCheckpoint += rows * (this.pagesPerEnvelope + 1);
    if (this.walPagesSinceCheckpoint >= this.options.afterPages && !this.checkpointing) {
      this.walPagesSinceCheckpoint = 0;
      void this.checkpoint();
    }
  }

  /** Copies the committed WAL into the database file, so that the next commit starts the WAL over; resolves when done. */
  checkpoint(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return (this.checkpointing ??= (async () => {
      try {
        await this.worker.run();
        this.holdingWrites = true;
        await this.worker.run();
      } finally {
        this.holdingWrites = false;
        this.checkpointing = undefined;
        this.options.onWritesReleased();
      }
    })());
  }

  /** No checkpoint starts from now on; the returned promise (if any) is the one in progress. */
  stop(): Promise<void> | undefined {
    this.stopped = true;
    return this.checkpointing;
  }

  /** Ends the worker thread (after the checkpoint in progress). */
  close(): Promise<void> {
    return this.worker.close();
  }
}

/** Runs checkpoints on a worker thread, one at a time, starting the worker on first use. */
class CheckpointWorker {
  private worker: Worker | undefined;
  private current: { done: Promise<void>; finish: () => void } | undefined;
  private failed = false;

  constructor(
    private readonly databasePath: string,
    private readonly onUnavailable: () => void,
  ) {}

  run(): Promise<void> {
    if (this.failed) return Promise.resolve();
    if (this.current) return this.current.done;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.current = { done, finish };
    const worker = (this.worker ??= this.start());
    // Running, the checkpoint keeps the process alive (someone may await it); idle, the worker does not.
    worker.ref();
    worker.postMessage("checkpoint");
    return done;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.current?.done;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.ref();
    worker.postMessage("close");
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(CHECKPOINT_WORKER_SOURCE, {
      eval: true,
      workerData: { driverPath: createRequire(import.meta.url).resolve("better-sqlite3"), databasePath: this.databasePath },
    });
    // A checkpoint that fails (an I/O error: PASSIVE does not fail for being busy) hands checkpoints back to SQLite.
    worker.on("message", (result: { ok: boolean }) => (result.ok ? this.settle() : this.giveUp()));
    worker.on("error", () => this.giveUp());
    worker.on("exit", () => {
      if (this.worker === worker) this.giveUp();
    });
    return worker;
  }

  private giveUp(): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = undefined;
    this.onUnavailable();
    this.settle();
  }

  private settle(): void {
    const current = this.current;
    this.current = undefined;
    this.worker?.unref();
    current?.finish();
  }
}
