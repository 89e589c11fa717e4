// The broadcast's state in memory, saved after every change with group commit: changes made while a save is under
// way go out together in the next one, and each change's promise resolves once a save that includes it is durable.
// A store that can append gets only the changes; others get the whole state.
import type { BroadcastState, RecipientRecord } from "./state.js";
import type { BroadcastStateStore } from "./stateStore.js";

export class BroadcastJournal {
  private saving: Promise<void> = Promise.resolve();
  /** The save queued behind the current one, which every change made before it starts joins. */
  private queued: Promise<void> | undefined;
  /** Changes not yet handed to a save. */
  private changes = new Map<string, RecipientRecord>();

  constructor(
    readonly state: BroadcastState,
    private readonly store: BroadcastStateStore,
  ) {}

  get(address: string): RecipientRecord | undefined {
    return this.state.recipients.get(address);
  }

  /** Records `record` for `address`; resolves once it is saved (rejects if that save failed). */
  set(address: string, record: RecipientRecord): Promise<void> {
    this.state.recipients.set(address, record);
    this.changes.set(address, record);
    return this.flush();
  }

  /** Resolves once everything recorded so far is saved. */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.saving
      .catch(() => undefined)
      .then(() => {
        // From here on, changes need another save: this one takes the state as it is now.
        this.queued = undefined;
        const changes = this.changes;
        this.changes = new Map();
        if (!this.store.append) return this.store.save(this.state);
        return this.store.append(changes, this.state).catch((error: unknown) => {
          // Not written: those changes go again with the next save (a change made since wins over its older one).
          for (const [address, record] of changes) if (!this.changes.has(address)) this.changes.set(address, record);
          throw error;
        });
      });
    this.queued = next;
    this.saving = next;
    return next;
  }
}
