// The broadcast's state in memory, saved after every change with group commit: changes made while a save is under
// way go out together in the next one, and each change's promise resolves once a save that includes it is durable.
import type { BroadcastState, RecipientRecord } from "./state.js";
import type { BroadcastStateStore } from "./stateStore.js";

export class BroadcastJournal {
  private saving: Promise<void> = Promise.resolve();
  /** The save queued behind the current one, which every change made before it starts joins. */
  private queued: Promise<void> | undefined;

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
        return this.store.save(this.state);
      });
    this.queued = next;
    this.saving = next;
    return next;
  }
}
