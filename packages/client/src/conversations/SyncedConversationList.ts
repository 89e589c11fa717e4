// What the v1 (intros) and v2 (invitations) conversation lists share: the records that make them, loaded once from
// the client's store, then synced from the node one sync at a time, each from a clock-skew allowance before the
// previous one started (docs/protocol/paging.md §4), skipping envelopes already processed (by digest).
import type { ClientContext } from "../context.js";
import type { InboxStore, SyncedLog } from "../storage/InboxStore.js";
import { CLOCK_SKEW_NS } from "./syncClock.js";

export abstract class SyncedConversationList<R> {
  /** What the store holds of each conversation, in the order they were added. */
  protected readonly records: R[] = [];
  /** Envelopes already processed (by message digest), valid or not, so syncs never redo their crypto. */
  protected readonly seen = new Set<string>();
  /** When the last complete sync started (this client's clock). */
  protected lastSyncNs: bigint | undefined;
  private loaded: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;

  constructor(protected readonly client: ClientContext) {}

  /** What the store holds, once (no-op without a store). */
  load(): Promise<void> {
    this.loaded ??= this.loadNow();
    return this.loaded;
  }

  /** Asks the node for what came since the last sync; one sync at a time, callers meanwhile share it. */
  sync(): Promise<void> {
    this.syncing ??= this.syncNow().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Where the next sync's query starts: undefined (everything) before the first one. */
  protected get syncStartNs(): bigint | undefined {
    return this.lastSyncNs === undefined ? undefined : this.lastSyncNs - CLOCK_SKEW_NS;
  }

  /** The store's log of this list. */
  protected abstract loadStored(store: InboxStore): Promise<SyncedLog<R>>;
  /** Adds one record (from the store or a sync); what it returns is the subclass's business. */
  protected abstract add(record: R): unknown;
  protected abstract syncNow(): Promise<void>;

  private async loadNow(): Promise<void> {
    const store = this.client.store;
    if (!store) return;
    const { items, digests, cursorNs } = await this.loadStored(store);
    for (const digest of digests) this.seen.add(digest);
    for (const record of items) this.add(record);
    this.lastSyncNs = cursorNs;
  }
}
