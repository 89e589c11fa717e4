// Per peer, the last sequence of that peer's store that this node has fetched and committed, kept in the data
// directory so a restarted node resumes catch-up where it stopped instead of re-reading the peer's whole store.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NetworkLogger } from "../p2p/logger.js";

export const SYNC_STATE_FILE = "sync-state.json";

interface SyncStateFile {
  version: 1;
  /** peer id → sequence as a decimal string (JSON has no 64-bit integers). */
  peers: Record<string, string>;
}

/**
 * Positions are saved at most this often while a pull runs (and always when it ends): after a crash the node only
 * re-reads what it fetched in the last interval, which the store deduplicates.
 */
const SAVE_INTERVAL_MS = 1_000;

export interface SyncStateOptions {
  /**
   * Resolves once everything the store committed before the call is on disk. Envelopes from peers are committed
   * without waiting for the disk (see ingest.ts), so a position is only written to the file after this barrier:
   * after a power loss the file never claims envelopes that the store lost.
   */
  durabilityBarrier?: () => Promise<void>;
}

export class SyncState {
  private writing: Promise<void> = Promise.resolve();
  private writeCount = 0;
  private dirty = false;
  private saveTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly path: string,
    private readonly sequences: Map<string, bigint>,
    private readonly options: SyncStateOptions,
  ) {}

  static async load(dataDir: string, logger: NetworkLogger, options: SyncStateOptions = {}): Promise<SyncState> {
    const path = join(dataDir, SYNC_STATE_FILE);
    const sequences = new Map<string, bigint>();
    let text: string | undefined;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text !== undefined) {
      let parsed: SyncStateFile;
      try {
        parsed = JSON.parse(text) as SyncStateFile;
        if (parsed.version !== 1 || typeof parsed.peers !== "object" || parsed.peers === null) {
          throw new Error("unknown layout");
        }
        for (const [peer, sequence] of Object.entries(parsed.peers)) {
          if (typeof sequence !== "string" || !/^\d+$/.test(sequence)) throw new Error(`bad sequence for ${peer}`);
          sequences.set(peer, BigInt(sequence));
        }
      } catch (error) {
        // Losing the positions only costs a full re-read from each peer (deduplicated by digest), so a damaged file
        // is not fatal.
        sequences.clear();
        const movedTo = `${path}.corrupt-${Date.now()}`;
        await rename(path, movedTo).catch(() => {});
        logger.warn("sync state unreadable; catching up from the start", { path, movedTo, error: String(error) });
      }
    }
    await mkdir(dataDir, { recursive: true });
    return new SyncState(path, sequences, options);
  }

  get(peerId: string): bigint {
    return this.sequences.get(peerId) ?? 0n;
  }

  /** Records a position (after the envelopes up to it are committed); it is saved within SAVE_INTERVAL_MS. */
  set(peerId: string, sequence: bigint): void {
    if (this.sequences.get(peerId) === sequence) return;
    this.sequences.set(peerId, sequence);
    this.dirty = true;
    if (!this.saveTimer) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        this.save().catch(() => {});
      }, SAVE_INTERVAL_MS);
      this.saveTimer.unref();
    }
  }

  /** Writes the positions now if any changed. */
  async save(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.dirty) return this.writing;
    this.dirty = false;
    const write = this.writing.then(() => this.persist());
    this.writing = write.catch(() => {});
    await write;
  }

  private async persist(): Promise<void> {
    const file: SyncStateFile = { version: 1, peers: {} };
    for (const [peer, sequence] of this.sequences) file.peers[peer] = sequence.toString();
    // The positions were recorded after their envelopes were committed, so they are covered by the barrier.
    await this.options.durabilityBarrier?.();
    const temporary = `${this.path}.${process.pid}.${this.writeCount++}.tmp`;
    await writeFile(temporary, JSON.stringify(file, null, 2) + "\n");
    await rename(temporary, this.path);
  }
}

/**
 * Replaces the data directory's catch-up positions with these (a restored store, docs/storage.md §6: its previous
 * positions, if any, described a store that is gone). Written beside the final name and renamed.
 */
export async function writeSyncPositions(dataDir: string, positions: ReadonlyMap<string, bigint>): Promise<void> {
  const file: SyncStateFile = { version: 1, peers: {} };
  for (const [peer, sequence] of positions) file.peers[peer] = sequence.toString();
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, SYNC_STATE_FILE);
  const temporary = `${path}.${process.pid}.restore.tmp`;
  await writeFile(temporary, JSON.stringify(file, null, 2) + "\n");
  await rename(temporary, path);
}
