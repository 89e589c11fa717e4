// Making the SQLite store's commits durable. The store runs with synchronous=NORMAL, so a commit is in the WAL file
// but maybe only in the OS page cache; an fdatasync of the WAL puts it on disk. The flush runs on libuv's thread pool
// instead of inside SQLite's commit (PRAGMA synchronous=FULL would block the event loop on every commit), and one
// flush covers every commit made before it started (group commit).
import { closeSync, fdatasync, openSync } from "node:fs";
import { asSqliteFault } from "./sqliteFaults.js";

/** WAL flushes in progress at most; a few may overlap so a commit never waits for an older flush to finish first. */
const MAX_CONCURRENT_WAL_SYNCS = 3;

/** One who waits for the next WAL flush: acknowledged when it succeeds, failed (a StoreUnavailableError) when not. */
export interface SyncWaiter {
  acknowledge: () => void;
  fail: (error: unknown) => void;
}

export class WalFlusher {
  private fd: number | undefined;
  /** Waiting for the next flush to start. */
  private waiting: SyncWaiter[] = [];
  private syncsRunning = 0;
  private readonly syncsDone = new Set<Promise<void>>();
  /** A commit has happened since the store was opened (so the WAL file exists). */
  private committed = false;

  constructor(private readonly walPath: string) {}

  /** Records that a commit was made: the WAL file exists from now on. */
  noteCommit(): void {
    this.committed = true;
  }

  /** `waiter` is settled by the first flush that starts after this call; sync() starts one. */
  wait(waiter: SyncWaiter): void {
    this.waiting.push(waiter);
  }

  /** Resolves once every commit made before the call is on disk (a flush, shared with any other waiting commits). */
  flushCommitted(): Promise<void> {
    // Nothing committed yet means nothing to flush (and, before the first commit, no WAL file to flush).
    if (!this.committed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.wait({ acknowledge: resolve, fail: reject });
      this.sync();
    });
  }

  /** fdatasync the WAL, then acknowledge every waiter that came before the flush started. */
  sync(): void {
    if (this.syncsRunning >= MAX_CONCURRENT_WAL_SYNCS || this.waiting.length === 0) return;
    this.syncsRunning++;
    const covered = this.waiting;
    this.waiting = [];
    const done = new Promise<void>((resolve) => {
      const finish = (error: unknown) => {
        this.syncsRunning--;
        // On error the commits are in the database but not known to be on disk: report, don't acknowledge.
        const fault = error ? asSqliteFault(error, "write") : undefined;
        for (const waiter of covered) {
          if (fault) waiter.fail(fault);
          else waiter.acknowledge();
        }
        this.syncsDone.delete(done);
        resolve();
        this.sync();
      };
      try {
        // The WAL exists from the first commit until close and is truncated in place, never replaced while open.
        this.fd ??= openSync(this.walPath, "r+");
      } catch (error) {
        return finish(error);
      }
      fdatasync(this.fd, finish);
    });
    this.syncsDone.add(done);
  }

  /** Settles every waiter (running flushes until none is left), then closes the WAL file. */
  async close(): Promise<void> {
    while (this.syncsRunning > 0 || this.waiting.length > 0) {
      this.sync();
      await Promise.all(this.syncsDone);
    }
    if (this.fd !== undefined) closeSync(this.fd);
  }
}
