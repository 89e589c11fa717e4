// Where a broadcast's resume state lives: a file (Node.js: the whole state, then a journal of changes appended to
// it), or memory, or the app's own store.
import { BroadcastStateError } from "./errors.js";
import { changeFromJsonLine, changeToJsonLine, stateFromJson, stateToJson, type BroadcastState, type RecipientRecord } from "./state.js";

/** Keeps the resume state; `save` must be atomic (all of the new state or all of the old) and durable when it resolves. */
export interface BroadcastStateStore {
  load(): Promise<BroadcastState | undefined>;
  save(state: BroadcastState): Promise<void>;
  /**
   * Optional: records only what changed since the last save or append (`state` is the whole state after them, for a
   * store that prefers to rewrite it). Durable when it resolves; a store without it gets `save` for every change.
   */
  append?(changes: ReadonlyMap<string, RecipientRecord>, state: BroadcastState): Promise<void>;
  /**
   * Optional: claims the state for one broadcast at a time (two runs over one state would each send); resolves with
   * the release, or rejects (BroadcastStateError) while another run holds it.
   */
  lock?(): Promise<() => Promise<void>>;
}

/**
 * For one call, no resume (or a resume within this process). Keeps the state object itself: serializing it on every
 * save cost time in proportion to the recipients, per change, and slowed a 10,000-recipient broadcast down as it went.
 */
export class MemoryStateStore implements BroadcastStateStore {
  private state: BroadcastState | undefined;
  async load(): Promise<BroadcastState | undefined> {
    return this.state;
  }
  async save(state: BroadcastState): Promise<void> {
    this.state = state;
  }
}

type Fs = typeof import("node:fs/promises");
type Path = typeof import("node:path");

function dynamicImport<T>(specifier: string): Promise<T> {
  // A computed specifier keeps browser bundlers from resolving Node built-ins.
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

/** Lock tokens this process holds: a lock file with our pid but another token was left by a dead process. */
const heldLocks = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A file (mode 0600): its first line is the whole state as JSON, each further line one change (a recipient and its
 * new record), appended and fsynced as the broadcast goes. A whole state is written atomically: it goes to
 * `<file>.<pid>.tmp`, is fsynced, then renamed over the file, and the folder is fsynced. Rewriting the whole state
 * for every change cost 40 ms (18 ms of CPU) per save at 10,000 recipients; an append costs one short write.
 *
 * A process killed mid-append leaves at most the last line torn: it is skipped when read (that change was never
 * reported saved). Once the journal holds as many lines as the state has recipients (at least 1,000), the next
 * change rewrites the whole state instead, so the file stays within about twice the state's size.
 */
export class FileStateStore implements BroadcastStateStore {
  private modules: Promise<{ fs: Fs; path: Path }> | undefined;
  /** Lines appended since the whole state was last written; undefined until this store has read or written the file. */
  private journalLines: number | undefined;

  constructor(readonly file: string) {}

  private node(): Promise<{ fs: Fs; path: Path }> {
    this.modules ??= Promise.all([dynamicImport<Fs>("node:fs/promises"), dynamicImport<Path>("node:path")]).then(([fs, path]) => ({ fs, path }));
    return this.modules;
  }

  async load(): Promise<BroadcastState | undefined> {
    const { fs } = await this.node();
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new BroadcastStateError(`cannot read the broadcast state ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    const lines = text.split("\n");
    const state = stateFromJson(lines[0], this.file);
    let applied = 0;
    for (let i = 1; i < lines.length; i++) {
      if (lines[i] === "") continue;
      const change = changeFromJsonLine(lines[i]);
      if (!change) {
        // Only the last line may be torn (a kill mid-append); damage before it means the file is not ours to trust.
        if (i === lines.length - 1) break;
        throw new BroadcastStateError(`the broadcast state ${this.file} is not usable: line ${i + 1} is not a change record`);
      }
      state.recipients.set(change[0], change[1]);
      applied++;
    }
    this.journalLines = applied;
    return state;
  }

  async append(changes: ReadonlyMap<string, RecipientRecord>, state: BroadcastState): Promise<void> {
    if (changes.size === 0 && this.journalLines !== undefined) return; // nothing new since the file was last written whole
    if (this.journalLines === undefined || this.journalLines + changes.size > Math.max(1_000, state.recipients.size)) {
      return this.save(state);
    }
    const { fs } = await this.node();
    let text = "";
    for (const [address, record] of changes) text += changeToJsonLine(address, record);
    // Until the write is known whole, the file's tail is unknown: the next change rewrites the whole state.
    const lines = this.journalLines;
    this.journalLines = undefined;
    try {
      const handle = await fs.open(this.file, "a", 0o600);
      try {
        await handle.writeFile(text, "utf8");
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      throw new BroadcastStateError(`cannot write the broadcast state ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    this.journalLines = lines + changes.size;
  }

  /**
   * `<file>.lock`, created exclusively, holding our pid and a token. A lock whose process is gone (killed) is taken
   * over; one held by a live process (on this machine) is refused.
   */
  async lock(): Promise<() => Promise<void>> {
    const { fs } = await this.node();
    const lockFile = `${this.file}.lock`;
    const token = globalThis.crypto.randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.writeFile(lockFile, `${process.pid} ${token}`, { flag: "wx", mode: 0o600 });
        heldLocks.add(token);
        return async () => {
          heldLocks.delete(token);
          await fs.rm(lockFile, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) {
          throw new BroadcastStateError(`cannot lock the broadcast state ${this.file}: ${(err as Error).message}`, { cause: err });
        }
      }
      const [pidText, holder] = (await fs.readFile(lockFile, "utf8").catch(() => "")).split(" ");
      const pid = Number(pidText);
      const live = pid === process.pid ? heldLocks.has(holder) : Number.isSafeInteger(pid) && pid > 0 && processAlive(pid);
      if (live) {
        throw new BroadcastStateError(
          `the broadcast state ${this.file} is in use by ${pid === process.pid ? "another broadcast in this process" : `process ${pid}`}; ` +
            `two runs over one state would both send`,
        );
      }
      await fs.rm(lockFile, { force: true });
    }
  }

  async save(state: BroadcastState): Promise<void> {
    const { fs, path } = await this.node();
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      const handle = await fs.open(tmp, "w", 0o600);
      try {
        await handle.writeFile(stateToJson(state) + "\n", "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw new BroadcastStateError(`cannot write the broadcast state ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    // The rename is durable once the folder is synced; some systems cannot sync a folder, which only weakens power-loss safety.
    const dir = await fs.open(path.dirname(path.resolve(this.file)), "r").catch(() => undefined);
    if (dir) await dir.sync().catch(() => undefined).finally(() => dir.close());
    this.journalLines = 0;
  }
}
